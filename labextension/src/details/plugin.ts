import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, InputDialog } from '@jupyterlab/apputils';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { infoIcon } from '@jupyterlab/ui-components';
import { CommandIDs, IRuntimeImages, TRANSLATION_DOMAIN } from '../tokens';
import { DetailsActions } from './actions';
import { DetailsAPI } from './api';
import { DetailsTab, TABS, targetOf } from './model';
import type { DetailsTarget } from './types';

/**
 * The Details view of a runtime image: the command `runtime-images:open-details`
 * (`{name}` or `{image}`, optional `{tab}`; from the palette it asks which
 * image), the "Details" button of every image of the panel, and a double-click
 * on an image.
 */
export const detailsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-runtime-images:details',
  description:
    'The Details view of a runtime image: packages, layers, checks, vulnerabilities, history and comparisons.',
  autoStart: true,
  requires: [IRuntimeImages],
  optional: [ITranslator, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    images: IRuntimeImages,
    translator: ITranslator | null,
    palette: ICommandPalette | null
  ): void => {
    translator = translator ?? nullTranslator;
    const trans = translator.load(TRANSLATION_DOMAIN);
    const actions = new DetailsActions({
      app,
      translator,
      images,
      api: new DetailsAPI({ serverSettings: app.serviceManager.serverSettings })
    });

    /** Ask which runtime image (the palette gives no name). */
    const pick = async (): Promise<DetailsTarget | null> => {
      const choices = images.images;
      if (choices.length === 0) {
        return null;
      }
      const labels = choices.map(i => `${i.display_name} (${i.name})`);
      const result = await InputDialog.getItem({
        title: trans.__('Details of which runtime image?'),
        items: labels,
        okLabel: trans.__('Open'),
        cancelLabel: trans.__('Cancel')
      });
      const index = result.value === null ? -1 : labels.indexOf(result.value);
      return result.button.accept && index >= 0
        ? { name: choices[index].name }
        : null;
    };

    app.commands.addCommand(CommandIDs.openDetails, {
      label: args =>
        targetOf(args)
          ? trans.__('Details')
          : trans.__('Runtime Image Details…'),
      caption: trans.__(
        'What is inside the image: packages, layers, checks, vulnerabilities, history'
      ),
      icon: args => (args['isPalette'] ? undefined : infoIcon),
      isEnabled: () => images.status === 'ready',
      execute: async args => {
        const target = targetOf(args) ?? (await pick());
        if (!target) {
          return;
        }
        const tab = args['tab'] as DetailsTab | undefined;
        actions.open(target, tab && TABS.includes(tab) ? tab : undefined);
      }
    });
    images.statusChanged.connect(() =>
      app.commands.notifyCommandChanged(CommandIDs.openDetails)
    );
    palette?.addItem({
      command: CommandIDs.openDetails,
      category: trans.__('Runtime Images'),
      args: { isPalette: true }
    });
    images.panel.addImageCommand(CommandIDs.openDetails, { isDefault: true });
  }
};
