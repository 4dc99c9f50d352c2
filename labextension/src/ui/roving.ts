import type React from 'react';
import { useLayoutEffect, useRef, useState } from 'react';

/**
 * One tab stop for a whole list, arrow keys inside it (as JupyterLab's file
 * browser): the list's rows each hold a few buttons; exactly one of them is in
 * the tab order (`tabIndex` 0, the others -1). Up and Down move to the row above
 * or below (same button), Left and Right between a row's buttons, Home and End to
 * the first and the last row, Page Up and Page Down by a page. A click or a focus
 * inside moves the tab stop there; when the focus leaves the list, the tab stop
 * goes to the first button of that row, so Tab comes back to the row one left,
 * on its first button (never straight onto, say, Delete). When the focused row
 * goes away (it was deleted), the focus goes to the row now in its place rather
 * than to the page.
 */

/** A button of a row, by row and by its place in the row. */
export interface IRovingPosition {
  row: number;
  column: number;
}

/** The buttons of a row that take part, in order. */
export function rowControls(row: Element): HTMLElement[] {
  return Array.from(
    row.querySelectorAll<HTMLElement>('button:not([disabled])')
  );
}

/**
 * Where `key` moves the focus from `at`, or `null` when the key is not one of
 * the list's.
 *
 * @param rows how many rows the list has
 * @param columns how many buttons the row `at.row` has
 * @param page how many rows Page Up and Page Down move
 */
export function nextPosition(
  key: string,
  at: IRovingPosition,
  rows: number,
  columns: number,
  page = 10
): IRovingPosition | null {
  if (rows === 0) {
    return null;
  }
  const row = (index: number) => ({
    row: Math.max(0, Math.min(rows - 1, index)),
    column: at.column
  });
  switch (key) {
    case 'ArrowDown':
      return row(at.row + 1);
    case 'ArrowUp':
      return row(at.row - 1);
    case 'PageDown':
      return row(at.row + page);
    case 'PageUp':
      return row(at.row - page);
    case 'Home':
      return row(0);
    case 'End':
      return row(rows - 1);
    case 'ArrowRight':
      return { row: at.row, column: Math.min(columns - 1, at.column + 1) };
    case 'ArrowLeft':
      return { row: at.row, column: Math.max(0, at.column - 1) };
    default:
      return null;
  }
}

/**
 * The roving tab stop of a list. Call it in the list's component; give the
 * returned handlers to the element that holds the rows.
 *
 * @param options.rowCount how many rows the list has (rendered or not)
 * @param options.renderedRows the rows in the page now, with their index
 * @param options.reveal bring a row into the page (a virtual list scrolls to it)
 */
export function useRovingFocus(options: {
  rowCount: number;
  renderedRows: () => Array<[number, Element]>;
  reveal?: (row: number) => void;
  page?: number;
}): {
  active: IRovingPosition;
  onKeyDown: (event: React.KeyboardEvent) => void;
  onFocus: (event: React.FocusEvent) => void;
  onBlur: (event: React.FocusEvent) => void;
} {
  const [position, setPosition] = useState<IRovingPosition>({
    row: 0,
    column: 0
  });
  const focusPending = useRef(false);
  // The focused button, while the focus is in the list (or went nowhere from it).
  const focusedControl = useRef<HTMLElement | null>(null);
  const active = {
    row: Math.max(0, Math.min(position.row, options.rowCount - 1)),
    column: position.column
  };

  useLayoutEffect(() => {
    const lost = focusedControl.current;
    if (lost && !lost.isConnected) {
      focusedControl.current = null;
      if (!document.activeElement || document.activeElement === document.body) {
        active.column = 0;
        focusPending.current = true;
        setPosition(active);
      }
    }
    let stop: HTMLElement | null = null;
    for (const [index, row] of options.renderedRows()) {
      const controls = rowControls(row);
      const column = Math.min(active.column, controls.length - 1);
      controls.forEach((control, at) => {
        const isStop = index === active.row && at === column;
        control.tabIndex = isStop ? 0 : -1;
        if (isStop) {
          stop = control;
        }
      });
    }
    if (focusPending.current) {
      focusPending.current = false;
      (stop as HTMLElement | null)?.focus();
    }
  });

  const rowOf = (index: number): Element | undefined =>
    options.renderedRows().find(([at]) => at === index)?.[1];

  return {
    active,
    onKeyDown: event => {
      if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) {
        return;
      }
      const row = rowOf(active.row);
      const columns = row ? rowControls(row).length : 0;
      const at = {
        row: active.row,
        column: Math.max(0, Math.min(active.column, columns - 1))
      };
      const next = nextPosition(
        event.key,
        at,
        options.rowCount,
        Math.max(1, columns),
        options.page
      );
      if (!next) {
        return;
      }
      event.preventDefault();
      event.stopPropagation();
      options.reveal?.(next.row);
      focusPending.current = true;
      setPosition(next);
    },
    onFocus: event => {
      const target = event.target as Element;
      const found = options
        .renderedRows()
        .find(([, row]) => row.contains(target));
      if (!found) {
        return;
      }
      const column = rowControls(found[1]).indexOf(target as HTMLElement);
      focusedControl.current = column >= 0 ? (target as HTMLElement) : null;
      if (
        column >= 0 &&
        (found[0] !== position.row || column !== position.column)
      ) {
        setPosition({ row: found[0], column });
      }
    },
    onBlur: event => {
      const next = event.relatedTarget as Node | null;
      if (next && !event.currentTarget.contains(next)) {
        focusedControl.current = null;
      }
      if (!next || !event.currentTarget.contains(next)) {
        setPosition(at => (at.column === 0 ? at : { row: at.row, column: 0 }));
      }
    }
  };
}
