import type { IFieldError } from '../request';
import type { IRuntimeImage, IRuntimeImageMetadata, Origin } from '../tokens';

/**
 * What the images feature exchanges with the server besides the runtime images
 * themselves (those are public: `../tokens`).
 */

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
