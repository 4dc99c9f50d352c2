import type { TranslationBundle } from '@jupyterlab/translation';
import React, { forwardRef, useEffect, useRef } from 'react';
import type { IFieldError } from '../request';
import { classNames } from './classNames';

/**
 * The pieces every form of the extension is made of: a labelled field with its
 * messages, the messages of the whole form, the Cancel and submit buttons, and the
 * bookkeeping of field errors (the server's, grouped by field).
 */

/** The messages under a field, or nothing. */
export function FieldMessages(props: {
  id: string;
  messages: string[];
}): JSX.Element | null {
  if (props.messages.length === 0) {
    return null;
  }
  return (
    <div className="jp-RuntimeImages-fieldError" id={props.id} role="alert">
      {props.messages.map((message, index) => (
        <div key={index}>{message}</div>
      ))}
    </div>
  );
}

/**
 * The errors of the whole form (not of one field), above the buttons, or nothing.
 * Given a ref, it can take the focus (so a screen reader reads it).
 */
export const FormMessages = forwardRef<
  HTMLDivElement,
  { messages: string[] | undefined }
>((props, ref): JSX.Element | null => {
  const messages = props.messages ?? [];
  if (messages.length === 0) {
    return null;
  }
  return (
    <div
      ref={ref}
      tabIndex={ref ? -1 : undefined}
      className="jp-RuntimeImages-formMessage jp-RuntimeImages-importError"
      role="alert"
    >
      {messages.map((message, index) => (
        <div key={index}>{message}</div>
      ))}
    </div>
  );
});

/**
 * One field of a form dialog: label, control, the field's messages and whatever
 * goes under it (hints, warnings). `data-field` lets the tests and the CSS find it.
 */
export function FieldRow(props: {
  id: string;
  field: string;
  label: string;
  messages: string[];
  children: React.ReactNode;
  extra?: React.ReactNode;
}): JSX.Element {
  return (
    <div className="jp-RuntimeImages-importField" data-field={props.field}>
      <label htmlFor={props.id}>{props.label}</label>
      {props.children}
      <FieldMessages id={`${props.id}-error`} messages={props.messages} />
      {props.extra}
    </div>
  );
}

/**
 * A text box (or a text area with `rows`) in a {@link FieldRow}: labelled, its
 * help as title, marked invalid and described by its messages when it has any.
 */
export const TextField = forwardRef<
  HTMLInputElement,
  {
    id: string;
    field: string;
    label: string;
    help: string;
    value: string;
    messages: string[];
    onChange: (value: string) => void;
    onBlur?: () => void;
    /** A text area of this many rows instead of a text box. */
    rows?: number;
    placeholder?: string;
    list?: string;
    inputMode?: 'numeric';
    extra?: React.ReactNode;
  }
>((props, ref): JSX.Element => {
  const invalid = props.messages.length > 0;
  const common = {
    id: props.id,
    className: 'jp-mod-styled',
    value: props.value,
    placeholder: props.placeholder,
    'aria-label': props.label,
    title: props.help,
    'aria-invalid': invalid,
    'aria-describedby': invalid ? `${props.id}-error` : undefined,
    spellCheck: false,
    autoComplete: 'off',
    onBlur: props.onBlur
  };
  return (
    <FieldRow {...props}>
      {props.rows ? (
        <textarea
          {...common}
          rows={props.rows}
          onChange={e => props.onChange(e.currentTarget.value)}
        />
      ) : (
        <input
          {...common}
          ref={ref}
          type="text"
          list={props.list}
          inputMode={props.inputMode}
          onChange={e => props.onChange(e.currentTarget.value)}
        />
      )}
    </FieldRow>
  );
});

/**
 * A radio button or a check box with the text beside it, in its label. Its
 * accessible name is `label`, its tooltip `title` (the label when not given).
 */
export function Choice(props: {
  type: 'radio' | 'checkbox';
  label: string;
  /** The text beside the box, when not the label. */
  text?: string;
  title?: string;
  id?: string;
  /** The group of a radio button. */
  name?: string;
  checked: boolean;
  disabled?: boolean;
  onChange: (checked: boolean) => void;
}): JSX.Element {
  return (
    <label className="jp-RuntimeImages-profile">
      <input
        id={props.id}
        type={props.type}
        name={props.name}
        checked={props.checked}
        disabled={props.disabled}
        aria-label={props.label}
        title={props.title ?? props.label}
        onChange={e => props.onChange(e.currentTarget.checked)}
      />
      {props.text ?? props.label}
    </label>
  );
}

/**
 * A field of one check box: the {@link Choice}, a hint under it when given, then
 * the field's messages (their id is `${id}-error`).
 */
export function CheckboxField(props: {
  id: string;
  field: string;
  label: string;
  text?: string;
  title?: string;
  checked: boolean;
  disabled?: boolean;
  onChange: (checked: boolean) => void;
  hint?: string;
  messages?: string[];
}): JSX.Element {
  const { field, hint, messages, ...box } = props;
  return (
    <div className="jp-RuntimeImages-importField" data-field={field}>
      <Choice type="checkbox" {...box} />
      {hint !== undefined && (
        <div className="jp-RuntimeImages-fieldHint">{hint}</div>
      )}
      <FieldMessages id={`${props.id}-error`} messages={messages ?? []} />
    </div>
  );
}

/** One box of a {@link ChoiceGroup}: what it stands for and how it reads. */
export interface IChoice<V extends string> {
  value: V;
  label: string;
  text?: string;
  title?: string;
  /** Its id: the first box of a field that can be invalid has the field's id. */
  id?: string;
}

/**
 * A field of radio buttons (one value) or check boxes (any values): a fieldset
 * with its legend, a {@link Choice} per value and the field's messages, which
 * describe the fieldset.
 *
 * @param props.id the radio buttons' group name; the messages' id is `${id}-error`
 */
export function ChoiceGroup<V extends string>(props: {
  type: 'radio' | 'checkbox';
  id: string;
  field: string;
  legend: string;
  choices: ReadonlyArray<IChoice<V>>;
  isChecked: (value: V) => boolean;
  /** A radio button was chosen, or a check box ticked or cleared. */
  onToggle: (value: V) => void;
  messages?: string[];
  /** A class besides `jp-RuntimeImages-importField`. */
  className?: string;
}): JSX.Element {
  const messages = props.messages ?? [];
  return (
    <fieldset
      className={classNames('jp-RuntimeImages-importField', props.className)}
      data-field={props.field}
      aria-describedby={messages.length > 0 ? `${props.id}-error` : undefined}
    >
      <legend>{props.legend}</legend>
      {props.choices.map(({ value, ...box }) => (
        <Choice
          key={value}
          {...box}
          type={props.type}
          name={props.type === 'radio' ? props.id : undefined}
          checked={props.isChecked(value)}
          onChange={() => props.onToggle(value)}
        />
      ))}
      <FieldMessages id={`${props.id}-error`} messages={messages} />
    </fieldset>
  );
}

/** A ref for the element that takes the focus when the form opens. */
export function useInitialFocus<E extends HTMLElement>(): React.RefObject<E> {
  const ref = useRef<E>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return ref;
}

/** Field errors by field, `form` for those of the whole form. */
export type FormErrors<F extends string> = Partial<
  Record<F | 'form', string[]>
>;

/**
 * Group server field errors by the dialog field `fieldOf` maps their path to; errors
 * of the whole form keep their path in the message.
 */
export function groupErrorsBy<F extends string>(
  errors: ReadonlyArray<IFieldError>,
  fieldOf: (path: string) => F | 'form'
): Partial<Record<F | 'form', string[]>> {
  const grouped: Partial<Record<F | 'form', string[]>> = {};
  for (const error of errors) {
    const field = fieldOf(error.path);
    const message =
      field === 'form' && error.path
        ? `${error.path}: ${error.message}`
        : error.message;
    (grouped[field] = grouped[field] ?? []).push(message);
  }
  return grouped;
}

/**
 * The errors left once the user edits `field`: its own and the form's go (they
 * were about the old value); the same object when there are none to drop.
 */
export function withoutErrorsOf<E extends FormErrors<string>>(
  errors: E,
  field: string
): E {
  if (!errors[field] && !errors.form) {
    return errors;
  }
  const next = { ...errors };
  delete next[field];
  delete next.form;
  return next;
}

/**
 * A button of a JupyterLab dialog's button row (`jp-Dialog-button`), labelled
 * for screen readers and with a tooltip.
 */
export const DialogButton = forwardRef<
  HTMLButtonElement,
  {
    label: string;
    /** `accept` or `reject` (the style of the button). */
    kind: 'accept' | 'reject';
    type?: 'button' | 'submit';
    /** The text shown, when not the label (e.g. "Creating…" while busy). */
    text?: string;
    disabled?: boolean;
    onClick?: () => void;
  }
>((props, ref): JSX.Element => {
  return (
    <button
      ref={ref}
      type={props.type ?? 'button'}
      className={`jp-Dialog-button jp-mod-${props.kind} jp-mod-styled`}
      aria-label={props.label}
      title={props.label}
      disabled={props.disabled}
      onClick={props.onClick}
    >
      <div className="jp-Dialog-buttonLabel">{props.text ?? props.label}</div>
    </button>
  );
});

/** What the Cancel and submit buttons of a form dialog say and do. */
export interface IDialogButtonsProps {
  trans: TranslationBundle;
  submitLabel: string;
  /** The submit button's text while busy (it is disabled then). */
  busyLabel: string;
  busy: boolean;
  onCancel: () => void;
  cancelLabel?: string;
}

/** Cancel and submit buttons of a form dialog. */
export function DialogButtons(props: IDialogButtonsProps): JSX.Element {
  const { trans } = props;
  return (
    <div className="jp-RuntimeImages-dialogButtons">
      <DialogButton
        kind="reject"
        label={props.cancelLabel ?? trans.__('Cancel')}
        onClick={props.onCancel}
      />
      <DialogButton
        kind="accept"
        type="submit"
        label={props.submitLabel}
        text={props.busy ? props.busyLabel : props.submitLabel}
        disabled={props.busy}
      />
    </div>
  );
}

/**
 * What a form dialog shows once it is done, instead of the form: what happened,
 * the details (`children`), and Close, which takes the focus.
 */
export function DialogResult(props: {
  trans: TranslationBundle;
  className: string;
  /** What happened, e.g. "Published." */
  message: string;
  onClose: () => void;
  children: React.ReactNode;
}): JSX.Element {
  const { trans } = props;
  const close = useInitialFocus<HTMLButtonElement>();
  return (
    <div className={props.className} role="status">
      <p>{props.message}</p>
      {props.children}
      <div className="jp-RuntimeImages-dialogButtons">
        <DialogButton
          ref={close}
          kind="accept"
          label={trans.__('Close')}
          onClick={props.onClose}
        />
      </div>
    </div>
  );
}

/**
 * The form of a form dialog: its fields (`children`), then the messages of the
 * whole form and the Cancel and submit buttons. The browser's own validation is
 * off: the dialogs show their messages next to the fields.
 */
export function DialogForm(
  props: IDialogButtonsProps & {
    /** The form's accessible name. */
    label: string;
    /** A class besides `jp-RuntimeImages-importForm`. */
    className?: string;
    onSubmit: (event: React.FormEvent) => void;
    messages: string[] | undefined;
    /** Given, the messages take the focus through it. */
    messagesRef?: React.Ref<HTMLDivElement>;
    children: React.ReactNode;
  }
): JSX.Element {
  return (
    <form
      className={classNames('jp-RuntimeImages-importForm', props.className)}
      onSubmit={props.onSubmit}
      noValidate
      aria-label={props.label}
    >
      {props.children}
      <FormMessages ref={props.messagesRef} messages={props.messages} />
      <DialogButtons {...props} />
    </form>
  );
}
