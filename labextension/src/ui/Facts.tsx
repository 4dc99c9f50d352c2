import React from 'react';

/** A description list: each fact's label, then its value. */
export function Facts(props: {
  facts: ReadonlyArray<[string, React.ReactNode]>;
  className?: string;
}): JSX.Element {
  return (
    <dl className={props.className}>
      {props.facts.map(([label, value]) => (
        <React.Fragment key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </React.Fragment>
      ))}
    </dl>
  );
}
