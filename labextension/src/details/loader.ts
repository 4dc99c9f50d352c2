import { ISignal, Signal } from '@lumino/signaling';
import { isAbortError } from '../request';

/** Where a read of the Details view is. */
export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error' | 'cancelled';

/**
 * One read of the Details view (an inspection, the layers, the checks…): its
 * status, result or error, and the `AbortController` that cancels it. A new
 * `load` aborts the one in flight; an aborted read ends `cancelled`, never
 * `error`, and its late answer is dropped.
 */
export class Loader<T> {
  /** Emitted on every change of status. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get status(): LoadStatus {
    return this._status;
  }

  /** The last result (kept while a reload runs). */
  get data(): T | null {
    return this._data;
  }

  /** The error of the last read, when it failed. */
  get error(): unknown {
    return this._error;
  }

  /** When the read in flight started (`Date.now()`), else `null`. */
  get startedAt(): number | null {
    return this._startedAt;
  }

  /**
   * Read with `fetch` (given the signal to pass to the request), aborting a read
   * in flight. Resolves when this read ends, however it ends.
   */
  async load(fetch: (signal: AbortSignal) => Promise<T>): Promise<void> {
    this._controller?.abort();
    const controller = new AbortController();
    this._controller = controller;
    this._set('loading', this._data, null, Date.now());
    try {
      const data = await fetch(controller.signal);
      if (this._controller === controller && !controller.signal.aborted) {
        this._controller = null;
        this._set('ready', data, null, null);
      }
    } catch (error) {
      if (this._controller !== controller) {
        return; // superseded by a newer read
      }
      this._controller = null;
      if (controller.signal.aborted || isAbortError(error)) {
        this._set('cancelled', this._data, null, null);
      } else {
        this._set('error', this._data, error, null);
      }
    }
  }

  /** Load unless loaded or loading already. */
  ensure(fetch: (signal: AbortSignal) => Promise<T>): Promise<void> {
    if (this._status === 'idle') {
      return this.load(fetch);
    }
    return Promise.resolve();
  }

  /** Abort the read in flight (it ends `cancelled`). */
  cancel(): void {
    const controller = this._controller;
    if (controller) {
      this._controller = null;
      controller.abort();
      this._set('cancelled', this._data, null, null);
    }
  }

  /** Forget the result (the next `ensure` reads again), aborting a read in flight. */
  reset(): void {
    this._controller?.abort();
    this._controller = null;
    this._set('idle', null, null, null);
  }

  private _set(
    status: LoadStatus,
    data: T | null,
    error: unknown,
    startedAt: number | null
  ): void {
    this._status = status;
    this._data = data;
    this._error = error;
    this._startedAt = startedAt;
    this._changed.emit();
  }

  private _status: LoadStatus = 'idle';
  private _data: T | null = null;
  private _error: unknown = null;
  private _startedAt: number | null = null;
  private _controller: AbortController | null = null;
  private readonly _changed = new Signal<this, void>(this);
}
