import { ReactWidget } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import React from 'react';

/**
 * Show a modal form dialog in the style of the "Import image" dialog: Escape
 * closes it, Tab keeps the focus inside, a click outside does not close it, and
 * the focus goes back to where it was.
 *
 * @param render the form; it calls `done(value)` to close the dialog
 * @returns the value given to `done`, or `null` when closed with Escape
 */
export function showModalForm<T>(options: {
  id: string;
  title: string;
  className: string;
  render: (done: (value: T | null) => void) => JSX.Element;
}): Promise<T | null> {
  const previous = document.activeElement as HTMLElement | null;
  return new Promise(resolve => {
    let closed = false;
    const finish = (value: T | null): void => {
      if (closed) {
        return;
      }
      closed = true;
      document.removeEventListener('keydown', onEscape, true);
      Widget.detach(host);
      host.dispose();
      previous?.focus?.();
      resolve(value);
    };
    const titleId = `${options.id}-title`;
    const host = ReactWidget.create(
      <div
        className={`jp-Dialog-content jp-RuntimeImages-formDialog ${options.className}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        onKeyDown={event => {
          if (event.key === 'Tab') {
            const nodes = Array.from(
              event.currentTarget.querySelectorAll<HTMLElement>(
                'input:not([disabled]), textarea, select, button:not([disabled])'
              )
            );
            if (nodes.length === 0) {
              return;
            }
            const firstNode = nodes[0];
            const lastNode = nodes[nodes.length - 1];
            if (event.shiftKey && document.activeElement === firstNode) {
              event.preventDefault();
              lastNode.focus();
            } else if (!event.shiftKey && document.activeElement === lastNode) {
              event.preventDefault();
              firstNode.focus();
            }
          }
        }}
      >
        <div className="jp-Dialog-header">
          <h2 id={titleId} className="jp-RuntimeImages-importTitle">
            {options.title}
          </h2>
        </div>
        <div className="jp-Dialog-body">{options.render(finish)}</div>
      </div>
    );
    host.addClass('jp-Dialog');
    host.addClass('jp-RuntimeImages-importDialogHost');
    host.node.addEventListener('mousedown', event => {
      if (event.target === host.node) {
        event.preventDefault();
      }
    });
    // Escape closes the dialog wherever the focus is (a button that got disabled
    // while a request ran leaves it on the body).
    const onEscape = (event: KeyboardEvent): void => {
      if (event.key === 'Escape') {
        event.preventDefault();
        event.stopPropagation();
        finish(null);
      }
    };
    document.addEventListener('keydown', onEscape, true);
    Widget.attach(host, document.body);
  });
}

/** The props of a form shown by {@link formDialog}: its options, and `onDone`. */
export type FormDialogProps<P, T> = P & {
  /** Close the dialog with this value (`null`: cancelled). */
  onDone: (value: T | null) => void;
};

/**
 * The function that shows the form component `Form` in a modal form dialog (see
 * {@link showModalForm}): given `Form`'s options, it resolves with the value the
 * form is done with, or `null` when cancelled.
 *
 * @param dialog.id the prefix of the ids in the dialog (its title is `${id}-title`)
 * @param dialog.title the dialog's title, for the options it is shown with
 */
export function formDialog<P, T>(
  Form: (props: FormDialogProps<P, T>) => JSX.Element,
  dialog: { id: string; className: string; title: (options: P) => string }
): (options: P) => Promise<T | null> {
  return options =>
    showModalForm<T>({
      id: dialog.id,
      className: dialog.className,
      title: dialog.title(options),
      render: done => <Form {...options} onDone={done} />
    });
}
