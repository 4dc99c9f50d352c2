import React, { useEffect, useRef, useState } from 'react';
import { useRovingFocus } from './roving';

/**
 * A list that renders only the rows in (and near) the viewport.
 * Rows have a fixed height so that 1,000s of images stay cheap to filter and scroll.
 * The list is one tab stop; the arrow keys move between its rows' buttons (see
 * `useRovingFocus`), scrolling as they go; the row with the tab stop is always
 * rendered, so Tab reaches it wherever the list is scrolled.
 */
export function VirtualList<T>(props: VirtualList.IProps<T>): JSX.Element {
  const { items, rowHeight, overscan = 8 } = props;
  const ref = useRef<HTMLDivElement>(null);
  const body = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(800);

  useEffect(() => {
    const node = ref.current;
    if (!node) {
      return;
    }
    const measure = () => setHeight(node.clientHeight || 800);
    measure();
    if (typeof ResizeObserver === 'undefined') {
      return;
    }
    const observer = new ResizeObserver(measure);
    observer.observe(node);
    return () => observer.disconnect();
  }, []);

  const roving = useRovingFocus({
    rowCount: items.length,
    page: Math.max(1, Math.floor(height / rowHeight) - 1),
    renderedRows: () =>
      Array.from(
        body.current?.querySelectorAll<HTMLElement>(':scope > [data-index]') ??
          []
      ).map(row => [Number(row.dataset.index), row]),
    reveal: index => {
      const node = ref.current;
      if (!node) {
        return;
      }
      const top = index * rowHeight;
      if (top < node.scrollTop) {
        node.scrollTop = top;
      } else if (top + rowHeight > node.scrollTop + node.clientHeight) {
        node.scrollTop = top + rowHeight - node.clientHeight;
      }
      setScrollTop(node.scrollTop);
    }
  });

  // Keep the scroll position valid when the list shrinks (e.g. after filtering).
  const total = items.length * rowHeight;
  const top = Math.min(scrollTop, Math.max(0, total - height));
  const start = Math.max(0, Math.floor(top / rowHeight) - overscan);
  const end = Math.min(
    items.length,
    Math.ceil((top + height) / rowHeight) + overscan
  );
  const indexes: number[] = [];
  if (roving.active.row < start && roving.active.row < items.length) {
    indexes.push(roving.active.row);
  }
  for (let index = start; index < end; index++) {
    indexes.push(index);
  }
  if (roving.active.row >= end && roving.active.row < items.length) {
    indexes.push(roving.active.row);
  }
  const rows = indexes.map(index => {
    const item = items[index];
    return (
      <div
        key={props.itemKey(item)}
        role="listitem"
        data-index={index}
        className="jp-RuntimeImages-virtualRow"
        style={{ top: index * rowHeight, height: rowHeight }}
      >
        {props.renderItem(item, index)}
      </div>
    );
  });
  return (
    <div
      ref={ref}
      className={props.className}
      onScroll={event => setScrollTop(event.currentTarget.scrollTop)}
    >
      <div
        ref={body}
        role="list"
        aria-label={props.ariaLabel}
        className="jp-RuntimeImages-virtualBody"
        style={{ height: total }}
        onKeyDown={roving.onKeyDown}
        onFocus={roving.onFocus}
        onBlur={roving.onBlur}
      >
        {rows}
      </div>
    </div>
  );
}

export namespace VirtualList {
  export interface IProps<T> {
    items: ReadonlyArray<T>;
    rowHeight: number;
    overscan?: number;
    className?: string;
    ariaLabel?: string;
    itemKey: (item: T) => string;
    renderItem: (item: T, index: number) => React.ReactNode;
  }
}
