import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';
import { errorMessage } from '../../request';
import { FilterCount, SearchBox } from '../../ui/filters';
import { useSignal } from '../../ui/signals';
import { DetailsModel, FindingSortKey, isDatabaseMissing } from '../model';
import { IFinding, IVulnerabilities, SEVERITY_LEVELS } from '../types';
import { loadingTab } from './Loading';

/** A severity level as a person reads it (translated). */
export function severityLabel(level: string, trans: TranslationBundle): string {
  switch (level) {
    case 'critical':
      return trans.__('critical');
    case 'high':
      return trans.__('high');
    case 'medium':
      return trans.__('medium');
    case 'low':
      return trans.__('low');
    default:
      return trans.__('unknown');
  }
}

export function SeverityBadge(props: {
  finding: IFinding;
  trans: TranslationBundle;
}): JSX.Element {
  const { level, score } = props.finding.severity ?? {
    level: 'unknown',
    score: null
  };
  const known = (SEVERITY_LEVELS as string[]).includes(level)
    ? level
    : 'unknown';
  return (
    <span
      className={`jp-RuntimeImages-badge jp-RuntimeImages-severity jp-mod-${known}`}
      data-level={known}
    >
      {severityLabel(known, props.trans)}
      {typeof score === 'number' ? ` ${score.toFixed(1)}` : ''}
    </span>
  );
}

/** The findings as a table (the Vulnerabilities tab's, and Compare's fixed/introduced). */
export function FindingsTable(props: {
  findings: IFinding[];
  trans: TranslationBundle;
  /** Sortable headers: the order, and what a click on a header does. */
  sort?: { key: FindingSortKey; descending: boolean };
  onSort?: (key: FindingSortKey) => void;
}): JSX.Element {
  const { findings, trans, sort, onSort } = props;
  const columns: [FindingSortKey | null, string][] = [
    ['id', trans.__('Vulnerability')],
    ['severity', trans.__('Severity')],
    ['package', trans.__('Package')],
    ['installed_version', trans.__('Installed')],
    ['fixed_version', trans.__('Fixed in')],
    ['layer', trans.__('Layer')],
    [null, trans.__('Summary')]
  ];
  return (
    <table className="jp-RuntimeImages-table jp-RuntimeImages-findings">
      <thead>
        <tr>
          {columns.map(([key, label]) => {
            const sorted = sort && key === sort.key;
            return (
              <th
                key={label}
                scope="col"
                aria-sort={
                  sorted
                    ? sort.descending
                      ? 'descending'
                      : 'ascending'
                    : undefined
                }
              >
                {key && onSort ? (
                  <button
                    type="button"
                    className="jp-RuntimeImages-sortButton"
                    data-key={key}
                    onClick={() => onSort(key)}
                    title={trans.__('Sort by %1', label)}
                  >
                    {label}
                    {sorted && (
                      <span aria-hidden="true">
                        {sort.descending ? ' \u25bc' : ' \u25b2'}
                      </span>
                    )}
                  </button>
                ) : (
                  label
                )}
              </th>
            );
          })}
        </tr>
      </thead>
      <tbody>
        {findings.map(finding => (
          <tr
            key={`${finding.id}\u0000${finding.ecosystem}\u0000${finding.environment ?? ''}\u0000${finding.package}\u0000${finding.installed_version}`}
            data-id={finding.id}
            data-level={finding.severity?.level}
          >
            <td>
              {finding.url ? (
                <a
                  href={finding.url}
                  target="_blank"
                  rel="noopener noreferrer"
                  title={trans.__('Open the record of %1', finding.id)}
                >
                  {finding.id}
                </a>
              ) : (
                finding.id
              )}
              {(finding.aliases ?? []).length > 0 && (
                <div className="jp-RuntimeImages-aliases">
                  {(finding.aliases ?? []).join(', ')}
                </div>
              )}
            </td>
            <td>
              <SeverityBadge finding={finding} trans={trans} />
            </td>
            <td>
              {finding.package}
              <div className="jp-RuntimeImages-findingWhere">
                {finding.ecosystem}
                {finding.environment ? ` ${finding.environment}` : ''}
                {finding.matched_as
                  ? ` (${trans.__('matched as %1', finding.matched_as)})`
                  : ''}
              </div>
            </td>
            <td>{finding.installed_version}</td>
            <td className="jp-RuntimeImages-fixedVersion">
              {finding.fixed_version ?? trans.__('no fix')}
            </td>
            <td>
              {finding.layer === null || finding.layer === undefined
                ? ''
                : String(finding.layer)}
            </td>
            <td className="jp-RuntimeImages-findingSummary">
              {finding.summary ?? ''}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Vulnerabilities(props: {
  model: DetailsModel;
  data: IVulnerabilities;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, data, trans } = props;
  useSignal(model.stateChanged);
  const filter = model.findingFilter;
  const findings = model.findings;
  const total = (data.findings ?? []).length;
  return (
    <>
      <p className="jp-RuntimeImages-database">
        {trans.__(
          'Database %1 (version %2, %3 records).',
          data.database?.path ?? '',
          data.database?.version ?? '',
          data.database?.records ?? 0
        )}
      </p>
      <div
        className="jp-RuntimeImages-severityFilter"
        role="group"
        aria-label={trans.__('Filter by severity')}
      >
        {SEVERITY_LEVELS.map(level => {
          const pressed = filter.levels.has(level);
          return (
            <button
              key={level}
              type="button"
              className={`jp-RuntimeImages-severityToggle jp-mod-${level}${
                pressed ? ' jp-mod-selected' : ''
              }`}
              data-level={level}
              aria-pressed={pressed}
              onClick={() => {
                const levels = new Set(filter.levels);
                if (pressed) {
                  levels.delete(level);
                } else {
                  levels.add(level);
                }
                model.setFindingFilter({ levels });
              }}
            >
              {`${severityLabel(level, trans)}: ${data.counts?.[level] ?? 0}`}
            </button>
          );
        })}
        <label className="jp-RuntimeImages-fixableOnly">
          <input
            type="checkbox"
            checked={filter.fixable}
            onChange={event =>
              model.setFindingFilter({ fixable: event.currentTarget.checked })
            }
          />
          {trans.__('Fixable only')}
        </label>
        <SearchBox
          className="jp-RuntimeImages-findingSearch"
          label={trans.__('Filter vulnerabilities')}
          value={filter.text}
          onChange={text => model.setFindingFilter({ text })}
        />
      </div>
      <FilterCount
        className="jp-RuntimeImages-findingCount"
        count={findings.length}
        total={total}
      >
        {total === 0
          ? trans.__('No known vulnerability.')
          : findings.length === total
            ? trans._n('%1 finding', '%1 findings', total)
            : trans.__('%1 of %2 findings', findings.length, total)}
      </FilterCount>
      {findings.length > 0 && (
        <FindingsTable
          findings={findings}
          trans={trans}
          sort={model.findingSort}
          onSort={key => model.sortFindingsBy(key)}
        />
      )}
    </>
  );
}

/** What the tab says when no vulnerability database is configured. */
function NoDatabase(props: {
  error: unknown;
  trans: TranslationBundle;
}): JSX.Element {
  const { trans } = props;
  return (
    <div className="jp-RuntimeImages-emptyState jp-RuntimeImages-noDatabase">
      <p className="jp-RuntimeImages-messageTitle">
        {trans.__('No vulnerability database is configured.')}
      </p>
      <p>{errorMessage(props.error)}</p>
      <p>
        {trans.__(
          'Download one with "jupyter runtime-images vulns --update-db" on a machine that is online, or point VulnerabilityDatabase.path at a directory of OSV records.'
        )}
      </p>
    </div>
  );
}

/** The Vulnerabilities tab: known vulnerabilities (OSV, offline), sortable and filterable. */
export const VulnerabilitiesTab = loadingTab({
  loader: model => model.vulnerabilities,
  what: trans => trans.__('Matching the packages against the database…'),
  renderError: (error, trans) =>
    isDatabaseMissing(error) ? (
      <NoDatabase error={error} trans={trans} />
    ) : null,
  render: (data, { model, trans }) => (
    <Vulnerabilities model={model} data={data} trans={trans} />
  )
});
