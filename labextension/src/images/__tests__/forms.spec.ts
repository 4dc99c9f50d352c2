import {
  formDataToBody,
  formSchema,
  hasErrors,
  invalidToFormData,
  toErrorSchema
} from '../forms';

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
