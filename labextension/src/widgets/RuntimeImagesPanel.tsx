import { ReactWidget } from '@jupyterlab/apputils';
import type { ITranslator } from '@jupyterlab/translation';
import {
  addIcon,
  downloadIcon,
  fileUploadIcon,
  refreshIcon,
  SidePanel,
  ToolbarButton
} from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import { Panel } from '@lumino/widgets';
import React from 'react';
import { runtimeImagesIcon } from '../icons';
import type { RuntimeImagesModel } from '../model';
import { PANEL_ID, TRANSLATION_DOMAIN } from '../tokens';
import { IPanelActions, RuntimeImagesView } from './RuntimeImagesView';

/**
 * Toolbar actions, in addition to the per-row ones.
 */
export interface IToolbarActions extends IPanelActions {
  refresh(): void;
  exportImages(): void;
  importImages(): void;
}

/**
 * The Runtime Images sidebar panel.
 */
export class RuntimeImagesPanel extends SidePanel {
  constructor(options: RuntimeImagesPanel.IOptions) {
    // A plain panel as content (the default accordion would add an empty section header).
    super({ translator: options.translator, content: new Panel() });
    const trans = options.translator.load(TRANSLATION_DOMAIN);
    const { model, actions } = options;
    this.model = model;
    this.id = PANEL_ID;
    this.addClass('jp-RuntimeImages-panel');
    this.title.icon = runtimeImagesIcon;
    this.title.caption = trans.__('Runtime Images');
    this.title.label = '';

    const header = ReactWidget.create(
      <h2 className="jp-RuntimeImages-title">{trans.__('Runtime Images')}</h2>
    );
    header.addClass('jp-RuntimeImages-header');
    this.header.addWidget(header);

    const buttons: [string, ToolbarButton][] = [
      [
        'create',
        new ToolbarButton({
          icon: addIcon,
          tooltip: trans.__('Create new runtime image'),
          onClick: () => actions.create()
        })
      ],
      [
        'refresh',
        new ToolbarButton({
          icon: refreshIcon,
          tooltip: trans.__('Refresh'),
          onClick: () => actions.refresh()
        })
      ],
      [
        'export',
        new ToolbarButton({
          icon: downloadIcon,
          tooltip: trans.__('Export'),
          onClick: () => actions.exportImages()
        })
      ],
      [
        'import',
        new ToolbarButton({
          icon: fileUploadIcon,
          tooltip: trans.__('Import'),
          onClick: () => actions.importImages()
        })
      ]
    ];
    for (const [name, button] of buttons) {
      this.toolbar.addItem(name, button);
    }

    const view = ReactWidget.create(
      <RuntimeImagesView model={model} trans={trans} actions={actions} />
    );
    view.addClass('jp-RuntimeImages-content');
    this.addWidget(view);
  }

  readonly model: RuntimeImagesModel;

  /** Refresh at once when shown: polling pauses while the panel is hidden. */
  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (this.model.status === 'ready') {
      void this.model.refresh().catch(() => undefined);
    }
  }
}

export namespace RuntimeImagesPanel {
  export interface IOptions {
    model: RuntimeImagesModel;
    translator: ITranslator;
    actions: IToolbarActions;
  }
}
