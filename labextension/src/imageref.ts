import type { TranslationBundle } from '@jupyterlab/translation';

/**
 * A container image reference split into its parts, for display.
 *
 * Grammar (distribution/reference): `[host[:port]/]path[:tag][@algorithm:hex]`.
 * The first path component is a registry host when it contains `.` or `:`, or is
 * `localhost`; otherwise the image lives on Docker Hub (`docker.io`).
 */
export interface IImageReference {
  /** Registry host (with port), `docker.io` when implicit. */
  registry: string;
  /** Whether the registry was written in the reference. */
  explicitRegistry: boolean;
  /** Repository path, e.g. `jupyter/r-notebook`. */
  repository: string;
  /** Tag, `null` when none. */
  tag: string | null;
  /** Digest (`sha256:…`), `null` when none. */
  digest: string | null;
}

export const DEFAULT_REGISTRY = 'docker.io';

export function parseImageReference(reference: string): IImageReference {
  let rest = (reference ?? '').trim();
  let digest: string | null = null;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1) || null;
    rest = rest.slice(0, at);
  }
  let registry = DEFAULT_REGISTRY;
  let explicitRegistry = false;
  const slash = rest.indexOf('/');
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      registry = first;
      explicitRegistry = true;
      rest = rest.slice(slash + 1);
    }
  }
  let tag: string | null = null;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0 && !rest.slice(colon).includes('/')) {
    tag = rest.slice(colon + 1) || null;
    rest = rest.slice(0, colon);
  }
  return { registry, explicitRegistry, repository: rest, tag, digest };
}

/** A short form of a digest: `sha256:0123456789ab`. */
export function shortDigest(digest: string): string {
  const [algorithm, hex] = digest.includes(':')
    ? digest.split(':', 2)
    : ['', digest];
  const short = hex.length > 12 ? hex.slice(0, 12) : hex;
  return algorithm ? `${algorithm}:${short}` : short;
}

/** What a person reads when a reference does not parse (the forms say it alike). */
export function invalidReferenceMessage(trans: TranslationBundle): string {
  return trans.__(
    'Not a valid image reference: expected [registry[:port]/]repository[:tag][@sha256:digest], lower case.'
  );
}
