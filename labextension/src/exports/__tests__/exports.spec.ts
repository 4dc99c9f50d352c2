/**
 * Exports (issue 19): the formats the server offers, the query of a selection
 * or of tags, the document as text, and the images the server left out.
 */
// First: replaces the REST boundary for the imports below.
import {
  mockedRequestAPI as mocked,
  response,
  SETTINGS
} from '../../__tests__/support';

import { exportFileName, exportQuery, ExportsAPI, parseWarnings } from '../api';

const ODH = {
  format: 'odh-imagestream',
  title: 'ODH ImageStream',
  mediaType: 'application/yaml',
  extension: 'yaml'
};

describe('ExportsAPI', () => {
  const api = new ExportsAPI({ serverSettings: SETTINGS });

  it('reads the formats from GET export (beside the bundle)', async () => {
    mocked.mockResolvedValue(
      response({ 'runtime-images': [], formats: [ODH, { nope: 1 }] })
    );
    expect(await api.formats()).toEqual([ODH]);
    expect(mocked).toHaveBeenCalledWith('export', { method: 'GET' }, SETTINGS);
  });

  it('has no formats on a server without exports', async () => {
    mocked.mockResolvedValue(response({ 'runtime-images': [] }));
    expect(await api.formats()).toEqual([]);
  });

  it('gets the document of a selection, with its warnings', async () => {
    const headers = new Headers({
      'X-Runtime-Images-Warnings': JSON.stringify(['local: skipped'])
    });
    mocked.mockResolvedValue({
      status: 200,
      data: 'kind: ImageStream\n',
      etag: null,
      headers
    });
    expect(
      await api.document('odh-imagestream', { names: ['a b', 'c'] })
    ).toEqual({
      text: 'kind: ImageStream\n',
      warnings: ['local: skipped']
    });
    expect(mocked.mock.calls[0][0]).toBe(
      'export/odh-imagestream?name=a+b&name=c'
    );
  });

  it('shows a JSON document as JSON', async () => {
    mocked.mockResolvedValue(response({ a: [1] }));
    expect((await api.document('elyra', {})).text).toBe(
      '{\n  "a": [\n    1\n  ]\n}\n'
    );
    expect(mocked.mock.calls[0][0]).toBe('export/elyra');
  });
});

describe('export helpers', () => {
  it('builds the query of names and tags', () => {
    expect(exportQuery({ tags: ['gpu', 'team a'] })).toBe(
      '?tag=gpu&tag=team+a'
    );
    expect(exportQuery({})).toBe('');
  });

  it('reads the warnings header, ignoring what is not a list of strings', () => {
    expect(parseWarnings('["a", 2, "b"]')).toEqual(['a', 'b']);
    expect(parseWarnings('{"a": 1}')).toEqual([]);
    expect(parseWarnings('not json')).toEqual([]);
    expect(parseWarnings(null)).toEqual([]);
  });

  it('names the file after the format', () => {
    expect(exportFileName(ODH)).toBe('runtime-images-odh-imagestream.yaml');
    expect(exportFileName({ ...ODH, extension: '.json' })).toBe(
      'runtime-images-odh-imagestream.json'
    );
  });
});
