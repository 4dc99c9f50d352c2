import type { IStateDB } from '@jupyterlab/statedb';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import type {
  IPublishRequest,
  IPublishResult,
  PublishAPI,
  PublishSource
} from './api';
import { registryOf } from './form';

/** The state database key of what the Publish dialog remembers. */
export const STATE_KEY = 'jupyter-runtime-images:publish';

/** How many destinations the dialog offers again. */
export const MAX_RECENT = 5;

/**
 * Publishing (issue 14): the request, and what the dialog remembers in
 * JupyterLab's state database — the registry used last and the last few
 * destinations — so the next publish proposes them.
 */
export class PublishModel {
  constructor(options: PublishModel.IOptions) {
    this._api = options.api;
    this._state = options.state ?? null;
    this._loaded = this._load();
  }

  /** The registry (`host[:port]`) of the last `docker://` publish, or `null`. */
  get lastRegistry(): string | null {
    return this._lastRegistry;
  }

  /** The last destinations, newest first. */
  get recent(): ReadonlyArray<string> {
    return this._recent;
  }

  /** Resolves once what was remembered has been read. */
  get ready(): Promise<void> {
    return this._loaded;
  }

  /**
   * Publish; once done, remember the destination (and its registry).
   *
   * @throws {APIError} as the server refuses it (`to` named in field errors)
   */
  async publish(
    source: PublishSource,
    request: IPublishRequest
  ): Promise<IPublishResult> {
    const result = await this._api.publish(source, request);
    await this._remember(request.to);
    return result;
  }

  private async _remember(to: string): Promise<void> {
    this._recent = [to, ...this._recent.filter(each => each !== to)].slice(
      0,
      MAX_RECENT
    );
    this._lastRegistry = registryOf(to) ?? this._lastRegistry;
    const value: ReadonlyPartialJSONObject = {
      lastRegistry: this._lastRegistry,
      recent: [...this._recent]
    };
    // Remembering is a convenience: a failure to save loses nothing else.
    await this._state?.save(STATE_KEY, value).catch(() => undefined);
  }

  private async _load(): Promise<void> {
    if (!this._state) {
      return;
    }
    try {
      const value = (await this._state.fetch(STATE_KEY)) as any;
      if (value && typeof value === 'object') {
        if (typeof value.lastRegistry === 'string' && value.lastRegistry) {
          this._lastRegistry = value.lastRegistry;
        }
        if (Array.isArray(value.recent)) {
          this._recent = value.recent
            .filter((each: unknown) => typeof each === 'string' && each)
            .slice(0, MAX_RECENT);
        }
      }
    } catch {
      // Nothing remembered.
    }
  }

  private readonly _api: PublishAPI;
  private readonly _state: IStateDB | null;
  private readonly _loaded: Promise<void>;
  private _lastRegistry: string | null = null;
  private _recent: string[] = [];
}

export namespace PublishModel {
  export interface IOptions {
    api: PublishAPI;
    state?: IStateDB | null;
  }
}
