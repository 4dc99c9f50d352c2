import type { TranslationBundle } from '@jupyterlab/translation';
import React, { useEffect, useRef, useState } from 'react';
import { APIError } from '../../request';
import type { IRuntimeImage } from '../../tokens';
import { TextButton } from '../../ui/buttons';
import { Facts } from '../../ui/Facts';
import {
  CheckboxField,
  ChoiceGroup,
  DialogForm,
  DialogResult,
  FieldRow,
  FormErrors,
  groupErrorsBy,
  TextField,
  useInitialFocus,
  withoutErrorsOf
} from '../../ui/forms';
import { formDialog, FormDialogProps } from '../../ui/modal';
import type { IInstalledKernelspec } from '../api';
import {
  IKernelspecForm,
  KERNEL_LANGUAGES,
  kernelspecBody,
  KernelspecField,
  kernelspecFieldOf,
  newKernelspecForm,
  PROVISIONERS
} from '../form';
import type { KernelspecsModel } from '../model';

export interface IKernelspecDialogOptions {
  image: IRuntimeImage;
  trans: TranslationBundle;
  model: KernelspecsModel;
}

type Errors = FormErrors<KernelspecField>;

const ID = 'jp-RuntimeImages-kernelspec';

/** The kernel name the server derives: `k8s_<name>` / `docker_<name>`. */
function defaultKernelName(provisioner: string, name: string): string {
  const prefix = provisioner === 'docker' ? 'docker' : 'k8s';
  return `${prefix}_${name}`.replace(/\s+/g, '_').toLowerCase();
}

/**
 * The "Create kernelspec" form: the options of
 * `POST runtime-images/images/{name}/kernelspec`. Shows the kernelspec written;
 * server field errors show next to their fields; a 409 offers to replace.
 */
export function KernelspecForm(
  props: FormDialogProps<IKernelspecDialogOptions, IInstalledKernelspec>
): JSX.Element {
  const { image, trans } = props;
  const [form, setForm] = useState<IKernelspecForm>(newKernelspecForm);
  const [errors, setErrors] = useState<Errors>({});
  const [conflict, setConflict] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [installed, setInstalled] = useState<IInstalledKernelspec | null>(null);
  const first = useInitialFocus<HTMLSelectElement>();
  const replaceButton = useRef<HTMLButtonElement>(null);
  const formMessage = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (conflict !== null) {
      replaceButton.current?.focus();
    }
  }, [conflict]);
  useEffect(() => {
    if ((errors.form ?? []).length > 0) {
      formMessage.current?.focus();
    }
  }, [errors.form]);

  const update = (field: keyof IKernelspecForm, value: any): void => {
    setForm({ ...form, [field]: value });
    setErrors(withoutErrorsOf(errors, field));
    if (field === 'kernelName' || field === 'provisioner') {
      setConflict(null);
    }
  };

  const submit = async (
    event?: React.FormEvent,
    replace?: boolean
  ): Promise<void> => {
    event?.preventDefault();
    if (busy) {
      return;
    }
    const body = kernelspecBody(replace ? { ...form, replace: true } : form);
    setBusy(true);
    try {
      const result = await props.model.install(image.name, body);
      setBusy(false);
      setConflict(null);
      setInstalled(result);
    } catch (error) {
      setBusy(false);
      if (error instanceof APIError && error.status === 409) {
        setErrors({});
        setConflict(error.message);
      } else if (error instanceof APIError && error.errors.length > 0) {
        const grouped = groupErrorsBy(error.errors, kernelspecFieldOf);
        setErrors(grouped);
        const firstField = Object.keys(grouped).find(f => f !== 'form');
        if (firstField) {
          document.getElementById(`${ID}-${firstField}`)?.focus();
        }
      } else {
        // 424 (gateway-provisioners missing) and anything else: as the server says it.
        setErrors({
          form: [error instanceof Error ? error.message : String(error)]
        });
      }
    }
  };

  if (installed) {
    return (
      <DialogResult
        trans={trans}
        className="jp-RuntimeImages-kernelspecResult"
        message={trans.__('Kernelspec installed.')}
        onClose={() => props.onDone(installed)}
      >
        <Facts
          facts={[
            [
              trans.__('Kernel name'),
              <code className="jp-RuntimeImages-kernelspecName">
                {installed.kernel_name}
              </code>
            ],
            [
              trans.__('kernel.json'),
              <code className="jp-RuntimeImages-kernelspecPath">
                {installed.path}
              </code>
            ]
          ]}
        />
      </DialogResult>
    );
  }

  const messages = (field: KernelspecField): string[] => errors[field] ?? [];

  /** A text box, or a text area with `rows`. */
  const text = (
    field:
      | 'kernelName'
      | 'displayName'
      | 'launchTimeout'
      | 'portRange'
      | 'authorizedUsers'
      | 'unauthorizedUsers',
    label: string,
    placeholder: string,
    help: string,
    rows?: number
  ): JSX.Element => (
    <TextField
      id={`${ID}-${field}`}
      field={field}
      label={label}
      help={help}
      placeholder={placeholder}
      rows={rows}
      inputMode={field === 'launchTimeout' ? 'numeric' : undefined}
      value={form[field]}
      messages={messages(field)}
      onChange={value => update(field, value)}
    />
  );

  /** A drop-down of `choices`, shown with their `labels`. */
  const select = (
    field: 'provisioner' | 'language',
    label: string,
    help: string,
    choices: string[],
    labelOf: (choice: string) => string,
    ref?: React.Ref<HTMLSelectElement>
  ): JSX.Element => {
    const id = `${ID}-${field}`;
    const invalid = messages(field).length > 0;
    return (
      <FieldRow id={id} field={field} label={label} messages={messages(field)}>
        <select
          id={id}
          ref={ref}
          className="jp-mod-styled"
          value={form[field]}
          aria-label={label}
          title={help}
          aria-invalid={invalid || undefined}
          aria-describedby={invalid ? `${id}-error` : undefined}
          onChange={e => update(field, e.currentTarget.value)}
        >
          {choices.map(choice => (
            <option key={choice} value={choice}>
              {labelOf(choice)}
            </option>
          ))}
        </select>
      </FieldRow>
    );
  };

  const providerLabel = (p: string): string =>
    p === 'docker' ? trans.__('Docker') : trans.__('Kubernetes');
  const languageLabel = (l: string): string =>
    l === 'python'
      ? trans.__('Python')
      : l === 'r'
        ? trans.__('R')
        : trans.__('Scala');

  return (
    <DialogForm
      label={trans.__('Create kernelspec')}
      className="jp-RuntimeImages-kernelspecForm"
      onSubmit={submit}
      messages={errors.form}
      messagesRef={formMessage}
      trans={trans}
      submitLabel={trans.__('Create')}
      busyLabel={trans.__('Creating…')}
      busy={busy}
      onCancel={() => props.onDone(null)}
    >
      <div className="jp-RuntimeImages-fieldHint">
        {trans.__('Runtime image:')}{' '}
        <code title={image.metadata?.image_name}>{image.display_name}</code>
      </div>
      {select(
        'provisioner',
        trans.__('Provisioner'),
        trans.__('Where the kernels run'),
        PROVISIONERS,
        providerLabel,
        first
      )}
      {text(
        'kernelName',
        trans.__('Kernel name'),
        defaultKernelName(form.provisioner, image.name),
        trans.__(
          'The kernelspec directory name: ASCII letters, digits, ".", "-" and "_"'
        )
      )}
      {text(
        'displayName',
        trans.__('Display name'),
        form.provisioner === 'docker'
          ? trans.__('%1 on Docker', image.display_name)
          : trans.__('%1 on Kubernetes', image.display_name),
        trans.__('The name shown in the launcher and the kernel picker')
      )}
      {select(
        'language',
        trans.__('Language'),
        trans.__('The kernel language'),
        KERNEL_LANGUAGES,
        languageLabel
      )}
      <ChoiceGroup<IKernelspecForm['location']>
        type="radio"
        id={`${ID}-location`}
        field="location"
        legend={trans.__('Install location')}
        choices={[
          {
            value: 'user',
            id: `${ID}-location`,
            label: trans.__('User'),
            title: trans.__("The user's Jupyter data directory")
          },
          {
            value: 'sys_prefix',
            label: trans.__('Environment (sys-prefix)'),
            title: trans.__(
              "The server environment's share/jupyter/kernels (the server must allow it)"
            )
          }
        ]}
        isChecked={location => form.location === location}
        onToggle={location => update('location', location)}
        messages={messages('location')}
      />
      <CheckboxField
        id={`${ID}-replace`}
        field="replace"
        label={trans.__('Replace an existing kernelspec')}
        text={trans.__('Replace an existing kernelspec of that name')}
        checked={form.replace}
        onChange={checked => update('replace', checked)}
        messages={messages('replace')}
      />
      {text(
        'launchTimeout',
        trans.__('Launch timeout (seconds)'),
        '30',
        trans.__('How long to wait for the kernel to start, 1-86400 seconds')
      )}
      {text(
        'portRange',
        trans.__('Port range'),
        '0..0',
        trans.__('LOWER..UPPER, e.g. 40000..41000; 0..0 for any port')
      )}
      {text(
        'authorizedUsers',
        trans.__('Authorized users'),
        trans.__('anyone'),
        trans.__('User names, separated by commas or new lines'),
        2
      )}
      {text(
        'unauthorizedUsers',
        trans.__('Unauthorized users'),
        'root',
        trans.__('User names, separated by commas or new lines'),
        2
      )}
      {conflict !== null && (
        <div
          className="jp-RuntimeImages-formMessage jp-RuntimeImages-kernelspecConflict"
          role="alert"
        >
          <div>{conflict}</div>
          <TextButton
            ref={replaceButton}
            className="jp-mod-styled jp-mod-warn"
            label={trans.__('Replace')}
            title={trans.__('Replace the existing kernelspec')}
            disabled={busy}
            onClick={() => void submit(undefined, true)}
          />
        </div>
      )}
    </DialogForm>
  );
}

/**
 * Show the "Create kernelspec" dialog (modal): the kernelspec written, or `null`
 * when closed without one.
 */
export const showKernelspecDialog = formDialog<
  IKernelspecDialogOptions,
  IInstalledKernelspec
>(KernelspecForm, {
  id: ID,
  className: 'jp-RuntimeImages-kernelspecDialog',
  title: ({ trans, image }) =>
    trans.__('Create kernelspec for "%1"', image.display_name)
});
