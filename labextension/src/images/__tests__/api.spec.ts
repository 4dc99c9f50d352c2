/**
 * RuntimeImagesAPI: each method calls the right endpoint, verb, headers and body.
 */
// First: replaces the REST boundary for the imports below.
import {
  mockedRequestAPI as mocked,
  response,
  SETTINGS
} from '../../__tests__/support';

import { RuntimeImagesAPI } from '../api';

const image = {
  name: 'x',
  display_name: 'X',
  schema_name: 'runtime-image',
  metadata: { image_name: 'quay.io/a/b:1' },
  origin: 'user'
};

describe('RuntimeImagesAPI', () => {
  const api = new RuntimeImagesAPI({ serverSettings: SETTINGS });

  it('gets the schema', async () => {
    mocked.mockResolvedValue(response({ type: 'object' }));
    expect(await api.getSchema()).toEqual({ type: 'object' });
    expect(mocked).toHaveBeenCalledWith('schema', { method: 'GET' }, SETTINGS);
  });

  it('lists with include_invalid and a conditional ETag', async () => {
    mocked.mockResolvedValue(
      response(
        { 'runtime-images': [image], invalid: [{ name: 'bad', reason: 'r' }] },
        { etag: '"v2"' }
      )
    );
    const listing = await api.listImages('"v1"');
    expect(mocked).toHaveBeenCalledWith(
      'images?include_invalid=true',
      { method: 'GET', headers: { 'If-None-Match': '"v1"' } },
      SETTINGS
    );
    expect(listing).toEqual({
      images: [image],
      invalid: [{ name: 'bad', reason: 'r' }],
      etag: '"v2"'
    });
  });

  it('returns null on 304 Not Modified', async () => {
    mocked.mockResolvedValue(response(null, { status: 304, etag: '"v1"' }));
    expect(await api.listImages('"v1"')).toBeNull();
  });

  it('sends no If-None-Match without an ETag', async () => {
    mocked.mockResolvedValue(response({ 'runtime-images': [] }));
    const listing = await api.listImages(null);
    expect(mocked.mock.calls[0][1]).toEqual({ method: 'GET', headers: {} });
    expect(listing).toEqual({ images: [], invalid: [], etag: null });
  });

  it('gets one image with its ETag, encoding the name', async () => {
    mocked.mockResolvedValue(response(image, { etag: '"e"' }));
    expect(await api.getImage('a b')).toEqual({ image, etag: '"e"' });
    expect(mocked.mock.calls[0][0]).toBe('images/a%20b');
  });

  it('creates with POST', async () => {
    mocked.mockResolvedValue(response(image, { status: 201, etag: '"e"' }));
    const body = {
      display_name: 'X',
      metadata: { image_name: 'quay.io/a/b:1' }
    };
    await api.createImage(body);
    expect(mocked).toHaveBeenCalledWith(
      'images',
      { method: 'POST', body: JSON.stringify(body) },
      SETTINGS
    );
  });

  it('replaces with PUT and If-Match', async () => {
    mocked.mockResolvedValue(response(image, { etag: '"f"' }));
    const body = {
      name: 'x',
      display_name: 'X',
      metadata: { image_name: 'a/b' }
    };
    expect(await api.replaceImage('x', body, '"e"')).toEqual({
      image,
      etag: '"f"'
    });
    expect(mocked).toHaveBeenCalledWith(
      'images/x',
      {
        method: 'PUT',
        headers: { 'If-Match': '"e"' },
        body: JSON.stringify(body)
      },
      SETTINGS
    );
  });

  it('replaces without If-Match when no ETag is known (repair)', async () => {
    mocked.mockResolvedValue(response(image));
    await api.replaceImage('x', {
      display_name: 'X',
      metadata: { image_name: 'a' }
    });
    expect((mocked.mock.calls[0][1] as any).headers).toEqual({});
  });

  it('patches with a merge patch', async () => {
    mocked.mockResolvedValue(response(image));
    await api.patchImage('x', { display_name: 'Y' });
    expect(mocked.mock.calls[0][1]).toEqual({
      method: 'PATCH',
      headers: { 'Content-Type': 'application/merge-patch+json' },
      body: '{"display_name":"Y"}'
    });
  });

  it('deletes, duplicates, exports and imports', async () => {
    mocked.mockResolvedValue(response(null, { status: 204 }));
    await api.deleteImage('x');
    expect(mocked).toHaveBeenLastCalledWith(
      'images/x',
      { method: 'DELETE' },
      SETTINGS
    );

    mocked.mockResolvedValue(
      response({ ...image, name: 'x_copy' }, { status: 201 })
    );
    expect((await api.duplicateImage('x')).name).toBe('x_copy');
    expect(mocked).toHaveBeenLastCalledWith(
      'images/x/duplicate',
      { method: 'POST' },
      SETTINGS
    );

    mocked.mockResolvedValue(response({ 'runtime-images': [image] }));
    expect(await api.exportImages()).toEqual({ 'runtime-images': [image] });
    expect(mocked).toHaveBeenLastCalledWith(
      'export',
      { method: 'GET' },
      SETTINGS
    );

    const results = [{ name: 'x', status: 'created' }];
    mocked.mockResolvedValue(response({ results }));
    expect(await api.importImages({ 'runtime-images': [image] }, true)).toEqual(
      results
    );
    expect(mocked.mock.calls[mocked.mock.calls.length - 1][0]).toBe(
      'import?overwrite=true'
    );
    await api.importImages({ 'runtime-images': [] });
    expect(mocked.mock.calls[mocked.mock.calls.length - 1][0]).toBe('import');
  });
});
