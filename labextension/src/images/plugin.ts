import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import {
  addIcon,
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
  IPanelCommand,
  PANEL_ID,
  ServerStatus,
  TRANSLATION_DOMAIN
} from '../tokens';
import { RuntimeImagesActions } from './actions';
import { RuntimeImagesAPI } from './api';
import { RuntimeImagesModel } from './model';
import { PanelCommands } from './panelCommands';
import { RuntimeImagesPanel } from './widgets/RuntimeImagesPanel';

/**
 * What the images plugin provides: the model's public side, and the panel.
 */
class RuntimeImages implements IRuntimeImages {
  constructor(
    private readonly model: RuntimeImagesModel,
    readonly panel: IRuntimeImagesPanel,
    private readonly commands: PanelCommands
  ) {
    model.changed.connect(() => this._changed.emit(), this);
    model.statusChanged.connect(
      (_, status) => this._statusChanged.emit(status),
      this
    );
    model.refreshed.connect(() => this._refreshed.emit(), this);
    model.selectionChanged.connect(() => this._selectionChanged.emit(), this);
  }

  get refreshed(): ISignal<IRuntimeImages, void> {
    return this._refreshed;
  }

  get selection(): ReadonlyArray<string> {
    return this.model.selection;
  }

  get selectionChanged(): ISignal<IRuntimeImages, void> {
    return this._selectionChanged;
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

  addCommands(commands: ReadonlyArray<IPanelCommand>): void {
    this.commands.add(commands, (name, item) =>
      this.panel.addToolbarItem(name, item)
    );
  }

  private _changed = new Signal<IRuntimeImages, void>(this);
  private _refreshed = new Signal<IRuntimeImages, void>(this);
  private _selectionChanged = new Signal<IRuntimeImages, void>(this);
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

    const { shell } = app;
    const { toolbar } = panel;
    const commands = new PanelCommands({
      commands: app.commands,
      palette,
      category: trans.__('Runtime Images'),
      enabledChanged: model.statusChanged
    });
    // Enabled once the server extension answers.
    const isReady = () => model.status === 'ready';
    // The panel's own toolbar buttons come first (the others' go after "create").
    commands.add(
      [
        {
          id: CommandIDs.open,
          label: trans.__('Manage Runtime Images'),
          caption: trans.__('Open the Runtime Images panel'),
          icon: runtimeImagesIcon,
          execute: () => {
            shell.activateById(PANEL_ID);
            if (isReady()) {
              void model.refresh().catch(() => undefined);
            }
          }
        },
        {
          id: CommandIDs.create,
          label: trans.__('Create New Runtime Image'),
          caption: trans.__('Create new runtime image'),
          icon: addIcon,
          isEnabled: isReady,
          execute: () => actions.create(),
          toolbar: { name: 'create' }
        },
        {
          id: CommandIDs.refresh,
          label: trans.__('Refresh Runtime Images'),
          icon: refreshIcon,
          execute: () => actions.refresh(),
          toolbar: { name: 'refresh', caption: trans.__('Refresh') }
        },
        {
          id: CommandIDs.exportImages,
          label: trans.__('Export Runtime Images'),
          icon: downloadIcon,
          isEnabled: isReady,
          execute: () => actions.exportImages(),
          toolbar: { name: 'export', caption: trans.__('Export') }
        },
        {
          id: CommandIDs.importImages,
          label: trans.__('Import Runtime Images'),
          icon: fileUploadIcon,
          isEnabled: isReady,
          execute: () => actions.importImages(),
          toolbar: { name: 'import', caption: trans.__('Import') }
        }
      ],
      (name, item) => toolbar.addItem(name, item)
    );

    shell.add(panel, 'left', { rank: 950, type: 'Runtime Images' });
    if (restorer) {
      restorer.add(panel, 'runtime-images');
    }

    void model.initialize();
    return new RuntimeImages(model, panel, commands);
  }
};
