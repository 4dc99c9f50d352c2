import type { IStateDB } from '@jupyterlab/statedb';
import { ISignal, Signal } from '@lumino/signaling';
import { CompanionModel } from '../companionModel';
import type { IRepinResult, IUpdate, IUpdates, UpdatesAPI } from './api';

/** The state database key of the moves already notified. */
export const NOTIFIED_KEY = 'jupyter-runtime-images:updates-notified';

/** How many notified moves are remembered (the oldest are forgotten). */
export const MAX_NOTIFIED = 500;

/** The key of a move: the image (or build) and the digest its tag moved to. */
export function moveKey(update: IUpdate): string {
  return `${update.kind}\n${update.name}\n${update.current}`;
}

/**
 * The tags that moved (`GET updates`, issue 18), fetched whenever the list of
 * runtime images is: which runtime images have an update (their rows' badge),
 * and one `moved` signal per move — a (name, digest) pair is announced once,
 * remembered in JupyterLab's state database across reloads, however often it
 * is listed again.
 */
export class UpdatesModel extends CompanionModel<IUpdates> {
  constructor(options: UpdatesModel.IOptions) {
    super();
    this._api = options.api;
    this._state = options.state ?? null;
    this._loaded = this._load();
  }

  /** Emitted once per move not announced before. */
  get moved(): ISignal<this, IUpdate> {
    return this._moved;
  }

  /** When the tags were checked last (ISO 8601), if known. */
  get checkedAt(): string | null {
    return this._checkedAt;
  }

  /** Every move the server lists. */
  get updates(): ReadonlyArray<IUpdate> {
    return this._updates;
  }

  /** The update of the runtime image `name`, if its tag moved. */
  forImage(name: string): IUpdate | undefined {
    return this._byImage.get(name);
  }

  /**
   * Point the runtime image `name` at its tag's image now (and its
   * kernelspecs); the updates are fetched again.
   */
  async repin(name: string): Promise<IRepinResult> {
    const result = await this._api.repin(name);
    await this.refresh().catch(() => undefined);
    return result;
  }

  protected fetch(): Promise<IUpdates> {
    return this._api.list();
  }

  protected async apply(data: IUpdates): Promise<boolean> {
    await this._loaded;
    const before = JSON.stringify([this._checkedAt, this._updates]);
    this._checkedAt = data.checkedAt;
    this._updates = data.updates.filter(
      update =>
        update &&
        typeof update.name === 'string' &&
        typeof update.current === 'string'
    );
    this._byImage = new Map(
      this._updates
        .filter(update => update.kind === 'runtime-image')
        .map(update => [update.name, update])
    );
    const fresh = this._updates.filter(
      update => !this._notified.includes(moveKey(update))
    );
    if (fresh.length > 0) {
      this._notified = [...this._notified, ...fresh.map(moveKey)].slice(
        -MAX_NOTIFIED
      );
      // Remembering is a convenience: a failure to save loses nothing else.
      void this._state
        ?.save(NOTIFIED_KEY, [...this._notified])
        .catch(() => undefined);
      for (const update of fresh) {
        this._moved.emit(update);
      }
    }
    return JSON.stringify([this._checkedAt, this._updates]) !== before;
  }

  private async _load(): Promise<void> {
    try {
      const value = await this._state?.fetch(NOTIFIED_KEY);
      if (Array.isArray(value)) {
        this._notified = value
          .filter((each): each is string => typeof each === 'string')
          .slice(-MAX_NOTIFIED);
      }
    } catch {
      // Nothing remembered.
    }
  }

  private readonly _api: UpdatesAPI;
  private readonly _state: IStateDB | null;
  private readonly _loaded: Promise<void>;
  private _moved = new Signal<this, IUpdate>(this);
  private _checkedAt: string | null = null;
  private _updates: IUpdate[] = [];
  private _byImage = new Map<string, IUpdate>();
  private _notified: string[] = [];
}

export namespace UpdatesModel {
  export interface IOptions {
    api: UpdatesAPI;
    state?: IStateDB | null;
  }
}
