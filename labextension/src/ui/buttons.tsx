import { LabIcon } from '@jupyterlab/ui-components';
import React, { forwardRef } from 'react';

/**
 * A button with text whose `aria-label` and `title` say what it does (the text
 * alone is often too short: "Retry" vs "Retry build"). The UI tests find buttons
 * by that label.
 */
export const TextButton = forwardRef<
  HTMLButtonElement,
  {
    /** The `aria-label`, and the `title` unless `title` is given. */
    label: string;
    title?: string;
    className: string;
    onClick: () => void;
    disabled?: boolean;
    /** The text shown; the label when not given. */
    children?: React.ReactNode;
  }
>((props, ref): JSX.Element => {
  return (
    <button
      ref={ref}
      type="button"
      className={props.className}
      aria-label={props.label}
      title={props.title ?? props.label}
      disabled={props.disabled}
      onClick={props.onClick}
    >
      {props.children ?? props.label}
    </button>
  );
});

/**
 * A small icon button with both `aria-label` and `title` (the icon: a `LabIcon`,
 * or what a command's `icon` gives).
 */
export function IconButton(props: {
  icon: LabIcon.IMaybeResolvable;
  label: string;
  onClick: () => void;
  disabled?: boolean;
  className?: string;
  /** The id of what the button acts on (e.g. the row's name), read after the label. */
  describedBy?: string;
}): JSX.Element {
  return (
    <button
      type="button"
      className={`jp-RuntimeImages-iconButton ${props.className ?? ''}`}
      aria-label={props.label}
      aria-describedby={props.describedBy}
      title={props.label}
      disabled={props.disabled}
      onClick={event => {
        event.stopPropagation();
        props.onClick();
      }}
    >
      <LabIcon.resolveReact icon={props.icon} tag="span" elementSize="normal" />
    </button>
  );
}

/** A button of a list row: its icon, its label and what it does. */
export interface IRowAction {
  icon: LabIcon.IMaybeResolvable;
  label: string;
  onClick: () => void;
  /** Its React key, when the label may not be unique. */
  key?: string;
}

/**
 * The buttons of a list row (`jp-RuntimeImages-actions`): an {@link IconButton}
 * each, in order; `false` stands for a button the row does not offer.
 *
 * @param props.describedBy the id of what names the row, read after each label
 */
export function RowActions(props: {
  actions: ReadonlyArray<IRowAction | false>;
  describedBy?: string;
}): JSX.Element {
  return (
    <span className="jp-RuntimeImages-actions">
      {props.actions.map(
        action =>
          action && (
            <IconButton
              key={action.key ?? action.label}
              describedBy={props.describedBy}
              icon={action.icon}
              label={action.label}
              onClick={action.onClick}
            />
          )
      )}
    </span>
  );
}
