import type { TranslationBundle } from '@jupyterlab/translation';
import { shortDigest } from '../imageref';
import type { IImageBadge } from '../tokens';
import type { IUpdate } from './api';

/** What changed (packages added, removed, changed; vulnerabilities fixed, introduced), or ''. */
export function changeSummary(
  update: IUpdate,
  trans: TranslationBundle
): string {
  const parts: string[] = [];
  const packages = update.summary?.packages;
  if (packages) {
    parts.push(
      trans.__(
        'packages: %1 added, %2 removed, %3 changed',
        packages.added,
        packages.removed,
        packages.changed
      )
    );
  }
  const vulns = update.summary?.vulnerabilities;
  if (vulns) {
    parts.push(
      trans.__(
        'vulnerabilities: %1 fixed, %2 introduced',
        vulns.fixed,
        vulns.introduced
      )
    );
  }
  return parts.join('; ');
}

/** The **update available** badge of a runtime image whose tag moved. */
export function updateBadge(
  update: IUpdate,
  trans: TranslationBundle,
  /** When the new image was first seen, as a person reads it (or ''). */
  since: string
): IImageBadge {
  const summary = changeSummary(update, trans);
  const when = since ? trans.__(' (since %1)', since) : '';
  return {
    key: 'update',
    text: trans.__('update available'),
    title:
      trans.__(
        '%1 now points at %2%3; this image uses %4. Re-pin to use the new image.',
        update.reference,
        shortDigest(update.current),
        when,
        shortDigest(update.pinned)
      ) + (summary ? ` ${summary}` : ''),
    className: 'jp-RuntimeImages-update'
  };
}
