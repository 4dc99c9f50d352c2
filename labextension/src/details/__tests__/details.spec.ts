/**
 * The Details view's REST client (routes, queries, bodies, abort signals), its
 * reads (`Loader`: cancel, supersede, errors) and its model (lazy reads per tab,
 * platform, filters and sorts of packages and findings, updates, compare), with
 * the REST boundary (`requestAPI`) answered by the specs.
 */
// First: replaces the REST boundary for the imports below.
import {
  mockedRequestAPI as mocked,
  response,
  SETTINGS
} from '../../__tests__/support';

import { APIError } from '../../request';
import { DetailsAPI, imageQuery } from '../api';
import { Loader } from '../loader';
import {
  atDigest,
  DetailsModel,
  detailsKey,
  diffRows,
  facet,
  filterFindings,
  filterPackages,
  isDatabaseMissing,
  layerBars,
  sbomFileName,
  sortFindings,
  targetOf
} from '../model';
import type { IDiff, IFinding, IInspection, IPackage } from '../types';

const flush = () => new Promise(resolve => setTimeout(resolve, 0));

function pkg(
  name: string,
  version = '1.0',
  ecosystem = 'deb',
  environment = '/'
): IPackage {
  return {
    ecosystem,
    name,
    version,
    environment,
    licenses: ecosystem === 'deb' ? ['GPL-2'] : ['MIT'],
    purl: `pkg:${ecosystem}/${name}@${version}`
  };
}

function finding(
  id: string,
  level: string,
  score: number | null,
  fixed: string | null = null,
  extra: Partial<IFinding> = {}
): IFinding {
  return {
    id,
    package: `p-${id}`,
    ecosystem: 'Debian:12',
    installed_version: '1',
    fixed_version: fixed,
    severity: { level, score },
    ...extra
  };
}

function inspection(packages: IPackage[] = [pkg('bash')]): IInspection {
  return {
    image: {
      reference: 'quay.io/a/b:1',
      digest: 'sha256:' + 'a'.repeat(64),
      platform: 'linux/amd64',
      local: false
    },
    packages
  };
}

/** A `requestAPI` that never answers until its request is aborted (then rejects). */
function hanging() {
  return (_endPoint: string, init: RequestInit = {}) =>
    new Promise<never>((_, reject) => {
      init.signal?.addEventListener('abort', () => {
        const error = new Error('aborted');
        error.name = 'AbortError';
        reject(error);
      });
    });
}

describe('DetailsAPI', () => {
  const api = new DetailsAPI({ serverSettings: SETTINGS });

  it('reads an image by runtime image name or by reference, with a platform', async () => {
    mocked.mockResolvedValue(response(inspection()));
    const controller = new AbortController();
    await api.inspect({ name: 'my image' }, undefined, controller.signal);
    await api.inspect({ image: 'quay.io/a/b:1' }, 'linux/arm64');
    expect(mocked.mock.calls[0]).toEqual([
      'inspect?name=my+image',
      { method: 'GET', signal: controller.signal },
      SETTINGS
    ]);
    expect(mocked.mock.calls[1][0]).toBe(
      'inspect?image=quay.io%2Fa%2Fb%3A1&platform=linux%2Farm64'
    );
    expect(mocked.mock.calls[1][1]).toEqual({ method: 'GET' });
  });

  it('asks every platform of an index, the layers, the vulnerabilities and an SBOM', async () => {
    mocked.mockResolvedValue(response({ bomFormat: 'CycloneDX' }));
    await api.platforms({ name: 'a' });
    await api.layers({ name: 'a' }, 'linux/amd64');
    await api.vulnerabilities({ image: 'r:1' });
    const sbom = await api.sbom({ name: 'a' }, 'spdx-json');
    expect(mocked.mock.calls.map(c => c[0])).toEqual([
      'inspect?name=a&platform=all',
      'layers?name=a&platform=linux%2Famd64',
      'vulns?image=r%3A1',
      'sbom?name=a&format=spdx-json'
    ]);
    expect(JSON.parse(sbom)).toEqual({ bomFormat: 'CycloneDX' });
    mocked.mockResolvedValueOnce(response('plain text' as any));
    expect(await api.sbom({ name: 'a' }, 'cyclonedx-json')).toBe('plain text');
  });

  it('posts the checks of the chosen profiles (none: the server default)', async () => {
    mocked.mockResolvedValue(
      response({ ok: true, profiles: ['elyra'], checks: [] })
    );
    await api.validate({ name: 'a' });
    await api.validate(
      { image: 'r:1' },
      { profiles: ['kubeflow'], platform: 'linux/arm64' }
    );
    expect(
      mocked.mock.calls.map(c => [c[0], c[1]?.method, c[1]?.body])
    ).toEqual([
      ['validate', 'POST', '{"name":"a"}'],
      [
        'validate',
        'POST',
        '{"image":"r:1","profiles":["kubeflow"],"platform":"linux/arm64"}'
      ]
    ]);
  });

  it('reads history and updates, and re-pins with If-Match (dry run first)', async () => {
    mocked.mockResolvedValue(response({ history: [] }, { etag: '"7"' }));
    await api.history('a b');
    await api.updates();
    expect(await api.imageETag('a b')).toBe('"7"');
    await api.repin('a b', { dryRun: true });
    await api.repin('a b', { etag: '"7"' });
    expect(mocked.mock.calls.map(c => [c[0], c[1]])).toEqual([
      ['images/a%20b/history', { method: 'GET' }],
      ['updates', { method: 'GET' }],
      ['images/a%20b', { method: 'GET' }],
      [
        'images/a%20b/repin',
        { method: 'POST', headers: {}, body: '{"dryRun":true}' }
      ],
      [
        'images/a%20b/repin',
        { method: 'POST', headers: { 'If-Match': '"7"' }, body: '{}' }
      ]
    ]);
  });

  it('compares two references', async () => {
    mocked.mockResolvedValue(response({}));
    await api.diff('quay.io/a/b:1', 'quay.io/a/b:2');
    expect(mocked.mock.calls[0][0]).toBe(
      'diff?a=quay.io%2Fa%2Fb%3A1&b=quay.io%2Fa%2Fb%3A2'
    );
  });

  it('leaves empty query values out', () => {
    expect(imageQuery({ name: 'a' }, { platform: undefined, x: '' })).toBe(
      'name=a'
    );
  });
});

describe('Loader', () => {
  it('ends ready with the data, or error with the error', async () => {
    const loader = new Loader<number>();
    const seen: string[] = [];
    loader.changed.connect(() => seen.push(loader.status));
    await loader.load(async () => 42);
    expect(loader.data).toBe(42);
    await loader.load(async () => {
      throw new Error('boom');
    });
    expect(loader.status).toBe('error');
    expect((loader.error as Error).message).toBe('boom');
    expect(loader.data).toBe(42); // the last result is kept
    expect(seen).toEqual(['loading', 'ready', 'loading', 'error']);
  });

  it('cancels: aborts the signal, ends cancelled, drops the late answer', async () => {
    const loader = new Loader<string>();
    let signal: AbortSignal | null = null;
    let answer: (value: string) => void = () => undefined;
    const done = loader.load(
      s =>
        new Promise<string>(resolve => {
          signal = s;
          answer = resolve;
        })
    );
    expect(loader.status).toBe('loading');
    expect(loader.startedAt).not.toBeNull();
    loader.cancel();
    expect(signal!.aborted).toBe(true);
    expect(loader.status).toBe('cancelled');
    answer('late');
    await done;
    expect(loader.status).toBe('cancelled');
    expect(loader.data).toBeNull();
  });

  it('a new read supersedes (and aborts) the one in flight', async () => {
    const loader = new Loader<string>();
    const signals: AbortSignal[] = [];
    const resolvers: ((v: string) => void)[] = [];
    const read = (s: AbortSignal) =>
      new Promise<string>(resolve => {
        signals.push(s);
        resolvers.push(resolve);
      });
    const first = loader.load(read);
    const second = loader.load(read);
    expect(signals[0].aborted).toBe(true);
    resolvers[1]('second');
    resolvers[0]('first');
    await Promise.all([first, second]);
    expect(loader.data).toBe('second');
    expect(loader.status).toBe('ready');
  });

  it('ensure reads once; reset forgets', async () => {
    const loader = new Loader<number>();
    const read = jest.fn().mockResolvedValue(1);
    await loader.ensure(read);
    await loader.ensure(read);
    expect(read).toHaveBeenCalledTimes(1);
    loader.reset();
    expect(loader.status).toBe('idle');
    expect(loader.data).toBeNull();
    await loader.ensure(read);
    expect(read).toHaveBeenCalledTimes(2);
  });
});

describe('DetailsModel', () => {
  const api = () => new DetailsAPI({ serverSettings: SETTINGS });

  it('reads what a tab needs when it is shown, once', async () => {
    mocked.mockResolvedValue(response(inspection()));
    const model = new DetailsModel({ api: api(), target: { name: 'a' } });
    model.show('overview');
    model.show('packages');
    await flush();
    expect(mocked.mock.calls.map(c => c[0])).toEqual(['inspect?name=a']);
    expect(model.inspection.status).toBe('ready');
    mocked.mockResolvedValue(
      response({ image: {}, layers: [], total: {} } as any)
    );
    model.show('layers');
    await flush();
    expect(mocked.mock.calls.map(c => c[0])).toEqual([
      'inspect?name=a',
      'layers?name=a'
    ]);
    model.dispose();
  });

  it('cancels a long inspection through the request signal, and reads again', async () => {
    mocked.mockImplementation(hanging() as any);
    const model = new DetailsModel({ api: api(), target: { name: 'a' } });
    model.show('overview');
    const init = mocked.mock.calls[0][1] as RequestInit;
    expect(init.signal?.aborted).toBe(false);
    model.inspection.cancel();
    expect(init.signal?.aborted).toBe(true);
    expect(model.inspection.status).toBe('cancelled');
    mocked.mockResolvedValue(response(inspection()));
    model.reload(model.inspection);
    await flush();
    expect(model.inspection.status).toBe('ready');
    expect(mocked).toHaveBeenCalledTimes(2);
    model.dispose();
  });

  it('closing the view (dispose) aborts every read in flight', () => {
    mocked.mockImplementation(hanging() as any);
    const model = new DetailsModel({ api: api(), target: { name: 'a' } });
    model.show('overview');
    model.show('vulnerabilities');
    model.dispose();
    for (const call of mocked.mock.calls) {
      expect((call[1] as RequestInit).signal?.aborted).toBe(true);
    }
    expect(mocked).toHaveBeenCalledTimes(2);
  });

  it('reads the platform chosen again, and lists the platforms of an index', async () => {
    mocked.mockResolvedValue(response(inspection()));
    const model = new DetailsModel({ api: api(), target: { name: 'a' } });
    model.show('overview');
    await flush();
    expect(model.platformChoices).toEqual(['linux/amd64']);
    mocked.mockResolvedValueOnce(
      response({
        platforms: [
          { platform: 'linux/amd64', digest: 'sha256:1' },
          { platform: 'linux/arm64', digest: 'sha256:2' }
        ]
      })
    );
    model.listPlatforms();
    await flush();
    expect(model.platformChoices).toEqual(['linux/amd64', 'linux/arm64']);
    model.setPlatform('linux/arm64');
    await flush();
    expect(mocked.mock.calls.map(c => c[0])).toEqual([
      'inspect?name=a',
      'inspect?name=a&platform=all',
      'inspect?name=a&platform=linux%2Farm64'
    ]);
    model.dispose();
  });

  it('filters and counts 5,000 packages, and sorts them by name', async () => {
    const packages: IPackage[] = [];
    for (let i = 0; i < 5000; i++) {
      packages.push(
        i % 2
          ? pkg(`lib${i}`, `${i}.0`, 'deb', '/')
          : pkg(`py${i}`, '1.0', 'pypi', '/opt/venv')
      );
    }
    mocked.mockResolvedValue(response(inspection(packages)));
    const model = new DetailsModel({ api: api(), target: { name: 'a' } });
    model.show('packages');
    await flush();
    expect(model.packages.length).toBe(5000);
    expect(model.packages[0].name).toBe('lib1');
    const start = Date.now();
    model.setPackageFilter({ ecosystem: 'pypi' });
    expect(model.filteredPackages.length).toBe(2500);
    model.setPackageFilter({ ecosystem: '', text: 'lib49' });
    const names = model.filteredPackages.map(p => p.name);
    // lib49, lib491…lib499, lib4901…lib4999 (odd numbers only), in numeric order.
    expect(names.length).toBe(1 + 5 + 50);
    expect(names.slice(0, 7)).toEqual([
      'lib49',
      'lib491',
      'lib493',
      'lib495',
      'lib497',
      'lib499',
      'lib4901'
    ]);
    expect(names[names.length - 1]).toBe('lib4999');
    expect(Date.now() - start).toBeLessThan(500);
    // Computed once per filter: the same array until the filter changes.
    expect(model.filteredPackages).toBe(model.filteredPackages);
    model.dispose();
  });

  it('finds the update of its runtime image and compares pinned with new', async () => {
    const model = new DetailsModel({
      api: api(),
      target: { name: 'a' },
      reference: () => 'quay.io/a/b:1@sha256:' + '1'.repeat(64)
    });
    mocked.mockImplementation(async (endPoint: string) =>
      endPoint === 'updates'
        ? response({
            checkedAt: '2026-01-01T00:00:00Z',
            updates: [
              {
                name: 'other',
                kind: 'runtime-image',
                reference: 'x:1',
                pinned: 'sha256:0',
                current: 'sha256:9',
                since: '',
                summary: null
              },
              {
                name: 'a',
                kind: 'runtime-image',
                reference: 'quay.io/a/b:1',
                pinned: 'sha256:1',
                current: 'sha256:2',
                since: '2026-01-01T00:00:00Z',
                summary: null
              }
            ]
          })
        : response({ history: [] })
    );
    model.show('history');
    await flush();
    expect(mocked.mock.calls.map(c => c[0]).sort()).toEqual([
      'images/a/history',
      'updates'
    ]);
    expect(model.update?.current).toBe('sha256:2');
    mocked.mockResolvedValue(response({}));
    model.compare(
      atDigest('quay.io/a/b:1', 'sha256:2'),
      atDigest('quay.io/a/b:1', 'sha256:1')
    );
    expect(mocked.mock.calls[2][0]).toBe(
      'diff?a=quay.io%2Fa%2Fb%40sha256%3A1&b=quay.io%2Fa%2Fb%40sha256%3A2'
    );
    // Compare with another image: this one (A) is the runtime image's reference.
    model.compare('quay.io/c/d:3');
    expect(mocked.mock.calls[3][0]).toBe(
      `diff?a=${encodeURIComponent('quay.io/a/b:1@sha256:' + '1'.repeat(64))}&b=quay.io%2Fc%2Fd%3A3`
    );
    model.dispose();
  });

  it('has no history for a reference, and says when no database is configured', async () => {
    mocked.mockRejectedValue(
      new APIError(409, 'No vulnerability database.', 'Conflict', [], {
        code: 'VulnerabilityDatabaseMissing'
      })
    );
    const model = new DetailsModel({ api: api(), target: { image: 'r:1' } });
    model.show('history');
    expect(mocked).not.toHaveBeenCalled();
    model.show('vulnerabilities');
    await flush();
    expect(model.vulnerabilities.status).toBe('error');
    expect(isDatabaseMissing(model.vulnerabilities.error)).toBe(true);
    expect(isDatabaseMissing(new APIError(409, 'taken'))).toBe(false);
    model.dispose();
  });

  it('sorts findings by a column, again reverses', async () => {
    mocked.mockResolvedValue(
      response({
        findings: [
          finding('B', 'low', 2),
          finding('A', 'critical', 9.8, '2'),
          finding('C', 'high', 7)
        ]
      })
    );
    const model = new DetailsModel({ api: api(), target: { name: 'a' } });
    model.show('vulnerabilities');
    await flush();
    expect(model.findings.map(f => f.id)).toEqual(['A', 'C', 'B']);
    model.sortFindingsBy('severity');
    expect(model.findings.map(f => f.id)).toEqual(['B', 'C', 'A']);
    model.sortFindingsBy('id');
    expect(model.findings.map(f => f.id)).toEqual(['A', 'B', 'C']);
    model.setFindingFilter({ fixable: true });
    expect(model.findings.map(f => f.id)).toEqual(['A']);
    model.dispose();
  });
});

describe('details helpers', () => {
  it('filters packages by ecosystem, environment and every word', () => {
    const packages = [
      pkg('numpy', '1.26', 'pypi', '/opt/venv'),
      pkg('numpy', '1.24', 'conda', '/opt/conda'),
      pkg('libc6', '2.36', 'deb', '/')
    ];
    const none = { text: '', ecosystem: '', environment: '' };
    expect(filterPackages(packages, none)).toBe(packages);
    expect(
      filterPackages(packages, { ...none, text: 'numpy 1.2' }).length
    ).toBe(2);
    expect(
      filterPackages(packages, { ...none, text: 'numpy', ecosystem: 'conda' })
    ).toEqual([packages[1]]);
    expect(
      filterPackages(packages, { ...none, environment: '/opt/venv' })
    ).toEqual([packages[0]]);
    expect(filterPackages(packages, { ...none, text: 'gpl' })).toEqual([
      packages[2]
    ]);
    expect(facet(packages, 'ecosystem')).toEqual([
      ['conda', 1],
      ['deb', 1],
      ['pypi', 1]
    ]);
  });

  it('sorts severity by level then score, unknown levels last', () => {
    const findings = [
      finding('a', 'high', 7.1),
      finding('b', 'bogus', null),
      finding('c', 'high', 8.8),
      finding('d', 'critical', null)
    ];
    expect(
      sortFindings(findings, { key: 'severity', descending: true }).map(
        f => f.id
      )
    ).toEqual(['d', 'c', 'a', 'b']);
    expect(
      filterFindings(findings, {
        text: '',
        levels: new Set(['unknown']),
        fixable: false
      }).map(f => f.id)
    ).toEqual(['b']);
    expect(
      filterFindings(
        [finding('CVE-1', 'low', 1, null, { aliases: ['GHSA-x'] })],
        { text: 'ghsa', levels: new Set(), fixable: false }
      ).length
    ).toBe(1);
  });

  it('sizes the layer bars on the largest layer, wasted on each layer', () => {
    const layer = (index: number, size: number, wasted: number) => ({
      index,
      digest: `sha256:${index}`,
      compressed_size: size / 2,
      uncompressed_size: size,
      wasted_bytes: wasted
    });
    const bars = layerBars([
      layer(0, 100, 50),
      layer(1, 400, 0),
      layer(2, 0, 0)
    ]);
    expect(bars.map(b => [b.size, b.wasted])).toEqual([
      [0.25, 0.5],
      [1, 0],
      [0, 0]
    ]);
    expect(layerBars([])).toEqual([]);
  });

  it('makes one sorted list of a diff, marking each row', () => {
    const diff = {
      packages: {
        added: [pkg('zlib', '2', 'deb')],
        removed: [pkg('curl', '7', 'deb')],
        changed: [
          {
            ecosystem: 'deb',
            environment: '/',
            name: 'bash',
            a: '5.1',
            b: '5.2'
          }
        ]
      }
    } as unknown as IDiff;
    expect(diffRows(diff)).toEqual([
      {
        change: 'changed',
        ecosystem: 'deb',
        environment: '/',
        name: 'bash',
        a: '5.1',
        b: '5.2'
      },
      {
        change: 'removed',
        ecosystem: 'deb',
        environment: '/',
        name: 'curl',
        a: '7',
        b: ''
      },
      {
        change: 'added',
        ecosystem: 'deb',
        environment: '/',
        name: 'zlib',
        a: '',
        b: '2'
      }
    ]);
  });

  it('names references by digest, targets, keys and SBOM files', () => {
    expect(atDigest('quay.io/a/b:1', 'sha256:2')).toBe('quay.io/a/b@sha256:2');
    expect(atDigest('localhost:5000/a:1@sha256:1', 'sha256:2')).toBe(
      'localhost:5000/a@sha256:2'
    );
    expect(atDigest('localhost:5000/a', 'sha256:2')).toBe(
      'localhost:5000/a@sha256:2'
    );
    expect(targetOf({ name: 'a', image: 'r' })).toEqual({ name: 'a' });
    expect(targetOf({ image: 'r:1' })).toEqual({ image: 'r:1' });
    expect(targetOf({ isPalette: true })).toBeNull();
    expect(detailsKey({ name: 'a' })).not.toBe(detailsKey({ image: 'a' }));
    expect(sbomFileName({ name: 'my-img', reference: null }, 'spdx-json')).toBe(
      'my-img.spdx.json'
    );
    expect(
      sbomFileName(
        { name: null, reference: 'quay.io/a/b:1@sha256:' + 'f'.repeat(64) },
        'cyclonedx-json'
      )
    ).toBe('quay.io_a_b_1.cdx.json');
  });
});
