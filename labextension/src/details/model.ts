import { ISignal, Signal } from '@lumino/signaling';
import { safeFileName } from '../download';
import { APIError } from '../request';
import type { DetailsAPI } from './api';
import { Loader } from './loader';
import {
  DetailsTarget,
  IDiff,
  IFinding,
  IHistory,
  IInspection,
  ILayer,
  ILayers,
  IPackage,
  IPlatforms,
  IUpdate,
  IUpdates,
  IValidation,
  IVulnerabilities,
  SbomFormat,
  SEVERITY_LEVELS
} from './types';

/** The tabs of the Details view, in order. */
export const TABS = [
  'overview',
  'packages',
  'layers',
  'checks',
  'vulnerabilities',
  'history',
  'compare'
] as const;
export type DetailsTab = (typeof TABS)[number];

const collator = new Intl.Collator(undefined, {
  sensitivity: 'base',
  numeric: true
});

/* Packages */

/** The Packages tab's filter: '' is "all". */
export interface IPackageFilter {
  readonly text: string;
  readonly ecosystem: string;
  readonly environment: string;
}

/** Packages sorted by name, then ecosystem, then environment. */
export function sortPackages(packages: ReadonlyArray<IPackage>): IPackage[] {
  return [...packages].sort(
    (a, b) =>
      collator.compare(a.name, b.name) ||
      collator.compare(a.ecosystem, b.ecosystem) ||
      collator.compare(a.environment ?? '', b.environment ?? '')
  );
}

/** The lower-cased text the filter searches in a package. */
export function packageText(pkg: IPackage): string {
  return [
    pkg.name,
    pkg.version,
    pkg.source ?? '',
    ...(pkg.licenses ?? []),
    pkg.purl ?? ''
  ]
    .join('\n')
    .toLowerCase();
}

/**
 * The packages that pass `filter`: of its ecosystem and environment, and whose
 * name, version, source, licences or purl contain every word of its text.
 *
 * @param text the searched text of a package (`packageText`, computed once per
 *   package by the model so that a keystroke over 5,000 packages stays cheap)
 */
export function filterPackages(
  packages: ReadonlyArray<IPackage>,
  filter: IPackageFilter,
  text: (pkg: IPackage) => string = packageText
): ReadonlyArray<IPackage> {
  const words = filter.text.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0 && !filter.ecosystem && !filter.environment) {
    return packages;
  }
  return packages.filter(pkg => {
    if (filter.ecosystem && pkg.ecosystem !== filter.ecosystem) {
      return false;
    }
    if (filter.environment && (pkg.environment ?? '') !== filter.environment) {
      return false;
    }
    if (words.length === 0) {
      return true;
    }
    const hay = text(pkg);
    return words.every(word => hay.includes(word));
  });
}

/** The values of a package field, each with how many packages have it, sorted. */
export function facet(
  packages: ReadonlyArray<IPackage>,
  field: 'ecosystem' | 'environment'
): [string, number][] {
  const counts = new Map<string, number>();
  for (const pkg of packages) {
    const value = pkg[field] ?? '';
    counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => collator.compare(a[0], b[0]));
}

/* Vulnerabilities */

export type FindingSortKey =
  | 'severity'
  | 'id'
  | 'package'
  | 'installed_version'
  | 'fixed_version'
  | 'layer';

export interface IFindingSort {
  readonly key: FindingSortKey;
  readonly descending: boolean;
}

/** The Vulnerabilities tab's filter. */
export interface IFindingFilter {
  /** Words matched against id, aliases, summary and package. */
  readonly text: string;
  /** Severity levels shown (none selected: all). */
  readonly levels: ReadonlySet<string>;
  /** Only findings with a fixed version. */
  readonly fixable: boolean;
}

/** 0 for critical … 4 for unknown (and anything else). */
function severityRank(finding: IFinding): number {
  const rank = SEVERITY_LEVELS.indexOf(
    finding.severity?.level as (typeof SEVERITY_LEVELS)[number]
  );
  return rank < 0 ? SEVERITY_LEVELS.length - 1 : rank;
}

/**
 * Findings sorted by `sort.key`; severity sorts by level then score, most severe
 * first when descending. Ties are broken by id, so the order is stable.
 */
export function sortFindings(
  findings: ReadonlyArray<IFinding>,
  sort: IFindingSort
): IFinding[] {
  const sign = sort.descending ? -1 : 1;
  const compare = (a: IFinding, b: IFinding): number => {
    switch (sort.key) {
      case 'severity':
        return (
          severityRank(b) - severityRank(a) ||
          (a.severity?.score ?? -1) - (b.severity?.score ?? -1)
        );
      case 'layer':
        return (a.layer ?? -1) - (b.layer ?? -1);
      case 'fixed_version':
        return collator.compare(a.fixed_version ?? '', b.fixed_version ?? '');
      default:
        return collator.compare(String(a[sort.key]), String(b[sort.key]));
    }
  };
  return [...findings].sort(
    (a, b) => sign * compare(a, b) || collator.compare(a.id, b.id)
  );
}

export function filterFindings(
  findings: ReadonlyArray<IFinding>,
  filter: IFindingFilter
): IFinding[] {
  const words = filter.text.toLowerCase().split(/\s+/).filter(Boolean);
  return findings.filter(finding => {
    if (filter.fixable && !finding.fixed_version) {
      return false;
    }
    if (
      filter.levels.size > 0 &&
      !filter.levels.has(SEVERITY_LEVELS[severityRank(finding)])
    ) {
      return false;
    }
    if (words.length === 0) {
      return true;
    }
    const hay = [
      finding.id,
      ...(finding.aliases ?? []),
      finding.summary ?? '',
      finding.package
    ]
      .join('\n')
      .toLowerCase();
    return words.every(word => hay.includes(word));
  });
}

/** Whether `error` is the server's "no vulnerability database is configured". */
export function isDatabaseMissing(error: unknown): boolean {
  return (
    error instanceof APIError &&
    (error.body as { code?: string } | null)?.code ===
      'VulnerabilityDatabaseMissing'
  );
}

/* Layers */

/** A layer's bar: its width (of the largest layer) and its wasted part (of itself). */
export interface ILayerBar {
  layer: ILayer;
  /** 0…1: the layer's uncompressed size over the largest layer's. */
  size: number;
  /** 0…1: the layer's wasted bytes over its own uncompressed size. */
  wasted: number;
}

export function layerBars(layers: ReadonlyArray<ILayer>): ILayerBar[] {
  const largest = Math.max(0, ...layers.map(l => l.uncompressed_size || 0));
  return layers.map(layer => {
    const size = layer.uncompressed_size || 0;
    return {
      layer,
      size: largest > 0 ? size / largest : 0,
      wasted: size > 0 ? Math.min(1, (layer.wasted_bytes || 0) / size) : 0
    };
  });
}

/* Compare */

/** A row of the package comparison. */
export interface IDiffRow {
  change: 'added' | 'removed' | 'changed';
  ecosystem: string;
  environment: string;
  name: string;
  /** The version in A (empty when added). */
  a: string;
  /** The version in B (empty when removed). */
  b: string;
}

/** A package's row in a diff: its identity, and its version in A and in B. */
function diffRow(
  change: IDiffRow['change'],
  pkg: { ecosystem: string; environment?: string; name: string },
  a: string,
  b: string
): IDiffRow {
  return {
    change,
    ecosystem: pkg.ecosystem,
    environment: pkg.environment ?? '',
    name: pkg.name,
    a,
    b
  };
}

/** The packages of a diff as one list, by ecosystem, environment and name. */
export function diffRows(diff: IDiff): IDiffRow[] {
  const rows: IDiffRow[] = [
    ...(diff.packages?.added ?? []).map(p =>
      diffRow('added', p, '', p.version)
    ),
    ...(diff.packages?.removed ?? []).map(p =>
      diffRow('removed', p, p.version, '')
    ),
    ...(diff.packages?.changed ?? []).map(p => diffRow('changed', p, p.a, p.b))
  ];
  return rows.sort(
    (x, y) =>
      collator.compare(x.ecosystem, y.ecosystem) ||
      collator.compare(x.environment, y.environment) ||
      collator.compare(x.name, y.name)
  );
}

/** The reference of `digest` in the repository of `reference` (`repo@sha256:…`). */
export function atDigest(reference: string, digest: string): string {
  const bare = reference.split('@')[0];
  const slash = bare.lastIndexOf('/');
  const colon = bare.lastIndexOf(':');
  const repository = colon > slash ? bare.slice(0, colon) : bare;
  return `${repository}@${digest}`;
}

/* The view's identity */

/** The target of the command's arguments: `{name}` or `{image}`, else `null`. */
export function targetOf(args: Record<string, unknown>): DetailsTarget | null {
  const name = args['name'];
  if (typeof name === 'string' && name) {
    return { name };
  }
  const image = args['image'];
  if (typeof image === 'string' && image) {
    return { image };
  }
  return null;
}

/** The key of a target's view: one view per runtime image or reference. */
export function detailsKey(target: DetailsTarget): string {
  return 'name' in target ? `name:${target.name}` : `image:${target.image}`;
}

/** The file name of an SBOM (`<name>.cdx.json`, `<name>.spdx.json`). */
export function sbomFileName(
  view: { name: string | null; reference: string | null },
  format: SbomFormat
): string {
  const base = safeFileName(view.name ?? view.reference ?? 'image');
  return `${base}.${format === 'spdx-json' ? 'spdx' : 'cdx'}.json`;
}

/**
 * The state of one Details view: what it shows (a runtime image or a
 * reference), the platform chosen, one `Loader` per read (each cancellable),
 * and the filters of its tabs. Reads start when a tab needs them (`show`).
 */
export class DetailsModel {
  constructor(options: DetailsModel.IOptions) {
    this.api = options.api;
    this.target = options.target;
    this._reference = options.reference ?? (() => null);
    for (const loader of this.loaders) {
      loader.changed.connect(this._emit, this);
    }
  }

  readonly api: DetailsAPI;
  readonly target: DetailsTarget;

  readonly inspection = new Loader<IInspection>();
  readonly platforms = new Loader<IPlatforms>();
  readonly layers = new Loader<ILayers>();
  readonly checks = new Loader<IValidation>();
  readonly vulnerabilities = new Loader<IVulnerabilities>();
  readonly history = new Loader<IHistory>();
  readonly updates = new Loader<IUpdates>();
  readonly diff = new Loader<IDiff>();

  /** Emitted on any change (a read, a filter, the platform). */
  get stateChanged(): ISignal<this, void> {
    return this._stateChanged;
  }

  /** The runtime image's name, or `null` for a view of a reference. */
  get name(): string | null {
    return 'name' in this.target ? this.target.name : null;
  }

  /** The image reference: the runtime image's, else the one inspected. */
  get reference(): string | null {
    if ('image' in this.target) {
      return this.target.image;
    }
    return this._reference() ?? this.inspection.data?.image?.reference ?? null;
  }

  /** The platform chosen (`null`: the server's default). */
  get platform(): string | null {
    return this._platform;
  }

  /** Read the image of another platform (every platform-bound read again). */
  setPlatform(platform: string | null): void {
    if (platform === this._platform) {
      return;
    }
    this._platform = platform;
    for (const loader of [
      this.inspection,
      this.layers,
      this.checks,
      this.vulnerabilities
    ]) {
      loader.reset();
    }
    this.show(this._tab);
  }

  /** The tab shown. */
  get tab(): DetailsTab {
    return this._tab;
  }

  /** Show `tab`: start the reads it needs that have not run yet. */
  show(tab: DetailsTab): void {
    if (tab !== this._tab) {
      this._tab = tab;
      this._emit();
    }
    for (const [loader, read] of this.reads(tab)) {
      void loader.ensure(read);
    }
  }

  /** Read everything the shown tab shows again. */
  reloadTab(): void {
    if (this._tab === 'compare') {
      this.reload(this.diff);
      return;
    }
    for (const [loader] of this.reads(this._tab)) {
      loader.reset();
    }
    if (this._tab === 'overview' && this.platforms.status !== 'idle') {
      this.reload(this.platforms);
    }
    this.show(this._tab);
  }

  /** Read `loader` again (e.g. after a failure or a cancel). */
  reload(loader: Loader<unknown>): void {
    loader.reset();
    if (loader === this.platforms) {
      this.listPlatforms();
    } else if (loader === this.diff) {
      if (this._compareWith) {
        this.compare(this._compareWith, this._compareFrom ?? undefined);
      }
    } else {
      this.show(this._tab);
    }
  }

  /** List the platforms of the index (digest, size, checks of each). */
  listPlatforms(): void {
    void this.platforms.load(signal => this.api.platforms(this.target, signal));
  }

  /** The platforms the image offers, as far as known (the index's, else the one read). */
  get platformChoices(): string[] {
    const listed = this.platforms.data?.platforms?.map(p => p.platform) ?? [];
    if (listed.length > 0) {
      return listed;
    }
    const image = this.inspection.data?.image;
    if (image?.platforms && image.platforms.length > 0) {
      return image.platforms;
    }
    return image?.platform ? [image.platform] : [];
  }

  /* Packages */

  get packageFilter(): IPackageFilter {
    return this._packageFilter;
  }

  setPackageFilter(change: Partial<IPackageFilter>): void {
    this._packageFilter = { ...this._packageFilter, ...change };
    this._emit();
  }

  /** Every package of the inspection, sorted (computed once per inspection). */
  get packages(): ReadonlyArray<IPackage> {
    const data = this.inspection.data;
    if (this._sortedFor !== data) {
      this._sortedFor = data;
      this._sorted = sortPackages(data?.packages ?? []);
      this._texts = new Map(this._sorted.map(p => [p, packageText(p)]));
    }
    return this._sorted;
  }

  /** The packages that pass the filter (computed once per filter change). */
  get filteredPackages(): ReadonlyArray<IPackage> {
    const packages = this.packages;
    if (
      this._filteredFor.packages !== packages ||
      this._filteredFor.filter !== this._packageFilter
    ) {
      this._filteredFor = { packages, filter: this._packageFilter };
      this._filtered = filterPackages(
        packages,
        this._packageFilter,
        pkg => this._texts.get(pkg) ?? packageText(pkg)
      );
    }
    return this._filtered;
  }

  /* Checks */

  /** The profiles checked: those chosen, else those the server checked by default. */
  get profiles(): ReadonlyArray<string> {
    return this._profiles.length > 0
      ? this._profiles
      : (this.checks.data?.profiles ?? []);
  }

  /** Check other profiles (runs the checks again). */
  setProfiles(profiles: string[]): void {
    this._profiles = profiles;
    void this.checks.load(signal => this.validate(signal));
  }

  /* Vulnerabilities */

  get findingFilter(): IFindingFilter {
    return this._findingFilter;
  }

  setFindingFilter(change: Partial<IFindingFilter>): void {
    this._findingFilter = { ...this._findingFilter, ...change };
    this._emit();
  }

  get findingSort(): IFindingSort {
    return this._findingSort;
  }

  /** Sort by `key`; again by the same key reverses the order. */
  sortFindingsBy(key: FindingSortKey): void {
    this._findingSort =
      this._findingSort.key === key
        ? { key, descending: !this._findingSort.descending }
        : { key, descending: key === 'severity' };
    this._emit();
  }

  /** The findings that pass the filter, in the chosen order. */
  get findings(): IFinding[] {
    return sortFindings(
      filterFindings(
        this.vulnerabilities.data?.findings ?? [],
        this._findingFilter
      ),
      this._findingSort
    );
  }

  /* History and updates */

  /** The update the last watch found for this runtime image, if any. */
  get update(): IUpdate | null {
    const name = this.name;
    return (
      this.updates.data?.updates?.find(
        u => u.name === name && (u.kind ?? 'runtime-image') === 'runtime-image'
      ) ?? null
    );
  }

  /** Read the history and the updates again (after a re-pin). */
  refreshHistory(): void {
    this.history.reset();
    this.updates.reset();
    this.inspection.reset();
    this.show(this._tab);
  }

  /* Compare */

  /** The reference compared with, if any. */
  get compareWith(): string | null {
    return this._compareWith;
  }

  /** Compare this image (A) with `other` (B, a reference). */
  compare(other: string, own?: string): void {
    const a = own ?? this.reference;
    this._compareWith = other;
    this._compareFrom = a;
    if (!a) {
      this._emit();
      return;
    }
    void this.diff.load(signal => this.api.diff(a, other, signal));
  }

  /** The reference compared from (A), once a comparison ran. */
  get compareFrom(): string | null {
    return this._compareFrom;
  }

  /** Abort every read. */
  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    for (const loader of this.loaders) {
      loader.cancel();
    }
    Signal.clearData(this);
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  private validate(signal: AbortSignal): Promise<IValidation> {
    return this.api.validate(
      this.target,
      {
        profiles: this._profiles.length > 0 ? [...this._profiles] : undefined,
        platform: this._platform ?? undefined
      },
      signal
    );
  }

  /**
   * The reads `tab` shows, each a loader and how it reads (the Compare tab's
   * read starts from its form, the platforms' from "List platforms").
   */
  private reads(
    tab: DetailsTab
  ): [Loader<unknown>, (signal: AbortSignal) => Promise<unknown>][] {
    const platform = this._platform ?? undefined;
    switch (tab) {
      case 'overview':
      case 'packages':
        return [
          [
            this.inspection,
            signal => this.api.inspect(this.target, platform, signal)
          ]
        ];
      case 'layers':
        return [
          [
            this.layers,
            signal => this.api.layers(this.target, platform, signal)
          ]
        ];
      case 'checks':
        return [[this.checks, signal => this.validate(signal)]];
      case 'vulnerabilities':
        return [
          [
            this.vulnerabilities,
            signal => this.api.vulnerabilities(this.target, platform, signal)
          ]
        ];
      case 'history': {
        const name = this.name;
        return name === null
          ? []
          : [
              [this.history, signal => this.api.history(name, signal)],
              [this.updates, signal => this.api.updates(signal)]
            ];
      }
      case 'compare':
        return [];
    }
  }

  private get loaders(): Loader<unknown>[] {
    return [
      this.inspection,
      this.platforms,
      this.layers,
      this.checks,
      this.vulnerabilities,
      this.history,
      this.updates,
      this.diff
    ];
  }

  private _emit(): void {
    if (!this._disposed) {
      this._stateChanged.emit();
    }
  }

  private readonly _reference: () => string | null;
  private readonly _stateChanged = new Signal<this, void>(this);
  private _platform: string | null = null;
  private _tab: DetailsTab = 'overview';
  private _packageFilter: IPackageFilter = {
    text: '',
    ecosystem: '',
    environment: ''
  };
  private _sortedFor: IInspection | null | undefined = undefined;
  private _sorted: IPackage[] = [];
  private _texts = new Map<IPackage, string>();
  private _filteredFor: {
    packages: ReadonlyArray<IPackage> | null;
    filter: IPackageFilter | null;
  } = { packages: null, filter: null };
  private _filtered: ReadonlyArray<IPackage> = [];
  private _profiles: string[] = [];
  private _findingFilter: IFindingFilter = {
    text: '',
    levels: new Set(),
    fixable: false
  };
  private _findingSort: IFindingSort = { key: 'severity', descending: true };
  private _compareWith: string | null = null;
  private _compareFrom: string | null = null;
  private _disposed = false;
}

export namespace DetailsModel {
  export interface IOptions {
    api: DetailsAPI;
    target: DetailsTarget;
    /** The runtime image's reference now (it may change, e.g. after a re-pin). */
    reference?: () => string | null;
  }
}
