import type { JupyterFrontEndPlugin } from '@jupyterlab/application';
import { buildsPlugin } from './builds/plugin';
import { detailsPlugin } from './details/plugin';
import { imagesPlugin } from './images/plugin';
import { kernelspecsPlugin } from './kernelspecs/plugin';

/**
 * The extension's plugins: the Runtime Images panel (it provides `IRuntimeImages`),
 * and the builds, kernelspecs and details features, which add to it.
 */
const plugins: JupyterFrontEndPlugin<any>[] = [
  imagesPlugin,
  buildsPlugin,
  kernelspecsPlugin,
  detailsPlugin
];

export default plugins;
