import type { TranslationBundle } from '@jupyterlab/translation';
import { CompanionModel } from '../companionModel';
import { shortDigest } from '../imageref';
import type { IImageBadge } from '../tokens';
import type { ISeverityCounts, IVulnsSummary, VulnsAPI } from './api';

/** Severity levels, most severe first. */
export const LEVELS = ['critical', 'high', 'medium', 'low', 'unknown'] as const;
export type Level = (typeof LEVELS)[number];

/**
 * The known vulnerabilities of the runtime images already scanned
 * (`GET vulns/summary`, issue 17), fetched after the list and with every
 * refresh of it: the counts by severity of each image, for its row's badge.
 */
export class VulnsModel extends CompanionModel<IVulnsSummary> {
  constructor(options: { api: VulnsAPI }) {
    super();
    this._api = options.api;
  }

  /** The counts of the image `name`, once scanned. */
  countsOf(name: string): { digest: string; counts: ISeverityCounts } | null {
    const entry = this._images[name];
    return entry && entry.counts && typeof entry.counts === 'object'
      ? entry
      : null;
  }

  protected fetch(): Promise<IVulnsSummary> {
    return this._api.summary();
  }

  protected apply(data: IVulnsSummary): boolean {
    const text = JSON.stringify(data.images);
    if (text === this._text) {
      return false;
    }
    this._text = text;
    this._images = data.images;
    return true;
  }

  private readonly _api: VulnsAPI;
  private _images: IVulnsSummary['images'] = {};
  private _text = '{}';
}

/** A count, or 0 for what the server did not give. */
function count(counts: ISeverityCounts, level: Level): number {
  const value = counts[level];
  return typeof value === 'number' && value > 0 ? value : 0;
}

/**
 * The badge of an image's counts: the non-zero levels (`2C 5H 1M`), styled by
 * the most severe, each level spelled out in its tooltip.
 */
export function severityBadge(
  entry: { digest: string; counts: ISeverityCounts },
  trans: TranslationBundle
): IImageBadge {
  const { counts } = entry;
  const letters: Record<Level, string> = {
    critical: trans.__('C'),
    high: trans.__('H'),
    medium: trans.__('M'),
    low: trans.__('L'),
    unknown: trans.__('?')
  };
  const present = LEVELS.filter(level => count(counts, level) > 0);
  const total = present.reduce((sum, level) => sum + count(counts, level), 0);
  const digest = entry.digest ? shortDigest(entry.digest) : '';
  if (total === 0) {
    return {
      key: 'vulns',
      text: trans.__('no known vulns'),
      title: trans.__(
        'No known vulnerabilities in %1 (offline OSV database).',
        digest
      ),
      className: 'jp-RuntimeImages-vulns jp-mod-none'
    };
  }
  return {
    key: 'vulns',
    text: present
      .map(level => `${count(counts, level)}${letters[level]}`)
      .join(' '),
    title: trans._n(
      '%1 known vulnerability in %2: %3 critical, %4 high, %5 medium, %6 low, %7 unknown.',
      '%1 known vulnerabilities in %2: %3 critical, %4 high, %5 medium, %6 low, %7 unknown.',
      total,
      digest,
      count(counts, 'critical'),
      count(counts, 'high'),
      count(counts, 'medium'),
      count(counts, 'low'),
      count(counts, 'unknown')
    ),
    className: `jp-RuntimeImages-vulns jp-mod-${present[0]}`
  };
}
