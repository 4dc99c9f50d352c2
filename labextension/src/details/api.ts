import { RESTClient, resourcePath } from '../restClient';
import type {
  DetailsTarget,
  IDiff,
  IHistory,
  IInspection,
  ILayers,
  IPlatforms,
  IRepinResult,
  IUpdates,
  IValidation,
  IVulnerabilities,
  SbomFormat
} from './types';

/**
 * The query string of a route that reads an image: `name=N` or `image=REF`, then
 * `extra` (entries whose value is empty or undefined are left out).
 */
export function imageQuery(
  target: DetailsTarget,
  extra: Record<string, string | undefined> = {}
): string {
  const query = new URLSearchParams();
  if ('name' in target) {
    query.set('name', target.name);
  } else {
    query.set('image', target.image);
  }
  for (const [key, value] of Object.entries(extra)) {
    if (value) {
      query.set(key, value);
    }
  }
  return query.toString();
}

/**
 * A typed client of the routes the Details view reads. Every read takes an
 * `AbortSignal`: closing the view or pressing Cancel aborts the request (the
 * first inspection of an image may take long).
 */
export class DetailsAPI extends RESTClient {
  /** `GET inspect`: the image's report, packages, sizes and accelerators. */
  inspect(
    target: DetailsTarget,
    platform?: string,
    signal?: AbortSignal
  ): Promise<IInspection> {
    return this.get(`inspect?${imageQuery(target, { platform })}`, signal);
  }

  /** `GET inspect?platform=all`: digest, size and checks of each platform of an index. */
  platforms(target: DetailsTarget, signal?: AbortSignal): Promise<IPlatforms> {
    return this.get(
      `inspect?${imageQuery(target, { platform: 'all' })}`,
      signal
    );
  }

  /** `GET layers`: sizes, files and wasted bytes per layer. */
  layers(
    target: DetailsTarget,
    platform?: string,
    signal?: AbortSignal
  ): Promise<ILayers> {
    return this.get(`layers?${imageQuery(target, { platform })}`, signal);
  }

  /** `POST validate`: the requirement profiles' checks (the server's default profiles when none). */
  validate(
    target: DetailsTarget,
    options: { profiles?: string[]; platform?: string } = {},
    signal?: AbortSignal
  ): Promise<IValidation> {
    const body: Record<string, unknown> = { ...target };
    if (options.profiles && options.profiles.length > 0) {
      body.profiles = options.profiles;
    }
    if (options.platform) {
      body.platform = options.platform;
    }
    return this.requestBody('validate', {
      method: 'POST',
      body: JSON.stringify(body),
      signal
    });
  }

  /** `GET vulns`: known vulnerabilities (409 `VulnerabilityDatabaseMissing` without a database). */
  vulnerabilities(
    target: DetailsTarget,
    platform?: string,
    signal?: AbortSignal
  ): Promise<IVulnerabilities> {
    return this.get(`vulns?${imageQuery(target, { platform })}`, signal);
  }

  /** `GET images/{name}/history`: the digests the runtime image pointed at. */
  history(name: string, signal?: AbortSignal): Promise<IHistory> {
    return this.get(resourcePath('images', name, 'history'), signal);
  }

  /** `GET updates`: the tags that moved since they were pinned (last watch). */
  updates(signal?: AbortSignal): Promise<IUpdates> {
    return this.get('updates', signal);
  }

  /** The runtime image's ETag now (`GET images/{name}`), to guard a re-pin. */
  async imageETag(name: string): Promise<string | null> {
    const { etag } = await this.request(resourcePath('images', name), {
      method: 'GET'
    });
    return etag;
  }

  /**
   * `POST images/{name}/repin`: move the runtime image (and its kernelspecs) to
   * its tag's current digest; with `dryRun`, only say what it would do.
   *
   * @param etag sent as `If-Match` when given (412 when the image changed meanwhile)
   */
  repin(
    name: string,
    options: { dryRun?: boolean; etag?: string | null } = {}
  ): Promise<IRepinResult> {
    return this.requestBody(resourcePath('images', name, 'repin'), {
      method: 'POST',
      headers: options.etag ? { 'If-Match': options.etag } : {},
      body: JSON.stringify(options.dryRun ? { dryRun: true } : {})
    });
  }

  /** `GET diff`: packages, config, sizes, checks (and vulnerabilities) of two images. */
  diff(a: string, b: string, signal?: AbortSignal): Promise<IDiff> {
    const query = new URLSearchParams({ a, b });
    return this.get(`diff?${query.toString()}`, signal);
  }

  /** `GET sbom`: the SBOM document, as the text to save. */
  async sbom(
    target: DetailsTarget,
    format: SbomFormat,
    signal?: AbortSignal
  ): Promise<string> {
    const data = await this.get<unknown>(
      `sbom?${imageQuery(target, { format })}`,
      signal
    );
    return typeof data === 'string' ? data : JSON.stringify(data, null, 2);
  }

  private get<T>(endPoint: string, signal?: AbortSignal): Promise<T> {
    return this.requestBody<T>(
      endPoint,
      signal ? { method: 'GET', signal } : { method: 'GET' }
    );
  }
}

export namespace DetailsAPI {
  export type IOptions = RESTClient.IOptions;
}
