import { ReactWidget } from '@jupyterlab/apputils';
import { buildIcon } from '@jupyterlab/ui-components';
import React from 'react';
import { importImageIcon } from '../icons';
import { panelFeaturePlugin } from '../panelFeature';
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
export const buildsPlugin = panelFeaturePlugin({
  id: 'jupyter-runtime-images:builds',
  description:
    'Import and build runtime images (CustomNBImage), followed live in the Runtime Images panel.',
  activate: ({ app, images, translator, trans, serverSettings }) => {
    const { panel } = images;
    const events = app.serviceManager.events as
      typeof app.serviceManager.events | undefined;
    const model = new BuildsModel({
      api: new BuildsAPI({ serverSettings }),
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

    // Enabled once the server extension answers.
    const isReady = () => images.status === 'ready';
    images.addCommands([
      {
        id: BuildCommandIDs.importImage,
        label: trans.__('Import Image as Runtime Image…'),
        caption: trans.__('Import image'),
        icon: importImageIcon,
        isEnabled: isReady,
        execute: () => actions.importImage(),
        toolbar: { name: 'import-image' }
      },
      {
        id: BuildCommandIDs.buildImage,
        label: trans.__('Build Runtime Image…'),
        caption: trans.__('Build image'),
        icon: buildIcon,
        isEnabled: isReady,
        execute: () => actions.buildImage(),
        toolbar: { name: 'build-image' }
      }
    ]);
  }
});
