import type { JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette, ReactWidget } from '@jupyterlab/apputils';
import type { ITranslator } from '@jupyterlab/translation';
import { imageIcon, SidePanel, ToolbarButton } from '@jupyterlab/ui-components';
import React from 'react';
import type { RuntimeImagesModel } from '../model';
import { TRANSLATION_DOMAIN } from '../tokens';
import { BuildsSection } from '../widgets/BuildsSection';
import { BuildsActions } from './actions';
import { BuildsAPI } from './api';
import { BuildsModel } from './model';

/** Commands of the builds part of the panel. */
export namespace BuildCommandIDs {
  export const importImage = 'runtime-images:import-image';
}

/**
 * Add the "Builds" section, the "Import image" toolbar button and command to the
 * Runtime Images panel, and follow the builds through the server's event stream.
 */
export function setupBuilds(options: {
  app: JupyterFrontEnd;
  panel: SidePanel;
  images: RuntimeImagesModel;
  translator: ITranslator;
  palette: ICommandPalette | null;
}): BuildsModel {
  const { app, panel, images, translator, palette } = options;
  const trans = translator.load(TRANSLATION_DOMAIN);
  const model = new BuildsModel({
    api: new BuildsAPI({ serverSettings: app.serviceManager.serverSettings }),
    isActive: () => panel.isVisible
  });
  app.serviceManager.events.stream.connect((_, emission) => {
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
  panel.content.insertWidget(0, section);
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
  let requested = false;
  images.stateChanged.connect(sync);
  sync();

  panel.toolbar.insertItem(
    1,
    'import-image',
    new ToolbarButton({
      icon: imageIcon,
      tooltip: trans.__('Import image'),
      onClick: () => void actions.importImage()
    })
  );

  app.commands.addCommand(BuildCommandIDs.importImage, {
    label: trans.__('Import Image as Runtime Image…'),
    caption: trans.__('Import image'),
    icon: args => (args['isPalette'] ? undefined : imageIcon),
    isEnabled: () => images.status === 'ready',
    execute: () => actions.importImage()
  });
  if (palette) {
    palette.addItem({
      command: BuildCommandIDs.importImage,
      category: trans.__('Runtime Images'),
      args: { isPalette: true }
    });
  }
  return model;
}
