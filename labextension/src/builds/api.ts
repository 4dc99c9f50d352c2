import { RESTClient, resourcePath } from '../restClient';
import type { ICustomNBImage } from './types';

function buildPath(name: string, ...rest: string[]): string {
  return resourcePath('builds', name, ...rest);
}

/**
 * A typed client of the `runtime-images/builds` routes (CustomNBImage resources).
 * Errors are `APIError`s (status, message, field errors) from `requestAPI`.
 */
export class BuildsAPI extends RESTClient {
  /** `GET builds`: every build, oldest first. */
  async list(): Promise<ICustomNBImage[]> {
    const { data } = await this.request<{ builds?: ICustomNBImage[] }>(
      'builds',
      { method: 'GET' }
    );
    return Array.isArray(data?.builds) ? data!.builds! : [];
  }

  /** `GET builds/{name}`: one build, status included. */
  async get(name: string): Promise<ICustomNBImage> {
    return this.requestBody(buildPath(name), { method: 'GET' });
  }

  /** `POST builds`: 201 with the resource (`Pending`); 400 field errors; 409 name taken. */
  async create(resource: ICustomNBImage): Promise<ICustomNBImage> {
    return this.requestBody('builds', {
      method: 'POST',
      body: JSON.stringify(resource)
    });
  }

  /** `DELETE builds/{name}`: cancel it if it runs, and delete it. */
  async remove(name: string): Promise<void> {
    await this.request<void>(buildPath(name), { method: 'DELETE' });
  }

  /** `POST builds/{name}/cancel` (409 when it has ended). */
  async cancel(name: string): Promise<ICustomNBImage> {
    return this.requestBody(buildPath(name, 'cancel'), { method: 'POST' });
  }

  /** `POST builds/{name}/retry` (409 while it runs). */
  async retry(name: string): Promise<ICustomNBImage> {
    return this.requestBody(buildPath(name, 'retry'), { method: 'POST' });
  }

  /**
   * Add `tags` to the runtime image `name` (`GET` then `PATCH images/{name}`
   * with `If-Match`: a merge patch replaces the whole list).
   */
  async addImageTags(name: string, tags: ReadonlyArray<string>): Promise<void> {
    const path = resourcePath('images', name);
    const { data, etag } = await this.request<{
      metadata?: { tags?: string[] };
    }>(path, { method: 'GET' });
    const current = Array.isArray(data?.metadata?.tags)
      ? data!.metadata!.tags!
      : [];
    const merged = [...current, ...tags.filter(t => !current.includes(t))];
    const headers: Record<string, string> = {
      'Content-Type': 'application/merge-patch+json'
    };
    if (etag) {
      headers['If-Match'] = etag;
    }
    await this.request(path, {
      method: 'PATCH',
      headers,
      body: JSON.stringify({ metadata: { tags: merged } })
    });
  }

  /** `GET builds/{name}/log`: the log as text. */
  async log(name: string): Promise<string> {
    const { data } = await this.request<unknown>(buildPath(name, 'log'), {
      method: 'GET'
    });
    if (data === null || data === undefined) {
      return '';
    }
    return typeof data === 'string' ? data : JSON.stringify(data);
  }
}

export namespace BuildsAPI {
  export type IOptions = RESTClient.IOptions;
}
