import type { TranslationBundle } from '@jupyterlab/translation';
import { parseImageReference } from '../imageref';
import type { IFieldError } from '../request';
import { FormErrors, groupErrorsBy } from '../ui/forms';
import type { IPublishRequest, IPublishResult } from './api';

/** The transports a destination can name (skopeo's names). */
export const TRANSPORTS = [
  'docker://',
  'oci-archive:',
  'containers-storage:',
  'docker-daemon:'
] as const;

export type Transport = (typeof TRANSPORTS)[number];

/** What the Publish dialog collects. */
export interface IPublishForm {
  to: string;
  repoint: boolean;
}

export type PublishField = 'to' | 'repoint' | 'form';

/** The transport a destination starts with, or `null`. */
export function transportOf(to: string): Transport | null {
  const text = to.trim();
  return TRANSPORTS.find(t => text.startsWith(t)) ?? null;
}

/** Only a registry can be pulled from: only there can a runtime image point. */
export function canRepoint(to: string): boolean {
  return transportOf(to) === 'docker://';
}

/**
 * What is wrong with a destination, as far as the browser can tell (the server
 * checks the rest and names `to` in its errors).
 */
export function publishFormErrors(
  form: IPublishForm,
  trans: TranslationBundle
): FormErrors<PublishField> {
  const to = form.to.trim();
  if (!to) {
    return { to: [trans.__('A destination is required.')] };
  }
  const transport = transportOf(to);
  const rest = transport ? to.slice(transport.length) : '';
  if (!transport || !rest) {
    return {
      to: [
        trans.__(
          'Publish to docker://HOST[:PORT]/REPOSITORY[:TAG], oci-archive:FILE, containers-storage:REPOSITORY:TAG or docker-daemon:REPOSITORY:TAG.'
        )
      ]
    };
  }
  if (transport === 'docker://' && !rest.includes('/')) {
    return {
      to: [
        trans.__(
          'Name the registry and the repository: docker://HOST[:PORT]/REPOSITORY[:TAG].'
        )
      ]
    };
  }
  return {};
}

/** The request of a filled-in form (`repoint` only where the image can be pulled). */
export function publishRequest(form: IPublishForm): IPublishRequest {
  const to = form.to.trim();
  return { to, repoint: form.repoint && canRepoint(to) };
}

/** Which field a server error belongs to (`to`, `repoint`; the rest: the form). */
export function publishFieldOf(path: string): PublishField {
  const p = (path ?? '').replace(/^[#/.]+/, '');
  if (p === 'to' || p.startsWith('to.') || p.startsWith('to/')) {
    return 'to';
  }
  if (p === 'repoint') {
    return 'repoint';
  }
  return 'form';
}

export function groupPublishErrors(
  errors: ReadonlyArray<IFieldError>
): FormErrors<PublishField> {
  return groupErrorsBy(errors, publishFieldOf);
}

/** The registry (`host[:port]`) of a `docker://` destination, or `null`. */
export function registryOf(to: string): string | null {
  const text = to.trim();
  if (transportOf(text) !== 'docker://') {
    return null;
  }
  const host = text.slice('docker://'.length).split('/')[0];
  return host || null;
}

/**
 * The destination the dialog proposes: the image's repository and tag under
 * the registry used last (`docker://registry/repository:tag`), or empty when no
 * registry was used yet.
 *
 * @param reference the image reference of what is published
 */
export function suggestedDestination(
  reference: string,
  lastRegistry: string | null
): string {
  if (!lastRegistry) {
    return '';
  }
  let repository = '';
  let tag: string | null = null;
  if (reference) {
    const ref = parseImageReference(reference);
    repository = ref.repository.replace(/^library\//, '');
    tag = ref.tag;
  }
  if (!repository) {
    return `docker://${lastRegistry}/`;
  }
  return `docker://${lastRegistry}/${repository}${tag ? `:${tag}` : ''}`;
}

/**
 * The pinned reference of a published image, to copy: the server's `image`, or
 * (for an answer without one) the destination's reference with its digest.
 */
export function pinnedReference(result: IPublishResult): string {
  if (result.image) {
    return result.image;
  }
  const to = result.to ?? '';
  const base = transportOf(to) === 'docker://' ? to.slice(9) : to;
  return result.digest ? `${base}@${result.digest}` : base;
}
