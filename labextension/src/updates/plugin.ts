import { Notification } from '@jupyterlab/apputils';
import { Time } from '@jupyterlab/coreutils';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { CommandRegistry } from '@lumino/commands';
import { shortDigest } from '../imageref';
import { panelFeaturePlugin } from '../panelFeature';
import { errorMessage } from '../request';
import { CommandIDs, IRuntimeImage, IRuntimeImages } from '../tokens';
import { IUpdate, UpdatesAPI } from './api';
import { changeSummary, updateBadge } from './badge';
import { UpdatesModel } from './model';

/** The `$id` of the update event schema (schemas/events/update-available.yaml). */
export const UPDATE_EVENT_SCHEMA_ID =
  'https://events.jupyter.org/runtime_images/update-available';

/**
 * Updates (issue 18): an **update available** badge on the runtime images whose
 * tag moved, fetched with the list (and at once on an `update-available` event),
 * and one notification per move, with **Re-pin** and **Details**.
 */
export const updatesPlugin = panelFeaturePlugin({
  id: 'jupyter-runtime-images:updates',
  description:
    'Show when the tag of a runtime image moved, and re-pin it in one step.',
  activate: ({ app, images, trans, serverSettings, state }) => {
    const model = new UpdatesModel({
      api: new UpdatesAPI({ serverSettings }),
      state
    });
    const refresh = () => void model.refresh().catch(() => undefined);
    images.refreshed.connect(refresh);
    const events = app.serviceManager.events as
      typeof app.serviceManager.events | undefined;
    events?.stream.connect((_, emission) => {
      if (emission?.schema_id === UPDATE_EVENT_SCHEMA_ID) {
        refresh();
      }
    });

    images.panel.addImageBadges({
      changed: model.changed,
      badges: (image: IRuntimeImage) => {
        const update = model.forImage(image.name);
        return update
          ? [
              updateBadge(
                update,
                trans,
                update.since ? Time.formatHuman(update.since) : ''
              )
            ]
          : [];
      }
    });

    model.moved.connect((_, update) =>
      notify(update, { app, images, model, trans })
    );
  }
});

/** The notification of one move, with its actions. */
function notify(
  update: IUpdate,
  context: {
    app: { commands: CommandRegistry };
    images: IRuntimeImages;
    model: UpdatesModel;
    trans: TranslationBundle;
  }
): void {
  const { app, images, model, trans } = context;
  const image =
    update.kind === 'runtime-image' ? images.find(update.name) : undefined;
  const label = image?.display_name ?? update.name;
  const summary = changeSummary(update, trans);
  const actions: Notification.IAction[] = [];
  if (update.kind === 'runtime-image') {
    actions.push({
      label: trans.__('Re-pin'),
      caption: trans.__('Point "%1" at the new image', label),
      displayType: 'accent',
      callback: () => {
        void model
          .repin(update.name)
          .then(result => {
            void images.refresh().catch(() => undefined);
            Notification.success(
              trans._n(
                'Re-pinned "%2" to %3 (%1 kernelspec updated).',
                'Re-pinned "%2" to %3 (%1 kernelspecs updated).',
                result.kernelspecs?.length ?? 0,
                label,
                shortDigest(result.to || update.current)
              ),
              { autoClose: 5000 }
            );
          })
          .catch(error =>
            Notification.error(
              trans.__('Could not re-pin "%1": %2', label, errorMessage(error)),
              { autoClose: false }
            )
          );
      }
    });
    if (app.commands.hasCommand(CommandIDs.openDetails)) {
      actions.push({
        label: trans.__('Details'),
        caption: trans.__('Show what changed in "%1"', label),
        callback: () =>
          void app.commands.execute(CommandIDs.openDetails, {
            name: update.name
          })
      });
    }
  }
  const message =
    update.kind === 'runtime-image'
      ? trans.__(
          'Update available for "%1": %2 points at a new image.',
          label,
          update.reference
        )
      : trans.__(
          'The base image %1 of the build "%2" moved.',
          update.reference,
          label
        );
  Notification.info(summary ? `${message} ${summary}` : message, {
    autoClose: false,
    actions
  });
}
