import { panelFeaturePlugin } from '../panelFeature';
import { publishImageIcon } from '../icons';
import { CommandIDs } from '../tokens';
import { PublishAPI, PublishSource } from './api';
import { suggestedDestination } from './form';
import { PublishModel } from './model';
import { showPublishDialog } from './widgets/PublishDialog';

/**
 * Publishing images (issue 14): a **Publish…** button on every runtime image,
 * and the command `runtime-images:publish` the builds' details run for a
 * Ready build. The command's arguments: `{ name }` (a runtime image) or
 * `{ build, label?, reference?, runtimeImage? }` (a build: its display name,
 * its image and the runtime image it made).
 */
export const publishPlugin = panelFeaturePlugin({
  id: 'jupyter-runtime-images:publish',
  description:
    'Publish runtime images and built images to a registry, an OCI archive or a local image store.',
  activate: ({ app, images, trans, serverSettings, state }) => {
    const model = new PublishModel({
      api: new PublishAPI({ serverSettings }),
      state
    });

    /** What the command publishes, from its arguments. */
    const sourceOf = (args: Record<string, unknown>) => {
      const build = typeof args.build === 'string' ? args.build : '';
      if (build) {
        const runtimeImage =
          typeof args.runtimeImage === 'string' && args.runtimeImage
            ? args.runtimeImage
            : null;
        return {
          source: { kind: 'build', name: build } as PublishSource,
          label:
            typeof args.label === 'string' && args.label ? args.label : build,
          reference: typeof args.reference === 'string' ? args.reference : '',
          runtimeImage
        };
      }
      const image = images.find(String(args.name ?? ''));
      if (!image) {
        return null;
      }
      return {
        source: { kind: 'image', name: image.name } as PublishSource,
        label: image.display_name,
        reference: image.metadata?.image_name ?? '',
        runtimeImage: image.display_name
      };
    };

    app.commands.addCommand(CommandIDs.publish, {
      label: trans.__('Publish…'),
      caption: trans.__(
        'Publish the image to a registry, so that pipelines and clusters can pull it'
      ),
      icon: publishImageIcon,
      isEnabled: args =>
        images.status === 'ready' && sourceOf(args as any) !== null,
      execute: async args => {
        const what = sourceOf(args as any);
        if (!what) {
          return null;
        }
        await model.ready;
        const result = await showPublishDialog({
          model,
          trans,
          ...what,
          initialTo: suggestedDestination(what.reference, model.lastRegistry)
        });
        if (result?.runtimeImage) {
          void images.refresh().catch(() => undefined);
        }
        return result;
      }
    });
    images.panel.addImageCommand(CommandIDs.publish);
  }
});
