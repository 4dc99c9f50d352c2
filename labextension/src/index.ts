import type { JupyterFrontEndPlugin } from '@jupyterlab/application';
import { buildsPlugin } from './builds/plugin';
import { detailsPlugin } from './details/plugin';
import { imagesPlugin } from './images/plugin';
import { kernelspecsPlugin } from './kernelspecs/plugin';
import { exportsPlugin } from './exports/plugin';
import { publishPlugin } from './publish/plugin';
import { updatesPlugin } from './updates/plugin';
import { vulnsPlugin } from './vulns/plugin';

/**
 * The extension's plugins: the Runtime Images panel (it provides `IRuntimeImages`),
 * and the features that add to it: builds, kernelspecs, details, publish, updates,
 * vulnerabilities and exports.
 */
const plugins: JupyterFrontEndPlugin<any>[] = [
  imagesPlugin,
  buildsPlugin,
  kernelspecsPlugin,
  detailsPlugin,
  publishPlugin,
  updatesPlugin,
  vulnsPlugin,
  exportsPlugin
];

export default plugins;
