import type { JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette, ReactWidget } from '@jupyterlab/apputils';
import type { ITranslator } from '@jupyterlab/translation';
import {
  buildIcon,
  LabIcon,
  SidePanel,
  ToolbarButton
} from '@jupyterlab/ui-components';
import React from 'react';
import type { RuntimeImagesModel } from '../model';
import { TRANSLATION_DOMAIN } from '../tokens';
import { BuildsSection } from '../widgets/BuildsSection';
import { BuildsActions } from './actions';
import { BuildsAPI } from './api';
import { BuildsModel } from './model';

/** A container with an arrow into it: import an image. */
export const importImageIcon = new LabIcon({
  name: 'jupyter-runtime-images:import-image',
  svgstr: `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M11 1h2v7.17l2.59-2.58L17 7l-5 5-5-5 1.41-1.41L11 8.17V1z"/>
    <path d="M4 10.2 2.5 11v8.3L12 23l9.5-3.7V11l-1.5-.8v1.83l-7 2.73v7.12l-6.5-2.53v-6.16l6.5 2.53v-1.9L5.5 11.7 4 11.1z"/>
  </g>
</svg>`
});

/** Commands of the builds part of the panel. */
export namespace BuildCommandIDs {
  export const importImage = 'runtime-images:import-image';
  export const buildImage = 'runtime-images:build-image';
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
  // Events sent while the page was hidden (or the socket reconnected) may be missed.
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && model.loaded) {
      void model.refresh().catch(() => undefined);
    }
  });

  panel.toolbar.insertItem(
    1,
    'import-image',
    new ToolbarButton({
      icon: importImageIcon,
      tooltip: trans.__('Import image'),
      onClick: () => void actions.importImage()
    })
  );

  panel.toolbar.insertItem(
    2,
    'build-image',
    new ToolbarButton({
      icon: buildIcon,
      tooltip: trans.__('Build image'),
      onClick: () => void actions.buildImage()
    })
  );

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
  if (palette) {
    palette.addItem({
      command: BuildCommandIDs.importImage,
      category: trans.__('Runtime Images'),
      args: { isPalette: true }
    });
    palette.addItem({
      command: BuildCommandIDs.buildImage,
      category: trans.__('Runtime Images'),
      args: { isPalette: true }
    });
  }
  return model;
}
