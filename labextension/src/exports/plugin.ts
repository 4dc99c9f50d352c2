import { Notification, showErrorMessage } from '@jupyterlab/apputils';
import { shareIcon } from '@jupyterlab/ui-components';
import { downloadText } from '../download';
import { panelFeaturePlugin } from '../panelFeature';
import { errorMessage } from '../request';
import { CommandIDs } from '../tokens';
import { ExportsAPI } from './api';
import { showExportDialog } from './widgets/ExportDialog';

/**
 * Exports to other platforms (issue 19): **Export to…** in the panel's toolbar
 * (the selected images, or every image) and in the bar of the selection — a
 * format, a preview and a download.
 */
export const exportsPlugin = panelFeaturePlugin({
  id: 'jupyter-runtime-images:exports',
  description:
    'Export runtime images to ODH ImageStreams, KubeSpawner profiles, Kubeflow, pre-pullers and Elyra.',
  activate: ({ images, trans, serverSettings }) => {
    const api = new ExportsAPI({ serverSettings });
    const namesOf = (args: Record<string, unknown>): string[] =>
      Array.isArray(args.names)
        ? args.names.filter((n): n is string => typeof n === 'string')
        : [...images.selection];
    images.addCommands([
      {
        id: CommandIDs.exportTo,
        label: trans.__('Export to…'),
        caption: trans.__(
          'Export runtime images to another platform (ODH, JupyterHub, Kubeflow, pre-pullers, Elyra)'
        ),
        icon: shareIcon,
        isEnabled: () => images.status === 'ready',
        execute: async args => {
          let formats;
          try {
            formats = await api.formats();
          } catch (error) {
            await showErrorMessage(trans.__('Export to…'), errorMessage(error));
            return null;
          }
          if (formats.length === 0) {
            Notification.warning(
              trans.__('This server exports to no other format.'),
              { autoClose: 5000 }
            );
            return null;
          }
          const tags = new Set<string>();
          for (const image of images.images) {
            for (const tag of image.metadata?.tags ?? []) {
              tags.add(tag);
            }
          }
          return showExportDialog({
            api,
            trans,
            formats,
            names: namesOf(args as Record<string, unknown>),
            tags: [...tags].sort(),
            download: (text, name, mediaType) =>
              downloadText(text, name, mediaType || 'text/plain')
          });
        },
        toolbar: { name: 'export-to' }
      }
    ]);
    images.panel.addSelectionCommand(CommandIDs.exportTo);
  }
});
