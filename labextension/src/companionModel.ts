import { ISignal, Signal } from '@lumino/signaling';
import { APIError } from './request';

/**
 * What the models of data that go with the list of runtime images share (its
 * row badges: vulnerability counts, updates): a refresh that never runs twice
 * at once (a call while one runs runs once more after it), and a route the
 * server does not have (HTTP 404: an older server) that is not asked again —
 * the feature just shows nothing. They refresh when the list does
 * (`IRuntimeImages.refreshed`), so they never hold the list up.
 */
export abstract class CompanionModel<T> {
  /** Emitted when the data changed. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /**
   * Whether the server has the route: `null` until it answered once, `false`
   * after a 404.
   */
  get available(): boolean | null {
    return this._available;
  }

  /** The failure of the last refresh (other than a 404), if still current. */
  get error(): string | null {
    return this._error;
  }

  /** Fetch now (after the fetch running now, if any); not once the route is missing. */
  refresh(): Promise<void> {
    if (this._available === false) {
      return Promise.resolve();
    }
    if (this._running) {
      this._again = true;
      return this._running;
    }
    this._running = this._loop().finally(() => {
      this._running = null;
    });
    return this._running;
  }

  /** Fetch the data (the REST call). */
  protected abstract fetch(): Promise<T>;

  /** Take the data in; returns whether anything changed. */
  protected abstract apply(data: T): boolean | Promise<boolean>;

  protected emitChanged(): void {
    this._changed.emit();
  }

  private async _loop(): Promise<void> {
    do {
      this._again = false;
      let data: T;
      try {
        data = await this.fetch();
      } catch (error) {
        if (error instanceof APIError && error.status === 404) {
          this._available = false;
          this._changed.emit();
          return;
        }
        const message = error instanceof Error ? error.message : String(error);
        if (message !== this._error) {
          this._error = message;
          this._changed.emit();
        }
        return;
      }
      const recovered = this._error !== null || this._available !== true;
      this._error = null;
      this._available = true;
      if ((await this.apply(data)) || recovered) {
        this._changed.emit();
      }
    } while (this._again);
  }

  private _changed = new Signal<this, void>(this);
  private _available: boolean | null = null;
  private _error: string | null = null;
  private _running: Promise<void> | null = null;
  private _again = false;
}
