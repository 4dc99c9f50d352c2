import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';

/**
 * The pieces of the details tabs (a build's, an image's): sections with a title,
 * tables with a header row, and the badge of a check's result.
 */

/** A check's result as a badge: pass, warn or fail (translated). */
export function CheckResult(props: {
  result: string;
  trans: TranslationBundle;
}): JSX.Element {
  const { result, trans } = props;
  const label =
    result === 'pass'
      ? trans.__('pass')
      : result === 'warn'
        ? trans.__('warn')
        : result === 'fail'
          ? trans.__('fail')
          : result;
  return (
    <span
      className={`jp-RuntimeImages-badge jp-RuntimeImages-checkResult jp-mod-${result}`}
      data-result={result}
    >
      {label}
    </span>
  );
}

/** A section of the details: its title, then `children`. */
export function DetailsSection(props: {
  title: React.ReactNode;
  /** A class besides `jp-RuntimeImages-detailsSection`. */
  className: string;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <section className={`jp-RuntimeImages-detailsSection ${props.className}`}>
      <h3>{props.title}</h3>
      {props.children}
    </section>
  );
}

/**
 * A table of the details: a header row of `columns`, then a row per item of `rows`
 * (`children` makes it, a `<tr>`); `empty` in a paragraph instead when there is no
 * item and `empty` is given.
 */
export function DetailsTable<T>(props: {
  columns: string[];
  rows: ReadonlyArray<T>;
  empty?: string;
  children: (row: T, index: number) => React.ReactNode;
}): JSX.Element {
  const { columns, rows, empty } = props;
  if (rows.length === 0 && empty !== undefined) {
    return <p>{empty}</p>;
  }
  return (
    <table className="jp-RuntimeImages-table">
      <thead>
        <tr>
          {columns.map(column => (
            <th key={column} scope="col">
              {column}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>{rows.map(props.children)}</tbody>
    </table>
  );
}

/** A section of the details that is one table: `DetailsSection` around `DetailsTable`. */
export function TableSection<T>(props: {
  title: React.ReactNode;
  className: string;
  columns: string[];
  rows: ReadonlyArray<T>;
  empty?: string;
  children: (row: T, index: number) => React.ReactNode;
}): JSX.Element {
  const { title, className, ...table } = props;
  return (
    <DetailsSection title={title} className={className}>
      <DetailsTable {...table} />
    </DetailsSection>
  );
}

/** The result of one requirement check, as the routes that check images give it. */
export interface ICheckRow {
  profile?: string;
  id?: string;
  result: string;
  message?: string;
}

/** The checks of an image or a build: profile, check, result badge and message. */
export function ChecksTable(props: {
  checks: ReadonlyArray<ICheckRow>;
  trans: TranslationBundle;
}): JSX.Element {
  const { checks, trans } = props;
  return (
    <DetailsTable
      columns={[
        trans.__('Profile'),
        trans.__('Check'),
        trans.__('Result'),
        trans.__('Message')
      ]}
      rows={checks}
    >
      {(check, index) => (
        <tr
          key={index}
          data-result={check.result}
          data-id={check.id}
          data-profile={check.profile}
        >
          <td>{check.profile ?? ''}</td>
          <td>{check.id ?? ''}</td>
          <td>
            <CheckResult result={check.result} trans={trans} />
          </td>
          <td>{check.message ?? ''}</td>
        </tr>
      )}
    </DetailsTable>
  );
}
