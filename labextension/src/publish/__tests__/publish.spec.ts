/**
 * Publishing (issue 14): the destination the dialog checks and proposes, the
 * request it sends, where the server's errors go, and what it remembers.
 */
// First: replaces the REST boundary for the imports below.
import {
  MemoryStateDB,
  mockedRequestAPI as mocked,
  response,
  SETTINGS,
  TRANS
} from '../../__tests__/support';

import { PublishAPI } from '../api';
import {
  canRepoint,
  groupPublishErrors,
  pinnedReference,
  publishFormErrors,
  publishRequest,
  registryOf,
  suggestedDestination
} from '../form';
import { PublishModel, STATE_KEY } from '../model';
import { APIError } from '../../request';

const RESULT = {
  image: '127.0.0.1:5000/team/img:1@sha256:' + 'a'.repeat(64),
  digest: 'sha256:' + 'a'.repeat(64),
  to: 'docker://127.0.0.1:5000/team/img:1',
  runtimeImage: null,
  kernelspecs: []
};

describe('publishFormErrors', () => {
  const errors = (to: string) =>
    publishFormErrors({ to, repoint: true }, TRANS).to;

  it('accepts the four transports', () => {
    for (const to of [
      'docker://127.0.0.1:5000/team/img:1',
      'docker://quay.io/org/img',
      'oci-archive:/tmp/img.tar',
      'containers-storage:team/img:1',
      'docker-daemon:team/img:1'
    ]) {
      expect(errors(to)).toBeUndefined();
    }
  });

  it('names the field for an empty, unknown or incomplete destination', () => {
    expect(errors('  ')).toEqual(['A destination is required.']);
    expect(errors('quay.io/org/img:1')![0]).toMatch(/^Publish to docker:\/\//);
    expect(errors('oci-archive:')![0]).toMatch(/^Publish to docker:\/\//);
    expect(errors('docker://quay.io')![0]).toMatch(
      /registry and the repository/
    );
  });
});

describe('publishRequest', () => {
  it('repoints only where the image can be pulled from (a registry)', () => {
    expect(
      publishRequest({ to: ' docker://h:5000/r:1 ', repoint: true })
    ).toEqual({ to: 'docker://h:5000/r:1', repoint: true });
    expect(
      publishRequest({ to: 'oci-archive:/tmp/x.tar', repoint: true })
    ).toEqual({ to: 'oci-archive:/tmp/x.tar', repoint: false });
    expect(publishRequest({ to: 'docker://h/r', repoint: false }).repoint).toBe(
      false
    );
    expect(canRepoint('docker-daemon:r:1')).toBe(false);
  });
});

describe('groupPublishErrors', () => {
  it('puts errors of `to` at the field, others on the form', () => {
    expect(
      groupPublishErrors([
        { path: 'to', message: 'unknown transport' },
        { path: '/to', message: 'no tag' },
        { path: 'repoint', message: 'not a boolean' },
        { path: 'source', message: 'not Ready' }
      ])
    ).toEqual({
      to: ['unknown transport', 'no tag'],
      repoint: ['not a boolean'],
      form: ['source: not Ready']
    });
  });
});

describe('destinations', () => {
  it('knows the registry of a docker:// destination only', () => {
    expect(registryOf('docker://127.0.0.1:5000/a/b:1')).toBe('127.0.0.1:5000');
    expect(registryOf('oci-archive:/tmp/a.tar')).toBeNull();
  });

  it('proposes the image under the registry used last', () => {
    expect(suggestedDestination('localhost/my-build:1', 'reg:5000')).toBe(
      'docker://reg:5000/my-build:1'
    );
    expect(suggestedDestination('python:3.11', 'reg:5000')).toBe(
      'docker://reg:5000/python:3.11'
    );
    expect(suggestedDestination('quay.io/org/img@sha256:ab', 'reg')).toBe(
      'docker://reg/org/img'
    );
    expect(suggestedDestination('localhost/my-build:1', null)).toBe('');
  });

  it('copies the server pinned reference, or builds one from the digest', () => {
    expect(pinnedReference(RESULT)).toBe(RESULT.image);
    expect(pinnedReference({ ...RESULT, image: '' })).toBe(
      '127.0.0.1:5000/team/img:1@' + RESULT.digest
    );
  });
});

describe('PublishAPI', () => {
  const api = new PublishAPI({ serverSettings: SETTINGS });

  it('posts to the image or the build route', async () => {
    mocked.mockResolvedValue(response(RESULT));
    const body = { to: RESULT.to, repoint: true };
    expect(await api.publish({ kind: 'image', name: 'my img' }, body)).toEqual(
      RESULT
    );
    expect(mocked).toHaveBeenLastCalledWith(
      'images/my%20img/publish',
      { method: 'POST', body: JSON.stringify(body) },
      SETTINGS
    );
    await api.publish({ kind: 'build', name: 'b1' }, body);
    expect(mocked.mock.calls[1][0]).toBe('builds/b1/publish');
  });
});

describe('PublishModel', () => {
  it('remembers the registry and the destinations in the state database', async () => {
    const state = new MemoryStateDB();
    const api = { publish: jest.fn().mockResolvedValue(RESULT) } as any;
    const model = new PublishModel({ api, state: state as any });
    await model.ready;
    expect(model.lastRegistry).toBeNull();
    const source = { kind: 'image' as const, name: 'x' };
    await model.publish(source, {
      to: 'oci-archive:/tmp/x.tar',
      repoint: false
    });
    await model.publish(source, { to: RESULT.to, repoint: true });
    expect(model.lastRegistry).toBe('127.0.0.1:5000');
    expect(model.recent).toEqual([RESULT.to, 'oci-archive:/tmp/x.tar']);
    expect(state.values.get(STATE_KEY)).toEqual({
      lastRegistry: '127.0.0.1:5000',
      recent: [RESULT.to, 'oci-archive:/tmp/x.tar']
    });

    // A new page: the same state database, the same proposal.
    const again = new PublishModel({ api, state: state as any });
    await again.ready;
    expect(again.lastRegistry).toBe('127.0.0.1:5000');
    expect(again.recent).toEqual(model.recent);
  });

  it('remembers nothing when the server refuses the destination', async () => {
    const state = new MemoryStateDB();
    const refused = new APIError(400, 'bad destination', 'Bad Request', [
      { path: 'to', message: 'unknown transport "ftp"' }
    ]);
    const api = { publish: jest.fn().mockRejectedValue(refused) } as any;
    const model = new PublishModel({ api, state: state as any });
    await expect(
      model.publish(
        { kind: 'image', name: 'x' },
        { to: 'ftp://x', repoint: true }
      )
    ).rejects.toBe(refused);
    expect(model.recent).toEqual([]);
    expect(state.values.has(STATE_KEY)).toBe(false);
  });
});
