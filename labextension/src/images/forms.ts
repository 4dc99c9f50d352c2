import type { JSONSchema7 } from 'json-schema';
import type { IFieldError } from '../request';
import type { IRuntimeImage } from '../tokens';
import type { IInvalidRuntimeImage, IRuntimeImageBody } from './types';

/** An rjsf error schema: nested objects with `__errors` lists. */
export interface IErrorSchema {
  __errors?: string[];
  [key: string]: IErrorSchema | string[] | undefined;
}

/** The data edited by the form. */
export interface IFormData {
  name?: string;
  display_name?: string;
  schema_name?: string;
  metadata?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * Map the server's field errors (`path` like `metadata.image_name`,
 * `metadata.tags.1` or a JSON pointer `/metadata/image_name`) to an rjsf error
 * schema, so each message shows next to its field. Errors without a path go to the
 * root.
 */
export function toErrorSchema(
  errors: ReadonlyArray<IFieldError>
): IErrorSchema {
  const root: IErrorSchema = {};
  for (const error of errors) {
    const parts = String(error.path ?? '')
      .replace(/^[#/]+/, '')
      .split(/[./]/)
      .filter(part => part !== '');
    let node = root;
    for (const part of parts) {
      const child = node[part];
      if (!child || Array.isArray(child)) {
        node[part] = {};
      }
      node = node[part] as IErrorSchema;
    }
    (node.__errors = node.__errors ?? []).push(error.message);
  }
  return root;
}

/** Whether an error schema holds at least one message. */
export function hasErrors(schema: IErrorSchema | undefined): boolean {
  if (!schema) {
    return false;
  }
  return Object.entries(schema).some(([key, value]) =>
    key === '__errors'
      ? Array.isArray(value) && value.length > 0
      : !Array.isArray(value) && hasErrors(value)
  );
}

/**
 * The schema given to the form: the server's, without `$id`/`$schema` (so the
 * validator does not cache it under a global id).
 */
export function formSchema(schema: JSONSchema7 | null): JSONSchema7 {
  const copy = JSON.parse(JSON.stringify(schema ?? {})) as JSONSchema7;
  delete copy.$id;
  delete copy.$schema;
  // `schema_name` is a constant: not a field (the request body sets it).
  if (copy.properties) {
    delete copy.properties.schema_name;
  }
  if (Array.isArray(copy.required)) {
    copy.required = copy.required.filter(key => key !== 'schema_name');
  }
  if (!copy.type) {
    copy.type = 'object';
  }
  return copy;
}

/** Form data for an existing image. */
export function imageToFormData(image: IRuntimeImage): IFormData {
  return {
    display_name: image.display_name,
    name: image.name,
    schema_name: 'runtime-image',
    metadata: { ...(image.metadata ?? {}) }
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Form data for an invalid file: what can be salvaged from its document (fields of
 * the wrong type are dropped, so the form can render; the raw text stays visible).
 */
export function invalidToFormData(item: IInvalidRuntimeImage): IFormData {
  const doc = isObject(item.document) ? item.document : {};
  const metadata: Record<string, unknown> = isObject(doc.metadata)
    ? { ...doc.metadata }
    : {};
  for (const key of [
    'image_name',
    'description',
    'pull_policy',
    'pull_secret'
  ]) {
    if (key in metadata && typeof metadata[key] !== 'string') {
      delete metadata[key];
    }
  }
  if ('tags' in metadata) {
    const tags = metadata.tags;
    if (Array.isArray(tags)) {
      metadata.tags = tags.filter(t => typeof t === 'string');
    } else {
      delete metadata.tags;
    }
  }
  return {
    display_name:
      typeof doc.display_name === 'string' ? doc.display_name : item.name,
    name: item.name,
    schema_name: 'runtime-image',
    metadata
  };
}

/** The request body for the form data (`name` omitted when empty on create). */
export function formDataToBody(
  data: IFormData,
  fixedName?: string
): IRuntimeImageBody {
  const body: IRuntimeImageBody = {
    display_name: (data.display_name ?? '').toString(),
    schema_name: 'runtime-image',
    metadata: { ...(data.metadata ?? {}) } as IRuntimeImageBody['metadata']
  };
  const name = fixedName ?? (data.name ?? '').toString().trim();
  if (name) {
    body.name = name;
  }
  return body;
}
