import type { JSONSchema7 } from 'json-schema';
import { RESTClient, resourcePath } from '../restClient';
import type { IRuntimeImage } from '../tokens';
import type {
  IExportBundle,
  IImportResult,
  IInvalidRuntimeImage,
  IRuntimeImageBody
} from './types';

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
  return resourcePath('images', name, ...rest);
}

/** `headers`, with `If-Match: etag` when there is an ETag (a conditional write). */
function withIfMatch(
  etag: string | null | undefined,
  headers: Record<string, string> = {}
): Record<string, string> {
  return etag ? { ...headers, 'If-Match': etag } : headers;
}

/**
 * A typed client of the runtime-images REST API.
 */
export class RuntimeImagesAPI extends RESTClient {
  /** `GET schema`: the runtime-image JSON Schema. */
  async getSchema(): Promise<JSONSchema7> {
    const { data } = await this.request<JSONSchema7>('schema', {
      method: 'GET'
    });
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
    const response = await this.request<{
      'runtime-images'?: IRuntimeImage[];
      invalid?: IInvalidRuntimeImage[];
    }>('images?include_invalid=true', { method: 'GET', headers });
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
  getImage(name: string): Promise<IVersioned> {
    return this.versioned(imagePath(name), { method: 'GET' });
  }

  /** `POST images`: create; 400 with field errors, 409 when the name is taken. */
  createImage(body: IRuntimeImageBody): Promise<IVersioned> {
    return this.versioned('images', {
      method: 'POST',
      body: JSON.stringify(body)
    });
  }

  /**
   * `PUT images/{name}`: full replace (also repairs an invalid file).
   *
   * @param etag when given, sent as `If-Match` (the server answers 412 when stale)
   */
  replaceImage(
    name: string,
    body: IRuntimeImageBody,
    etag?: string | null
  ): Promise<IVersioned> {
    return this.versioned(imagePath(name), {
      method: 'PUT',
      headers: withIfMatch(etag),
      body: JSON.stringify(body)
    });
  }

  /** `PATCH images/{name}` with a JSON merge patch. */
  patchImage(
    name: string,
    patch: Record<string, unknown>,
    etag?: string | null
  ): Promise<IVersioned> {
    return this.versioned(imagePath(name), {
      method: 'PATCH',
      headers: withIfMatch(etag, {
        'Content-Type': 'application/merge-patch+json'
      }),
      body: JSON.stringify(patch)
    });
  }

  /** `DELETE images/{name}` (403 for factory and shared images). */
  async deleteImage(name: string): Promise<void> {
    await this.request<void>(imagePath(name), { method: 'DELETE' });
  }

  /** `POST images/{name}/duplicate`. */
  async duplicateImage(name: string): Promise<IRuntimeImage> {
    return this.requestBody(imagePath(name, 'duplicate'), { method: 'POST' });
  }

  /** `GET export`. */
  async exportImages(): Promise<IExportBundle> {
    const { data } = await this.request<IExportBundle>('export', {
      method: 'GET'
    });
    return data ?? { 'runtime-images': [] };
  }

  /** `POST import[?overwrite=true]`. */
  async importImages(
    bundle: unknown,
    overwrite = false
  ): Promise<IImportResult[]> {
    const { data } = await this.request<{ results?: IImportResult[] }>(
      overwrite ? 'import?overwrite=true' : 'import',
      { method: 'POST', body: JSON.stringify(bundle) }
    );
    return data?.results ?? [];
  }

  /** A request that answers one instance, with its ETag. */
  private async versioned(
    endPoint: string,
    init: RequestInit
  ): Promise<IVersioned> {
    const { data, etag } = await this.request<IRuntimeImage>(endPoint, init);
    return { image: data as IRuntimeImage, etag };
  }
}

export namespace RuntimeImagesAPI {
  export type IOptions = RESTClient.IOptions;
}
