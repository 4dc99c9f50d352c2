import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import type { ITranslator } from '@jupyterlab/translation';
import type { ISignal } from '@lumino/signaling';
import React from 'react';
import { MainAreaActions, userName } from '../mainArea';
import { CommandIDs, IRuntimeImages, PANEL_ID } from '../tokens';
import type { BuildsModel } from './model';
import { displayNameOf, imageNamePattern } from './resource';
import type { ICustomNBImage } from './types';
import { BuildDetailsView } from './widgets/BuildDetails';
import { showBuildImageDialog } from './widgets/BuildImageDialog';
import { IBuildActions, isRunning } from './widgets/BuildsSection';
import { showImportImageDialog } from './widgets/ImportImageDialog';

/**
 * What the builds section, the details and the commands do: dialogs, the details
 * in the main area, notifications. The model does the requests.
 */
export class BuildsActions extends MainAreaActions implements IBuildActions {
  constructor(options: BuildsActions.IOptions) {
    super(options);
    this.model = options.model;
    this.images = options.images;
  }

  readonly model: BuildsModel;

  importImage = (): Promise<ICustomNBImage | null> =>
    this.showNewBuildDialog(
      showImportImageDialog({
        ...this.newBuildOptions(),
        imageExists: name => this.images.find(name) !== undefined
      })
    );

  buildImage = (): Promise<ICustomNBImage | null> =>
    this.showNewBuildDialog(
      showBuildImageDialog({
        ...this.newBuildOptions(),
        images: this.images.images
      })
    );

  openDetails = (name: string): void => {
    if (this.tabs.activate(name)) {
      return;
    }
    const build = this.model.get(name);
    this.tabs.openView(name, {
      view: (
        <BuildDetailsView
          model={this.model}
          name={name}
          trans={this.trans}
          actions={this}
        />
      ),
      id: `runtime-images-build-${name}`,
      className: 'jp-RuntimeImages-buildDetails',
      label: this.trans.__('Build: %1', build ? displayNameOf(build) : name),
      caption: this.trans.__('Build %1', name)
    });
  };

  cancel = async (name: string): Promise<void> => {
    try {
      await this.model.cancel(name);
    } catch (error) {
      await this.showError(this.trans.__('Cannot cancel "%1"', name), error);
    }
  };

  retry = async (name: string): Promise<void> => {
    try {
      await this.model.retry(name);
    } catch (error) {
      await this.showError(this.trans.__('Cannot retry "%1"', name), error);
    }
  };

  remove = async (name: string): Promise<void> => {
    const build = this.model.get(name);
    const display = build ? displayNameOf(build) : name;
    const running =
      build !== undefined && isRunning(this.model.summary(build).phase);
    const confirmed = await this.confirmDelete(
      this.trans.__('Delete build'),
      running
        ? this.trans.__(
            'Delete the build "%1" (%2)? It is still running: it will be cancelled. Its log is deleted too.',
            display,
            name
          )
        : this.trans.__(
            'Delete the build "%1" (%2)? Its log is deleted too; a runtime image it created stays.',
            display,
            name
          )
    );
    if (!confirmed) {
      return;
    }
    try {
      await this.model.remove(name);
      this.tabs.get(name)?.dispose();
    } catch (error) {
      await this.showError(this.trans.__('Cannot delete "%1"', name), error);
    }
  };

  openRuntimeImage = async (name: string): Promise<void> => {
    const build = this.model.get(name);
    const image = build?.status?.runtimeImage;
    if (!image) {
      return;
    }
    if (!(await this.images.panel.showImage(image))) {
      Notification.warning(
        this.trans.__(
          'The runtime image "%1" does not exist (any more).',
          image
        ),
        { autoClose: 5000 }
      );
    }
  };

  openImageDetails = (name: string): void => {
    const status = this.model.get(name)?.status;
    // The runtime image it made, else the image itself (a reference).
    const args = status?.runtimeImage
      ? { name: status.runtimeImage }
      : status?.image
        ? { image: status.image }
        : null;
    if (args) {
      void this.app.commands.execute(CommandIDs.openDetails, args);
    }
  };

  canPublish = (): boolean => this.app.commands.hasCommand(CommandIDs.publish);

  publish = async (name: string): Promise<void> => {
    const build = this.model.get(name);
    if (!build || !this.canPublish()) {
      return;
    }
    await this.app.commands.execute(CommandIDs.publish, {
      build: name,
      label: displayNameOf(build),
      reference: build.status?.image ?? '',
      runtimeImage: build.status?.runtimeImage ?? ''
    });
  };

  get imagesChanged(): ISignal<unknown, void> {
    return this.images.changed;
  }

  missingSuggestedTags = (name: string): string[] => {
    const status = this.model.get(name)?.status;
    const suggested = Array.isArray(status?.suggestedTags)
      ? status!.suggestedTags!.filter(t => typeof t === 'string')
      : [];
    const image = status?.runtimeImage
      ? this.images.find(status.runtimeImage)
      : undefined;
    if (!image) {
      return [];
    }
    const tags = image.metadata?.tags ?? [];
    return suggested.filter(tag => !tags.includes(tag));
  };

  addSuggestedTags = async (name: string): Promise<void> => {
    const image = this.model.get(name)?.status?.runtimeImage;
    const tags = this.missingSuggestedTags(name);
    if (!image || tags.length === 0) {
      return;
    }
    try {
      await this.model.api.addImageTags(image, tags);
      await this.images.refresh();
    } catch (error) {
      await this.showError(
        this.trans.__('Cannot tag the runtime image "%1"', image),
        error
      );
    }
  };

  /** What both new-build dialogs get: the model, the image grammar, the user. */
  private newBuildOptions() {
    return {
      model: this.model,
      trans: this.trans,
      pattern: imageNamePattern(this.images.schema),
      creator: userName(this.app)
    };
  }

  /** Wait for a new-build dialog; show the panel (and the build) when submitted. */
  private async showNewBuildDialog(
    dialog: Promise<ICustomNBImage | null>
  ): Promise<ICustomNBImage | null> {
    const created = await dialog;
    if (created) {
      this.app.shell.activateById(PANEL_ID);
    }
    return created;
  }

  private readonly images: IRuntimeImages;
}

export namespace BuildsActions {
  export interface IOptions {
    app: JupyterFrontEnd;
    model: BuildsModel;
    images: IRuntimeImages;
    translator: ITranslator;
  }
}
