import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import type { ITranslator } from '@jupyterlab/translation';
import React from 'react';
import { downloadText } from '../download';
import { MainAreaActions } from '../mainArea';
import { APIError } from '../request';
import type { IRuntimeImages } from '../tokens';
import type { DetailsAPI } from './api';
import { DetailsModel, DetailsTab, detailsKey, sbomFileName } from './model';
import type { DetailsTarget, SbomFormat } from './types';
import { DetailsView } from './widgets/DetailsView';
import type { IDetailsActions } from './widgets/HistoryTab';

/**
 * What opens and acts on the Details views: one main-area view per runtime image
 * (or reference), activated again when asked twice; SBOM downloads; re-pins.
 */
export class DetailsActions extends MainAreaActions implements IDetailsActions {
  constructor(options: DetailsActions.IOptions) {
    super(options);
    this.api = options.api;
    this.images = options.images;
  }

  /** The open view of `target`, if any (its model). */
  model(target: DetailsTarget): DetailsModel | undefined {
    const key = detailsKey(target);
    return this.tabs.get(key) ? this.models.get(key) : undefined;
  }

  /** Open (or activate) the Details view of `target`, on `tab` when given. */
  open(target: DetailsTarget, tab?: DetailsTab): void {
    const key = detailsKey(target);
    const open = this.model(target);
    if (open) {
      this.tabs.activate(key);
      if (tab) {
        open.show(tab);
      }
      return;
    }
    const model = new DetailsModel({
      api: this.api,
      target,
      reference: () =>
        'name' in target
          ? (this.images.find(target.name)?.metadata.image_name ?? null)
          : target.image
    });
    if (tab) {
      model.show(tab);
    }
    const label =
      'name' in target
        ? (this.images.find(target.name)?.display_name ?? target.name)
        : target.image;
    const widget = this.tabs.openView(key, {
      view: (
        <DetailsView
          model={model}
          trans={this.trans}
          actions={this}
          images={this.images}
        />
      ),
      id: `runtime-images-details-${++this.count}`,
      className: 'jp-RuntimeImages-imageDetails',
      label: this.trans.__('Details: %1', label),
      caption: this.trans.__('Details of %1', label)
    });
    this.models.set(key, model);
    widget.disposed.connect(() => {
      // Closing the view aborts its reads.
      model.dispose();
      if (this.models.get(key) === model) {
        this.models.delete(key);
      }
    });
  }

  showTab = (model: DetailsModel, tab: DetailsTab): void => {
    model.show(tab);
  };

  downloadSbom = async (
    model: DetailsModel,
    format: SbomFormat
  ): Promise<void> => {
    const name = sbomFileName(model, format);
    const pending = this.api.sbom(model.target, format);
    Notification.promise(pending, {
      pending: { message: this.trans.__('Making the SBOM %1…', name) },
      success: {
        message: () => this.trans.__('Downloaded %1.', name),
        options: { autoClose: 3000 }
      },
      error: {
        message: (error: unknown) =>
          this.trans.__(
            'Could not make the SBOM: %1',
            error instanceof Error ? error.message : String(error)
          )
      }
    });
    let text: string;
    try {
      text = await pending;
    } catch {
      return; // the notification says why
    }
    downloadText(text, name);
  };

  repin = async (model: DetailsModel): Promise<void> => {
    const name = model.name;
    if (name === null) {
      return;
    }
    let etag: string | null;
    let plan;
    try {
      etag = await this.api.imageETag(name);
      plan = await this.api.repin(name, { dryRun: true });
    } catch (error) {
      await this.showError(this.trans.__('Cannot re-pin "%1"', name), error);
      return;
    }
    const body = (
      <div className="jp-RuntimeImages-repinPlan">
        <p>{this.trans.__('Move "%1" from', name)}</p>
        <p>
          <code>{plan.from}</code>
        </p>
        <p>{this.trans.__('to')}</p>
        <p>
          <code>{plan.to}</code>
        </p>
        {plan.kernelspecs.length > 0 && (
          <p>
            {this.trans.__(
              'These kernelspecs move too: %1',
              plan.kernelspecs.join(', ')
            )}
          </p>
        )}
      </div>
    );
    const choice = await showDialog({
      title: this.trans.__('Re-pin runtime image'),
      body,
      buttons: [
        Dialog.cancelButton({ label: this.trans.__('Cancel') }),
        Dialog.okButton({ label: this.trans.__('Re-pin') })
      ]
    });
    if (!choice.button.accept) {
      return;
    }
    try {
      const result = await this.api.repin(name, { etag });
      Notification.success(
        this.trans.__('Re-pinned "%1" to %2.', name, result.to),
        { autoClose: 4000 }
      );
    } catch (error) {
      const message =
        error instanceof APIError && error.status === 412
          ? this.trans.__(
              'The runtime image changed since you opened this dialog; nothing was re-pinned. Try again.'
            )
          : error;
      await this.showError(this.trans.__('Cannot re-pin "%1"', name), message);
      return;
    } finally {
      await this.images.refresh().catch(() => undefined);
      model.refreshHistory();
    }
  };

  private readonly api: DetailsAPI;
  private readonly images: IRuntimeImages;
  private readonly models = new Map<string, DetailsModel>();
  private count = 0;
}

export namespace DetailsActions {
  export interface IOptions {
    app: JupyterFrontEnd;
    translator: ITranslator;
    api: DetailsAPI;
    images: IRuntimeImages;
  }
}
