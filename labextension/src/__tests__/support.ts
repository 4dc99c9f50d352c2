/**
 * The set-up the jest specs of the REST clients and models share: importing this
 * module first (before the modules under test) replaces the REST boundary.
 *
 * - `../request`: as it is, but `requestAPI` is a `jest.fn()` the spec answers
 *   (`mockedRequestAPI`, with `response(…)`); every test starts with it reset;
 * - `@jupyterlab/coreutils`: only `URLExt.join`, joining with `/`;
 * - `@jupyterlab/services`: `ServerConnection` with fixed settings and its
 *   `NetworkError`, so no request reaches a server.
 *
 * Not a spec itself: jest's `testRegex` runs `*.spec.ts` only.
 */
jest.mock('../request', () => {
  const actual = jest.requireActual('../request');
  return { ...actual, requestAPI: jest.fn() };
});
jest.mock('@jupyterlab/coreutils', () => ({
  URLExt: { join: (...p: string[]) => p.join('/') }
}));
jest.mock('@jupyterlab/services', () => ({
  ServerConnection: {
    makeSettings: () => ({ baseUrl: '/' }),
    NetworkError: class extends Error {}
  }
}));

import { IResponse, requestAPI } from '../request';

/** `requestAPI`, answered by the spec (`mockResolvedValue`, …). */
export const mockedRequestAPI = requestAPI as jest.MockedFunction<
  typeof requestAPI
>;

beforeEach(() => {
  mockedRequestAPI.mockReset();
});

/** What `requestAPI` answers: the body `data`, status 200 and no ETag by default. */
export function response<T>(
  data: T,
  options: { status?: number; etag?: string | null } = {}
): IResponse<T> {
  return { status: options.status ?? 200, data, etag: options.etag ?? null };
}

/** The server settings the API clients under test get. */
export const SETTINGS: any = { baseUrl: '/lab/' };

/** A translation bundle that only fills in `%1`, `%2`… (`_n` picks by count). */
export const TRANS: any = {
  __: (text: string, ...args: unknown[]) =>
    text.replace(/%(\d)/g, (_, i) => String(args[Number(i) - 1])),
  _n: (one: string, many: string, n: number, ...args: unknown[]) =>
    (n === 1 ? one : many).replace(/%(\d)/g, (_, i) =>
      String([n, ...args][Number(i) - 1])
    )
};

/**
 * JupyterLab's state database, in memory (the browser's storage is not there
 * in jest): what `fetch` answers is what `save` was given.
 */
export class MemoryStateDB {
  readonly values = new Map<string, unknown>();
  async fetch(id: string): Promise<any> {
    return this.values.get(id);
  }
  async save(id: string, value: unknown): Promise<void> {
    this.values.set(id, JSON.parse(JSON.stringify(value)));
  }
}
