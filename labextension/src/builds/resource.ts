import type { TranslationBundle } from '@jupyterlab/translation';
import { invalidReferenceMessage, parseImageReference } from '../imageref';
import type { IFieldError } from '../request';
import { FormErrors, groupErrorsBy } from '../ui/forms';
import {
  Annotations,
  API_VERSION,
  ICondition,
  ICustomNBImage,
  IProgress,
  KIND
} from './types';

export { formatBytes } from '../format';

/**
 * The image reference grammar of the runtime-image schema (`metadata.image_name`'s
 * pattern). The panel uses the pattern of the schema the server serves; this copy is
 * the fallback before the schema has loaded.
 */
export const IMAGE_REFERENCE_PATTERN =
  '^((?:(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\\[(?:[a-fA-F0-9:]+)\\])(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*)(?::([\\w][\\w.-]{0,127}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}))?$';

/** The pattern of `metadata.image_name` in a runtime-image JSON Schema, if any. */
export function imageNamePattern(schema: unknown): string {
  const pattern = (schema as any)?.properties?.metadata?.properties?.image_name
    ?.pattern;
  return typeof pattern === 'string' && pattern
    ? pattern
    : IMAGE_REFERENCE_PATTERN;
}

/** How an image reference typed in the import dialog reads. */
export interface IReferenceCheck {
  /** Empty, or matches the grammar. */
  valid: boolean;
  /** Neither a digest nor a tag other than `latest`: the image may change under the same name. */
  unpinned: boolean;
}

export function checkReference(
  reference: string,
  pattern: string = IMAGE_REFERENCE_PATTERN
): IReferenceCheck {
  const text = reference.trim();
  if (!text) {
    return { valid: false, unpinned: false };
  }
  let valid: boolean;
  try {
    valid = new RegExp(pattern).test(text);
  } catch {
    valid = new RegExp(IMAGE_REFERENCE_PATTERN).test(text);
  }
  if (!valid) {
    return { valid, unpinned: false };
  }
  const ref = parseImageReference(text);
  return {
    valid,
    unpinned: !ref.digest && (ref.tag === null || ref.tag === 'latest')
  };
}

/** DNS-1123 label rules of `metadata.name` (also the runtime image's name). */
export const RESOURCE_NAME_PATTERN = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * A DNS-1123 label (lower case letters, digits and `-`, starting with a letter, at
 * most 63 characters) derived from a display name; empty when nothing is left.
 */
export function toResourceName(displayName: string): string {
  let name = displayName
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!name) {
    return '';
  }
  if (!/^[a-z]/.test(name)) {
    name = `image-${name}`;
  }
  return name.slice(0, 63).replace(/-+$/, '');
}

/** What the import dialog collects. */
export interface IImportForm {
  image: string;
  displayName: string;
  description: string;
  creator: string;
  profiles: string[];
}

/**
 * A new CustomNBImage as the dialogs submit it: named after its display name,
 * which goes with the description and the creator into its annotations.
 */
export function newResource(
  form: { displayName: string; description: string; creator: string },
  spec: ICustomNBImage['spec']
): ICustomNBImage {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: {
      name: toResourceName(form.displayName),
      annotations: {
        [Annotations.name]: form.displayName.trim(),
        [Annotations.description]: form.description.trim(),
        [Annotations.creator]: form.creator.trim()
      }
    },
    spec
  };
}

/** The CustomNBImage (buildType ImageImport) the import dialog submits. */
export function importResource(form: IImportForm): ICustomNBImage {
  const resource = newResource(form, {
    buildType: 'ImageImport',
    fromImage: form.image.trim()
  });
  if (form.profiles.length > 0) {
    resource.spec.profiles = [...form.profiles];
  }
  return resource;
}

export type ImportField =
  'image' | 'displayName' | 'description' | 'creator' | 'profiles' | 'form';

/**
 * What is wrong with the image reference of an import (the name, description
 * and creator are checked by `identityErrors`).
 *
 * @param pattern the image reference grammar (the runtime-image schema's)
 */
export function importFormErrors(
  form: IImportForm,
  pattern: string,
  trans: TranslationBundle
): FormErrors<ImportField> {
  if (!form.image.trim()) {
    return { image: [trans.__('An image reference is required.')] };
  }
  if (!checkReference(form.image, pattern).valid) {
    return { image: [invalidReferenceMessage(trans)] };
  }
  return {};
}

/** Which dialog field a server error (`path` like `spec.fromImage`) belongs to. */
export function fieldOfError(path: string): ImportField {
  const p = (path ?? '').replace(/^[#/]+/, '');
  if (/^spec[./]fromImage/.test(p)) {
    return 'image';
  }
  if (/^spec[./]profiles/.test(p)) {
    return 'profiles';
  }
  if (p.includes(Annotations.description)) {
    return 'description';
  }
  if (p.includes(Annotations.creator)) {
    return 'creator';
  }
  if (p.includes(Annotations.name) || /^metadata[./]name$/.test(p)) {
    return 'displayName';
  }
  return 'form';
}

/** Group server field errors by Import image dialog field. */
export function groupFieldErrors(
  errors: ReadonlyArray<IFieldError>
): Partial<Record<ImportField, string[]>> {
  return groupErrorsBy(errors, fieldOfError);
}

/** The latest condition: the last element of `status.conditions`. */
export function latestCondition(
  resource: ICustomNBImage | undefined
): ICondition | undefined {
  const conditions = resource?.status?.conditions;
  return Array.isArray(conditions) && conditions.length > 0
    ? conditions[conditions.length - 1]
    : undefined;
}

/** Done / total bytes as a fraction in [0, 1], or `null` when unknown. */
export function progressFraction(
  progress: IProgress | undefined
): number | null {
  if (!progress) {
    return null;
  }
  const { bytesDone, bytesTotal, stepsDone, stepsTotal } = progress;
  if (typeof bytesTotal === 'number' && bytesTotal > 0) {
    return Math.max(0, Math.min(1, (bytesDone ?? 0) / bytesTotal));
  }
  if (typeof stepsTotal === 'number' && stepsTotal > 0) {
    return Math.max(0, Math.min(1, (stepsDone ?? 0) / stepsTotal));
  }
  return null;
}

export function annotation(
  resource: ICustomNBImage | undefined,
  key: string
): string {
  const value = resource?.metadata?.annotations?.[key];
  return typeof value === 'string' ? value : '';
}

/** The display name (annotation), or the resource name. */
export function displayNameOf(resource: ICustomNBImage): string {
  return annotation(resource, Annotations.name) || resource.metadata.name;
}

export function creatorOf(resource: ICustomNBImage): string {
  return annotation(resource, Annotations.creator);
}

/**
 * Whether a build runs (or ran) again because its base image moved, and how:
 * `failed` when that rebuild failed (the last good image stays), `running`
 * while it runs; `null` for any other run.
 */
export function rebuildState(
  resource: ICustomNBImage,
  phase: string
): { state: 'running' | 'failed'; base: string; kept: string } | null {
  const rebuild = resource.status?.rebuild;
  if (!rebuild || typeof rebuild !== 'object') {
    return null;
  }
  const base = typeof rebuild.base === 'string' ? rebuild.base : '';
  const kept = resource.status?.lastGood?.image ?? '';
  if (phase === 'Failed' || rebuild.result === 'Failed') {
    return {
      state: 'failed',
      base,
      kept: typeof kept === 'string' ? kept : ''
    };
  }
  if (phase === 'Pending' || phase === 'Building') {
    return {
      state: 'running',
      base,
      kept: typeof kept === 'string' ? kept : ''
    };
  }
  return null;
}
