import type { TranslationBundle } from '@jupyterlab/translation';
import { FormEvent, useState } from 'react';
import type { BuildsModel } from '../model';
import { RESOURCE_NAME_PATTERN, toResourceName } from '../resource';
import type { ICustomNBImage } from '../types';
import { APIError, IFieldError } from '../../request';
import { FormErrors, withoutErrorsOf } from '../../ui/forms';
import type { FormDialogProps } from '../../ui/modal';

/** The fields every new build has: they become its name and annotations. */
export interface IIdentityForm {
  displayName: string;
  description: string;
  creator: string;
}

/**
 * What is wrong with the name, description and creator of a new build (the
 * import and build dialogs check them alike).
 */
export function identityErrors(
  form: IIdentityForm,
  trans: TranslationBundle
): FormErrors<keyof IIdentityForm> {
  const errors: FormErrors<keyof IIdentityForm> = {};
  if (!form.displayName.trim()) {
    errors.displayName = [trans.__('A name is required.')];
  } else if (!RESOURCE_NAME_PATTERN.test(toResourceName(form.displayName))) {
    errors.displayName = [
      trans.__('The name needs at least one letter or digit.')
    ];
  }
  if (!form.description.trim()) {
    errors.description = [trans.__('A description is required.')];
  }
  if (!form.creator.trim()) {
    errors.creator = [trans.__('A creator is required.')];
  }
  return errors;
}

/**
 * The errors to show after the server refused a new build: a 409 means the name
 * is taken, field errors go to their fields (`groupErrors`), anything else is a
 * message of the whole form.
 */
export function submitErrors<F extends string>(
  error: unknown,
  resourceName: string,
  groupErrors: (errors: ReadonlyArray<IFieldError>) => FormErrors<F>,
  trans: TranslationBundle
): FormErrors<F> {
  if (error instanceof APIError && error.status === 409) {
    return {
      displayName: [
        trans.__(
          'The name "%1" is taken: a build with this name exists. Choose another name, or delete that build first.',
          resourceName
        )
      ],
      form: error.message ? [error.message] : []
    } as FormErrors<F>;
  }
  if (error instanceof APIError && error.errors.length > 0) {
    return groupErrors(error.errors);
  }
  return {
    form: [error instanceof Error ? error.message : String(error)]
  } as FormErrors<F>;
}

/**
 * The state and the submit the "Import image" and "Build image" forms share:
 * the values (name and description empty, creator prefilled); `fieldProps`
 * wires a text field to its value; `messages` are a field's: what is wrong
 * with its value (the form's own checks, and those of the name, description
 * and creator), once submitted or `early`, then what the server said (an edit
 * drops those of its field); `formProps` wire the `DialogForm`: its
 * submit focuses the first invalid field, or sends the CustomNBImage and shows
 * why the server refused it; the submit button is disabled while it runs.
 *
 * @param props the dialog's: its model, translations, prefilled creator and `onDone`
 * @param options.idPrefix the fields' ids are `${idPrefix}-${field}`
 */
export function useNewBuildForm<T extends IIdentityForm, F extends string>(
  props: FormDialogProps<
    { model: BuildsModel; trans: TranslationBundle; creator?: string },
    ICustomNBImage
  >,
  options: {
    /** The initial values of the other fields. */
    initial: Omit<T, keyof IIdentityForm>;
    idPrefix: string;
    toResource: (form: T) => ICustomNBImage;
    groupErrors: (errors: ReadonlyArray<IFieldError>) => FormErrors<F>;
    /** What is wrong with the other fields. */
    validate: (form: T) => FormErrors<F>;
  }
) {
  const { idPrefix } = options;
  const [form, setForm] = useState<T>(
    () =>
      ({
        ...options.initial,
        displayName: '',
        description: '',
        creator: props.creator ?? ''
      }) as T
  );
  const [submitted, setSubmitted] = useState(false);
  const [serverErrors, setServerErrors] = useState<FormErrors<F>>({});
  const [busy, setBusy] = useState(false);
  const resourceName = toResourceName(form.displayName);
  const clientErrors: FormErrors<F> = {
    ...options.validate(form),
    ...identityErrors(form, props.trans)
  };

  const update = <K extends keyof T>(field: K, value: T[K]): void => {
    setForm({ ...form, [field]: value });
    setServerErrors(withoutErrorsOf(serverErrors, field as string));
  };

  /** The messages of `field` (or of the whole `form`). */
  const messages = (field: F | 'form', early = false): string[] => [
    ...(submitted || early ? (clientErrors[field] ?? []) : []),
    ...(serverErrors[field] ?? [])
  ];

  /** The id, value and `onChange` of the text field of `field`. */
  const fieldProps = (field: keyof T & F) => ({
    id: `${idPrefix}-${field}`,
    field,
    value: form[field] as string,
    onChange: (value: string) => update(field, value as T[typeof field])
  });

  const submit = async (event?: FormEvent): Promise<void> => {
    event?.preventDefault();
    setSubmitted(true);
    if (busy) {
      return;
    }
    const invalid = Object.keys(clientErrors);
    if (invalid.length > 0) {
      document.getElementById(`${idPrefix}-${invalid[0]}`)?.focus();
      return;
    }
    setBusy(true);
    try {
      props.onDone(await props.model.submit(options.toResource(form)));
    } catch (error) {
      setBusy(false);
      setServerErrors(
        submitErrors(error, resourceName, options.groupErrors, props.trans)
      );
      if (error instanceof APIError && error.status === 409) {
        document.getElementById(`${idPrefix}-displayName`)?.focus();
      }
    }
  };

  const formProps = {
    trans: props.trans,
    busy,
    onSubmit: submit,
    messages: messages('form'),
    onCancel: () => props.onDone(null)
  };

  return { form, update, fieldProps, resourceName, messages, formProps };
}
