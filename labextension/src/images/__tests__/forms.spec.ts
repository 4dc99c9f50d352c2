import { customizeValidator } from '@rjsf/validator-ajv8';
import type { JSONSchema7 } from 'json-schema';
import {
  formDataToBody,
  formSchema,
  hasErrors,
  invalidToFormData,
  readableErrors,
  toErrorSchema
} from '../forms';
import { TRANS as trans } from '../../__tests__/support';

describe('toErrorSchema', () => {
  it('maps dotted paths and JSON pointers to nested fields', () => {
    expect(
      toErrorSchema([
        { path: 'metadata.image_name', message: 'bad image' },
        { path: '/metadata/tags/1', message: 'duplicate tag' },
        { path: 'metadata.image_name', message: 'too long' },
        { path: '', message: 'whole document' }
      ])
    ).toEqual({
      __errors: ['whole document'],
      metadata: {
        image_name: { __errors: ['bad image', 'too long'] },
        tags: { 1: { __errors: ['duplicate tag'] } }
      }
    });
  });

  it('knows when there is an error', () => {
    expect(hasErrors({})).toBe(false);
    expect(hasErrors({ metadata: {} })).toBe(false);
    expect(hasErrors({ metadata: { image_name: { __errors: ['x'] } } })).toBe(
      true
    );
  });
});

describe('form data', () => {
  it('removes $id and $schema from the schema', () => {
    const schema = formSchema({
      $id: 'x',
      $schema: 'y',
      required: ['schema_name', 'display_name'],
      properties: { schema_name: { const: 'runtime-image' }, display_name: {} }
    } as any);
    expect(schema).toEqual({
      required: ['display_name'],
      properties: { display_name: {} },
      type: 'object'
    });
  });

  it('salvages what it can from an invalid document', () => {
    expect(
      invalidToFormData({
        name: 'broken',
        reason: 'tags must be strings',
        document: {
          display_name: 'Broken',
          schema_name: 'runtime-image',
          metadata: { image_name: 7, tags: ['ok', 1], custom: { keep: true } }
        }
      })
    ).toEqual({
      display_name: 'Broken',
      name: 'broken',
      schema_name: 'runtime-image',
      metadata: { tags: ['ok'], custom: { keep: true } }
    });
    expect(
      invalidToFormData({ name: 'raw', reason: 'not JSON', document: null })
    ).toEqual({
      display_name: 'raw',
      name: 'raw',
      schema_name: 'runtime-image',
      metadata: {}
    });
  });

  it('builds a request body, omitting an empty name', () => {
    expect(
      formDataToBody({
        display_name: 'X',
        name: ' ',
        metadata: { image_name: 'a' }
      })
    ).toEqual({
      display_name: 'X',
      schema_name: 'runtime-image',
      metadata: { image_name: 'a' }
    });
    expect(
      formDataToBody(
        { display_name: 'X', metadata: { image_name: 'a' } },
        'fixed'
      ).name
    ).toBe('fixed');
  });
});

describe('readableErrors', () => {
  // The runtime-image schema's shape and keywords (patterns shortened).
  const schema: JSONSchema7 = {
    type: 'object',
    required: ['display_name', 'metadata'],
    properties: {
      name: {
        title: 'Name',
        type: 'string',
        pattern: '^[a-z]([a-z0-9_-]*[a-z0-9])?$'
      },
      display_name: {
        title: 'Display Name',
        type: 'string',
        minLength: 1,
        pattern: '\\S'
      },
      metadata: {
        type: 'object',
        required: ['image_name'],
        properties: {
          image_name: {
            title: 'Image Name',
            type: 'string',
            minLength: 1,
            pattern: '^[a-z0-9./:@-]+$'
          },
          pull_policy: {
            title: 'Image Pull Policy',
            type: 'string',
            enum: ['Always', 'IfNotPresent', 'Never']
          },
          pull_secret: {
            title: 'Image Pull Secret',
            type: 'string',
            maxLength: 10,
            pattern: '^[a-z0-9.-]+$'
          },
          tags: {
            title: 'Tags',
            type: 'array',
            uniqueItems: true,
            items: { type: 'string', pattern: '^\\S+$' }
          }
        }
      }
    }
  };
  const validator = customizeValidator();
  const messages = (data: unknown) =>
    validator.validateFormData(data, schema, undefined, errors =>
      readableErrors(errors, schema, trans)
    ).errorSchema as any;

  it('says which field is required, by its title', () => {
    const errors = messages({ metadata: {} });
    expect(errors.display_name.__errors).toEqual(['Display Name is required.']);
    expect(errors.metadata.image_name.__errors).toEqual([
      'Image Name is required.'
    ]);
  });

  it('says what is expected instead of a pattern', () => {
    const errors = messages({
      name: 'Bad Name',
      display_name: ' ',
      metadata: {
        image_name: 'Not An Image!',
        pull_policy: 'Sometimes',
        pull_secret: 'A_SECRET_THAT_IS_LONG',
        tags: ['ok', 'ok', 'two words']
      }
    });
    const all = JSON.stringify(errors);
    expect(all).not.toContain('must match pattern');
    expect(all).not.toContain('^');
    expect(errors.metadata.image_name.__errors).toEqual([
      'Not a valid image reference: expected [registry[:port]/]repository[:tag][@sha256:digest], lower case.'
    ]);
    expect(errors.name.__errors[0]).toMatch(/^Use lower case letters, digits/);
    expect(errors.display_name.__errors).toEqual([
      'Display Name cannot be blank.'
    ]);
    expect(errors.metadata.pull_policy.__errors).toEqual([
      'Image Pull Policy must be one of: Always, IfNotPresent, Never.'
    ]);
    expect(errors.metadata.pull_secret.__errors).toEqual(
      expect.arrayContaining([
        'Image Pull Secret is too long: at most 10 characters.',
        expect.stringMatching(/^A Kubernetes secret name/)
      ])
    );
    expect(errors.metadata.tags.__errors).toEqual([
      'Tags: each one only once.'
    ]);
    expect(errors.metadata.tags[2].__errors).toEqual([
      'A tag has no spaces at its ends and no control characters.'
    ]);
  });
});
