import React, { useEffect, useRef, useState } from 'react';

/**
 * A list that renders only the rows in (and near) the viewport.
 * Rows have a fixed height so that 1,000s of images stay cheap to filter and scroll.
 */
export function VirtualList<T>(props: VirtualList.IProps<T>): JSX.Element {
  const { items, rowHeight, overscan = 8 } = props;
  const ref = useRef<HTMLDivElement>(null);
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

  // Keep the scroll position valid when the list shrinks (e.g. after filtering).
  const total = items.length * rowHeight;
  const top = Math.min(scrollTop, Math.max(0, total - height));
  const start = Math.max(0, Math.floor(top / rowHeight) - overscan);
  const end = Math.min(
    items.length,
    Math.ceil((top + height) / rowHeight) + overscan
  );
  const rows: JSX.Element[] = [];
  for (let index = start; index < end; index++) {
    const item = items[index];
    rows.push(
      <div
        key={props.itemKey(item)}
        role="listitem"
        className="jp-RuntimeImages-virtualRow"
        style={{ top: index * rowHeight, height: rowHeight }}
      >
        {props.renderItem(item, index)}
      </div>
    );
  }
  return (
    <div
      ref={ref}
      className={props.className}
      onScroll={event => setScrollTop(event.currentTarget.scrollTop)}
    >
      <div
        role="list"
        aria-label={props.ariaLabel}
        className="jp-RuntimeImages-virtualBody"
        style={{ height: total }}
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
