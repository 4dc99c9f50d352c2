import { ISignal, Signal } from '@lumino/signaling';
import { PolledModel } from '../polledModel';
import { APIError } from '../request';
import type { BuildsAPI } from './api';
import { latestCondition } from './resource';
import {
  BUILD_EVENT_SCHEMA_ID,
  IBuildEvent,
  ICustomNBImage,
  IProgress
} from './types';

/** What the list shows of a build: its phase and latest condition, live. */
export interface IBuildSummary {
  phase: string;
  reason: string;
  message: string;
  engine: string;
  progress?: IProgress;
}

/** A build's state as the latest event reported it (newer than the resource). */
interface ILive {
  phase: string;
  reason?: string;
  message?: string;
  engine?: string;
  progress?: IProgress;
}

/** Fetch bookkeeping of one build. */
interface IFetchState {
  timer: ReturnType<typeof setTimeout> | null;
  inflight: boolean;
  /** An event arrived after the last fetch started. */
  dirty: boolean;
}

function sortKey(resource: ICustomNBImage): string {
  return String(resource.metadata?.creationTimestamp ?? '');
}

/** Newest first (by creation time, then by name). */
export function sortBuilds(builds: ICustomNBImage[]): ICustomNBImage[] {
  return builds.sort((a, b) => {
    const ka = sortKey(a);
    const kb = sortKey(b);
    if (ka !== kb) {
      return ka < kb ? 1 : -1;
    }
    return a.metadata.name.localeCompare(b.metadata.name);
  });
}

/**
 * The builds (CustomNBImage resources) the server knows, kept live from the server's
 * event stream: an event patches the build at once (phase, latest message, progress)
 * and the whole resource (conditions, checks, packages) is fetched again, coalesced.
 * A slow list refresh is only a fallback (missed events, reconnects).
 */
export class BuildsModel extends PolledModel {
  constructor(options: BuildsModel.IOptions) {
    super({ ...options, pollInterval: options.pollInterval ?? 30000 });
    this.api = options.api;
    this._fetchDelay = options.fetchDelay ?? 150;
  }

  readonly api: BuildsAPI;

  /** A build changed (its name). */
  get buildChanged(): ISignal<this, string> {
    return this._buildChanged;
  }

  /** A build reached Ready (from another phase, or first seen Ready after a retry). */
  get becameReady(): ISignal<this, ICustomNBImage> {
    return this._becameReady;
  }

  /** Builds, newest first. */
  get builds(): ReadonlyArray<ICustomNBImage> {
    if (this._sorted === null) {
      this._sorted = sortBuilds([...this._builds.values()]);
    }
    return this._sorted;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  /** The failure of the last list refresh, if still current. */
  get error(): string | null {
    return this._error;
  }

  get(name: string): ICustomNBImage | undefined {
    return this._builds.get(name);
  }

  /** Phase, latest reason and message, engine and progress (events first). */
  summary(resource: ICustomNBImage): IBuildSummary {
    const name = resource.metadata.name;
    const live = this._live.get(name);
    const status = resource.status ?? {};
    const latest = latestCondition(resource);
    if (live) {
      return {
        phase: live.phase,
        reason: live.reason ?? '',
        message: live.message ?? '',
        engine: live.engine ?? String(status.engine ?? ''),
        progress: live.progress ?? status.progress
      };
    }
    return {
      phase: String(status.phase ?? 'Pending'),
      reason: latest?.reason ?? '',
      message: latest?.message ?? '',
      engine: String(status.engine ?? ''),
      progress: status.progress
    };
  }

  /** List the builds now (and start the slow fallback refresh). */
  async refresh(): Promise<void> {
    const started = ++this._seq;
    let builds: ICustomNBImage[];
    try {
      builds = await this.api.list();
    } catch (error) {
      this._error = error instanceof Error ? error.message : String(error);
      this._emit();
      throw error;
    }
    if (this.isDisposed) {
      return;
    }
    this._error = null;
    const seen = new Set<string>();
    for (const resource of builds) {
      const name = resource?.metadata?.name;
      if (!name) {
        continue;
      }
      seen.add(name);
      if ((this._touched.get(name) ?? 0) > started) {
        continue; // an event or a submit is newer than this listing
      }
      this._apply(resource, true);
    }
    for (const name of [...this._builds.keys()]) {
      if (!seen.has(name) && (this._touched.get(name) ?? 0) <= started) {
        this._forget(name);
      }
    }
    this._loaded = true;
    // The first poll one interval from now: the list was just fetched.
    this.startPolling({
      name: 'jupyter-runtime-images:builds',
      max: 5 * 60 * 1000,
      first: 'after-interval'
    });
    this._emit();
  }

  /**
   * Handle an event of the server's event bus; others than build events are ignored.
   *
   * @returns whether it was a build event
   */
  handleEvent(emission: { schema_id?: string; [key: string]: any }): boolean {
    if (!emission || emission.schema_id !== BUILD_EVENT_SCHEMA_ID) {
      return false;
    }
    const event = emission as unknown as IBuildEvent;
    if (typeof event.name !== 'string' || !event.name) {
      return true;
    }
    const name = event.name;
    this._touched.set(name, ++this._seq);
    if (event.phase === 'Deleted') {
      this._forget(name);
      this._emit(name);
      return true;
    }
    const before = this._phaseOf(name);
    this._live.set(name, {
      phase: event.phase,
      reason: event.reason,
      message: event.message,
      engine: event.engine,
      progress: event.progress
    });
    if (!this._builds.has(name)) {
      // Submitted elsewhere (CLI, another tab): show it now, fetch the rest.
      this._builds.set(name, {
        apiVersion: 'meteor.zone/v1alpha1',
        kind: 'CustomNBImage',
        metadata: { name },
        spec: { buildType: '' },
        status: { phase: event.phase, engine: event.engine }
      });
      this._sorted = null;
    }
    const state = this._fetchState(name);
    state.dirty = true;
    this._scheduleFetch(name);
    this._noteReady(name, before);
    this._emit(name);
    return true;
  }

  /** Submit a CustomNBImage; the new build shows at once (`Pending`). */
  async submit(resource: ICustomNBImage): Promise<ICustomNBImage> {
    const created = await this.api.create(resource);
    const name = created?.metadata?.name ?? resource.metadata.name;
    this._touched.set(name, ++this._seq);
    if (!this._builds.has(name)) {
      // Unless an event (or the fetch it caused) already told something newer.
      this._apply(created, true);
    }
    this._emit(name);
    return created;
  }

  async cancel(name: string): Promise<void> {
    const started = this._seq;
    const resource = await this.api.cancel(name);
    this._applyFresh(name, resource, started);
  }

  async retry(name: string): Promise<void> {
    const started = this._seq;
    const resource = await this.api.retry(name);
    this._applyFresh(name, resource, started);
  }

  async remove(name: string): Promise<void> {
    try {
      await this.api.remove(name);
    } catch (error) {
      if (!(error instanceof APIError && error.status === 404)) {
        throw error;
      }
    }
    this._touched.set(name, ++this._seq);
    this._forget(name);
    this._emit(name);
  }

  log(name: string): Promise<string> {
    return this.api.log(name);
  }

  /** Fetch one build again now (e.g. when its details open). */
  async fetch(name: string): Promise<ICustomNBImage | undefined> {
    const state = this._fetchState(name);
    state.dirty = true;
    if (state.timer !== null) {
      clearTimeout(state.timer);
      state.timer = null;
    }
    await this._runFetch(name);
    return this._builds.get(name);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    for (const state of this._fetches.values()) {
      if (state.timer !== null) {
        clearTimeout(state.timer);
      }
    }
    this._fetches.clear();
    super.dispose();
  }

  /**
   * Apply the answer of a write, unless events about the build arrived after the
   * request was sent: they may be newer than the answer (a retried build can fail
   * again before its POST answer is read), so fetch it instead.
   */
  private _applyFresh(
    name: string,
    resource: ICustomNBImage,
    started: number
  ): void {
    if ((this._touched.get(name) ?? 0) > started) {
      this._fetchState(name).dirty = true;
      this._scheduleFetch(name);
      return;
    }
    this._touched.set(name, ++this._seq);
    if (resource?.metadata?.name) {
      const before = this._phaseOf(name);
      this._apply(resource, true);
      this._noteReady(name, before);
    }
    this._emit(name);
  }

  private _phaseOf(name: string): string | undefined {
    const resource = this._builds.get(name);
    return resource ? this.summary(resource).phase : undefined;
  }

  private _noteReady(name: string, before: string | undefined): void {
    const resource = this._builds.get(name);
    if (
      resource &&
      before !== 'Ready' &&
      this.summary(resource).phase === 'Ready'
    ) {
      this._becameReady.emit(resource);
    }
  }

  /** Store a resource; `authoritative` drops the event overlay. */
  private _apply(resource: ICustomNBImage, authoritative: boolean): void {
    const name = resource.metadata.name;
    this._builds.set(name, resource);
    if (authoritative) {
      this._live.delete(name);
    }
    this._sorted = null;
  }

  private _forget(name: string): void {
    const state = this._fetches.get(name);
    if (state?.timer) {
      clearTimeout(state.timer);
    }
    this._fetches.delete(name);
    this._live.delete(name);
    if (this._builds.delete(name)) {
      this._sorted = null;
    }
  }

  private _fetchState(name: string): IFetchState {
    let state = this._fetches.get(name);
    if (!state) {
      state = { timer: null, inflight: false, dirty: false };
      this._fetches.set(name, state);
    }
    return state;
  }

  private _scheduleFetch(name: string): void {
    const state = this._fetchState(name);
    if (state.timer !== null || state.inflight || this.isDisposed) {
      return; // a fetch is due, or runs and will run again (dirty)
    }
    state.timer = setTimeout(() => {
      state.timer = null;
      void this._runFetch(name);
    }, this._fetchDelay);
  }

  private async _runFetch(name: string): Promise<void> {
    const state = this._fetchState(name);
    if (state.inflight) {
      return;
    }
    state.inflight = true;
    state.dirty = false;
    const before = this._phaseOf(name);
    try {
      const resource = await this.api.get(name);
      if (this.isDisposed || this._fetches.get(name) !== state) {
        return; // forgotten (deleted) meanwhile
      }
      if (resource?.metadata?.name === name) {
        // An event newer than this answer keeps its overlay until the next fetch.
        this._apply(resource, !state.dirty);
      }
    } catch (error) {
      if (error instanceof APIError && error.status === 404) {
        this._forget(name);
        this._emit(name);
        return;
      }
      // Keep what the events said; the fallback refresh catches up.
    } finally {
      state.inflight = false;
    }
    this._noteReady(name, before);
    this._emit(name);
    if (state.dirty && this._fetches.get(name) === state) {
      this._scheduleFetch(name);
    }
  }

  private _emit(name?: string): void {
    if (this.isDisposed) {
      return;
    }
    if (name) {
      this._buildChanged.emit(name);
    }
    this._stateChanged.emit();
  }

  private _builds = new Map<string, ICustomNBImage>();
  private _live = new Map<string, ILive>();
  private _touched = new Map<string, number>();
  private _fetches = new Map<string, IFetchState>();
  private _sorted: ICustomNBImage[] | null = null;
  private _seq = 0;
  private _loaded = false;
  private _error: string | null = null;
  private _fetchDelay: number;
  private _buildChanged = new Signal<this, string>(this);
  private _becameReady = new Signal<this, ICustomNBImage>(this);
}

export namespace BuildsModel {
  export interface IOptions extends Partial<PolledModel.IOptions> {
    api: BuildsAPI;
    /** Delay (ms) coalescing the fetches that events trigger. Default 150. */
    fetchDelay?: number;
    /** Fallback list refresh (ms); 0 disables it. Default 30 s. */
    pollInterval?: number;
  }
}
