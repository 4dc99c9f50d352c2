import { ServerConnection } from '@jupyterlab/services';
import { IResponse, requestAPI } from './request';

/**
 * The path of the resource `name` of `collection` (`images/{name}`), or of one of
 * its sub-resources (`images/{name}/duplicate`): the name is URL-encoded.
 */
export function resourcePath(
  collection: string,
  name: string,
  ...rest: string[]
): string {
  return [collection, encodeURIComponent(name), ...rest].join('/');
}

/**
 * What the typed REST clients share: the server settings (the app's by default),
 * `request`, which calls `requestAPI` with them, and `requestBody` for the routes
 * that answer a document.
 */
export abstract class RESTClient {
  constructor(options: RESTClient.IOptions = {}) {
    this.serverSettings =
      options.serverSettings ?? ServerConnection.makeSettings();
  }

  readonly serverSettings: ServerConnection.ISettings;

  /** `requestAPI(endPoint, init)` with this client's settings. */
  protected request<T>(
    endPoint: string,
    init: RequestInit
  ): Promise<IResponse<T>> {
    return requestAPI<T>(endPoint, init, this.serverSettings);
  }

  /** The parsed body of the answer, of a route whose answer is a `T`. */
  protected async requestBody<T>(
    endPoint: string,
    init: RequestInit
  ): Promise<T> {
    const { data } = await this.request<T>(endPoint, init);
    return data as T;
  }
}

export namespace RESTClient {
  export interface IOptions {
    serverSettings?: ServerConnection.ISettings;
  }
}
