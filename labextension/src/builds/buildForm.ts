import type { TranslationBundle } from '@jupyterlab/translation';
import { invalidReferenceMessage } from '../imageref';
import type { IFieldError } from '../request';
import { FormErrors, groupErrorsBy } from '../ui/forms';
import { checkReference, fieldOfError, newResource } from './resource';
import { Annotations, ICustomNBImage } from './types';

/** How the "Build image" dialog builds: packages on an image, or a git repository. */
export type BuildMode = 'packages' | 'git';

/** What the "Build image" dialog collects (text as typed). */
export interface IBuildForm {
  mode: BuildMode;
  /** The base image: required with packages, optional with a git repository. */
  fromImage: string;
  /** Requirements, one per line (`#` comments and blank lines are ignored). */
  packages: string;
  repositoryUrl: string;
  gitRef: string;
  displayName: string;
  description: string;
  creator: string;
  /** Build again when the base image's tag moves. */
  rebuildOnBaseUpdate?: boolean;
  /**
   * The platforms of a PackageList build (one image index); none: the
   * server's default platform.
   */
  platforms?: string[];
}

export type BuildField =
  | 'fromImage'
  | 'packages'
  | 'repositoryUrl'
  | 'gitRef'
  | 'displayName'
  | 'description'
  | 'creator'
  | 'platforms'
  | 'form';

/** The requirements of the packages field: one per line, without comments. */
export function packageLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map(line => line.replace(/(^|\s)#.*$/, '').trim())
    .filter(line => line !== '');
}

/**
 * What is wrong with the base image, the packages or the repository of a build
 * (the name, description and creator are checked by `identityErrors`).
 *
 * @param pattern the image reference grammar (the runtime-image schema's)
 */
export function buildFormErrors(
  form: IBuildForm,
  pattern: string,
  trans: TranslationBundle
): FormErrors<BuildField> {
  const errors: FormErrors<BuildField> = {};
  const git = form.mode === 'git';
  const base = form.fromImage.trim();
  if (!git && !base) {
    errors.fromImage = [trans.__('A base image is required.')];
  } else if (base && !checkReference(base, pattern).valid) {
    errors.fromImage = [invalidReferenceMessage(trans)];
  }
  if (!git && packageLines(form.packages).length === 0) {
    errors.packages = [trans.__('At least one package is required.')];
  }
  if (git && !form.repositoryUrl.trim()) {
    errors.repositoryUrl = [trans.__('A repository URL is required.')];
  }
  return errors;
}

/**
 * The CustomNBImage the "Build image" dialog submits: buildType PackageList
 * (`builderImage` + `packageVersions`) or GitRepository (`repositoryUrl`, optional
 * `gitRef` and `builderImage`), with the same name and annotations as an import.
 */
export function buildResource(form: IBuildForm): ICustomNBImage {
  const resource = newResource(form, {
    buildType: form.mode === 'git' ? 'GitRepository' : 'PackageList'
  });
  const base = form.fromImage.trim();
  if (form.mode === 'git') {
    resource.spec.repositoryUrl = form.repositoryUrl.trim();
    if (form.gitRef.trim()) {
      resource.spec.gitRef = form.gitRef.trim();
    }
    if (base) {
      resource.spec.builderImage = base;
    }
  } else {
    resource.spec.builderImage = base;
    resource.spec.packageVersions = packageLines(form.packages);
    const platforms = form.platforms ?? [];
    if (platforms.length > 0) {
      resource.metadata.annotations![Annotations.platforms] =
        platforms.join(',');
    }
  }
  if (form.rebuildOnBaseUpdate) {
    resource.metadata.annotations![Annotations.rebuildOnBaseUpdate] = 'true';
  }
  return resource;
}

/** Which dialog field a server error (`spec.packageVersions.0`, …) belongs to. */
export function buildFieldOf(path: string): BuildField {
  const p = (path ?? '').replace(/^[#/]+/, '');
  if (
    /^spec[./](builderImage|baseImage|fromImage|runtimeEnvironment)/.test(p)
  ) {
    return 'fromImage';
  }
  if (/^spec[./]packageVersions/.test(p)) {
    return 'packages';
  }
  if (/^spec[./](repositoryUrl|repository)\b/.test(p)) {
    return 'repositoryUrl';
  }
  if (/^spec[./]gitRef/.test(p)) {
    return 'gitRef';
  }
  if (p.includes(Annotations.platforms)) {
    return 'platforms';
  }
  const field = fieldOfError(p);
  return field === 'image' || field === 'profiles' ? 'form' : field;
}

/** Group server field errors by dialog field. */
export function groupBuildErrors(
  errors: ReadonlyArray<IFieldError>
): Partial<Record<BuildField, string[]>> {
  return groupErrorsBy(errors, buildFieldOf);
}
