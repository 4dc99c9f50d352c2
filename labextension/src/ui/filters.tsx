import React, { forwardRef } from 'react';

/**
 * The search box of a filter: `label` is both its placeholder and its accessible
 * name; `onChange` gets the text.
 */
export const SearchBox = forwardRef<
  HTMLInputElement,
  {
    className: string;
    label: string;
    /** What the filter matches, as a tooltip. */
    title?: string;
    value: string;
    onChange: (text: string) => void;
  }
>((props, ref): JSX.Element => (
  <input
    ref={ref}
    type="search"
    className={`jp-mod-styled ${props.className}`}
    placeholder={props.label}
    aria-label={props.label}
    title={props.title}
    value={props.value}
    onChange={event => props.onChange(event.currentTarget.value)}
  />
));

/**
 * How many items a filter shows (`count`) of how many (`total`), read out when it
 * changes; `filter` is the text it was for (the UI tests wait on these data
 * attributes).
 */
export function FilterCount(props: {
  /** A class besides `jp-RuntimeImages-count`. */
  className?: string;
  count: number;
  total: number;
  filter?: string;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <div
      className={
        props.className
          ? `jp-RuntimeImages-count ${props.className}`
          : 'jp-RuntimeImages-count'
      }
      data-count={props.count}
      data-total={props.total}
      data-filter={props.filter}
      aria-live="polite"
    >
      {props.children}
    </div>
  );
}
