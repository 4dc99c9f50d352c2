import { ServerConnection } from '@jupyterlab/services';
import type { JSONSchema7 } from 'json-schema';
import { requestAPI } from './request';
import type {
  IExportBundle,
  IImportResult,
  IInvalidRuntimeImage,
  IRuntimeImage,
  IRuntimeImageBody
} from './tokens';

/** A listing, or `null` when unchanged since the given ETag (HTTP 304). */
export interface IListing {
  images: IRuntimeImage[];
  invalid: IInvalidRuntimeImage[];
  etag: string | null;
}

/** An instance with its ETag (for `If-Match`). */
export interface IVersioned {
  image: IRuntimeImage;
  etag: string | null;
}

function imagePath(name: string, ...rest: string[]): string {
  return ['images', encodeURIComponent(name), ...rest].join('/');
}

/**
 * A typed client of the runtime-images REST API.
 */
export class RuntimeImagesAPI {
  constructor(options: RuntimeImagesAPI.IOptions = {}) {
    this.serverSettings =
      options.serverSettings ?? ServerConnection.makeSettings();
  }

  readonly serverSettings: ServerConnection.ISettings;

  /** `GET schema`: the runtime-image JSON Schema. */
  async getSchema(): Promise<JSONSchema7> {
    const { data } = await requestAPI<JSONSchema7>(
      'schema',
      { method: 'GET' },
      this.serverSettings
    );
    return data ?? {};
  }

  /**
   * `GET images?include_invalid=true`, conditional on `etag`.
   *
   * @returns the listing, or `null` when the server answers 304 Not Modified
   */
  async listImages(etag?: string | null): Promise<IListing | null> {
    const headers: Record<string, string> = {};
    if (etag) {
      headers['If-None-Match'] = etag;
    }
    const response = await requestAPI<{
      'runtime-images'?: IRuntimeImage[];
      invalid?: IInvalidRuntimeImage[];
    }>(
      'images?include_invalid=true',
      { method: 'GET', headers },
      this.serverSettings
    );
    if (response.status === 304) {
      return null;
    }
    return {
      images: response.data?.['runtime-images'] ?? [],
      invalid: response.data?.invalid ?? [],
      etag: response.etag
    };
  }

  /** `GET images/{name}`. */
  async getImage(name: string): Promise<IVersioned> {
    const { data, etag } = await requestAPI<IRuntimeImage>(
      imagePath(name),
      { method: 'GET' },
      this.serverSettings
    );
    return { image: data as IRuntimeImage, etag };
  }

  /** `POST images`: create; 400 with field errors, 409 when the name is taken. */
  async createImage(body: IRuntimeImageBody): Promise<IVersioned> {
    const { data, etag } = await requestAPI<IRuntimeImage>(
      'images',
      { method: 'POST', body: JSON.stringify(body) },
      this.serverSettings
    );
    return { image: data as IRuntimeImage, etag };
  }

  /**
   * `PUT images/{name}`: full replace (also repairs an invalid file).
   *
   * @param etag when given, sent as `If-Match` (the server answers 412 when stale)
   */
  async replaceImage(
    name: string,
    body: IRuntimeImageBody,
    etag?: string | null
  ): Promise<IVersioned> {
    const headers: Record<string, string> = {};
    if (etag) {
      headers['If-Match'] = etag;
    }
    const { data, etag: newEtag } = await requestAPI<IRuntimeImage>(
      imagePath(name),
      { method: 'PUT', headers, body: JSON.stringify(body) },
      this.serverSettings
    );
    return { image: data as IRuntimeImage, etag: newEtag };
  }

  /** `PATCH images/{name}` with a JSON merge patch. */
  async patchImage(
    name: string,
    patch: Record<string, unknown>,
    etag?: string | null
  ): Promise<IVersioned> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/merge-patch+json'
    };
    if (etag) {
      headers['If-Match'] = etag;
    }
    const { data, etag: newEtag } = await requestAPI<IRuntimeImage>(
      imagePath(name),
      { method: 'PATCH', headers, body: JSON.stringify(patch) },
      this.serverSettings
    );
    return { image: data as IRuntimeImage, etag: newEtag };
  }

  /** `DELETE images/{name}` (403 for factory and shared images). */
  async deleteImage(name: string): Promise<void> {
    await requestAPI<void>(
      imagePath(name),
      { method: 'DELETE' },
      this.serverSettings
    );
  }

  /** `POST images/{name}/duplicate`. */
  async duplicateImage(name: string): Promise<IRuntimeImage> {
    const { data } = await requestAPI<IRuntimeImage>(
      imagePath(name, 'duplicate'),
      { method: 'POST' },
      this.serverSettings
    );
    return data as IRuntimeImage;
  }

  /** `GET export`. */
  async exportImages(): Promise<IExportBundle> {
    const { data } = await requestAPI<IExportBundle>(
      'export',
      { method: 'GET' },
      this.serverSettings
    );
    return data ?? { 'runtime-images': [] };
  }

  /** `POST import[?overwrite=true]`. */
  async importImages(
    bundle: unknown,
    overwrite = false
  ): Promise<IImportResult[]> {
    const { data } = await requestAPI<{ results?: IImportResult[] }>(
      overwrite ? 'import?overwrite=true' : 'import',
      { method: 'POST', body: JSON.stringify(bundle) },
      this.serverSettings
    );
    return data?.results ?? [];
  }
}

export namespace RuntimeImagesAPI {
  export interface IOptions {
    serverSettings?: ServerConnection.ISettings;
  }
}
