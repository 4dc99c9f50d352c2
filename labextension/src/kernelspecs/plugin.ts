import { kernelIcon } from '@jupyterlab/ui-components';
import { panelFeaturePlugin } from '../panelFeature';
import { KernelspecsAPI } from './api';
import { KernelspecsModel } from './model';
import { showKernelspecDialog } from './widgets/KernelspecDialog';

/** Commands of the kernelspecs feature. */
export namespace KernelspecCommandIDs {
  /** Create a kernelspec for the runtime image `args.name` (a dialog). */
  export const create = 'runtime-images:create-kernelspec';
}

/**
 * Kernelspecs that launch kernels in a runtime image (Gateway Provisioners): a
 * "Create kernelspec" button on every image of the Runtime Images panel.
 */
export const kernelspecsPlugin = panelFeaturePlugin({
  id: 'jupyter-runtime-images:kernelspecs',
  description:
    'Create kernelspecs that launch kernels in a runtime image (Gateway Provisioners).',
  activate: ({ app, images, trans, serverSettings }) => {
    const { kernelspecs } = app.serviceManager;
    const model = new KernelspecsModel({
      api: new KernelspecsAPI({ serverSettings }),
      // The launcher and the kernel pickers list the new kernelspec.
      refreshSpecs: () => kernelspecs.refreshSpecs?.() ?? Promise.resolve()
    });
    app.commands.addCommand(KernelspecCommandIDs.create, {
      label: trans.__('Create kernelspec'),
      caption: trans.__('Create a kernelspec that runs kernels in this image'),
      icon: kernelIcon,
      isEnabled: args => images.find(String(args['name'] ?? '')) !== undefined,
      execute: async args => {
        const image = images.find(String(args['name'] ?? ''));
        if (image) {
          await showKernelspecDialog({ image, trans, model });
        }
      }
    });
    images.panel.addImageCommand(KernelspecCommandIDs.create);
  }
});
