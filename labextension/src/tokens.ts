import type { LabIcon, Toolbar } from '@jupyterlab/ui-components';
import { Token } from '@lumino/coreutils';
import type { ISignal } from '@lumino/signaling';
import type { Widget } from '@lumino/widgets';
import type { JSONSchema7 } from 'json-schema';

/**
 * The public side of the extension: the runtime image types, the `IRuntimeImages`
 * token the images plugin provides, and the ids of its panel and commands. The
 * other features (builds, kernelspecs) use the images feature through this module only.
 */

/**
 * Command identifiers of the Runtime Images panel.
 */
export namespace CommandIDs {
  export const open = 'runtime-images:open';
  export const create = 'runtime-images:create';
  export const refresh = 'runtime-images:refresh';
  export const exportImages = 'runtime-images:export';
  export const importImages = 'runtime-images:import';
  /** Publish a runtime image (`{ name }`) or a Ready build (`{ build }`) to a registry. */
  export const publish = 'runtime-images:publish';
  /** Export runtime images to another platform's format (`{ names? }`: the selection). */
  export const exportTo = 'runtime-images:export-to';
  /** Open the Details view of `args.name` (a runtime image) or `args.image` (a reference). */
  export const openDetails = 'runtime-images:open-details';
}

/** Identifier of the sidebar panel (also the layout restorer key). */
export const PANEL_ID = 'runtime-images-panel';

/** Translation domain of this extension. */
export const TRANSLATION_DOMAIN = 'jupyter_runtime_images';

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';
export type Origin = 'user' | 'shared' | 'factory';

/**
 * The `metadata` stanza of a runtime image (unknown keys are preserved).
 */
export interface IRuntimeImageMetadata {
  image_name: string;
  description?: string;
  pull_policy?: PullPolicy;
  pull_secret?: string;
  tags?: string[];
  [key: string]: unknown;
}

/**
 * A runtime image instance, as the server returns it.
 */
export interface IRuntimeImage {
  name: string;
  display_name: string;
  schema_name: 'runtime-image';
  metadata: IRuntimeImageMetadata;
  origin?: Origin;
  /**
   * Only this machine can use the image (a `localhost/…` reference, in the
   * server's local OCI layout): publishing it lets pipelines and clusters pull it.
   */
  local?: boolean;
  /** Read-only notes from the server, e.g. that the reference is not pinned. */
  warnings?: string[];
}

/**
 * Whether the server extension answers.
 *
 * - `checking`: the first request is in flight;
 * - `ready`: the server extension answered;
 * - `missing`: the routes are not there (HTTP 404): not installed or not enabled;
 * - `error`: any other failure (network, 5xx, 403…).
 */
export type ServerStatus = 'checking' | 'ready' | 'missing' | 'error';

/**
 * A badge a feature shows on a runtime image's row (e.g. its vulnerability
 * counts): a short text, and what it means as tooltip and for screen readers.
 */
export interface IImageBadge {
  /** Its key among the row's badges. */
  key: string;
  /** The text shown (short). */
  text: string;
  /** What it means: the tooltip, also read by screen readers after the text. */
  title: string;
  /** Classes besides `jp-RuntimeImages-badge` (e.g. `jp-mod-critical`). */
  className?: string;
}

/** What gives the badges of the rows: asked again when `changed` is emitted. */
export interface IImageBadgeProvider {
  readonly changed: ISignal<any, void>;
  badges(image: IRuntimeImage): ReadonlyArray<IImageBadge>;
}

/**
 * The Runtime Images sidebar, as the other features see it: they add their
 * sections, toolbar items and per-image buttons to it.
 */
export interface IRuntimeImagesPanel {
  /** Whether the panel is shown (features pause their polling while it is not). */
  readonly isVisible: boolean;
  /** The panel's toolbar. */
  readonly toolbar: Toolbar;
  /** Add a section above the list of images. */
  addSection(widget: Widget): void;
  /**
   * Add a toolbar item after the images' "create" button (and after the items
   * added before it).
   */
  addToolbarItem(name: string, item: Widget): void;
  /**
   * Add a button to every image of the list, before its Delete button: it runs
   * `command` with `{ name }` (the image's name), shows the command's icon, and
   * its label is the button's accessible name and tooltip. The command added
   * with `isDefault` is also what a double-click on an image does.
   */
  addImageCommand(command: string, options?: { isDefault?: boolean }): void;
  /** Add badges to the rows of the images (after the panel's own). */
  addImageBadges(provider: IImageBadgeProvider): void;
  /**
   * Add a button to the bar that shows while images are selected: it runs
   * `command` with `{ names }` (the selected images' names).
   */
  addSelectionCommand(command: string): void;
  /**
   * Activate the panel and show the image `name` alone (the filter is set to it).
   *
   * @returns whether the image exists (after a refresh)
   */
  showImage(name: string): Promise<boolean>;
}

/** A command of the Runtime Images panel, and where it shows. */
export interface IPanelCommand {
  id: string;
  label: string;
  caption?: string;
  /** Its icon: in the panel's toolbar and menus, not in the command palette. */
  icon: LabIcon;
  /** Whether it can run now (asked again when the server status changes). */
  isEnabled?: () => boolean;
  /** Run it: `args` are the command's (e.g. `{ names }` from the selection bar). */
  execute: (args: Record<string, unknown>) => unknown;
  /**
   * Its button in the panel's toolbar: the item's name, and the tooltip (and
   * accessible name) when not the command's caption. The button shows no text.
   */
  toolbar?: { name: string; caption?: string };
}

/**
 * The public interface of the runtime images, provided as a token so that other
 * extensions (e.g. a pipeline editor) can list the images and follow changes, and
 * the builds and kernelspecs features can add to the panel.
 */
export interface IRuntimeImages {
  /** The valid images, sorted by display name. */
  readonly images: ReadonlyArray<IRuntimeImage>;
  /** Emitted when the list of images changes. */
  readonly changed: ISignal<IRuntimeImages, void>;
  /**
   * Emitted after every successful fetch of the list, changed or not (each
   * poll): what belongs with the list (badges) is fetched again then.
   */
  readonly refreshed: ISignal<IRuntimeImages, void>;
  /** The names of the selected images (in the list's order). */
  readonly selection: ReadonlyArray<string>;
  /** Emitted when the selection changes. */
  readonly selectionChanged: ISignal<IRuntimeImages, void>;
  /** Fetch the list again now. */
  refresh(): Promise<void>;
  /** A valid image by name. */
  find(name: string): IRuntimeImage | undefined;
  /** Whether the server extension answers. */
  readonly status: ServerStatus;
  /** Emitted when `status` changes. */
  readonly statusChanged: ISignal<IRuntimeImages, ServerStatus>;
  /** The runtime-image JSON Schema the server serves (once `ready`). */
  readonly schema: JSONSchema7 | null;
  /** The sidebar panel. */
  readonly panel: IRuntimeImagesPanel;
  /**
   * Add the commands of a feature of the panel: to the application, to the
   * command palette (under "Runtime Images"), and their buttons to the panel's
   * toolbar (see `IRuntimeImagesPanel.addToolbarItem`).
   */
  addCommands(commands: ReadonlyArray<IPanelCommand>): void;
}

export const IRuntimeImages = new Token<IRuntimeImages>(
  'jupyter-runtime-images:IRuntimeImages',
  'The runtime image configurations known to the server, and their panel.'
);

/* The watch routes (issue 18): what the Updates feature and the Details share. */

/** What changed between the pinned image and the tag's image now. */
export interface IUpdateSummary {
  packages: { added: number; removed: number; changed: number };
  vulnerabilities: { fixed: number; introduced: number } | null;
}

/** A tag that moved: a runtime image's, or the base image of a build. */
export interface IUpdate {
  /** The runtime image's (or the build's) name. */
  name: string;
  kind: 'runtime-image' | 'build-base' | string;
  /** The tag that moved (`repository:tag`). */
  reference: string;
  /** The digest in use. */
  pinned: string;
  /** The digest the tag points at now. */
  current: string;
  /** When `current` was first seen (ISO 8601). */
  since?: string;
  summary?: IUpdateSummary | null;
}

/** `GET updates`: when the tags were last checked, and those that moved. */
export interface IUpdates {
  checkedAt: string | null;
  updates: IUpdate[];
}

/** `POST images/{name}/repin`: the runtime image moved, and its kernelspecs. */
export interface IRepinResult {
  image: IRuntimeImage;
  from: string;
  to: string;
  kernelspecs: string[];
}
