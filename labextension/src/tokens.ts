import { Token } from '@lumino/coreutils';
import type { ISignal } from '@lumino/signaling';

/**
 * Command identifiers of the runtime images extension.
 */
export namespace CommandIDs {
  export const open = 'runtime-images:open';
  export const create = 'runtime-images:create';
  export const refresh = 'runtime-images:refresh';
  export const edit = 'runtime-images:edit';
  export const exportImages = 'runtime-images:export';
  export const importImages = 'runtime-images:import';
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
  /** Read-only notes from the server, e.g. that the reference is not pinned. */
  warnings?: string[];
}

/**
 * The body of a create or replace request.
 */
export interface IRuntimeImageBody {
  name?: string;
  display_name: string;
  schema_name?: 'runtime-image';
  metadata: IRuntimeImageMetadata;
}

/**
 * A field error reported by the server (`path` like `metadata.image_name`).
 */
export interface IFieldError {
  path: string;
  message: string;
}

/**
 * An instance file that is on disk but cannot be used.
 */
export interface IInvalidRuntimeImage {
  name: string;
  origin?: Origin;
  reason: string;
  errors?: IFieldError[];
  document?: Record<string, unknown> | null;
  raw?: string;
}

/** One item of an import report. */
export interface IImportResult {
  name: string;
  status: 'created' | 'updated' | 'unchanged' | 'skipped' | 'failed';
  message?: string;
  errors?: IFieldError[];
}

/** An export bundle. */
export interface IExportBundle {
  'runtime-images': IRuntimeImage[];
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
 * The public interface of the runtime images model, provided as a token so that
 * other extensions (e.g. a pipeline editor) can list the images and follow changes.
 */
export interface IRuntimeImages {
  /** The valid images, sorted by display name. */
  readonly images: ReadonlyArray<IRuntimeImage>;
  /** Emitted when the list of images changes. */
  readonly changed: ISignal<IRuntimeImages, void>;
  /** Fetch the list again now. */
  refresh(): Promise<void>;
}

export const IRuntimeImages = new Token<IRuntimeImages>(
  'jupyter-runtime-images:IRuntimeImages',
  'The runtime image configurations known to the server.'
);
