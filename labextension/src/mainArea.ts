import type { JupyterFrontEnd } from '@jupyterlab/application';
import {
  Dialog,
  MainAreaWidget,
  ReactWidget,
  showDialog,
  showErrorMessage
} from '@jupyterlab/apputils';
import type { ITranslator, TranslationBundle } from '@jupyterlab/translation';
import type React from 'react';
import { runtimeImagesIcon } from './icons';
import { errorMessage } from './request';
import { PANEL_ID, TRANSLATION_DOMAIN } from './tokens';

/**
 * The main-area tabs an actions class opens, one per key (an image's editor, a
 * build's details): asking again for an open one activates it instead.
 */
export class MainAreaTabs {
  constructor(private readonly app: JupyterFrontEnd) {}

  /** The open tab of `key`, if any. */
  get(key: string): MainAreaWidget | undefined {
    const open = this.tabs.get(key);
    return open && !open.isDisposed ? open : undefined;
  }

  /** Activate the open tab of `key`; returns whether there was one. */
  activate(key: string): boolean {
    const open = this.get(key);
    if (open) {
      this.app.shell.activateById(open.id);
    }
    return open !== undefined;
  }

  /**
   * Add `widget` to the main area as the tab of `key`, and activate it. Its
   * content scrolls, on the theme's background (`jp-RuntimeImages-tabContent`).
   */
  open(key: string, widget: MainAreaWidget): void {
    widget.content.addClass('jp-RuntimeImages-tabContent');
    this.tabs.set(key, widget);
    widget.disposed.connect(() => {
      if (this.tabs.get(key) === widget) {
        this.tabs.delete(key);
      }
    });
    this.app.shell.add(widget, 'main');
    this.app.shell.activateById(widget.id);
  }

  /**
   * Open `view` (React) as the tab of `key` (see `open`), closable, with the
   * Runtime Images icon; `className` names its classes: `<className>Panel` on
   * the tab, `<className>Content` on the view's widget.
   */
  openView(
    key: string,
    options: {
      view: React.ReactElement;
      id: string;
      className: string;
      label: string;
      caption: string;
    }
  ): MainAreaWidget {
    const content = ReactWidget.create(options.view);
    content.addClass(`${options.className}Content`);
    const widget = new MainAreaWidget({ content });
    widget.id = options.id;
    widget.addClass(`${options.className}Panel`);
    widget.title.label = options.label;
    widget.title.caption = options.caption;
    widget.title.icon = runtimeImagesIcon;
    widget.title.closable = true;
    this.open(key, widget);
    return widget;
  }

  private readonly tabs = new Map<string, MainAreaWidget>();
}

/** The user's name as JupyterLab knows it (it prefills "Creator"), or ''. */
export function userName(app: JupyterFrontEnd): string {
  const identity = (app.serviceManager as any).user?.identity;
  return (
    (identity &&
      (identity.display_name || identity.name || identity.username)) ||
    ''
  );
}

/**
 * What the actions classes (runtime images, builds) share: the app, the
 * translations, their main-area tabs and how they report a failed action.
 */
export abstract class MainAreaActions {
  constructor(options: { app: JupyterFrontEnd; translator: ITranslator }) {
    this.app = options.app;
    this.trans = options.translator.load(TRANSLATION_DOMAIN);
    this.tabs = new MainAreaTabs(options.app);
  }

  /**
   * Ask before deleting: whether the user chose Delete (not Cancel). The dialog
   * opens on Cancel, so Enter does not delete (as JupyterLab's own).
   */
  protected async confirmDelete(title: string, body: string): Promise<boolean> {
    const result = await showDialog({
      title,
      body,
      buttons: [
        Dialog.cancelButton({ label: this.trans.__('Cancel') }),
        Dialog.warnButton({ label: this.trans.__('Delete') })
      ],
      defaultButton: 0
    });
    return result.button.accept;
  }

  /**
   * Give the keyboard focus back to `element` (where it was when a tab opened)
   * once the tab is closed; when that element is gone or hidden, to the Runtime
   * Images panel (which focuses its filter): never to the page.
   */
  protected returnFocus(element: Element | null): void {
    if (
      element instanceof HTMLElement &&
      element.isConnected &&
      element.getClientRects().length > 0
    ) {
      element.focus();
      return;
    }
    this.app.shell.activateById(PANEL_ID);
  }

  /** Report a failed action: `title`, and the error's message. */
  protected async showError(title: string, error: unknown): Promise<void> {
    await showErrorMessage(title, errorMessage(error));
  }

  protected readonly app: JupyterFrontEnd;
  protected readonly trans: TranslationBundle;
  protected readonly tabs: MainAreaTabs;
}
