/**
 * requestAPI: URL building, headers, JSON parsing, 304 and error mapping.
 * Only the network boundary (ServerConnection.makeRequest) is replaced.
 */
const makeRequest = jest.fn();

jest.mock('@jupyterlab/coreutils', () => ({
  URLExt: {
    join: (...parts: string[]) =>
      parts
        .map((part, i) =>
          i === 0 ? part.replace(/\/+$/, '') : part.replace(/^\/+|\/+$/g, '')
        )
        .join('/')
  }
}));

jest.mock('@jupyterlab/services', () => {
  class NetworkError extends Error {
    constructor(original: Error) {
      super(original.message);
      this.name = 'NetworkError';
    }
  }
  return {
    ServerConnection: {
      makeRequest: (...args: unknown[]) => makeRequest(...args),
      makeSettings: () => ({ baseUrl: 'http://localhost:8888/' }),
      NetworkError
    }
  };
});

import { APIError, isAbortError, requestAPI } from '../request';

function response(
  status: number,
  body: string,
  headers: Record<string, string> = {}
) {
  return {
    status,
    ok: status >= 200 && status < 300,
    statusText:
      {
        200: 'OK',
        404: 'Not Found',
        400: 'Bad Request',
        500: 'Internal Server Error'
      }[status] ?? '',
    headers: {
      get: (name: string) =>
        headers[name] ?? headers[name.toLowerCase()] ?? null
    },
    text: async () => body
  };
}

const settings: any = { baseUrl: 'http://localhost:8888/a%40b/' };

describe('requestAPI', () => {
  beforeEach(() => makeRequest.mockReset());

  it('joins the base URL, the namespace and the endpoint and parses JSON', async () => {
    makeRequest.mockResolvedValue(response(200, '{"x": 1}', { ETag: '"abc"' }));
    const result = await requestAPI(
      'images?include_invalid=true',
      { method: 'GET' },
      settings
    );
    expect(makeRequest.mock.calls[0][0]).toBe(
      'http://localhost:8888/a%40b/runtime-images/images?include_invalid=true'
    );
    expect(makeRequest.mock.calls[0][2]).toBe(settings);
    expect(result).toEqual({
      status: 200,
      data: { x: 1 },
      etag: '"abc"',
      headers: expect.anything()
    });
    // Every header reaches the caller (e.g. an export's warnings).
    expect(result.headers?.get('ETag')).toBe('"abc"');
  });

  it('sets a JSON content type when there is a body', async () => {
    makeRequest.mockResolvedValue(response(201, '{}'));
    await requestAPI('images', { method: 'POST', body: '{}' }, settings);
    const init = makeRequest.mock.calls[0][1];
    expect(init.headers.get('Content-Type')).toBe('application/json');
    expect(init.method).toBe('POST');
  });

  it('returns 304 without a body', async () => {
    makeRequest.mockResolvedValue(response(304, ''));
    const result = await requestAPI(
      'images',
      { headers: { 'If-None-Match': '"e"' } },
      settings
    );
    expect(result.status).toBe(304);
    expect(result.data).toBeNull();
    expect(makeRequest.mock.calls[0][1].headers.get('If-None-Match')).toBe(
      '"e"'
    );
  });

  it('returns null data for 204', async () => {
    makeRequest.mockResolvedValue(response(204, ''));
    const result = await requestAPI('images/x', { method: 'DELETE' }, settings);
    expect(result).toEqual({
      status: 204,
      data: null,
      etag: null,
      headers: expect.anything()
    });
  });

  it('maps error bodies to APIError with field errors', async () => {
    makeRequest.mockResolvedValue(
      response(
        400,
        JSON.stringify({
          message: 'Invalid runtime image',
          reason: 'Bad Request',
          errors: [{ path: 'metadata.image_name', message: 'not a reference' }]
        })
      )
    );
    const error = await requestAPI(
      'images',
      { method: 'POST', body: '{}' },
      settings
    ).catch(e => e);
    expect(error).toBeInstanceOf(APIError);
    expect(error.status).toBe(400);
    expect(error.message).toBe('Invalid runtime image');
    expect(error.reason).toBe('Bad Request');
    expect(error.errors).toEqual([
      { path: 'metadata.image_name', message: 'not a reference' }
    ]);
  });

  it('tells a missing route (404 with an HTML page) apart', async () => {
    makeRequest.mockResolvedValue(
      response(404, '<html><body>404 : Not Found</body></html>')
    );
    const error = await requestAPI('schema', {}, settings).catch(e => e);
    expect(error).toBeInstanceOf(APIError);
    expect(error.isNotFound).toBe(true);
    expect(error.message).toContain('404');
  });

  it('falls back to the status text for an empty error body', async () => {
    makeRequest.mockResolvedValue(response(500, ''));
    const error = await requestAPI('images', {}, settings).catch(e => e);
    expect(error.status).toBe(500);
    expect(error.message).toBe('Internal Server Error');
  });

  it('wraps network failures in NetworkError', async () => {
    makeRequest.mockRejectedValue(new TypeError('Failed to fetch'));
    const error = await requestAPI('images', {}, settings).catch(e => e);
    expect(error.name).toBe('NetworkError');
    expect(error.message).toBe('Failed to fetch');
  });

  it('passes the abort signal on, and rejects an aborted request with an AbortError', async () => {
    const controller = new AbortController();
    makeRequest.mockImplementation(
      (_url: string, init: RequestInit) =>
        new Promise((_, reject) =>
          init.signal!.addEventListener('abort', () =>
            reject(new TypeError('The user aborted a request.'))
          )
        )
    );
    const pending = requestAPI(
      'inspect?name=a',
      { method: 'GET', signal: controller.signal },
      settings
    ).catch(e => e);
    expect(makeRequest.mock.calls[0][1].signal).toBe(controller.signal);
    controller.abort();
    const error = await pending;
    expect(isAbortError(error)).toBe(true);
    expect(error.name).not.toBe('NetworkError');
    expect(isAbortError(new TypeError('Failed to fetch'))).toBe(false);
  });
});
