import { panelFeaturePlugin } from '../panelFeature';
import type { IRuntimeImage } from '../tokens';
import { VulnsAPI } from './api';
import { severityBadge, VulnsModel } from './model';

/**
 * Vulnerabilities (issue 17): the severity counts of each runtime image already
 * scanned, as a badge on its row — fetched after the list and with every
 * refresh of it, never holding it up.
 */
export const vulnsPlugin = panelFeaturePlugin({
  id: 'jupyter-runtime-images:vulns',
  description:
    'Show the known vulnerabilities (counts by severity) of the runtime images already scanned.',
  activate: ({ images, trans, serverSettings }) => {
    const model = new VulnsModel({ api: new VulnsAPI({ serverSettings }) });
    images.refreshed.connect(() => void model.refresh().catch(() => undefined));
    images.panel.addImageBadges({
      changed: model.changed,
      badges: (image: IRuntimeImage) => {
        const entry = model.countsOf(image.name);
        return entry ? [severityBadge(entry, trans)] : [];
      }
    });
  }
});
