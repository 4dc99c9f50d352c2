import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import {
  addIcon,
  CommandToolbarButton,
  downloadIcon,
  fileUploadIcon,
  refreshIcon
} from '@jupyterlab/ui-components';
import { ISignal, Signal } from '@lumino/signaling';
import type { JSONSchema7 } from 'json-schema';
import { runtimeImagesIcon } from '../icons';
import {
  CommandIDs,
  IRuntimeImage,
  IRuntimeImages,
  IRuntimeImagesPanel,
  PANEL_ID,
  ServerStatus,
  TRANSLATION_DOMAIN
} from '../tokens';
import { RuntimeImagesActions } from './actions';
import { RuntimeImagesAPI } from './api';
import { RuntimeImagesModel } from './model';
import { RuntimeImagesPanel } from './widgets/RuntimeImagesPanel';

/**
 * What the images plugin provides: the model's public side, and the panel.
 */
class RuntimeImages implements IRuntimeImages {
  constructor(
    private readonly model: RuntimeImagesModel,
    readonly panel: IRuntimeImagesPanel
  ) {
    model.changed.connect(() => this._changed.emit(), this);
    model.statusChanged.connect(
      (_, status) => this._statusChanged.emit(status),
      this
    );
  }

  get images(): ReadonlyArray<IRuntimeImage> {
    return this.model.images;
  }

  get changed(): ISignal<IRuntimeImages, void> {
    return this._changed;
  }

  get status(): ServerStatus {
    return this.model.status;
  }

  get statusChanged(): ISignal<IRuntimeImages, ServerStatus> {
    return this._statusChanged;
  }

  get schema(): JSONSchema7 | null {
    return this.model.schema;
  }

  find(name: string): IRuntimeImage | undefined {
    return this.model.find(name);
  }

  refresh(): Promise<void> {
    return this.model.refresh();
  }

  private _changed = new Signal<IRuntimeImages, void>(this);
  private _statusChanged = new Signal<IRuntimeImages, ServerStatus>(this);
}

/**
 * The Runtime Images sidebar, its commands and palette entries.
 */
export const imagesPlugin: JupyterFrontEndPlugin<IRuntimeImages> = {
  id: 'jupyter-runtime-images:plugin',
  description:
    'Manage runtime image configurations (Elyra-compatible) from a sidebar panel.',
  autoStart: true,
  provides: IRuntimeImages,
  optional: [ILayoutRestorer, ICommandPalette, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ): IRuntimeImages => {
    translator = translator ?? nullTranslator;
    const trans = translator.load(TRANSLATION_DOMAIN);

    let panel: RuntimeImagesPanel | null = null;
    const model = new RuntimeImagesModel({
      api: new RuntimeImagesAPI({
        serverSettings: app.serviceManager.serverSettings
      }),
      isActive: () => panel !== null && panel.isVisible
    });
    const actions = new RuntimeImagesActions({ app, model, translator });
    panel = new RuntimeImagesPanel({
      model,
      translator,
      actions,
      commands: app.commands,
      shell: app.shell
    });

    const { commands, shell } = app;

    commands.addCommand(CommandIDs.open, {
      label: trans.__('Manage Runtime Images'),
      caption: trans.__('Open the Runtime Images panel'),
      icon: args => (args['isPalette'] ? undefined : runtimeImagesIcon),
      execute: () => {
        shell.activateById(PANEL_ID);
        if (model.status === 'ready') {
          void model.refresh().catch(() => undefined);
        }
      }
    });
    commands.addCommand(CommandIDs.create, {
      label: trans.__('Create New Runtime Image'),
      caption: trans.__('Create new runtime image'),
      icon: args => (args['isPalette'] ? undefined : addIcon),
      isEnabled: () => model.status === 'ready',
      execute: () => actions.create()
    });
    commands.addCommand(CommandIDs.refresh, {
      label: trans.__('Refresh Runtime Images'),
      icon: args => (args['isPalette'] ? undefined : refreshIcon),
      execute: () => actions.refresh()
    });
    commands.addCommand(CommandIDs.exportImages, {
      label: trans.__('Export Runtime Images'),
      icon: args => (args['isPalette'] ? undefined : downloadIcon),
      isEnabled: () => model.status === 'ready',
      execute: () => actions.exportImages()
    });
    commands.addCommand(CommandIDs.importImages, {
      label: trans.__('Import Runtime Images'),
      icon: args => (args['isPalette'] ? undefined : fileUploadIcon),
      isEnabled: () => model.status === 'ready',
      execute: () => actions.importImages()
    });

    // The toolbar buttons run the commands; their tooltips (and accessible names)
    // are the short captions, and they show no text.
    const buttons: [string, string, string][] = [
      ['create', CommandIDs.create, trans.__('Create new runtime image')],
      ['refresh', CommandIDs.refresh, trans.__('Refresh')],
      ['export', CommandIDs.exportImages, trans.__('Export')],
      ['import', CommandIDs.importImages, trans.__('Import')]
    ];
    for (const [name, id, caption] of buttons) {
      panel.toolbar.addItem(
        name,
        new CommandToolbarButton({ commands, id, label: '', caption })
      );
    }
    // Enabled once the server extension answers.
    model.statusChanged.connect(() => {
      for (const [, id] of buttons) {
        commands.notifyCommandChanged(id);
      }
    });

    if (palette) {
      const category = trans.__('Runtime Images');
      for (const command of [
        CommandIDs.open,
        CommandIDs.create,
        CommandIDs.refresh,
        CommandIDs.exportImages,
        CommandIDs.importImages
      ]) {
        palette.addItem({ command, category, args: { isPalette: true } });
      }
    }

    shell.add(panel, 'left', { rank: 950, type: 'Runtime Images' });
    if (restorer) {
      restorer.add(panel, 'runtime-images');
    }

    void model.initialize();
    return new RuntimeImages(model, panel);
  }
};
