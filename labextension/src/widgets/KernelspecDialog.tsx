import type { ServerConnection } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';
import React, { useEffect, useRef, useState } from 'react';
import {
  createKernelspec,
  IInstalledKernelspec,
  IKernelspecForm,
  KERNEL_LANGUAGES,
  kernelspecBody,
  KernelspecField,
  kernelspecFieldOf,
  PROVISIONERS
} from '../kernelspec';
import { APIError } from '../request';
import type { IRuntimeImage } from '../tokens';
import { DialogButtons, FieldMessages, showModalForm } from './ModalForm';

export interface IKernelspecDialogOptions {
  image: IRuntimeImage;
  trans: TranslationBundle;
  serverSettings?: ServerConnection.ISettings;
}

type Errors = Partial<Record<KernelspecField, string[]>>;

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
  props: IKernelspecDialogOptions & {
    onDone: (installed: IInstalledKernelspec | null) => void;
  }
): JSX.Element {
  const { image, trans } = props;
  const [form, setForm] = useState<IKernelspecForm>({
    provisioner: 'kubernetes',
    kernelName: '',
    displayName: '',
    language: 'python',
    location: 'user',
    replace: false,
    launchTimeout: '',
    portRange: '',
    authorizedUsers: '',
    unauthorizedUsers: ''
  });
  const [errors, setErrors] = useState<Errors>({});
  const [conflict, setConflict] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [installed, setInstalled] = useState<IInstalledKernelspec | null>(null);
  const first = useRef<HTMLSelectElement>(null);
  const closeButton = useRef<HTMLButtonElement>(null);
  const replaceButton = useRef<HTMLButtonElement>(null);
  const formMessage = useRef<HTMLDivElement>(null);

  useEffect(() => {
    first.current?.focus();
  }, []);
  useEffect(() => {
    if (installed) {
      closeButton.current?.focus();
    }
  }, [installed]);
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
    if (errors[field as KernelspecField] || errors.form) {
      const next = { ...errors };
      delete next[field as KernelspecField];
      delete next.form;
      setErrors(next);
    }
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
      const result = await createKernelspec(
        image.name,
        body,
        props.serverSettings
      );
      setBusy(false);
      setConflict(null);
      setInstalled(result);
    } catch (error) {
      setBusy(false);
      if (error instanceof APIError && error.status === 409) {
        setErrors({});
        setConflict(error.message);
      } else if (error instanceof APIError && error.errors.length > 0) {
        const grouped: Errors = {};
        for (const e of error.errors) {
          const field = kernelspecFieldOf(e.path);
          const message =
            field === 'form' && e.path ? `${e.path}: ${e.message}` : e.message;
          (grouped[field] = grouped[field] ?? []).push(message);
        }
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
      <div className="jp-RuntimeImages-kernelspecResult" role="status">
        <p>{trans.__('Kernelspec installed.')}</p>
        <dl>
          <dt>{trans.__('Kernel name')}</dt>
          <dd>
            <code className="jp-RuntimeImages-kernelspecName">
              {installed.kernel_name}
            </code>
          </dd>
          <dt>{trans.__('kernel.json')}</dt>
          <dd>
            <code className="jp-RuntimeImages-kernelspecPath">
              {installed.path}
            </code>
          </dd>
        </dl>
        <div className="jp-RuntimeImages-dialogButtons">
          <button
            ref={closeButton}
            type="button"
            className="jp-Dialog-button jp-mod-accept jp-mod-styled"
            aria-label={trans.__('Close')}
            title={trans.__('Close')}
            onClick={() => props.onDone(installed)}
          >
            <div className="jp-Dialog-buttonLabel">{trans.__('Close')}</div>
          </button>
        </div>
      </div>
    );
  }

  const messages = (field: KernelspecField): string[] => errors[field] ?? [];
  const described = (field: KernelspecField) =>
    messages(field).length > 0
      ? {
          'aria-invalid': true,
          'aria-describedby': `${ID}-${field}-error`
        }
      : {};

  const row = (
    field: KernelspecField,
    label: string,
    control: JSX.Element,
    hint?: string
  ): JSX.Element => (
    <div className="jp-RuntimeImages-importField" data-field={field}>
      <label htmlFor={`${ID}-${field}`}>{label}</label>
      {control}
      {hint ? <div className="jp-RuntimeImages-fieldHint">{hint}</div> : null}
      <FieldMessages id={`${ID}-${field}-error`} messages={messages(field)} />
    </div>
  );

  const text = (
    field: 'kernelName' | 'displayName' | 'launchTimeout' | 'portRange',
    label: string,
    placeholder: string,
    help: string
  ): JSX.Element =>
    row(
      field,
      label,
      <input
        id={`${ID}-${field}`}
        type="text"
        className="jp-mod-styled"
        value={form[field]}
        placeholder={placeholder}
        aria-label={label}
        title={help}
        spellCheck={false}
        autoComplete="off"
        inputMode={field === 'launchTimeout' ? 'numeric' : undefined}
        onChange={e => update(field, e.currentTarget.value)}
        {...described(field)}
      />
    );

  const users = (
    field: 'authorizedUsers' | 'unauthorizedUsers',
    label: string,
    placeholder: string,
    help: string
  ): JSX.Element =>
    row(
      field,
      label,
      <textarea
        id={`${ID}-${field}`}
        className="jp-mod-styled"
        rows={2}
        value={form[field]}
        placeholder={placeholder}
        aria-label={label}
        title={help}
        spellCheck={false}
        onChange={e => update(field, e.currentTarget.value)}
        {...described(field)}
      />
    );

  const providerLabel = (p: string): string =>
    p === 'docker' ? trans.__('Docker') : trans.__('Kubernetes');

  return (
    <form
      className="jp-RuntimeImages-importForm jp-RuntimeImages-kernelspecForm"
      onSubmit={submit}
      noValidate
      aria-label={trans.__('Create kernelspec')}
    >
      <div className="jp-RuntimeImages-fieldHint">
        {trans.__('Runtime image:')}{' '}
        <code title={image.metadata?.image_name}>{image.display_name}</code>
      </div>
      {row(
        'provisioner',
        trans.__('Provisioner'),
        <select
          id={`${ID}-provisioner`}
          ref={first}
          className="jp-mod-styled"
          value={form.provisioner}
          aria-label={trans.__('Provisioner')}
          title={trans.__('Where the kernels run')}
          onChange={e => update('provisioner', e.currentTarget.value)}
          {...described('provisioner')}
        >
          {PROVISIONERS.map(p => (
            <option key={p} value={p}>
              {providerLabel(p)}
            </option>
          ))}
        </select>
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
      {row(
        'language',
        trans.__('Language'),
        <select
          id={`${ID}-language`}
          className="jp-mod-styled"
          value={form.language}
          aria-label={trans.__('Language')}
          title={trans.__('The kernel language')}
          onChange={e => update('language', e.currentTarget.value)}
          {...described('language')}
        >
          {KERNEL_LANGUAGES.map(l => (
            <option key={l} value={l}>
              {l === 'python'
                ? trans.__('Python')
                : l === 'r'
                  ? trans.__('R')
                  : trans.__('Scala')}
            </option>
          ))}
        </select>
      )}
      <fieldset
        className="jp-RuntimeImages-importField"
        data-field="location"
        aria-describedby={
          messages('location').length > 0 ? `${ID}-location-error` : undefined
        }
      >
        <legend>{trans.__('Install location')}</legend>
        <label className="jp-RuntimeImages-profile">
          <input
            id={`${ID}-location`}
            type="radio"
            name={`${ID}-location`}
            checked={form.location === 'user'}
            aria-label={trans.__('User')}
            title={trans.__("The user's Jupyter data directory")}
            onChange={() => update('location', 'user')}
          />
          {trans.__('User')}
        </label>
        <label className="jp-RuntimeImages-profile">
          <input
            type="radio"
            name={`${ID}-location`}
            checked={form.location === 'sys_prefix'}
            aria-label={trans.__('Environment (sys-prefix)')}
            title={trans.__(
              "The server environment's share/jupyter/kernels (the server must allow it)"
            )}
            onChange={() => update('location', 'sys_prefix')}
          />
          {trans.__('Environment (sys-prefix)')}
        </label>
        <FieldMessages
          id={`${ID}-location-error`}
          messages={messages('location')}
        />
      </fieldset>
      <div className="jp-RuntimeImages-importField" data-field="replace">
        <label className="jp-RuntimeImages-profile">
          <input
            id={`${ID}-replace`}
            type="checkbox"
            checked={form.replace}
            aria-label={trans.__('Replace an existing kernelspec')}
            title={trans.__('Replace an existing kernelspec')}
            onChange={e => update('replace', e.currentTarget.checked)}
          />
          {trans.__('Replace an existing kernelspec of that name')}
        </label>
        <FieldMessages
          id={`${ID}-replace-error`}
          messages={messages('replace')}
        />
      </div>
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
      {users(
        'authorizedUsers',
        trans.__('Authorized users'),
        trans.__('anyone'),
        trans.__('User names, separated by commas or new lines')
      )}
      {users(
        'unauthorizedUsers',
        trans.__('Unauthorized users'),
        'root',
        trans.__('User names, separated by commas or new lines')
      )}
      {conflict !== null && (
        <div
          className="jp-RuntimeImages-formMessage jp-RuntimeImages-kernelspecConflict"
          role="alert"
        >
          <div>{conflict}</div>
          <button
            ref={replaceButton}
            type="button"
            className="jp-mod-styled jp-mod-warn"
            aria-label={trans.__('Replace')}
            title={trans.__('Replace the existing kernelspec')}
            disabled={busy}
            onClick={() => void submit(undefined, true)}
          >
            {trans.__('Replace')}
          </button>
        </div>
      )}
      {messages('form').length > 0 && (
        <div
          ref={formMessage}
          tabIndex={-1}
          className="jp-RuntimeImages-formMessage jp-RuntimeImages-importError"
          role="alert"
        >
          {messages('form').map((message, index) => (
            <div key={index}>{message}</div>
          ))}
        </div>
      )}
      <DialogButtons
        trans={trans}
        submitLabel={trans.__('Create')}
        busyLabel={trans.__('Creating…')}
        busy={busy}
        onCancel={() => props.onDone(null)}
      />
    </form>
  );
}

/**
 * Show the "Create kernelspec" dialog (modal).
 *
 * @returns the kernelspec written, or `null` when closed without one
 */
export function showKernelspecDialog(
  options: IKernelspecDialogOptions
): Promise<IInstalledKernelspec | null> {
  return showModalForm<IInstalledKernelspec>({
    id: ID,
    title: options.trans.__(
      'Create kernelspec for "%1"',
      options.image.display_name
    ),
    className: 'jp-RuntimeImages-kernelspecDialog',
    render: done => <KernelspecForm {...options} onDone={done} />
  });
}
