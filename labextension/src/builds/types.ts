/**
 * CustomNBImage resources (meteor.zone/v1alpha1) as the server's `builds` routes
 * return them, and the build events of the server's event bus.
 */

/** The `$id` of the build event schema (schemas/events/build.yaml). */
export const BUILD_EVENT_SCHEMA_ID =
  'https://events.jupyter.org/runtime_images/build';

export const API_VERSION = 'meteor.zone/v1alpha1';
export const KIND = 'CustomNBImage';

/** The annotations the seed's CRD requires. */
export namespace Annotations {
  export const name = 'opendatahub.io/notebook-image-name';
  export const description = 'opendatahub.io/notebook-image-desc';
  export const creator = 'opendatahub.io/notebook-image-creator';
  /** `"true"`: build again when the base image's tag moves (issue 18). */
  export const rebuildOnBaseUpdate =
    'runtime-images.jupyter.org/rebuild-on-base-update';
  /** Comma-separated platforms of a multi-platform PackageList build (issue 19). */
  export const platforms = 'runtime-images.jupyter.org/platforms';
}

/** The platforms the Build image dialog offers for a PackageList build. */
export const BUILD_PLATFORMS = ['linux/amd64', 'linux/arm64'] as const;

/** Requirement profiles an import can check (shared with the Details view). */
export { DEFAULT_PROFILES, PROFILES, type Profile } from '../profiles';

export type BuildPhase = 'Pending' | 'Building' | 'Ready' | 'Failed';
export type BuildType = 'ImageImport' | 'PackageList' | 'GitRepository';

/** One step of a build (`Unknown` while it runs). */
export interface ICondition {
  type: string;
  status: 'True' | 'False' | 'Unknown' | string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

/** Bytes and steps done and in total. */
export interface IProgress {
  bytesDone?: number;
  bytesTotal?: number;
  stepsDone?: number;
  stepsTotal?: number;
}

/** The result of one requirement check. */
export interface ICheck {
  profile?: string;
  id?: string;
  result: 'pass' | 'warn' | 'fail' | string;
  message?: string;
}

/** A package found in the image. */
export interface IPackage {
  name: string;
  version?: string;
}

export interface IBuildStatus {
  phase?: BuildPhase | string;
  engine?: string;
  conditions?: ICondition[];
  progress?: IProgress;
  image?: string;
  runtimeImage?: string;
  checks?: ICheck[];
  software?: IPackage[];
  pythonDependencies?: IPackage[];
  /** Accelerator stacks found in the image (issue 19): CUDA, ROCm, … */
  accelerators?: { name: string; version?: string; evidence?: string }[];
  /** Tags to offer for its runtime image (`gpu` with an accelerator). */
  suggestedTags?: string[];
  /** Each platform's image of a multi-platform build (issue 19), in the index. */
  platforms?: { platform: string; digest: string; lock?: string[] }[];
  /** A run caused by its base image moving (issue 18), and how it ended. */
  rebuild?: {
    reason?: string;
    base?: string;
    requestedAt?: string;
    result?: string;
  };
  /** What the last Ready run made: it stays while a rebuild runs or after it failed. */
  lastGood?: { image?: string; runtimeImage?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface IBuildSpec {
  buildType: BuildType | string;
  fromImage?: string;
  profiles?: string[];
  imagePullSecret?: { name: string };
  [key: string]: unknown;
}

/** A CustomNBImage resource. */
export interface ICustomNBImage {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
    generation?: number;
    [key: string]: unknown;
  };
  spec: IBuildSpec;
  status?: IBuildStatus;
}

/** The payload of a build event (with the `schema_id` the event bus adds). */
export interface IBuildEvent {
  name: string;
  phase: BuildPhase | 'Deleted' | string;
  reason?: string;
  message?: string;
  engine?: string;
  progress?: IProgress;
}
