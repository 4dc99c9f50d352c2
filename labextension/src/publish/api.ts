import { RESTClient, resourcePath } from '../restClient';
import type { IRuntimeImage } from '../tokens';

/** What is published: a runtime image's image, or a Ready build's. */
export type PublishSource =
  { kind: 'image'; name: string } | { kind: 'build'; name: string };

/** The body of `POST images/{name}/publish` and `POST builds/{name}/publish`. */
export interface IPublishRequest {
  /**
   * Where to: `docker://HOST[:PORT]/REPOSITORY[:TAG]`, `oci-archive:FILE`,
   * `containers-storage:REPOSITORY:TAG` or `docker-daemon:REPOSITORY:TAG`.
   */
  to: string;
  /** Point the runtime image at the published image. */
  repoint: boolean;
}

/** The answer: the published image, its digest, and the runtime image repointed. */
export interface IPublishResult {
  /** The published image, pinned (`host/repository:tag@sha256:…`) where it can be. */
  image: string;
  digest: string;
  to: string;
  /** The runtime image after it was repointed, or `null` (not asked, or no registry). */
  runtimeImage: IRuntimeImage | null;
  /** The kernelspecs made from the runtime image that a repoint moved with it. */
  kernelspecs: string[];
}

/**
 * A typed client of the publish routes (issue 14). Errors are `APIError`s; a
 * bad destination is a field error of `to`.
 */
export class PublishAPI extends RESTClient {
  publish(
    source: PublishSource,
    request: IPublishRequest
  ): Promise<IPublishResult> {
    const collection = source.kind === 'image' ? 'images' : 'builds';
    return this.requestBody(resourcePath(collection, source.name, 'publish'), {
      method: 'POST',
      body: JSON.stringify(request)
    });
  }
}

export namespace PublishAPI {
  export type IOptions = RESTClient.IOptions;
}
