/**
 * Builds: the REST client (endpoints, verbs, bodies), the resource helpers (names,
 * references, field errors, latest condition, progress) and the live model
 * (events patch builds, fetches are coalesced, Deleted removes, no stale overwrite).
 */
// First: replaces the REST boundary for the imports below.
import {
  mockedRequestAPI as mocked,
  response,
  SETTINGS
} from '../../__tests__/support';

import { BuildsAPI } from '../api';
import { BuildsModel, sortBuilds } from '../model';
import {
  checkReference,
  fieldOfError,
  formatBytes,
  groupFieldErrors,
  imageNamePattern,
  IMAGE_REFERENCE_PATTERN,
  importResource,
  latestCondition,
  progressFraction,
  RESOURCE_NAME_PATTERN,
  toResourceName
} from '../resource';
import { BUILD_EVENT_SCHEMA_ID, ICustomNBImage } from '../types';
import { APIError } from '../../request';

function resource(
  name: string,
  status: ICustomNBImage['status'] = { phase: 'Pending', engine: 'embedded' },
  created = '2026-01-01T00:00:00Z'
): ICustomNBImage {
  return {
    apiVersion: 'meteor.zone/v1alpha1',
    kind: 'CustomNBImage',
    metadata: {
      name,
      creationTimestamp: created,
      annotations: {
        'opendatahub.io/notebook-image-name': name.toUpperCase(),
        'opendatahub.io/notebook-image-desc': 'd',
        'opendatahub.io/notebook-image-creator': 'me'
      }
    },
    spec: { buildType: 'ImageImport', fromImage: 'quay.io/a/b:1' },
    status
  };
}

function event(data: Record<string, unknown>): any {
  return { schema_id: BUILD_EVENT_SCHEMA_ID, ...data };
}

const flush = () => new Promise(resolve => setTimeout(resolve, 0));

describe('BuildsAPI', () => {
  const api = new BuildsAPI({ serverSettings: SETTINGS });

  it('lists the builds', async () => {
    mocked.mockResolvedValue(response({ builds: [resource('a')] }));
    expect((await api.list()).map(b => b.metadata.name)).toEqual(['a']);
    expect(mocked).toHaveBeenCalledWith('builds', { method: 'GET' }, SETTINGS);
  });

  it('lists nothing when the answer has no builds', async () => {
    mocked.mockResolvedValue(response({}));
    expect(await api.list()).toEqual([]);
  });

  it('posts a resource as JSON', async () => {
    const body = resource('x');
    mocked.mockResolvedValue(response(body, { status: 201 }));
    expect(await api.create(body)).toEqual(body);
    expect(mocked).toHaveBeenCalledWith(
      'builds',
      { method: 'POST', body: JSON.stringify(body) },
      SETTINGS
    );
  });

  it('gets, deletes, cancels and retries by (escaped) name', async () => {
    mocked.mockResolvedValue(response(resource('a b')));
    await api.get('a b');
    await api.cancel('a b');
    await api.retry('a b');
    await api.remove('a b');
    expect(mocked.mock.calls.map(c => [c[0], c[1]?.method])).toEqual([
      ['builds/a%20b', 'GET'],
      ['builds/a%20b/cancel', 'POST'],
      ['builds/a%20b/retry', 'POST'],
      ['builds/a%20b', 'DELETE']
    ]);
  });

  it('reads the log as text', async () => {
    mocked.mockResolvedValueOnce(response('line 1\n'));
    expect(await api.log('a')).toBe('line 1\n');
    expect(mocked).toHaveBeenCalledWith(
      'builds/a/log',
      { method: 'GET' },
      SETTINGS
    );
    mocked.mockResolvedValueOnce(response(null));
    expect(await api.log('a')).toBe('');
    mocked.mockResolvedValueOnce(response(42 as any));
    expect(await api.log('a')).toBe('42');
  });
});

describe('resource helpers', () => {
  it('derives DNS-1123 labels from display names', () => {
    expect(toResourceName('My Image')).toBe('my-image');
    expect(toResourceName('  Élyra — Py 3.11!  ')).toBe('elyra-py-3-11');
    expect(toResourceName('3D tools')).toBe('image-3d-tools');
    expect(toResourceName('!!!')).toBe('');
    const long = toResourceName('a'.repeat(50) + ' ' + 'b'.repeat(50));
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(RESOURCE_NAME_PATTERN);
    expect(toResourceName('a'.repeat(62) + ' b')).toBe('a'.repeat(62));
  });

  it('checks references with the schema grammar and flags unpinned ones', () => {
    expect(checkReference('')).toEqual({ valid: false, unpinned: false });
    expect(checkReference('Not Valid!').valid).toBe(false);
    expect(checkReference('quay.io/a/b')).toEqual({
      valid: true,
      unpinned: true
    });
    expect(checkReference('quay.io/a/b:latest').unpinned).toBe(true);
    expect(checkReference('quay.io/a/b:1.0').unpinned).toBe(false);
    expect(checkReference('localhost:5000/a/b:1').valid).toBe(true);
    expect(checkReference('quay.io/a/b@sha256:' + 'a'.repeat(64))).toEqual({
      valid: true,
      unpinned: false
    });
    expect(
      checkReference('quay.io/a/b:latest@sha256:' + 'a'.repeat(64)).unpinned
    ).toBe(false);
    // Upper case in the repository is not allowed by the grammar.
    expect(checkReference('quay.io/A/b:1').valid).toBe(false);
  });

  it('uses the pattern of the served schema', () => {
    const schema = {
      properties: {
        metadata: { properties: { image_name: { pattern: '^x$' } } }
      }
    };
    expect(imageNamePattern(schema)).toBe('^x$');
    expect(imageNamePattern(null)).toBe(IMAGE_REFERENCE_PATTERN);
    expect(checkReference('x', '^x$').valid).toBe(true);
    expect(checkReference('quay.io/a/b:1', '^x$').valid).toBe(false);
  });

  it('builds the CustomNBImage of an import', () => {
    expect(
      importResource({
        image: ' quay.io/a/b:1 ',
        displayName: 'My Image',
        description: 'desc',
        creator: 'me',
        profiles: ['elyra', 'kubeflow']
      })
    ).toEqual({
      apiVersion: 'meteor.zone/v1alpha1',
      kind: 'CustomNBImage',
      metadata: {
        name: 'my-image',
        annotations: {
          'opendatahub.io/notebook-image-name': 'My Image',
          'opendatahub.io/notebook-image-desc': 'desc',
          'opendatahub.io/notebook-image-creator': 'me'
        }
      },
      spec: {
        buildType: 'ImageImport',
        fromImage: 'quay.io/a/b:1',
        profiles: ['elyra', 'kubeflow']
      }
    });
    const noProfiles = importResource({
      image: 'a',
      displayName: 'A',
      description: 'd',
      creator: 'c',
      profiles: []
    });
    expect('profiles' in noProfiles.spec).toBe(false);
  });

  it('maps server error paths to the dialog fields', () => {
    expect(fieldOfError('spec.fromImage')).toBe('image');
    expect(fieldOfError('/spec/fromImage')).toBe('image');
    expect(fieldOfError('spec.profiles.0')).toBe('profiles');
    expect(fieldOfError('metadata.name')).toBe('displayName');
    expect(
      fieldOfError('metadata.annotations.opendatahub.io/notebook-image-name')
    ).toBe('displayName');
    expect(
      fieldOfError('metadata.annotations.opendatahub.io/notebook-image-desc')
    ).toBe('description');
    expect(
      fieldOfError('metadata.annotations.opendatahub.io/notebook-image-creator')
    ).toBe('creator');
    expect(fieldOfError('spec.gitRef')).toBe('form');
    expect(
      groupFieldErrors([
        { path: 'spec.fromImage', message: 'bad digest' },
        { path: 'spec.gitRef', message: 'nope' },
        { path: '', message: 'whole' }
      ])
    ).toEqual({
      image: ['bad digest'],
      form: ['spec.gitRef: nope', 'whole']
    });
  });

  it('takes the LATEST condition (the last one), not the first', () => {
    const build = resource('a', {
      phase: 'Failed',
      conditions: [
        { type: 'Importing', status: 'True', message: 'first' },
        { type: 'Validating', status: 'False', message: 'last' }
      ]
    });
    expect(latestCondition(build)?.message).toBe('last');
    expect(latestCondition(resource('b'))).toBeUndefined();
  });

  it('computes progress from bytes, else steps', () => {
    expect(progressFraction(undefined)).toBeNull();
    expect(progressFraction({ bytesDone: 50, bytesTotal: 200 })).toBe(0.25);
    expect(progressFraction({ bytesDone: 500, bytesTotal: 200 })).toBe(1);
    expect(progressFraction({ stepsDone: 1, stepsTotal: 4 })).toBe(0.25);
    expect(progressFraction({ bytesDone: 0, bytesTotal: 0 })).toBeNull();
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1500)).toBe('1.5 kB');
    expect(formatBytes(25_000_000)).toBe('25 MB');
  });

  it('sorts builds newest first', () => {
    const sorted = sortBuilds([
      resource('old', undefined, '2026-01-01T00:00:00Z'),
      resource('new', undefined, '2026-02-01T00:00:00Z'),
      resource('b', undefined, '2026-01-15T00:00:00Z'),
      resource('a', undefined, '2026-01-15T00:00:00Z')
    ]);
    expect(sorted.map(b => b.metadata.name)).toEqual(['new', 'a', 'b', 'old']);
  });
});

describe('BuildsModel', () => {
  let api: {
    list: jest.Mock;
    get: jest.Mock;
    create: jest.Mock;
    remove: jest.Mock;
    cancel: jest.Mock;
    retry: jest.Mock;
    log: jest.Mock;
  };
  let model: BuildsModel;

  beforeEach(() => {
    jest.useRealTimers();
    api = {
      list: jest.fn().mockResolvedValue([]),
      get: jest.fn(),
      create: jest.fn(),
      remove: jest.fn().mockResolvedValue(undefined),
      cancel: jest.fn(),
      retry: jest.fn(),
      log: jest.fn().mockResolvedValue('log')
    };
    model = new BuildsModel({
      api: api as any,
      fetchDelay: 0,
      pollInterval: 0
    });
  });

  afterEach(() => model.dispose());

  it('lists builds and shows the latest condition', async () => {
    api.list.mockResolvedValue([
      resource('a', {
        phase: 'Building',
        engine: 'embedded',
        conditions: [
          {
            type: 'Importing',
            status: 'True',
            reason: 'Resolved',
            message: 'm1'
          },
          {
            type: 'Validating',
            status: 'Unknown',
            reason: 'InProgress',
            message: 'm2'
          }
        ],
        progress: { bytesDone: 1, bytesTotal: 2 }
      })
    ]);
    await model.refresh();
    expect(model.loaded).toBe(true);
    const summary = model.summary(model.get('a')!);
    expect(summary).toEqual({
      phase: 'Building',
      reason: 'InProgress',
      message: 'm2',
      engine: 'embedded',
      progress: { bytesDone: 1, bytesTotal: 2 }
    });
  });

  it('ignores events of other schemas', () => {
    expect(model.handleEvent({ schema_id: 'other', name: 'a' })).toBe(false);
    expect(model.builds).toHaveLength(0);
  });

  it('patches a build from an event at once, then fetches it (coalesced)', async () => {
    api.list.mockResolvedValue([resource('a')]);
    await model.refresh();
    const full = resource('a', {
      phase: 'Building',
      conditions: [
        { type: 'Importing', status: 'Unknown', message: 'resolving' }
      ]
    });
    api.get.mockResolvedValue(full);
    const changes: string[] = [];
    model.buildChanged.connect((_, name) => changes.push(name));
    model.handleEvent(
      event({
        name: 'a',
        phase: 'Building',
        reason: 'InProgress',
        message: 'resolving'
      })
    );
    model.handleEvent(
      event({
        name: 'a',
        phase: 'Building',
        message: 'resolving',
        progress: { bytesDone: 5, bytesTotal: 10 }
      })
    );
    // Patched before any fetch:
    expect(model.summary(model.get('a')!).progress).toEqual({
      bytesDone: 5,
      bytesTotal: 10
    });
    expect(model.summary(model.get('a')!).phase).toBe('Building');
    await flush();
    await flush();
    expect(api.get).toHaveBeenCalledTimes(1);
    expect(model.get('a')).toBe(full);
    expect(changes.length).toBeGreaterThanOrEqual(2);
  });

  it('an event newer than a fetch in flight is not overwritten, and fetches again', async () => {
    api.list.mockResolvedValue([resource('a')]);
    await model.refresh();
    let answer: (value: ICustomNBImage) => void = () => undefined;
    api.get.mockImplementationOnce(
      () => new Promise(resolve => (answer = resolve))
    );
    model.handleEvent(
      event({ name: 'a', phase: 'Building', message: 'step 1' })
    );
    await flush();
    expect(api.get).toHaveBeenCalledTimes(1);
    // A newer event arrives while the fetch runs.
    model.handleEvent(event({ name: 'a', phase: 'Ready', message: 'done' }));
    answer(resource('a', { phase: 'Building' }));
    await flush();
    expect(model.summary(model.get('a')!).phase).toBe('Ready');
    // ... and another fetch follows, whose answer is authoritative.
    const ready = resource('a', {
      phase: 'Ready',
      runtimeImage: 'a',
      conditions: [{ type: 'Ready', status: 'True', message: 'done' }]
    });
    api.get.mockResolvedValue(ready);
    await flush();
    await flush();
    expect(api.get).toHaveBeenCalledTimes(2);
    expect(model.get('a')).toBe(ready);
    expect(model.summary(ready).message).toBe('done');
  });

  it('shows builds submitted elsewhere from their first event', async () => {
    await model.refresh();
    api.get.mockResolvedValue(resource('cli', { phase: 'Pending' }));
    model.handleEvent(
      event({ name: 'cli', phase: 'Pending', engine: 'embedded' })
    );
    expect(model.builds.map(b => b.metadata.name)).toEqual(['cli']);
    await flush();
    await flush();
    expect(model.get('cli')?.metadata.annotations).toBeDefined();
  });

  it('removes a build on a Deleted event', async () => {
    api.list.mockResolvedValue([resource('a'), resource('b')]);
    await model.refresh();
    model.handleEvent(event({ name: 'a', phase: 'Deleted' }));
    expect(model.builds.map(b => b.metadata.name)).toEqual(['b']);
    expect(api.get).not.toHaveBeenCalled();
  });

  it('forgets a build whose fetch answers 404', async () => {
    api.list.mockResolvedValue([resource('a')]);
    await model.refresh();
    api.get.mockRejectedValue(new APIError(404, 'gone'));
    model.handleEvent(event({ name: 'a', phase: 'Building' }));
    await flush();
    await flush();
    expect(model.get('a')).toBeUndefined();
  });

  it('adds a submitted build at once as Pending', async () => {
    await model.refresh();
    const created = resource('new', { phase: 'Pending', engine: 'embedded' });
    api.create.mockResolvedValue(created);
    await model.submit(resource('new', undefined));
    expect(model.summary(model.get('new')!).phase).toBe('Pending');
  });

  it('does not let the POST answer overwrite what an event already said', async () => {
    await model.refresh();
    api.get.mockReturnValue(new Promise(() => undefined));
    let answer: (value: ICustomNBImage) => void = () => undefined;
    api.create.mockReturnValue(new Promise(resolve => (answer = resolve)));
    const submitted = model.submit(resource('x'));
    model.handleEvent(event({ name: 'x', phase: 'Building', message: 'busy' }));
    answer(resource('x', { phase: 'Pending' }));
    await submitted;
    expect(model.summary(model.get('x')!).phase).toBe('Building');
  });

  it('passes server errors of a submit through (field errors, 409)', async () => {
    api.create.mockRejectedValue(new APIError(409, 'taken', 'Conflict', []));
    await expect(model.submit(resource('x'))).rejects.toMatchObject({
      status: 409
    });
    expect(model.get('x')).toBeUndefined();
  });

  it('emits becameReady once when a build turns Ready', async () => {
    api.list.mockResolvedValue([resource('a', { phase: 'Building' })]);
    await model.refresh();
    api.get.mockResolvedValue(
      resource('a', { phase: 'Ready', runtimeImage: 'a' })
    );
    const ready: string[] = [];
    model.becameReady.connect((_, b) => ready.push(b.metadata.name));
    model.handleEvent(event({ name: 'a', phase: 'Ready' }));
    await flush();
    await flush();
    expect(ready).toEqual(['a']);
  });

  it('a listing does not drop a build submitted while it was in flight', async () => {
    let answer: (value: ICustomNBImage[]) => void = () => undefined;
    api.list.mockReturnValueOnce(new Promise(resolve => (answer = resolve)));
    const listing = model.refresh();
    api.create.mockResolvedValue(resource('new'));
    await model.submit(resource('new'));
    answer([]);
    await listing;
    expect(model.get('new')).toBeDefined();
  });

  it('a listing removes builds deleted meanwhile by others', async () => {
    api.list.mockResolvedValueOnce([resource('a'), resource('b')]);
    await model.refresh();
    api.list.mockResolvedValueOnce([resource('b')]);
    await model.refresh();
    expect(model.builds.map(b => b.metadata.name)).toEqual(['b']);
  });

  it('keeps the list and reports the error when listing fails', async () => {
    api.list.mockResolvedValueOnce([resource('a')]);
    await model.refresh();
    api.list.mockRejectedValueOnce(new Error('offline'));
    await expect(model.refresh()).rejects.toThrow('offline');
    expect(model.error).toBe('offline');
    expect(model.get('a')).toBeDefined();
  });

  it('cancel, retry and delete go through the API and update the list', async () => {
    api.list.mockResolvedValue([resource('a', { phase: 'Building' })]);
    await model.refresh();
    api.cancel.mockResolvedValue(
      resource('a', {
        phase: 'Failed',
        conditions: [
          {
            type: 'Ready',
            status: 'False',
            reason: 'Cancelled',
            message: 'Cancelled by the user'
          }
        ]
      })
    );
    await model.cancel('a');
    expect(model.summary(model.get('a')!)).toMatchObject({
      phase: 'Failed',
      reason: 'Cancelled'
    });
    api.retry.mockResolvedValue(resource('a', { phase: 'Pending' }));
    await model.retry('a');
    expect(model.summary(model.get('a')!).phase).toBe('Pending');
    await model.remove('a');
    expect(api.remove).toHaveBeenCalledWith('a');
    expect(model.get('a')).toBeUndefined();
  });

  it('a retry answer older than the events that followed does not win', async () => {
    api.list.mockResolvedValue([resource('a', { phase: 'Failed' })]);
    await model.refresh();
    let answer: (value: ICustomNBImage) => void = () => undefined;
    api.retry.mockReturnValue(new Promise(resolve => (answer = resolve)));
    const failedAgain = resource('a', { phase: 'Failed', runtimeImage: 'x' });
    api.get.mockResolvedValue(failedAgain);
    const retried = model.retry('a');
    // The rerun fails fast: its events arrive before the POST answer.
    model.handleEvent(event({ name: 'a', phase: 'Pending' }));
    model.handleEvent(event({ name: 'a', phase: 'Building' }));
    model.handleEvent(event({ name: 'a', phase: 'Failed', reason: 'X' }));
    answer(resource('a', { phase: 'Pending' }));
    await retried;
    expect(model.summary(model.get('a')!).phase).toBe('Failed');
    await flush();
    await flush();
    expect(model.get('a')).toBe(failedAgain);
    expect(model.summary(model.get('a')!).phase).toBe('Failed');
  });

  it('refreshes slowly as a fallback, not at once after the first listing', async () => {
    const polling = new BuildsModel({
      api: api as any,
      fetchDelay: 0,
      pollInterval: 60
    });
    try {
      await polling.refresh();
      expect(api.list).toHaveBeenCalledTimes(1);
      await new Promise(resolve => setTimeout(resolve, 20));
      expect(api.list).toHaveBeenCalledTimes(1);
      await new Promise(resolve => setTimeout(resolve, 90));
      expect(api.list).toHaveBeenCalledTimes(2);
    } finally {
      polling.dispose();
    }
  });

  it('delete of a build already gone is not an error', async () => {
    api.remove.mockRejectedValue(new APIError(404, 'not found'));
    await expect(model.remove('gone')).resolves.toBeUndefined();
    api.remove.mockRejectedValue(new APIError(500, 'boom'));
    await expect(model.remove('x')).rejects.toThrow('boom');
  });
});
