import type { JupyterFrontEnd } from '@jupyterlab/application';
import {
  Dialog,
  Notification,
  showDialog,
  showErrorMessage
} from '@jupyterlab/apputils';
import type { ITranslator } from '@jupyterlab/translation';
import React from 'react';
import { downloadText } from '../download';
import { runtimeImagesIcon } from '../icons';
import { MainAreaActions } from '../mainArea';
import { errorMessage } from '../request';
import type { IRuntimeImage } from '../tokens';
import { imageToFormData, invalidToFormData } from './forms';
import type { RuntimeImagesModel } from './model';
import type { IImportResult, IInvalidRuntimeImage } from './types';
import type { IPanelActions } from './widgets/RuntimeImagesView';
import {
  RuntimeImageEditor,
  RuntimeImageEditorPanel
} from './widgets/RuntimeImageEditor';

/**
 * What the panel's buttons and the commands do: dialogs, editors in the main area,
 * notifications. The model does the requests.
 */
export class RuntimeImagesActions
  extends MainAreaActions
  implements IPanelActions
{
  constructor(options: RuntimeImagesActions.IOptions) {
    super(options);
    this.model = options.model;
    this.translator = options.translator;
  }

  readonly model: RuntimeImagesModel;

  create = (): void => {
    this.openEditor('create:' + ++this.createCount, {
      mode: 'create',
      formData: { schema_name: 'runtime-image', metadata: {} }
    });
  };

  edit = async (image: IRuntimeImage): Promise<void> => {
    const key = 'edit:' + image.name;
    if (this.tabs.activate(key)) {
      return;
    }
    try {
      const { image: fresh, etag } = await this.model.get(image.name);
      this.openEditor(key, {
        mode: 'edit',
        name: fresh.name,
        formData: imageToFormData(fresh),
        etag,
        origin: fresh.origin ?? image.origin
      });
    } catch (error) {
      await this.showError(
        this.trans.__('Cannot edit "%1"', image.display_name),
        error
      );
      await this.model.refresh().catch(() => undefined);
    }
  };

  repair = (item: IInvalidRuntimeImage): void => {
    this.openEditor('edit:' + item.name, {
      mode: 'repair',
      name: item.name,
      formData: invalidToFormData(item),
      reason: item.reason,
      raw: item.raw,
      origin: item.origin
    });
  };

  duplicate = async (image: IRuntimeImage): Promise<void> => {
    try {
      const copy = await this.model.duplicate(image.name);
      Notification.success(
        this.trans.__(
          'Duplicated "%1" as "%2".',
          image.display_name,
          copy.display_name
        ),
        { autoClose: 3000 }
      );
    } catch (error) {
      await this.showError(
        this.trans.__('Cannot duplicate "%1"', image.display_name),
        error
      );
    }
  };

  remove = async (image: IRuntimeImage): Promise<void> => {
    await this.confirmAndDelete(image.name, image.display_name);
  };

  removeInvalid = async (item: IInvalidRuntimeImage): Promise<void> => {
    await this.confirmAndDelete(item.name, item.name);
  };

  retry = (): void => {
    void this.model.initialize();
  };

  refresh = async (): Promise<void> => {
    if (this.model.status !== 'ready') {
      await this.model.initialize();
      return;
    }
    try {
      await this.model.refresh();
    } catch (error) {
      // The panel shows the error; nothing else to do.
    }
  };

  exportImages = async (): Promise<void> => {
    try {
      const bundle = await this.model.exportImages();
      downloadText(
        JSON.stringify(bundle, null, 2) + '\n',
        'runtime-images.json'
      );
      const count = bundle['runtime-images']?.length ?? 0;
      Notification.success(
        this.trans._n(
          'Exported %1 runtime image.',
          'Exported %1 runtime images.',
          count
        ),
        { autoClose: 3000 }
      );
    } catch (error) {
      await this.showError(this.trans.__('Export failed'), error);
    }
  };

  importImages = async (): Promise<void> => {
    const file = await this.pickFile();
    if (!file) {
      return;
    }
    let bundle: unknown;
    try {
      bundle = JSON.parse(await file.text());
    } catch (error) {
      await showErrorMessage(
        this.trans.__('Import failed'),
        this.trans.__(
          '"%1" is not a JSON file: %2',
          file.name,
          errorMessage(error)
        )
      );
      return;
    }
    const choice = await showDialog({
      title: this.trans.__('Import runtime images'),
      body: this.trans.__('Import the runtime images of "%1"?', file.name),
      checkbox: {
        label: this.trans.__('Overwrite existing images with the same name'),
        checked: false
      },
      buttons: [
        Dialog.cancelButton({ label: this.trans.__('Cancel') }),
        Dialog.okButton({ label: this.trans.__('Import') })
      ]
    });
    if (!choice.button.accept) {
      return;
    }
    let results: IImportResult[];
    try {
      results = await this.model.importImages(
        bundle,
        choice.isChecked === true
      );
    } catch (error) {
      await this.showError(this.trans.__('Import failed'), error);
      return;
    }
    await this.showImportReport(results);
  };

  private openEditor(
    key: string,
    options: Omit<
      RuntimeImageEditor.IOptions,
      'model' | 'translator' | 'onDone'
    >
  ): void {
    if (this.tabs.activate(key)) {
      return;
    }
    const opener = document.activeElement;
    let main: RuntimeImageEditorPanel | null = null;
    const editor = new RuntimeImageEditor({
      ...options,
      model: this.model,
      translator: this.translator,
      onDone: image => {
        main?.dispose();
        this.returnFocus(opener);
        if (image) {
          Notification.success(
            this.trans.__('Saved runtime image "%1".', image.display_name),
            { autoClose: 3000 }
          );
        }
      }
    });
    main = new RuntimeImageEditorPanel({ content: editor });
    main.id = `jp-RuntimeImages-editor-${++this.editorCount}`;
    main.addClass('jp-RuntimeImages-editorPanel');
    main.title.icon = runtimeImagesIcon;
    main.title.closable = true;
    main.title.label =
      options.mode === 'create'
        ? this.trans.__('New Runtime Image')
        : this.trans.__(
            'Runtime Image: %1',
            options.formData.display_name ?? options.name ?? ''
          );
    this.tabs.open(key, main);
  }

  private async confirmAndDelete(name: string, label: string): Promise<void> {
    const confirmed = await this.confirmDelete(
      this.trans.__('Delete runtime image'),
      this.trans.__('Delete runtime image "%1"?', label)
    );
    if (!confirmed) {
      return;
    }
    try {
      await this.model.remove(name);
    } catch (error) {
      await this.showError(this.trans.__('Cannot delete "%1"', label), error);
    }
  }

  private pickFile(): Promise<File | null> {
    return new Promise(resolve => {
      const input = document.createElement('input');
      input.type = 'file';
      input.accept = '.json,application/json';
      input.className = 'jp-RuntimeImages-fileInput';
      input.style.display = 'none';
      input.addEventListener('change', () => {
        resolve(input.files?.[0] ?? null);
        input.remove();
      });
      input.addEventListener('cancel', () => {
        resolve(null);
        input.remove();
      });
      document.body.appendChild(input);
      input.click();
    });
  }

  private async showImportReport(results: IImportResult[]): Promise<void> {
    const counts = new Map<string, number>();
    for (const result of results) {
      counts.set(result.status, (counts.get(result.status) ?? 0) + 1);
    }
    const summary = [...counts.entries()]
      .map(([status, count]) => `${this.statusLabel(status)}: ${count}`)
      .join(', ');
    const problems = results.filter(
      r => r.status === 'failed' || r.status === 'skipped'
    );
    if (problems.length === 0) {
      Notification.success(
        this.trans.__(
          'Import done. %1',
          summary || this.trans.__('Nothing to import.')
        ),
        { autoClose: 4000 }
      );
      return;
    }
    const body = (
      <div className="jp-RuntimeImages-importReport">
        <p>{summary}</p>
        <ul>
          {problems.map((r, index) => (
            <li key={index} data-status={r.status}>
              <strong>{r.name}</strong> — {this.statusLabel(r.status)}
              {r.message ? `: ${r.message}` : ''}
              {(r.errors ?? []).length > 0 && (
                <ul>
                  {(r.errors ?? []).map((e, i) => (
                    <li key={i}>
                      {e.path ? <code>{e.path}</code> : null} {e.message}
                    </li>
                  ))}
                </ul>
              )}
            </li>
          ))}
        </ul>
      </div>
    );
    await showDialog({
      title: this.trans.__('Import report'),
      body,
      buttons: [Dialog.okButton({ label: this.trans.__('OK') })]
    });
  }

  private statusLabel(status: string): string {
    switch (status) {
      case 'created':
        return this.trans.__('created');
      case 'updated':
        return this.trans.__('updated');
      case 'unchanged':
        return this.trans.__('unchanged');
      case 'skipped':
        return this.trans.__('skipped');
      case 'failed':
        return this.trans.__('failed');
      default:
        return status;
    }
  }

  private translator: ITranslator;
  private createCount = 0;
  private editorCount = 0;
}

export namespace RuntimeImagesActions {
  export interface IOptions {
    app: JupyterFrontEnd;
    model: RuntimeImagesModel;
    translator: ITranslator;
  }
}
