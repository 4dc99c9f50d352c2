import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';

/**
 * Under the name of a new build (import or build dialog): the resource name the
 * display name becomes, and what else there is to say about it (`children`).
 * Nothing while there is no name.
 */
export function ResourceNameHint(props: {
  name: string;
  trans: TranslationBundle;
  children?: React.ReactNode;
}): JSX.Element | null {
  if (!props.name) {
    return null;
  }
  return (
    <div className="jp-RuntimeImages-fieldHint">
      {props.trans.__('Resource name:')}{' '}
      <code className="jp-RuntimeImages-resourceName">{props.name}</code>
      {props.children}
    </div>
  );
}
