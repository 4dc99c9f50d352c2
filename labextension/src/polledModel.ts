import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

/**
 * What the models of the server's lists (runtime images, builds) share: a signal
 * for any change, disposal, and a poll of `refresh` that backs off after failures
 * and stands by while the page is hidden or nothing shows the list.
 */
export abstract class PolledModel {
  constructor(options: PolledModel.IOptions) {
    this._pollInterval = options.pollInterval;
    this._isActive = options.isActive ?? (() => true);
  }

  /** Emitted on any state change. */
  get stateChanged(): ISignal<this, void> {
    return this._stateChanged;
  }

  /** Whether the model has been disposed. */
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Fetch the list now (what the poll runs). */
  abstract refresh(): Promise<void>;

  /** Stop polling and disconnect the signals. */
  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._poll?.dispose();
    this._poll = null;
    Signal.clearData(this);
  }

  /**
   * Start the poll, once (not with an interval of 0, nor once disposed).
   *
   * @param options.first when the first poll runs: at once, or after one interval
   *   (when the list was just fetched)
   */
  protected startPolling(options: {
    name: string;
    /** The longest interval (ms) the back-off reaches. */
    max: number;
    first: 'now' | 'after-interval';
  }): void {
    if (this._poll || this._pollInterval <= 0 || this._isDisposed) {
      return;
    }
    this._poll = new Poll({
      auto: options.first === 'now',
      factory: () => this.refresh(),
      frequency: {
        interval: this._pollInterval,
        backoff: true,
        max: options.max
      },
      name: options.name,
      standby: () =>
        (typeof document !== 'undefined' && document.hidden) ||
        !this._isActive()
    });
    if (options.first === 'after-interval') {
      void this._poll.schedule({
        interval: this._pollInterval,
        phase: 'started'
      });
    }
  }

  protected readonly _stateChanged = new Signal<this, void>(this);
  private _poll: Poll | null = null;
  private readonly _pollInterval: number;
  private readonly _isActive: () => boolean;
  private _isDisposed = false;
}

export namespace PolledModel {
  export interface IOptions {
    /** The poll's interval (ms); 0 disables polling. */
    pollInterval: number;
    /** Whether anything shows the list now (the poll stands by otherwise). */
    isActive?: () => boolean;
  }
}
