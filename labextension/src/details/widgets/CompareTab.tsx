import type { TranslationBundle } from '@jupyterlab/translation';
import React, { useState } from 'react';
import { formatBytes } from '../../format';
import { shortDigest } from '../../imageref';
import { TextButton } from '../../ui/buttons';
import { useSignal } from '../../ui/signals';
import {
  CheckResult,
  DetailsSection,
  DetailsTable,
  ShortDigest,
  TableSection
} from '../../ui/tables';
import type { IRuntimeImage } from '../../tokens';
import { DetailsModel, diffRows, IDiffRow } from '../model';
import type { IDiff, IFinding } from '../types';
import { Loading } from './Loading';
import { FindingsTable } from './VulnerabilitiesTab';

function changeLabel(
  change: IDiffRow['change'],
  trans: TranslationBundle
): string {
  switch (change) {
    case 'added':
      return trans.__('added');
    case 'removed':
      return trans.__('removed');
    default:
      return trans.__('changed');
  }
}

function configValue(value: unknown): string {
  if (value === null || value === undefined) {
    return '';
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The findings one side of the comparison fixed or introduced, under `title` (none: nothing). */
function FindingsGroup(props: {
  title: string;
  className: string;
  findings: IFinding[];
  trans: TranslationBundle;
}): JSX.Element | null {
  if (props.findings.length === 0) {
    return null;
  }
  return (
    <>
      <h4>{props.title}</h4>
      <div className={props.className}>
        <FindingsTable findings={props.findings} trans={props.trans} />
      </div>
    </>
  );
}

function Diff(props: { diff: IDiff; trans: TranslationBundle }): JSX.Element {
  const { diff, trans } = props;
  const rows = diffRows(diff);
  const counts = {
    added: rows.filter(r => r.change === 'added').length,
    removed: rows.filter(r => r.change === 'removed').length,
    changed: rows.filter(r => r.change === 'changed').length
  };
  const config = diff.config ?? [];
  const checkRows = (diff.checks ?? []).flatMap(profile =>
    [
      ...new Set([
        ...profile.a.map(c => c.id ?? ''),
        ...profile.b.map(c => c.id ?? '')
      ])
    ].map(id => ({
      profile: profile.profile,
      id,
      a: profile.a.find(c => (c.id ?? '') === id),
      b: profile.b.find(c => (c.id ?? '') === id)
    }))
  );
  const layers = diff.size?.layers ?? [];
  const vulns = diff.vulnerabilities;
  return (
    <div className="jp-RuntimeImages-diff">
      <p className="jp-RuntimeImages-diffSides">
        {trans.__('A: %1', diff.a?.reference ?? '')}{' '}
        <code>{shortDigest(diff.a?.digest ?? '')}</code>
        <br />
        {trans.__('B: %1', diff.b?.reference ?? '')}{' '}
        <code>{shortDigest(diff.b?.digest ?? '')}</code>
      </p>
      <TableSection
        className="jp-RuntimeImages-diffPackages"
        title={trans.__(
          'Packages: %1 added, %2 removed, %3 changed',
          counts.added,
          counts.removed,
          counts.changed
        )}
        columns={[
          {
            header: trans.__('Change'),
            cell: row => changeLabel(row.change, trans)
          },
          { header: trans.__('Ecosystem'), cell: row => row.ecosystem },
          { header: trans.__('Environment'), cell: row => row.environment },
          { header: trans.__('Package'), cell: row => row.name },
          { header: trans.__('A'), cell: row => row.a },
          { header: trans.__('B'), cell: row => row.b }
        ]}
        rows={rows}
        rowKey={row =>
          `${row.ecosystem}\u0000${row.environment}\u0000${row.name}\u0000${row.change}`
        }
        rowAttributes={row => ({
          className: `jp-RuntimeImages-diffRow jp-mod-${row.change}`,
          'data-change': row.change,
          'data-name': row.name
        })}
        empty={trans.__('The same packages.')}
      />
      {vulns && (
        <DetailsSection
          className="jp-RuntimeImages-diffVulnerabilities"
          title={trans.__(
            'Vulnerabilities: %1 fixed, %2 introduced',
            vulns.fixed.length,
            vulns.introduced.length
          )}
        >
          <FindingsGroup
            title={trans.__('Introduced in B')}
            className="jp-RuntimeImages-introduced"
            findings={vulns.introduced}
            trans={trans}
          />
          <FindingsGroup
            title={trans.__('Fixed in B')}
            className="jp-RuntimeImages-fixed"
            findings={vulns.fixed}
            trans={trans}
          />
        </DetailsSection>
      )}
      <TableSection
        className="jp-RuntimeImages-diffConfig"
        title={trans.__('Configuration')}
        columns={[
          { header: trans.__('Field'), cell: change => change.field },
          {
            header: trans.__('A'),
            cell: change => <code>{configValue(change.a)}</code>
          },
          {
            header: trans.__('B'),
            cell: change => <code>{configValue(change.b)}</code>
          }
        ]}
        rows={config}
        rowKey={change => change.field}
        rowAttributes={change => ({
          className: 'jp-RuntimeImages-diffRow jp-mod-changed',
          'data-field': change.field
        })}
        empty={trans.__('The same configuration.')}
      />
      {diff.size && (
        <DetailsSection
          className="jp-RuntimeImages-diffSize"
          title={trans.__('Size')}
        >
          <p>
            {trans.__(
              'A: %1 compressed, %2 on disk. B: %3 compressed, %4 on disk.',
              formatBytes(diff.size.a?.compressed ?? 0),
              formatBytes(diff.size.a?.uncompressed ?? 0),
              formatBytes(diff.size.b?.compressed ?? 0),
              formatBytes(diff.size.b?.uncompressed ?? 0)
            )}
          </p>
          {layers.length > 0 && (
            <DetailsTable
              columns={[
                {
                  header: trans.__('Layer'),
                  cell: layer => <ShortDigest digest={layer.digest} />
                },
                {
                  header: trans.__('In A'),
                  cell: layer => configValue(layer.a)
                },
                {
                  header: trans.__('In B'),
                  cell: layer => configValue(layer.b)
                },
                {
                  header: trans.__('Size'),
                  cell: layer => formatBytes(layer.size)
                },
                {
                  header: trans.__('Shared'),
                  cell: layer => (layer.shared ? trans.__('shared') : '')
                }
              ]}
              rows={layers}
              rowKey={layer => layer.digest}
              rowAttributes={layer => ({
                className: layer.shared
                  ? undefined
                  : 'jp-RuntimeImages-diffRow jp-mod-changed',
                'data-shared': layer.shared
              })}
            />
          )}
        </DetailsSection>
      )}
      {checkRows.length > 0 && (
        <TableSection
          className="jp-RuntimeImages-diffChecks"
          title={trans.__('Checks')}
          columns={[
            { header: trans.__('Profile'), cell: row => row.profile },
            { header: trans.__('Check'), cell: row => row.id },
            {
              header: trans.__('A'),
              cell: ({ a }) =>
                a && <CheckResult result={a.result} trans={trans} />,
              title: ({ a }) => a?.message
            },
            {
              header: trans.__('B'),
              cell: ({ b }) =>
                b && <CheckResult result={b.result} trans={trans} />,
              title: ({ b }) => b?.message
            }
          ]}
          rows={checkRows}
          rowKey={({ profile, id }) => `${profile}/${id}`}
          rowAttributes={({ a, b }) => ({
            className:
              a?.result !== b?.result
                ? 'jp-RuntimeImages-diffRow jp-mod-changed'
                : undefined
          })}
        />
      )}
    </div>
  );
}

/**
 * The Compare tab: this image (A) with another runtime image or any reference
 * (B): packages added, removed and changed (highlighted), configuration, sizes,
 * checks, and the vulnerabilities fixed and introduced.
 */
export function CompareTab(props: {
  model: DetailsModel;
  trans: TranslationBundle;
  /** The runtime images to choose from. */
  images: ReadonlyArray<IRuntimeImage>;
}): JSX.Element {
  const { model, trans } = props;
  useSignal(model.stateChanged);
  const others = props.images.filter(image => image.name !== model.name);
  const [choice, setChoice] = useState('');
  const [reference, setReference] = useState(model.compareWith ?? '');
  const chosen = others.find(image => image.name === choice);
  const other = (chosen?.metadata.image_name ?? reference).trim();
  return (
    <div className="jp-RuntimeImages-compareTab">
      <form
        className="jp-RuntimeImages-compareForm"
        onSubmit={event => {
          event.preventDefault();
          if (other) {
            model.compare(other);
          }
        }}
      >
        <label>
          {trans.__('Compare with the runtime image')}
          <select
            className="jp-mod-styled jp-RuntimeImages-compareImage"
            value={choice}
            onChange={event => setChoice(event.currentTarget.value)}
          >
            <option value="">{trans.__('(a reference instead)')}</option>
            {others.map(image => (
              <option key={image.name} value={image.name}>
                {image.display_name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {trans.__('or the image reference')}
          <input
            type="text"
            className="jp-mod-styled jp-RuntimeImages-compareReference"
            placeholder="quay.io/org/image:tag"
            disabled={chosen !== undefined}
            value={chosen ? chosen.metadata.image_name : reference}
            onChange={event => setReference(event.currentTarget.value)}
          />
        </label>
        <button
          type="submit"
          className="jp-mod-styled jp-mod-accept jp-RuntimeImages-compareButton"
          disabled={!other || model.reference === null}
        >
          {trans.__('Compare')}
        </button>
      </form>
      {model.reference === null && (
        <p className="jp-RuntimeImages-empty">
          {trans.__('The image reference is not known yet.')}
        </p>
      )}
      {model.diff.status === 'idle' ? (
        <p className="jp-RuntimeImages-empty">
          {trans.__(
            'Choose a runtime image or type a reference to see what differs.'
          )}
        </p>
      ) : (
        <Loading
          loader={model.diff}
          trans={trans}
          what={trans.__(
            'Comparing %1 with %2…',
            model.compareFrom ?? '',
            model.compareWith ?? ''
          )}
          model={model}
        >
          {diff => <Diff diff={diff} trans={trans} />}
        </Loading>
      )}
      {model.diff.status === 'ready' && (
        <TextButton
          className="jp-RuntimeImages-linkButton"
          label={trans.__('Clear the comparison')}
          onClick={() => model.diff.reset()}
        >
          {trans.__('Clear')}
        </TextButton>
      )}
    </div>
  );
}
