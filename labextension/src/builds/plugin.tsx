import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, ReactWidget } from '@jupyterlab/apputils';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { buildIcon, CommandToolbarButton } from '@jupyterlab/ui-components';
import React from 'react';
import { importImageIcon } from '../icons';
import { IRuntimeImages, TRANSLATION_DOMAIN } from '../tokens';
import { BuildsActions } from './actions';
import { BuildsAPI } from './api';
import { BuildsModel } from './model';
import { BuildsSection } from './widgets/BuildsSection';

/** Commands of the builds part of the panel. */
export namespace BuildCommandIDs {
  export const importImage = 'runtime-images:import-image';
  export const buildImage = 'runtime-images:build-image';
}

/**
 * Builds (CustomNBImage imports and builds): the "Builds" section of the Runtime
 * Images panel, the "Import image" and "Build image" toolbar buttons and commands,
 * and the builds followed live through the server's event stream.
 */
export const buildsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-runtime-images:builds',
  description:
    'Import and build runtime images (CustomNBImage), followed live in the Runtime Images panel.',
  autoStart: true,
  requires: [IRuntimeImages],
  optional: [ICommandPalette, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    images: IRuntimeImages,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ): void => {
    translator = translator ?? nullTranslator;
    const trans = translator.load(TRANSLATION_DOMAIN);
    const { panel } = images;
    const events = app.serviceManager.events as
      typeof app.serviceManager.events | undefined;
    const model = new BuildsModel({
      api: new BuildsAPI({ serverSettings: app.serviceManager.serverSettings }),
      isActive: () => panel.isVisible,
      // Without an event stream (an old server), poll instead: slowly, and only while shown.
      pollInterval: events ? 30000 : 5000
    });
    events?.stream.connect((_, emission) => {
      model.handleEvent(emission);
    });
    // A Ready import created or updated a runtime image: list the images now.
    model.becameReady.connect(() => {
      void images.refresh().catch(() => undefined);
    });
    const actions = new BuildsActions({ app, model, images, translator });

    const section = ReactWidget.create(
      <BuildsSection model={model} trans={trans} actions={actions} />
    );
    section.addClass('jp-RuntimeImages-buildsSection');
    panel.addSection(section);
    let requested = false;
    const sync = () => {
      const ready = images.status === 'ready';
      section.setHidden(!ready);
      if (ready && !model.loaded && !requested) {
        requested = true;
        void model.refresh().catch(() => {
          requested = false;
        });
      }
    };
    images.statusChanged.connect(sync);
    images.changed.connect(sync); // retries a first listing that failed
    sync();
    // Events sent while the page was hidden (or the socket reconnected) may be missed.
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && model.loaded) {
        void model.refresh().catch(() => undefined);
      }
    });

    app.commands.addCommand(BuildCommandIDs.buildImage, {
      label: trans.__('Build Runtime Image…'),
      caption: trans.__('Build image'),
      icon: args => (args['isPalette'] ? undefined : buildIcon),
      isEnabled: () => images.status === 'ready',
      execute: () => actions.buildImage()
    });
    app.commands.addCommand(BuildCommandIDs.importImage, {
      label: trans.__('Import Image as Runtime Image…'),
      caption: trans.__('Import image'),
      icon: args => (args['isPalette'] ? undefined : importImageIcon),
      isEnabled: () => images.status === 'ready',
      execute: () => actions.importImage()
    });
    // The toolbar buttons run the commands (their captions are the tooltips).
    for (const [name, id] of [
      ['import-image', BuildCommandIDs.importImage],
      ['build-image', BuildCommandIDs.buildImage]
    ]) {
      panel.addToolbarItem(
        name,
        new CommandToolbarButton({ commands: app.commands, id, label: '' })
      );
    }
    // Enabled once the server extension answers.
    images.statusChanged.connect(() => {
      app.commands.notifyCommandChanged(BuildCommandIDs.importImage);
      app.commands.notifyCommandChanged(BuildCommandIDs.buildImage);
    });

    if (palette) {
      for (const command of [
        BuildCommandIDs.importImage,
        BuildCommandIDs.buildImage
      ]) {
        palette.addItem({
          command,
          category: trans.__('Runtime Images'),
          args: { isPalette: true }
        });
      }
    }
  }
};
