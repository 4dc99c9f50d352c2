import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** The URL namespace of the server extension. */
export const NAMESPACE = 'runtime-images';

/**
 * A field error reported by the server (`path` like `metadata.image_name`).
 */
export interface IFieldError {
  path: string;
  message: string;
}

/**
 * The outcome of a successful request (2xx or 304).
 */
export interface IResponse<T> {
  /** HTTP status. */
  status: number;
  /** Parsed JSON body, `null` for an empty body (204, 304). */
  data: T | null;
  /** The `ETag` response header, if any. */
  etag: string | null;
  /** Every response header (absent in specs that answer without them). */
  headers?: Headers;
}

/**
 * An error answer (4xx/5xx) from the server extension.
 */
export class APIError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason: string = '',
    readonly errors: IFieldError[] = [],
    readonly body: unknown = null
  ) {
    super(message);
    this.name = 'APIError';
  }

  /** HTTP 404: resource (or route) not found. */
  get isNotFound(): boolean {
    return this.status === 404;
  }
}

/**
 * Call the server extension.
 *
 * @param endPoint path under `{baseUrl}runtime-images/` (query string included)
 * @param init request options (method, headers, body)
 * @param settings the server connection settings (the app's, for the token and base URL)
 * @returns status, parsed body and ETag of a 2xx or 304 answer
 * @throws {ServerConnection.NetworkError} when the server cannot be reached
 * @throws an `AbortError` (see `isAbortError`) when `init.signal` aborted it
 * @throws {APIError} on any other status
 */
export async function requestAPI<T>(
  endPoint: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<IResponse<T>> {
  const url = URLExt.join(settings.baseUrl, NAMESPACE, endPoint);
  const headers = new Headers(init.headers ?? {});
  if (init.body !== undefined && !headers.has('Content-Type')) {
    headers.set('Content-Type', 'application/json');
  }
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(
      url,
      { ...init, headers },
      settings
    );
  } catch (error) {
    if (init.signal?.aborted) {
      // Cancelled by the caller: not a network failure.
      throw abortError(init.signal);
    }
    throw new ServerConnection.NetworkError(error as TypeError);
  }

  const text = response.status === 304 ? '' : await response.text();
  let data: any = null;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok && response.status !== 304) {
    const isObject = data !== null && typeof data === 'object';
    const message =
      (isObject && typeof data.message === 'string' && data.message) ||
      (typeof data === 'string' && data.trim().length < 500 && data.trim()) ||
      response.statusText ||
      `HTTP ${response.status}`;
    const reason = (isObject && data.reason) || response.statusText || '';
    const errors: IFieldError[] =
      isObject && Array.isArray(data.errors) ? data.errors : [];
    throw new APIError(response.status, message, reason, errors, data);
  }
  return {
    status: response.status,
    data: data as T | null,
    etag: response.headers.get('ETag'),
    headers: response.headers
  };
}

/** The error a request aborted through `signal` rejects with (an `AbortError`). */
function abortError(signal: AbortSignal): Error {
  const reason = signal.reason;
  if (isAbortError(reason)) {
    return reason;
  }
  const error = new Error('The request was cancelled.');
  error.name = 'AbortError';
  return error;
}

/** Whether `error` says a request was aborted (cancelled), not that it failed. */
export function isAbortError(error: unknown): error is Error {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as Error).name === 'AbortError'
  );
}

/** A human-readable message of any error. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}
