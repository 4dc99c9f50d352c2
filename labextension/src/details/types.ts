/**
 * The documents of the routes the Details view reads (see docs/details.md and the
 * OpenAPI description): inspection, layers, checks, vulnerabilities, history,
 * updates and diffs. Keys are the servers' (snake_case where the contract says so).
 */

/** What a view is about: a runtime image (by name) or an image reference. */
export type DetailsTarget = { name: string } | { image: string };

/** The image an answer describes. */
export interface IImageIdentity {
  reference: string;
  /** The manifest digest. */
  digest: string;
  platform: string;
  /** Only this machine can use it (not in a registry others reach). */
  local?: boolean;
  /**
   * The platforms of the index the reference names, when it names an index (a key
   * added by the exports branch; absent for a single-platform image).
   */
  platforms?: string[];
}

export type Ecosystem = 'deb' | 'rpm' | 'apk' | 'conda' | 'pypi' | string;

/** One installed package, with where it came from. */
export interface IPackage {
  ecosystem: Ecosystem;
  name: string;
  version: string;
  architecture?: string | null;
  source?: string | null;
  licenses?: string[];
  /** The layer that last wrote it. */
  layer?: number | null;
  installed_size?: number | null;
  purl?: string | null;
  /** The environment it belongs to (a path: `/`, a venv, a conda env). */
  environment?: string;
  database?: string;
}

export interface IEnvironment {
  path: string;
  kind: 'os' | 'python' | 'venv' | 'conda' | string;
  python: string | null;
}

export interface IPackageDatabase {
  path: string;
  format: string;
  read: boolean;
  reason: string | null;
}

export interface ISizes {
  compressed: number;
  uncompressed: number;
}

export interface IAccelerator {
  name: string;
  version: string | null;
  evidence?: string;
}

/** `GET inspect`: the report of `inspect --json`. */
export interface IInspection {
  image: IImageIdentity;
  os?: { id: string; version_id: string; pretty_name: string } | null;
  python?: { path: string; real_path?: string; version: string | null } | null;
  pythons?: { path: string; version: string | null }[];
  layers?: number;
  compressed_size?: number;
  packages?: IPackage[];
  environments?: IEnvironment[];
  databases?: IPackageDatabase[];
  size?: ISizes;
  accelerators?: IAccelerator[];
  config?: Record<string, unknown>;
  [key: string]: unknown;
}

/** `GET inspect?platform=all`: one entry per platform of an index. */
export interface IPlatformSummary {
  platform: string;
  digest: string;
  size?: ISizes | number | null;
  checks?: ICheck[];
}

export interface IPlatforms {
  platforms: IPlatformSummary[];
}

export interface IPathSize {
  path: string;
  size: number;
}

export interface ILayer {
  index: number;
  digest: string;
  compressed_size: number;
  uncompressed_size: number;
  created_by?: string | null;
  added?: number;
  changed?: number;
  removed?: number;
  /** Bytes of files a later layer overwrote or deleted (once per path). */
  wasted_bytes: number;
  largest_files?: IPathSize[];
  largest_dirs?: IPathSize[];
}

/** `GET layers`. */
export interface ILayers {
  image: IImageIdentity;
  layers: ILayer[];
  total: { compressed: number; uncompressed: number; wasted_bytes: number };
}

/** The result of one requirement check. */
export interface ICheck {
  profile?: string;
  id?: string;
  result: 'pass' | 'warn' | 'fail' | string;
  message?: string;
}

/** `POST validate`. */
export interface IValidation {
  ok: boolean;
  profiles: string[];
  checks: ICheck[];
  report?: Record<string, unknown>;
}

export type SeverityLevel = 'critical' | 'high' | 'medium' | 'low' | 'unknown';

export const SEVERITY_LEVELS: SeverityLevel[] = [
  'critical',
  'high',
  'medium',
  'low',
  'unknown'
];

export interface IFinding {
  id: string;
  aliases?: string[];
  summary?: string;
  url?: string | null;
  package: string;
  ecosystem: string;
  environment?: string;
  installed_version: string;
  fixed_version: string | null;
  severity: { level: SeverityLevel | string; score: number | null };
  layer?: number | null;
  matched_as?: string | null;
}

/** `GET vulns`. */
export interface IVulnerabilities {
  image: IImageIdentity;
  database: { path: string; version: string; records: number };
  counts: Record<SeverityLevel, number>;
  findings: IFinding[];
}

export type HistoryReason =
  'created' | 'pinned' | 'repinned' | 'rebuilt' | 'published' | string;

export interface IHistoryEntry {
  digest: string;
  reference: string;
  at: string;
  reason: HistoryReason;
}

/** `GET images/{name}/history`. */
export interface IHistory {
  history: IHistoryEntry[];
}

/** `GET updates` and `POST images/{name}/repin` (shared with the Updates feature). */
export type { IRepinResult, IUpdate, IUpdates } from '../tokens';

export interface IChangedPackage {
  ecosystem: string;
  environment?: string;
  name: string;
  a: string;
  b: string;
}

/** `GET diff`. */
export interface IDiff {
  a: IImageIdentity;
  b: IImageIdentity;
  packages: {
    added: IPackage[];
    removed: IPackage[];
    changed: IChangedPackage[];
  };
  config: { field: string; a: unknown; b: unknown }[];
  size: {
    a: ISizes;
    b: ISizes;
    layers: {
      digest: string;
      a: boolean | number | null;
      b: boolean | number | null;
      size: number;
      shared: boolean;
    }[];
  };
  checks: { profile: string; a: ICheck[]; b: ICheck[] }[];
  vulnerabilities?: { fixed: IFinding[]; introduced: IFinding[] };
}

export type SbomFormat = 'cyclonedx-json' | 'spdx-json';
