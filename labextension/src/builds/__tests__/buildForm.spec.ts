/**
 * The "Build image" dialog's resource: PackageList and GitRepository CustomNBImages,
 * and where server field errors go.
 */
import {
  buildFieldOf,
  buildResource,
  groupBuildErrors,
  IBuildForm,
  packageLines
} from '../buildForm';
import { rebuildState } from '../resource';

const form: IBuildForm = {
  mode: 'packages',
  fromImage: ' quay.io/org/base:1 ',
  packages: 'six==1.16.0\n\n# a comment\nidna==3.7  # pinned\n',
  repositoryUrl: '',
  gitRef: '',
  displayName: 'My Build',
  description: ' d ',
  creator: 'me'
};

const metadata = {
  name: 'my-build',
  annotations: {
    'opendatahub.io/notebook-image-name': 'My Build',
    'opendatahub.io/notebook-image-desc': 'd',
    'opendatahub.io/notebook-image-creator': 'me'
  }
};

describe('buildResource', () => {
  it('makes a PackageList with builderImage and the package lines', () => {
    expect(buildResource(form)).toEqual({
      apiVersion: 'meteor.zone/v1alpha1',
      kind: 'CustomNBImage',
      metadata,
      spec: {
        buildType: 'PackageList',
        builderImage: 'quay.io/org/base:1',
        packageVersions: ['six==1.16.0', 'idna==3.7']
      }
    });
  });

  it('makes a GitRepository with the URL, the ref and an optional base', () => {
    const git = {
      ...form,
      mode: 'git' as const,
      repositoryUrl: ' file:///tmp/repo ',
      gitRef: 'main'
    };
    expect(buildResource(git).spec).toEqual({
      buildType: 'GitRepository',
      repositoryUrl: 'file:///tmp/repo',
      gitRef: 'main',
      builderImage: 'quay.io/org/base:1'
    });
    expect(buildResource({ ...git, fromImage: '', gitRef: '' }).spec).toEqual({
      buildType: 'GitRepository',
      repositoryUrl: 'file:///tmp/repo'
    });
  });
});

describe('packageLines', () => {
  it('drops blank lines and comments', () => {
    expect(packageLines(' a \r\n#x\n\nb>=1 # c')).toEqual(['a', 'b>=1']);
  });
});

describe('build field errors', () => {
  it('maps spec paths to the fields and the rest like an import', () => {
    expect(buildFieldOf('spec.builderImage')).toBe('fromImage');
    expect(buildFieldOf('spec.packageVersions.1')).toBe('packages');
    expect(buildFieldOf('spec.repositoryUrl')).toBe('repositoryUrl');
    expect(buildFieldOf('spec.gitRef')).toBe('gitRef');
    expect(buildFieldOf('metadata.name')).toBe('displayName');
    expect(
      buildFieldOf('metadata.annotations.opendatahub.io/notebook-image-creator')
    ).toBe('creator');
    expect(buildFieldOf('spec.profiles')).toBe('form');
    expect(
      groupBuildErrors([
        { path: 'spec.gitRef', message: 'bad ref' },
        { path: 'spec.other', message: 'unknown' }
      ])
    ).toEqual({ gitRef: ['bad ref'], form: ['spec.other: unknown'] });
  });
});

describe('the options of issues 18 and 19', () => {
  it('sets the platforms of a PackageList build and the rebuild annotation', () => {
    const resource = buildResource({
      ...form,
      platforms: ['linux/amd64', 'linux/arm64'],
      rebuildOnBaseUpdate: true
    });
    expect(resource.metadata.annotations).toEqual({
      ...metadata.annotations,
      'runtime-images.jupyter.org/platforms': 'linux/amd64,linux/arm64',
      'runtime-images.jupyter.org/rebuild-on-base-update': 'true'
    });
  });

  it('sets no platforms on a git build, and no annotation unasked', () => {
    const git = buildResource({
      ...form,
      mode: 'git',
      repositoryUrl: 'file:///r',
      platforms: ['linux/arm64'],
      rebuildOnBaseUpdate: true
    });
    expect(
      git.metadata.annotations?.['runtime-images.jupyter.org/platforms']
    ).toBeUndefined();
    expect(
      git.metadata.annotations?.[
        'runtime-images.jupyter.org/rebuild-on-base-update'
      ]
    ).toBe('true');
    expect(buildResource({ ...form, platforms: [] }).metadata).toEqual(
      metadata
    );
  });

  it('puts a server error about the platforms at that field', () => {
    expect(
      buildFieldOf(
        "metadata.annotations['runtime-images.jupyter.org/platforms']"
      )
    ).toBe('platforms');
  });
});

describe('rebuildState', () => {
  const built = (status: any) => ({
    ...buildResource(form),
    status
  });

  it('tells a rebuild that runs or failed, and the image kept', () => {
    const rebuild = { reason: 'BaseUpdated', base: 'q/b:1@sha256:2' };
    const lastGood = { image: 'localhost/x:1@sha256:1' };
    expect(rebuildState(built({ rebuild, lastGood }), 'Building')).toEqual({
      state: 'running',
      base: 'q/b:1@sha256:2',
      kept: 'localhost/x:1@sha256:1'
    });
    expect(
      rebuildState(
        built({ rebuild: { ...rebuild, result: 'Failed' }, lastGood }),
        'Failed'
      )
    ).toEqual({
      state: 'failed',
      base: 'q/b:1@sha256:2',
      kept: 'localhost/x:1@sha256:1'
    });
    expect(rebuildState(built({ rebuild, lastGood }), 'Ready')).toBeNull();
    expect(rebuildState(built({}), 'Failed')).toBeNull();
  });
});
