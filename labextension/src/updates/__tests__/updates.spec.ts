/**
 * Updates (issue 18): the REST client, one `moved` per move however often it is
 * listed (remembered across pages), the badge, and a server without the route.
 */
// First: replaces the REST boundary for the imports below.
import {
  MemoryStateDB,
  mockedRequestAPI as mocked,
  response,
  SETTINGS,
  TRANS
} from '../../__tests__/support';

import { APIError } from '../../request';
import { IUpdate, IUpdates, UpdatesAPI } from '../api';
import { changeSummary, updateBadge } from '../badge';
import { MAX_NOTIFIED, NOTIFIED_KEY, UpdatesModel } from '../model';

const D1 = 'sha256:' + '1'.repeat(64);
const D2 = 'sha256:' + '2'.repeat(64);
const D3 = 'sha256:' + '3'.repeat(64);

function update(
  name: string,
  current: string,
  extra: Partial<IUpdate> = {}
): IUpdate {
  return {
    name,
    kind: 'runtime-image',
    reference: `127.0.0.1:5000/test/${name}:1`,
    pinned: D1,
    current,
    since: '2026-12-03T10:00:00Z',
    summary: null,
    ...extra
  };
}

/** A model over an API that lists what `listed` holds at each call. */
function modelOver(listed: { value: IUpdates }, state = new MemoryStateDB()) {
  const api = {
    list: jest.fn(async () => listed.value),
    repin: jest.fn()
  };
  const model = new UpdatesModel({ api: api as any, state: state as any });
  const moved: string[] = [];
  model.moved.connect((_, u) => moved.push(`${u.name}@${u.current}`));
  return { api, model, moved, state };
}

describe('UpdatesAPI', () => {
  const api = new UpdatesAPI({ serverSettings: SETTINGS });

  it('lists the updates and re-pins an image', async () => {
    mocked.mockResolvedValueOnce(
      response({
        checkedAt: '2026-12-03T10:00:00Z',
        updates: [update('a', D2)]
      })
    );
    expect(await api.list()).toEqual({
      checkedAt: '2026-12-03T10:00:00Z',
      updates: [update('a', D2)]
    });
    expect(mocked).toHaveBeenLastCalledWith(
      'updates',
      { method: 'GET' },
      SETTINGS
    );
    mocked.mockResolvedValueOnce(
      response({ image: {}, from: D1, to: D2, kernelspecs: [] })
    );
    await api.repin('my image');
    expect(mocked).toHaveBeenLastCalledWith(
      'images/my%20image/repin',
      { method: 'POST', body: '{}' },
      SETTINGS
    );
  });

  it('reads an answer without updates as none', async () => {
    mocked.mockResolvedValueOnce(response({}));
    expect(await api.list()).toEqual({ checkedAt: null, updates: [] });
  });
});

describe('UpdatesModel', () => {
  it('announces a move once, not on every poll, and a new move again', async () => {
    const listed = { value: { checkedAt: null, updates: [update('a', D2)] } };
    const { model, moved } = modelOver(listed);
    await model.refresh();
    await model.refresh();
    await model.refresh();
    expect(moved).toEqual([`a@${D2}`]);
    expect(model.forImage('a')?.current).toBe(D2);
    // The tag moves again: a new move.
    listed.value = {
      checkedAt: null,
      updates: [update('a', D3), update('b', D2)]
    };
    await model.refresh();
    expect(moved).toEqual([`a@${D2}`, `a@${D3}`, `b@${D2}`]);
  });

  it('remembers what it announced across pages (the state database)', async () => {
    const listed = { value: { checkedAt: null, updates: [update('a', D2)] } };
    const first = modelOver(listed);
    await first.model.refresh();
    expect(first.state.values.get(NOTIFIED_KEY)).toHaveLength(1);
    const second = modelOver(listed, first.state);
    await second.model.refresh();
    expect(second.moved).toEqual([]);
    expect(second.model.forImage('a')).toBeDefined();
  });

  it('keeps at most MAX_NOTIFIED moves', async () => {
    const many = Array.from({ length: MAX_NOTIFIED + 10 }, (_, i) =>
      update(`i${i}`, D2)
    );
    const { model, moved, state } = modelOver({
      value: { checkedAt: null, updates: many }
    });
    await model.refresh();
    expect(moved).toHaveLength(MAX_NOTIFIED + 10);
    expect(state.values.get(NOTIFIED_KEY)).toHaveLength(MAX_NOTIFIED);
  });

  it('gives a badge only to runtime images, not to build bases', async () => {
    const { model } = modelOver({
      value: {
        checkedAt: null,
        updates: [update('base-of-build', D2, { kind: 'build-base' })]
      }
    });
    await model.refresh();
    expect(model.forImage('base-of-build')).toBeUndefined();
    expect(model.updates).toHaveLength(1);
  });

  it('stops asking a server without the route (404)', async () => {
    const api = {
      list: jest.fn().mockRejectedValue(new APIError(404, 'Not Found')),
      repin: jest.fn()
    };
    const model = new UpdatesModel({ api: api as any });
    await model.refresh();
    await model.refresh();
    expect(model.available).toBe(false);
    expect(api.list).toHaveBeenCalledTimes(1);
  });

  it('fetches once more, not twice at once, when asked while fetching', async () => {
    let release: () => void = () => undefined;
    const api = {
      list: jest.fn(
        () =>
          new Promise<IUpdates>(resolve => {
            release = () => resolve({ checkedAt: null, updates: [] });
          })
      ),
      repin: jest.fn()
    };
    const model = new UpdatesModel({ api: api as any });
    const a = model.refresh();
    const b = model.refresh();
    const c = model.refresh();
    await Promise.resolve();
    expect(api.list).toHaveBeenCalledTimes(1);
    release();
    await new Promise(resolve => setTimeout(resolve, 0));
    release();
    await Promise.all([a, b, c]);
    expect(api.list).toHaveBeenCalledTimes(2);
  });

  it('re-pins, then lists the updates again', async () => {
    const listed = { value: { checkedAt: null, updates: [update('a', D2)] } };
    const { api, model } = modelOver(listed);
    await model.refresh();
    api.repin.mockImplementation(async () => {
      listed.value = { checkedAt: null, updates: [] };
      return { image: {}, from: D1, to: D2, kernelspecs: ['k8s_a'] };
    });
    const result = await model.repin('a');
    expect(api.repin).toHaveBeenCalledWith('a');
    expect(result.kernelspecs).toEqual(['k8s_a']);
    expect(model.forImage('a')).toBeUndefined();
  });
});

describe('updateBadge', () => {
  it('says which tag moved, to what, and what changed', () => {
    const badge = updateBadge(
      update('a', D2, {
        summary: {
          packages: { added: 2, removed: 1, changed: 3 },
          vulnerabilities: { fixed: 4, introduced: 0 }
        }
      }),
      TRANS,
      '2 hours ago'
    );
    expect(badge.text).toBe('update available');
    expect(badge.title).toBe(
      '127.0.0.1:5000/test/a:1 now points at sha256:222222222222 (since 2 hours ago); ' +
        'this image uses sha256:111111111111. Re-pin to use the new image. ' +
        'packages: 2 added, 1 removed, 3 changed; vulnerabilities: 4 fixed, 0 introduced'
    );
    expect(changeSummary(update('a', D2), TRANS)).toBe('');
  });
});
