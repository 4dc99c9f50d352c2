/**
 * RuntimeImagesModel against a fake API object (the REST boundary).
 */
// First: replaces the REST boundary for the imports below.
import '../../__tests__/support';

import { RuntimeImagesModel } from '../model';
import { APIError } from '../../request';
import type { IRuntimeImage } from '../../tokens';

function img(
  name: string,
  display: string,
  extra: Partial<IRuntimeImage['metadata']> = {}
): IRuntimeImage {
  return {
    name,
    display_name: display,
    schema_name: 'runtime-image',
    metadata: { image_name: `quay.io/org/${name}:1`, ...extra },
    origin: 'user'
  };
}

function fakeApi(overrides: Record<string, jest.Mock> = {}) {
  return {
    getSchema: jest.fn().mockResolvedValue({ type: 'object' }),
    listImages: jest.fn().mockResolvedValue(listed([], '"0"')),
    getImage: jest.fn(),
    createImage: jest.fn(),
    replaceImage: jest.fn(),
    deleteImage: jest.fn().mockResolvedValue(undefined),
    duplicateImage: jest.fn(),
    exportImages: jest.fn(),
    importImages: jest.fn(),
    ...overrides
  } as any;
}

/** A model over `fakeApi(overrides)`, without polling. */
function modelOf(
  overrides: Record<string, jest.Mock> = {}
): RuntimeImagesModel {
  return new RuntimeImagesModel({ api: fakeApi(overrides), pollInterval: 0 });
}

/** What `listImages` answers: `images`, no invalid ones, with `etag`. */
function listed(images: IRuntimeImage[], etag: string | null = null) {
  return { images, invalid: [], etag };
}

/** A `listImages` that always lists `images`. */
function listing(images: IRuntimeImage[]): jest.Mock {
  return jest.fn().mockResolvedValue(listed(images));
}

describe('RuntimeImagesModel', () => {
  it('is ready after the schema answers, and lists sorted by display name', async () => {
    const api = fakeApi({
      listImages: jest.fn().mockResolvedValue({
        images: [img('b', 'beta'), img('a2', 'Alpha 10'), img('a1', 'alpha 9')],
        invalid: [{ name: 'broken', reason: 'not JSON' }],
        etag: '"1"'
      })
    });
    const model = new RuntimeImagesModel({ api, pollInterval: 0 });
    const states: string[] = [];
    model.stateChanged.connect(() => states.push(model.status));
    await model.initialize();
    expect(model.status).toBe('ready');
    expect(model.schema).toEqual({ type: 'object' });
    expect(model.images.map(i => i.name)).toEqual(['a1', 'a2', 'b']);
    expect(model.invalid.map(i => i.name)).toEqual(['broken']);
    expect(states[0]).toBe('checking');
    expect(model.loaded).toBe(true);
    model.dispose();
  });

  it('reports a missing server extension (404) apart from other errors', async () => {
    const missing = modelOf({
      getSchema: jest.fn().mockRejectedValue(new APIError(404, 'Not Found'))
    });
    await missing.initialize();
    expect(missing.status).toBe('missing');

    const broken = modelOf({
      getSchema: jest.fn().mockRejectedValue(new APIError(500, 'boom'))
    });
    await broken.initialize();
    expect(broken.status).toBe('error');
    expect(broken.statusMessage).toBe('boom');

    const offline = modelOf({
      getSchema: jest.fn().mockRejectedValue(new TypeError('Failed to fetch'))
    });
    await offline.initialize();
    expect(offline.status).toBe('error');
    expect(offline.statusMessage).toBe('Failed to fetch');
  });

  it('polls with the ETag and keeps the list on 304', async () => {
    const listImages = jest
      .fn()
      .mockResolvedValueOnce(listed([img('a', 'A')], '"1"'))
      .mockResolvedValueOnce(null)
      .mockResolvedValueOnce(listed([img('a', 'A'), img('b', 'B')], '"2"'))
      .mockResolvedValueOnce(null);
    const model = modelOf({ listImages });
    let changes = 0;
    model.changed.connect(() => changes++);
    await model.initialize();
    expect(listImages).toHaveBeenLastCalledWith(null);
    await model.refresh();
    expect(listImages).toHaveBeenLastCalledWith('"1"');
    expect(changes).toBe(1);
    await model.refresh();
    expect(changes).toBe(2);
    expect(model.images.map(i => i.name)).toEqual(['a', 'b']);
    await model.refresh();
    expect(listImages).toHaveBeenLastCalledWith('"2"');
  });

  it('keeps the list and reports a failed refresh, then recovers', async () => {
    const listImages = jest
      .fn()
      .mockResolvedValueOnce(listed([img('a', 'A')], '"1"'))
      .mockRejectedValueOnce(new APIError(500, 'disk on fire'))
      .mockResolvedValueOnce(null);
    const model = modelOf({ listImages });
    await model.initialize();
    await expect(model.refresh()).rejects.toThrow('disk on fire');
    expect(model.refreshError).toBe('disk on fire');
    expect(model.images).toHaveLength(1);
    await model.refresh();
    expect(model.refreshError).toBeNull();
  });

  it('filters by text (every word, several fields) and by tags (any)', async () => {
    const images = [
      img('pytorch', 'PyTorch GPU', {
        tags: ['gpu', 'ml'],
        description: 'CUDA build'
      }),
      img('tf', 'TensorFlow', { tags: ['ml'] }),
      img('r', 'R notebook', {
        image_name: 'quay.io/jupyter/r-notebook:python-3.11'
      }),
      img('pandas', 'Pandas', { description: 'dataframes' })
    ];
    const model = modelOf({ listImages: listing(images) });
    await model.initialize();
    expect(model.allTags).toEqual(['gpu', 'ml']);
    const names = () => model.filtered.map(i => i.name).sort();

    model.setFilterText('cuda');
    expect(names()).toEqual(['pytorch']);
    model.setFilterText('R-NOTEBOOK');
    expect(names()).toEqual(['r']);
    model.setFilterText('dataframes');
    expect(names()).toEqual(['pandas']);
    model.setFilterText('tensor gpu');
    expect(names()).toEqual([]);
    model.setFilterText('tensor');
    expect(names()).toEqual(['tf']);
    model.setFilterText('');
    model.toggleTag('gpu');
    expect(names()).toEqual(['pytorch']);
    model.toggleTag('ml');
    expect(names()).toEqual(['pytorch', 'tf']);
    model.setFilterText('tensor');
    expect(names()).toEqual(['tf']);
    expect(model.isFiltered).toBe(true);
    model.clearFilter();
    expect(names()).toHaveLength(4);
    expect(model.isFiltered).toBe(false);
  });

  it('filters 1,000 images quickly', async () => {
    const images = Array.from({ length: 1000 }, (_, i) =>
      img(`image-${i}`, `Image ${i}`, {
        tags: [`t${i % 20}`],
        description: `number ${i}`
      })
    );
    const model = modelOf({ listImages: listing(images) });
    await model.initialize();
    const start = Date.now();
    for (const text of ['i', 'im', 'ima', 'imag', 'image 99', 'number 5']) {
      model.setFilterText(text);
      void model.filtered.length;
    }
    expect(Date.now() - start).toBeLessThan(50);
    model.setFilterText('number 999');
    expect(model.filtered.map(i => i.name)).toEqual(['image-999']);
  });

  it('awaits writes before refreshing the list', async () => {
    const order: string[] = [];
    let resolveDelete: () => void = () => undefined;
    const api = fakeApi({
      deleteImage: jest.fn(
        () =>
          new Promise<void>(resolve => {
            resolveDelete = () => {
              order.push('deleted');
              resolve();
            };
          })
      ),
      listImages: jest.fn(async () => {
        order.push('listed');
        return listed([]);
      })
    });
    const model = new RuntimeImagesModel({ api, pollInterval: 0 });
    await model.initialize();
    order.length = 0;
    const done = model.remove('x');
    await Promise.resolve();
    expect(order).toEqual([]);
    resolveDelete();
    await done;
    expect(order).toEqual(['deleted', 'listed']);
  });

  it('creates, replaces with the ETag, duplicates and imports through the API', async () => {
    const api = fakeApi({
      createImage: jest
        .fn()
        .mockResolvedValue({ image: img('n', 'N'), etag: '"1"' }),
      replaceImage: jest
        .fn()
        .mockResolvedValue({ image: img('n', 'N2'), etag: '"2"' }),
      duplicateImage: jest.fn().mockResolvedValue(img('n_copy', 'N (copy)')),
      importImages: jest
        .fn()
        .mockResolvedValue([{ name: 'n', status: 'unchanged' }])
    });
    const model = new RuntimeImagesModel({ api, pollInterval: 0 });
    await model.initialize();
    const body = { display_name: 'N', metadata: { image_name: 'a/b:1' } };
    expect((await model.create(body)).name).toBe('n');
    await model.replace('n', body, '"1"');
    expect(api.replaceImage).toHaveBeenCalledWith('n', body, '"1"');
    expect((await model.duplicate('n')).name).toBe('n_copy');
    expect(await model.importImages({ 'runtime-images': [] }, true)).toEqual([
      { name: 'n', status: 'unchanged' }
    ]);
    expect(api.importImages).toHaveBeenCalledWith(
      { 'runtime-images': [] },
      true
    );
    // every write refreshed the list
    expect(api.listImages).toHaveBeenCalledTimes(5);
  });

  it('does not fail a write when only the refresh after it fails', async () => {
    const listImages = jest
      .fn()
      .mockResolvedValueOnce(listed([], '"1"'))
      .mockRejectedValueOnce(new TypeError('Failed to fetch'));
    const api = fakeApi({
      listImages,
      createImage: jest
        .fn()
        .mockResolvedValue({ image: img('n', 'N'), etag: '"1"' })
    });
    const model = new RuntimeImagesModel({ api, pollInterval: 0 });
    await model.initialize();
    const created = await model.create({
      display_name: 'N',
      metadata: { image_name: 'a/b' }
    });
    expect(created.name).toBe('n');
    expect(model.refreshError).toBe('Failed to fetch');
  });

  it('drops selected tags that disappeared', async () => {
    const listImages = jest
      .fn()
      .mockResolvedValueOnce(listed([img('a', 'A', { tags: ['x'] })], '"1"'))
      .mockResolvedValueOnce(listed([img('a', 'A')], '"2"'));
    const model = modelOf({ listImages });
    await model.initialize();
    model.toggleTag('x');
    expect(model.filtered).toHaveLength(1);
    await model.refresh();
    expect(model.filter.tags.size).toBe(0);
    expect(model.filtered).toHaveLength(1);
  });

  it('emits refreshed after every listing, changed or not (304)', async () => {
    const listImages = jest
      .fn()
      .mockResolvedValueOnce(listed([img('a', 'A')], '"1"'))
      .mockResolvedValueOnce(null); // 304 Not Modified
    const model = modelOf({ listImages });
    let refreshed = 0;
    let changed = 0;
    model.refreshed.connect(() => refreshed++);
    model.changed.connect(() => changed++);
    await model.initialize();
    await model.refresh();
    expect(refreshed).toBe(2);
    expect(changed).toBe(1);
  });

  it('selects images one by one, by range and all shown, in the list order', async () => {
    const images = ['a', 'b', 'c', 'd', 'e'].map(n => img(n, n.toUpperCase()));
    const model = modelOf({ listImages: listing(images) });
    await model.initialize();
    let changes = 0;
    model.selectionChanged.connect(() => changes++);
    model.toggleSelected('d');
    model.toggleSelected('b');
    expect(model.selection).toEqual(['b', 'd']);
    // Shift-click from b (the last one toggled) to e: b..e take e's new state.
    model.toggleSelected('e', true);
    expect(model.selection).toEqual(['b', 'c', 'd', 'e']);
    model.toggleSelected('c', true); // from e to c, deselecting
    expect(model.selection).toEqual(['b']);
    expect(model.isSelected('b')).toBe(true);
    model.setFilterText('org/a:');
    model.toggleAllShown();
    expect(model.selection).toEqual(['a', 'b']);
    model.toggleAllShown(); // all shown were selected: they are not any more
    expect(model.selection).toEqual(['b']);
    model.toggleSelected('a');
    model.clearSelection();
    expect(model.selection).toEqual([]);
    expect(changes).toBe(8);
  });

  it('drops deleted images from the selection', async () => {
    const listImages = jest
      .fn()
      .mockResolvedValueOnce(listed([img('a', 'A'), img('b', 'B')], '"1"'))
      .mockResolvedValueOnce(listed([img('b', 'B')], '"2"'));
    const model = modelOf({ listImages });
    await model.initialize();
    model.toggleSelected('a');
    model.toggleSelected('b');
    let changes = 0;
    model.selectionChanged.connect(() => changes++);
    await model.refresh();
    expect(model.selection).toEqual(['b']);
    expect(changes).toBe(1);
  });
});
