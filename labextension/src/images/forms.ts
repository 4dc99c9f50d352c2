import type { TranslationBundle } from '@jupyterlab/translation';
import type { RJSFValidationError } from '@rjsf/utils';
import type { JSONSchema7 } from 'json-schema';
import { invalidReferenceMessage } from '../imageref';
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

/** The path of a validation error's field: `['metadata', 'tags', '1']`. */
function errorPath(error: RJSFValidationError): string[] {
  const path = (error.property ?? '').split('.').filter(part => part !== '');
  const missing = error.params?.missingProperty;
  // rjsf already appends the missing property to `property` of "required" errors.
  return error.name === 'required' &&
    typeof missing === 'string' &&
    path[path.length - 1] !== missing
    ? [...path, missing]
    : path;
}

/** The schema of the field at `path` (array items included). */
function fieldSchema(
  schema: JSONSchema7,
  path: string[]
): JSONSchema7 | undefined {
  let node: JSONSchema7 | undefined = schema;
  for (const part of path) {
    if (!node) {
      return undefined;
    }
    const items: JSONSchema7['items'] = node.items;
    node = /^\d+$/.test(part)
      ? items && !Array.isArray(items) && typeof items === 'object'
        ? (items as JSONSchema7)
        : undefined
      : (node.properties?.[part] as JSONSchema7 | undefined);
  }
  return node;
}

/**
 * The validator's errors in words a person acts on: the field's title and what
 * is expected, never a raw pattern ("must match pattern ^((?:…").
 *
 * @param schema the form's schema (the titles come from it)
 */
export function readableErrors(
  errors: RJSFValidationError[],
  schema: JSONSchema7,
  trans: TranslationBundle
): RJSFValidationError[] {
  return errors.map(error => {
    const path = errorPath(error);
    const field = path.filter(part => !/^\d+$/.test(part)).pop() ?? '';
    const isItem = /^\d+$/.test(path[path.length - 1] ?? '');
    const own = fieldSchema(schema, path);
    const parent = isItem ? fieldSchema(schema, path.slice(0, -1)) : own;
    const title = parent?.title ?? field;
    const limit = error.params?.limit;
    let message: string;
    switch (error.name) {
      case 'required':
        message = trans.__('%1 is required.', title);
        break;
      case 'minLength':
        message =
          limit === 1
            ? trans.__('%1 is required.', title)
            : trans.__('%1 needs at least %2 characters.', title, limit);
        break;
      case 'maxLength':
        message = trans.__(
          '%1 is too long: at most %2 characters.',
          title,
          limit
        );
        break;
      case 'maxItems':
        message = trans.__('%1: at most %2 items.', title, limit);
        break;
      case 'uniqueItems':
        message = trans.__('%1: each one only once.', title);
        break;
      case 'enum':
        message = trans.__(
          '%1 must be one of: %2.',
          title,
          (own?.enum ?? []).join(', ')
        );
        break;
      case 'pattern':
        message = patternMessage(field, isItem, title, trans);
        break;
      default:
        message = trans.__('%1: %2', title, error.message ?? '');
    }
    return { ...error, message, stack: `${title}: ${message}` };
  });
}

function patternMessage(
  field: string,
  isItem: boolean,
  title: string,
  trans: TranslationBundle
): string {
  if (field === 'tags' && isItem) {
    return trans.__(
      'A tag has no spaces at its ends and no control characters.'
    );
  }
  switch (field) {
    case 'image_name':
      return invalidReferenceMessage(trans);
    case 'name':
      return trans.__(
        'Use lower case letters, digits, "_" and "-", starting with a letter and ending with a letter or a digit.'
      );
    case 'pull_secret':
      return trans.__(
        'A Kubernetes secret name: lower case letters, digits, "-" and ".", starting and ending with a letter or a digit.'
      );
    case 'display_name':
      return trans.__('%1 cannot be blank.', title);
    default:
      return trans.__('%1 is not in the expected form.', title);
  }
}
