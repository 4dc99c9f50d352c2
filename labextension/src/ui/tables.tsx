import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';
import { shortDigest } from '../imageref';

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

/** A digest in a cell, shortened; the full digest is its tooltip. */
export function ShortDigest(props: { digest: string }): JSX.Element {
  return <code title={props.digest}>{shortDigest(props.digest)}</code>;
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

/** A column of a `DetailsTable`: its header (translated) and its cell in a row. */
export interface IColumn<T> {
  header: string;
  cell: (row: T, index: number) => React.ReactNode;
  /** The cell's tooltip (e.g. the full value behind a short one). */
  title?: (row: T) => string | undefined;
  /** The cell's class. */
  className?: string;
}

/** The attributes of a row of a `DetailsTable`: its class and `data-*` attributes. */
export interface IRowAttributes {
  className?: string;
  [data: `data-${string}`]: string | number | boolean | undefined;
}

/** What a table of the details is given (`DetailsTable`, `TableSection`). */
export interface IDetailsTableProps<T> {
  columns: ReadonlyArray<IColumn<T>>;
  rows: ReadonlyArray<T>;
  /** The React key of a row. */
  rowKey: (row: T, index: number) => React.Key;
  /** The attributes of a row's `<tr>`, if any. */
  rowAttributes?: (row: T, index: number) => IRowAttributes;
  /** What to say instead of the table when there is no row; none: an empty table. */
  empty?: string;
}

/**
 * A table of the details: a header row of the `columns`' headers, then a row per
 * item of `rows` with a cell per column; `empty` in a paragraph instead when there
 * is no item and `empty` is given.
 */
export function DetailsTable<T>(props: IDetailsTableProps<T>): JSX.Element {
  const { columns, rows, rowKey, rowAttributes, empty } = props;
  if (rows.length === 0 && empty !== undefined) {
    return <p>{empty}</p>;
  }
  return (
    <table className="jp-RuntimeImages-table">
      <thead>
        <tr>
          {columns.map(column => (
            <th key={column.header} scope="col">
              {column.header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row, index) => (
          <tr key={rowKey(row, index)} {...rowAttributes?.(row, index)}>
            {columns.map(column => (
              <td
                key={column.header}
                className={column.className}
                title={column.title?.(row)}
              >
                {column.cell(row, index)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A section of the details that is one table: `DetailsSection` around `DetailsTable`. */
export function TableSection<T>(
  props: IDetailsTableProps<T> & { title: React.ReactNode; className: string }
): JSX.Element {
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
        { header: trans.__('Profile'), cell: check => check.profile ?? '' },
        { header: trans.__('Check'), cell: check => check.id ?? '' },
        {
          header: trans.__('Result'),
          cell: check => <CheckResult result={check.result} trans={trans} />
        },
        { header: trans.__('Message'), cell: check => check.message ?? '' }
      ]}
      rows={checks}
      rowKey={(check, index) => index}
      rowAttributes={check => ({
        'data-result': check.result,
        'data-id': check.id,
        'data-profile': check.profile
      })}
    />
  );
}
