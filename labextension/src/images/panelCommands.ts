import type { ICommandPalette } from '@jupyterlab/apputils';
import { CommandToolbarButton } from '@jupyterlab/ui-components';
import type { CommandRegistry } from '@lumino/commands';
import type { ISignal } from '@lumino/signaling';
import type { Widget } from '@lumino/widgets';
import type { IPanelCommand } from '../tokens';

/**
 * The commands of the Runtime Images panel, its own and those other features
 * add: each goes to the application and to the command palette under
 * `category`, with a toolbar button for those that have one; those with
 * `isEnabled` are asked again when `enabledChanged` is emitted.
 */
export class PanelCommands {
  constructor(
    private readonly options: {
      commands: CommandRegistry;
      palette: ICommandPalette | null;
      category: string;
      /** Emitted when whether the commands can run may have changed. */
      enabledChanged: ISignal<unknown, unknown>;
    }
  ) {
    options.enabledChanged.connect(() => {
      for (const id of this.enabledWhen) {
        options.commands.notifyCommandChanged(id);
      }
    });
  }

  /** Add `items`, their toolbar buttons with `addToolbarItem` (in order). */
  add(
    items: ReadonlyArray<IPanelCommand>,
    addToolbarItem: (name: string, item: Widget) => void
  ): void {
    const { commands, palette, category } = this.options;
    for (const item of items) {
      commands.addCommand(item.id, {
        label: item.label,
        caption: item.caption,
        icon: args => (args['isPalette'] ? undefined : item.icon),
        isEnabled: item.isEnabled,
        execute: item.execute
      });
      if (item.isEnabled) {
        this.enabledWhen.push(item.id);
      }
      if (item.toolbar) {
        addToolbarItem(
          item.toolbar.name,
          new CommandToolbarButton({
            commands,
            id: item.id,
            label: '',
            caption: item.toolbar.caption
          })
        );
      }
      palette?.addItem({
        command: item.id,
        category,
        args: { isPalette: true }
      });
    }
  }

  /** The commands whose `isEnabled` can change. */
  private readonly enabledWhen: string[] = [];
}
