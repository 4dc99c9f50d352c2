import { RESTClient, resourcePath } from '../restClient';
import type { IRuntimeImage } from '../tokens';

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
