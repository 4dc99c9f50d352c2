import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import type { ServerConnection } from '@jupyterlab/services';
import { IStateDB } from '@jupyterlab/statedb';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { IRuntimeImages, TRANSLATION_DOMAIN } from './tokens';

/** What a feature of the Runtime Images panel starts with. */
export interface IPanelFeatureContext {
  app: JupyterFrontEnd;
  /** The runtime images, and the panel the feature adds to. */
  images: IRuntimeImages;
  /** JupyterLab's translator, or the null translator without one. */
  translator: ITranslator;
  trans: TranslationBundle;
  /** The app's server settings (for the feature's REST client). */
  serverSettings: ServerConnection.ISettings;
  /** JupyterLab's state database (what a feature remembers), when there is one. */
  state: IStateDB | null;
}

/**
 * The plugin of a feature that adds to the Runtime Images panel (builds,
 * kernelspecs): started with JupyterLab, once the images plugin has started (it
 * requires `IRuntimeImages`), translated when JupyterLab has a translator.
 */
export function panelFeaturePlugin(options: {
  id: string;
  description: string;
  activate: (context: IPanelFeatureContext) => void;
}): JupyterFrontEndPlugin<void> {
  return {
    id: options.id,
    description: options.description,
    autoStart: true,
    requires: [IRuntimeImages],
    optional: [ITranslator, IStateDB],
    activate: (
      app: JupyterFrontEnd,
      images: IRuntimeImages,
      translator: ITranslator | null,
      state: IStateDB | null
    ): void => {
      translator = translator ?? nullTranslator;
      options.activate({
        app,
        images,
        translator,
        trans: translator.load(TRANSLATION_DOMAIN),
        serverSettings: app.serviceManager.serverSettings,
        state: state ?? null
      });
    }
  };
}
