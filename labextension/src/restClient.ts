import { ServerConnection } from '@jupyterlab/services';
import { IResponse, requestAPI } from './request';

/**
 * What the typed REST clients share: the server settings (the app's by default)
 * and `request`, which calls `requestAPI` with them.
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
}

export namespace RESTClient {
  export interface IOptions {
    serverSettings?: ServerConnection.ISettings;
  }
}
