import type { FieldTemplateProps } from '@rjsf/utils';
import React, { useLayoutEffect } from 'react';

/**
 * The field template of the runtime image form: a `<label for>` that names the
 * control (JupyterLab's template renders a heading, which names nothing), the
 * field's description and its errors (their ids are those rjsf's controls point
 * to with `aria-describedby`), and `aria-invalid` on the control while it has
 * errors. rjsf's widgets take no `aria-invalid`, so it is set on the element by
 * id after each render (React does not manage that attribute there). Every
 * field has its label, the tags (an array, which rjsf leaves unlabelled) too.
 */
export function FieldTemplate(props: FieldTemplateProps): JSX.Element {
  const {
    id,
    label,
    required,
    hidden,
    schema,
    children,
    description,
    errors,
    help,
    rawErrors
  } = props;
  const invalid = (rawErrors ?? []).length > 0;
  const isGroup = schema.type === 'object';

  useLayoutEffect(() => {
    const control = isGroup ? null : document.getElementById(id);
    if (!control) {
      return;
    }
    if (invalid) {
      control.setAttribute('aria-invalid', 'true');
    } else {
      control.removeAttribute('aria-invalid');
    }
  });

  if (hidden) {
    return <div className="jp-RuntimeImages-hiddenField">{children}</div>;
  }
  if (isGroup) {
    return <div className="jp-RuntimeImages-formGroup">{children}</div>;
  }
  return (
    <div
      className={`form-group jp-RuntimeImages-formField${
        invalid ? ' jp-mod-invalid' : ''
      }`}
    >
      <label htmlFor={id} className="jp-RuntimeImages-formLabel">
        {label}
        {required && (
          <span className="jp-RuntimeImages-required" aria-hidden="true">
            {' *'}
          </span>
        )}
      </label>
      <div className="jp-RuntimeImages-formControl">
        {children}
        {description}
        <div className="validationErrors">{errors}</div>
        {help}
      </div>
    </div>
  );
}
