import { RESTClient, resourcePath } from '../restClient';
import type { IRepinResult, IUpdates } from '../tokens';

export type {
  IRepinResult,
  IUpdate,
  IUpdates,
  IUpdateSummary
} from '../tokens';

/** A typed client of the watch routes (issue 18). */
export class UpdatesAPI extends RESTClient {
  /** `GET updates`: what the last watch found. */
  async list(): Promise<IUpdates> {
    const data = await this.requestBody<Partial<IUpdates>>('updates', {
      method: 'GET'
    });
    return {
      checkedAt: data?.checkedAt ?? null,
      updates: Array.isArray(data?.updates) ? data!.updates! : []
    };
  }

  /** `POST images/{name}/repin`: point the runtime image at its tag's image now. */
  repin(name: string): Promise<IRepinResult> {
    return this.requestBody(resourcePath('images', name, 'repin'), {
      method: 'POST',
      body: JSON.stringify({})
    });
  }
}

export namespace UpdatesAPI {
  export type IOptions = RESTClient.IOptions;
}
