import type { JSONSchema7 } from 'json-schema';
import { ISignal, Signal } from '@lumino/signaling';
import { PolledModel } from '../polledModel';
import { APIError, errorMessage } from '../request';
import type { IRuntimeImage, ServerStatus } from '../tokens';
import type { IVersioned, RuntimeImagesAPI } from './api';
import type {
  IExportBundle,
  IImportResult,
  IInvalidRuntimeImage,
  IRuntimeImageBody
} from './types';

/** The text and tag filter applied to the list. */
export interface IFilter {
  /** Free text, matched (case-insensitively, every word) against display name, name, image name and description. */
  readonly text: string;
  /** Selected tags: an image is shown when it carries any of them. */
  readonly tags: ReadonlySet<string>;
}

/** Lower-cased text searched by the filter, one per image. */
function searchText(image: IRuntimeImage): string {
  const md = image.metadata ?? ({} as IRuntimeImage['metadata']);
  return [
    image.display_name ?? '',
    image.name ?? '',
    typeof md.image_name === 'string' ? md.image_name : '',
    typeof md.description === 'string' ? md.description : ''
  ]
    .join('\n')
    .toLowerCase();
}

const collator = new Intl.Collator(undefined, {
  sensitivity: 'base',
  numeric: true
});

/** Sort by display name, then by name (stable, locale aware). */
export function sortImages(images: IRuntimeImage[]): IRuntimeImage[] {
  return images.sort(
    (a, b) =>
      collator.compare(a.display_name ?? '', b.display_name ?? '') ||
      collator.compare(a.name, b.name)
  );
}

/**
 * The state of the Runtime Images panel: the images and invalid files the server
 * reports, whether the server extension answers, the filter, and the write
 * operations (each one awaits the server, then refreshes the list).
 */
export class RuntimeImagesModel extends PolledModel {
  constructor(options: RuntimeImagesModel.IOptions) {
    super({ ...options, pollInterval: options.pollInterval ?? 3000 });
    this._api = options.api;
  }

  /** Emitted when the list of images (or invalid files) changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted after every successful fetch of the list (changed or not). */
  get refreshed(): ISignal<this, void> {
    return this._refreshed;
  }

  /** Emitted when the selection changes. */
  get selectionChanged(): ISignal<this, void> {
    return this._selectionChanged;
  }

  /** The names of the selected images, in the list's order. */
  get selection(): ReadonlyArray<string> {
    if (this._selectionList === null) {
      this._selectionList = this._images
        .filter(image => this._selected.has(image.name))
        .map(image => image.name);
    }
    return this._selectionList;
  }

  /** Whether the image `name` is selected. */
  isSelected(name: string): boolean {
    return this._selected.has(name);
  }

  /**
   * Select or deselect one image; with `range`, every image shown (filtered)
   * from the one toggled last to this one takes this one's new state (as a
   * shift-click in a file browser).
   */
  toggleSelected(name: string, range = false): void {
    const select = !this._selected.has(name);
    const shown = this.filtered.map(image => image.name);
    const from = this._anchor === null ? -1 : shown.indexOf(this._anchor);
    const to = shown.indexOf(name);
    const names =
      range && from >= 0 && to >= 0
        ? shown.slice(Math.min(from, to), Math.max(from, to) + 1)
        : [name];
    this._select(names, select, name);
  }

  /**
   * Select every image shown (filtered); when all of them are selected
   * already, deselect them. Images the filter hides keep their state.
   */
  toggleAllShown(): void {
    const shown = this.filtered.map(image => image.name);
    const all = shown.length > 0 && shown.every(n => this._selected.has(n));
    this._select(shown, !all, null);
  }

  /** Select (or deselect) each of `names`; `anchor` is where a range starts next. */
  private _select(
    names: ReadonlyArray<string>,
    select: boolean,
    anchor: string | null
  ): void {
    for (const name of names) {
      if (select) {
        this._selected.add(name);
      } else {
        this._selected.delete(name);
      }
    }
    this._anchor = anchor;
    this._selectionUpdated();
  }

  /** Deselect every image. */
  clearSelection(): void {
    if (this._selected.size === 0) {
      return;
    }
    this._selected.clear();
    this._anchor = null;
    this._selectionUpdated();
  }

  /** Emitted when `status` changes. */
  get statusChanged(): ISignal<this, ServerStatus> {
    return this._statusChanged;
  }

  /** Whether the server extension answers. */
  get status(): ServerStatus {
    return this._status;
  }

  /** Why the server extension is unusable (`missing`/`error`), else empty. */
  get statusMessage(): string {
    return this._statusMessage;
  }

  /** The last failure of a background refresh, if it is still current. */
  get refreshError(): string | null {
    return this._refreshError;
  }

  /** The runtime-image JSON Schema from the server (once `ready`). */
  get schema(): JSONSchema7 | null {
    return this._schema;
  }

  /** The valid images, sorted by display name. */
  get images(): ReadonlyArray<IRuntimeImage> {
    return this._images;
  }

  /** Files on disk that are not valid runtime images. */
  get invalid(): ReadonlyArray<IInvalidRuntimeImage> {
    return this._invalid;
  }

  /** All tags used by the images, sorted. */
  get allTags(): ReadonlyArray<string> {
    return this._allTags;
  }

  /** Whether at least one listing has been received. */
  get loaded(): boolean {
    return this._loaded;
  }

  /** The current filter. */
  get filter(): IFilter {
    return this._filter;
  }

  /** Set the filter text. */
  setFilterText(text: string): void {
    if (text === this._filter.text) {
      return;
    }
    this._filter = { text, tags: this._filter.tags };
    this._filtered = null;
    this._stateChanged.emit();
  }

  /** Select or deselect a tag. */
  toggleTag(tag: string): void {
    const tags = new Set(this._filter.tags);
    if (tags.has(tag)) {
      tags.delete(tag);
    } else {
      tags.add(tag);
    }
    this._filter = { text: this._filter.text, tags };
    this._filtered = null;
    this._stateChanged.emit();
  }

  /** Clear the text and the tags. */
  clearFilter(): void {
    this._filter = { text: '', tags: new Set() };
    this._filtered = null;
    this._stateChanged.emit();
  }

  /** Whether a filter is active. */
  get isFiltered(): boolean {
    return this._filter.text.trim() !== '' || this._filter.tags.size > 0;
  }

  /** The images that pass the filter (computed once per list/filter change). */
  get filtered(): ReadonlyArray<IRuntimeImage> {
    if (this._filtered === null) {
      this._filtered = this._applyFilter();
    }
    return this._filtered;
  }

  /** The invalid files that pass the text filter (hidden when tags are selected). */
  get filteredInvalid(): ReadonlyArray<IInvalidRuntimeImage> {
    const { text, tags } = this._filter;
    if (tags.size > 0) {
      return [];
    }
    const words = text.toLowerCase().split(/\s+/).filter(Boolean);
    if (words.length === 0) {
      return this._invalid;
    }
    return this._invalid.filter(item => {
      const hay = `${item.name}\n${item.reason ?? ''}`.toLowerCase();
      return words.every(w => hay.includes(w));
    });
  }

  /** Find a valid image by name. */
  find(name: string): IRuntimeImage | undefined {
    return this._images.find(image => image.name === name);
  }

  /** One image as the server has it now, with its ETag (for a guarded replace). */
  get(name: string): Promise<IVersioned> {
    return this._api.getImage(name);
  }

  /**
   * Check that the server extension answers (`GET schema`), then list the images
   * and start polling. Safe to call again (e.g. from a "Retry" button).
   */
  async initialize(): Promise<void> {
    this._setStatus('checking', '');
    try {
      this._schema = await this._api.getSchema();
    } catch (error) {
      this._setStatusFromError(error);
      return;
    }
    this._setStatus('ready', '');
    await this.refresh();
    this.startPolling({
      name: 'jupyter-runtime-images:list',
      max: 60 * 1000,
      first: 'now'
    });
  }

  /**
   * Fetch the list if it changed (conditional GET with `If-None-Match`).
   * Calls made while a refresh is in flight run after it, so the list reflects
   * every write that completed before the call.
   */
  refresh(): Promise<void> {
    const next = this._pending.then(() => this._refreshOnce());
    this._pending = next.catch(() => undefined);
    return next;
  }

  /** Create an image; refreshes the list. */
  async create(body: IRuntimeImageBody): Promise<IRuntimeImage> {
    const { image } = await this._api.createImage(body);
    await this._refreshAfterWrite();
    return image;
  }

  /** Replace (or repair) an image; `etag` guards against stale writes (412). */
  async replace(
    name: string,
    body: IRuntimeImageBody,
    etag?: string | null
  ): Promise<IRuntimeImage> {
    const { image } = await this._api.replaceImage(name, body, etag);
    await this._refreshAfterWrite();
    return image;
  }

  /** Delete an image (awaited before the list refreshes). */
  async remove(name: string): Promise<void> {
    await this._api.deleteImage(name);
    await this._refreshAfterWrite();
  }

  /** Duplicate an image; returns the copy. */
  async duplicate(name: string): Promise<IRuntimeImage> {
    const copy = await this._api.duplicateImage(name);
    await this._refreshAfterWrite();
    return copy;
  }

  /** The export bundle of all images. */
  exportImages(): Promise<IExportBundle> {
    return this._api.exportImages();
  }

  /** Import a bundle; returns the per-item report and refreshes the list. */
  async importImages(
    bundle: unknown,
    overwrite = false
  ): Promise<IImportResult[]> {
    const results = await this._api.importImages(bundle, overwrite);
    await this._refreshAfterWrite();
    return results;
  }

  /**
   * Refresh after a successful write. A failure here does not make the write
   * fail: it shows as `refreshError` and the next poll retries.
   */
  private async _refreshAfterWrite(): Promise<void> {
    try {
      await this.refresh();
    } catch {
      // reported through refreshError / status
    }
  }

  private async _refreshOnce(): Promise<void> {
    if (this.isDisposed) {
      return;
    }
    let listing;
    try {
      listing = await this._api.listImages(this._etag);
    } catch (error) {
      if (error instanceof APIError && error.status === 404) {
        this._setStatusFromError(error);
      } else {
        this._refreshError = errorMessage(error);
        this._stateChanged.emit();
      }
      throw error;
    }
    const recovered = this._refreshError !== null || this._status !== 'ready';
    this._refreshError = null;
    if (this._status !== 'ready') {
      this._setStatus('ready', '');
    }
    if (listing === null) {
      if (recovered) {
        this._stateChanged.emit();
      }
      this._refreshed.emit();
      return;
    }
    this._etag = listing.etag;
    this._images = sortImages([...listing.images]);
    this._invalid = [...listing.invalid].sort((a, b) =>
      collator.compare(a.name, b.name)
    );
    this._index = new Map(this._images.map(i => [i, searchText(i)]));
    const tags = new Set<string>();
    for (const image of this._images) {
      for (const tag of image.metadata?.tags ?? []) {
        if (typeof tag === 'string') {
          tags.add(tag);
        }
      }
    }
    this._allTags = [...tags].sort(collator.compare);
    // Drop selected tags that no longer exist, so nothing stays hidden for good.
    if ([...this._filter.tags].some(t => !tags.has(t))) {
      this._filter = {
        text: this._filter.text,
        tags: new Set([...this._filter.tags].filter(t => tags.has(t)))
      };
    }
    this._loaded = true;
    this._filtered = null;
    // A deleted image leaves the selection.
    const names = new Set(this._images.map(image => image.name));
    const gone = [...this._selected].filter(name => !names.has(name));
    gone.forEach(name => this._selected.delete(name));
    this._selectionList = null;
    this._changed.emit();
    if (gone.length > 0) {
      this._selectionChanged.emit();
    }
    this._stateChanged.emit();
    this._refreshed.emit();
  }

  private _selectionUpdated(): void {
    this._selectionList = null;
    this._selectionChanged.emit();
    this._stateChanged.emit();
  }

  private _applyFilter(): IRuntimeImage[] {
    const { text, tags } = this._filter;
    const words = text.toLowerCase().split(/\s+/).filter(Boolean);
    if (words.length === 0 && tags.size === 0) {
      return this._images;
    }
    return this._images.filter(image => {
      if (tags.size > 0) {
        const own = image.metadata?.tags ?? [];
        if (!own.some(t => tags.has(t))) {
          return false;
        }
      }
      if (words.length > 0) {
        const hay = this._index.get(image) ?? searchText(image);
        for (const w of words) {
          if (!hay.includes(w)) {
            return false;
          }
        }
      }
      return true;
    });
  }

  private _setStatusFromError(error: unknown): void {
    if (error instanceof APIError && error.status === 404) {
      this._setStatus('missing', error.message);
    } else {
      this._setStatus('error', errorMessage(error));
    }
  }

  private _setStatus(status: ServerStatus, message: string): void {
    const changed = status !== this._status;
    this._status = status;
    this._statusMessage = message;
    if (changed) {
      this._statusChanged.emit(status);
    }
    this._stateChanged.emit();
  }

  private readonly _api: RuntimeImagesAPI;
  private _changed = new Signal<this, void>(this);
  private _refreshed = new Signal<this, void>(this);
  private _selectionChanged = new Signal<this, void>(this);
  private _selected = new Set<string>();
  private _selectionList: string[] | null = null;
  private _anchor: string | null = null;
  private _statusChanged = new Signal<this, ServerStatus>(this);
  private _status: ServerStatus = 'checking';
  private _statusMessage = '';
  private _refreshError: string | null = null;
  private _schema: JSONSchema7 | null = null;
  private _images: IRuntimeImage[] = [];
  private _invalid: IInvalidRuntimeImage[] = [];
  private _index = new Map<IRuntimeImage, string>();
  private _allTags: string[] = [];
  private _loaded = false;
  private _etag: string | null = null;
  private _filter: IFilter = { text: '', tags: new Set() };
  private _filtered: IRuntimeImage[] | null = null;
  private _pending: Promise<void> = Promise.resolve();
}

export namespace RuntimeImagesModel {
  export interface IOptions extends Partial<PolledModel.IOptions> {
    /** The REST client. */
    api: RuntimeImagesAPI;
    /** Polling interval in ms (0 disables polling). Default 3000. */
    pollInterval?: number;
  }
}
