import type { JupyterFrontEnd } from '@jupyterlab/application';
import { ReactWidget } from '@jupyterlab/apputils';
import type { ITranslator } from '@jupyterlab/translation';
import { SidePanel } from '@jupyterlab/ui-components';
import type { CommandRegistry } from '@lumino/commands';
import type { Message } from '@lumino/messaging';
import { ISignal, Signal } from '@lumino/signaling';
import { Panel, Widget } from '@lumino/widgets';
import React from 'react';
import { runtimeImagesIcon } from '../../icons';
import {
  IImageBadge,
  IImageBadgeProvider,
  IRuntimeImage,
  IRuntimeImagesPanel,
  PANEL_ID,
  TRANSLATION_DOMAIN
} from '../../tokens';
import type { RuntimeImagesModel } from '../model';
import { IPanelActions, RuntimeImagesView } from './RuntimeImagesView';

/**
 * The commands other features add to every image of the list (see
 * `IRuntimeImagesPanel.addImageCommand`).
 */
export class ImageCommands {
  constructor(readonly registry: CommandRegistry) {}

  /** The command ids, in the order they were added. */
  get ids(): ReadonlyArray<string> {
    return this._ids;
  }

  /** Emitted when a command is added. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The command a double-click on an image runs, if any. */
  get defaultId(): string | null {
    return this._defaultId;
  }

  add(command: string, isDefault = false): void {
    if (isDefault) {
      this._defaultId = command;
    }
    if (!this._ids.includes(command)) {
      this._ids.push(command);
      this._changed.emit();
    }
  }

  private _ids: string[] = [];
  private _defaultId: string | null = null;
  private _changed = new Signal<this, void>(this);
}

/**
 * The badges other features add to every image of the list (see
 * `IRuntimeImagesPanel.addImageBadges`): `changed` is emitted when any
 * provider's badges may have changed.
 */
export class ImageBadges {
  /** Emitted when a provider is added or its badges change. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  add(provider: IImageBadgeProvider): void {
    if (this._providers.includes(provider)) {
      return;
    }
    this._providers.push(provider);
    provider.changed.connect(() => this._changed.emit(), this);
    this._changed.emit();
  }

  /** Every provider's badges of `image`, in the order the providers came. */
  of(image: IRuntimeImage): IImageBadge[] {
    const badges: IImageBadge[] = [];
    for (const provider of this._providers) {
      badges.push(...provider.badges(image));
    }
    return badges;
  }

  private _providers: IImageBadgeProvider[] = [];
  private _changed = new Signal<this, void>(this);
}

/**
 * The Runtime Images sidebar panel.
 */
export class RuntimeImagesPanel
  extends SidePanel
  implements IRuntimeImagesPanel
{
  constructor(options: RuntimeImagesPanel.IOptions) {
    // A plain panel as content (the default accordion would add an empty section header).
    super({ translator: options.translator, content: new Panel() });
    const trans = options.translator.load(TRANSLATION_DOMAIN);
    const { model, actions } = options;
    this.model = model;
    this.shell = options.shell;
    this.imageCommands = new ImageCommands(options.commands);
    this.selectionCommands = new ImageCommands(options.commands);
    this.id = PANEL_ID;
    this.addClass('jp-RuntimeImages-panel');
    // A landmark, named like JupyterLab's own sidebars ("File Browser Section").
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', trans.__('Runtime Images Section'));
    this.title.icon = runtimeImagesIcon;
    this.title.caption = trans.__('Runtime Images');
    this.title.label = '';

    const header = ReactWidget.create(
      <h2 className="jp-RuntimeImages-title">{trans.__('Runtime Images')}</h2>
    );
    header.addClass('jp-RuntimeImages-header');
    this.header.addWidget(header);

    const view = ReactWidget.create(
      <RuntimeImagesView
        model={model}
        trans={trans}
        actions={actions}
        imageCommands={this.imageCommands}
        badges={this.badges}
        selectionCommands={this.selectionCommands}
      />
    );
    view.addClass('jp-RuntimeImages-content');
    this.addWidget(view);
  }

  readonly model: RuntimeImagesModel;

  /** The commands every image row offers besides its own buttons. */
  readonly imageCommands: ImageCommands;

  /** The commands of the bar shown while images are selected. */
  readonly selectionCommands: ImageCommands;

  /** The badges other features add to the rows. */
  readonly badges = new ImageBadges();

  addSection(widget: Widget): void {
    this.content.insertWidget(this._sections++, widget);
  }

  addToolbarItem(name: string, item: Widget): void {
    if (!this.toolbar.insertAfter(this._lastToolbarItem, name, item)) {
      this.toolbar.addItem(name, item);
    }
    this._lastToolbarItem = name;
  }

  addImageCommand(command: string, options?: { isDefault?: boolean }): void {
    this.imageCommands.add(command, options?.isDefault ?? false);
  }

  addImageBadges(provider: IImageBadgeProvider): void {
    this.badges.add(provider);
  }

  addSelectionCommand(command: string): void {
    this.selectionCommands.add(command);
  }

  async showImage(name: string): Promise<boolean> {
    await this.model.refresh().catch(() => undefined);
    this.shell.activateById(this.id);
    if (!this.model.find(name)) {
      return false;
    }
    this.model.clearFilter();
    this.model.setFilterText(name);
    return true;
  }

  /** The filter takes the focus (or the first button, e.g. Retry, without a list). */
  protected onActivateRequest(msg: Message): void {
    super.onActivateRequest(msg);
    this.node
      .querySelector<HTMLElement>(
        'input.jp-RuntimeImages-search, .jp-RuntimeImages-content button'
      )
      ?.focus();
  }

  /** Refresh at once when shown: polling pauses while the panel is hidden. */
  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (this.model.status === 'ready') {
      void this.model.refresh().catch(() => undefined);
    }
  }

  private readonly shell: JupyterFrontEnd.IShell;
  private _sections = 0;
  /** The images' own "create" button comes first (the plugin adds it). */
  private _lastToolbarItem = 'create';
}

export namespace RuntimeImagesPanel {
  export interface IOptions {
    model: RuntimeImagesModel;
    translator: ITranslator;
    actions: IPanelActions;
    /** The application's commands (those other features add to the rows). */
    commands: CommandRegistry;
    /** The application shell (to show the panel). */
    shell: JupyterFrontEnd.IShell;
  }
}
