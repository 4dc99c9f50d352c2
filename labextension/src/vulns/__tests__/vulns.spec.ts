/**
 * Vulnerability badges (issue 17): `GET vulns/summary`, the counts per image,
 * and the badge's text, style and tooltip.
 */
// First: replaces the REST boundary for the imports below.
import {
  mockedRequestAPI as mocked,
  response,
  SETTINGS,
  TRANS
} from '../../__tests__/support';

import { VulnsAPI } from '../api';
import { severityBadge, VulnsModel } from '../model';

const DIGEST = 'sha256:' + 'f'.repeat(64);
const counts = (c: Partial<Record<string, number>>) => ({
  critical: 0,
  high: 0,
  medium: 0,
  low: 0,
  unknown: 0,
  ...c
});

describe('VulnsModel', () => {
  it('fetches the summary and tells when it changed', async () => {
    const api = new VulnsAPI({ serverSettings: SETTINGS });
    const model = new VulnsModel({ api });
    let changes = 0;
    model.changed.connect(() => changes++);
    const summary = {
      images: { a: { digest: DIGEST, counts: counts({ high: 2 }) } }
    };
    mocked.mockResolvedValue(response(summary));
    await model.refresh();
    expect(mocked).toHaveBeenCalledWith(
      'vulns/summary',
      { method: 'GET' },
      SETTINGS
    );
    expect(model.countsOf('a')?.counts.high).toBe(2);
    expect(model.countsOf('b')).toBeNull();
    expect(changes).toBe(1);
    await model.refresh(); // the same answer: no change
    expect(changes).toBe(1);
  });
});

describe('severityBadge', () => {
  it('shows the non-zero levels, styled by the most severe', () => {
    const badge = severityBadge(
      { digest: DIGEST, counts: counts({ critical: 1, high: 5, low: 2 }) },
      TRANS
    );
    expect(badge.text).toBe('1C 5H 2L');
    expect(badge.className).toBe('jp-RuntimeImages-vulns jp-mod-critical');
    expect(badge.title).toBe(
      '8 known vulnerabilities in sha256:ffffffffffff: 1 critical, 5 high, 0 medium, 2 low, 0 unknown.'
    );
  });

  it('says when none is known', () => {
    const badge = severityBadge({ digest: DIGEST, counts: counts({}) }, TRANS);
    expect(badge.text).toBe('no known vulns');
    expect(badge.className).toBe('jp-RuntimeImages-vulns jp-mod-none');
  });
});
