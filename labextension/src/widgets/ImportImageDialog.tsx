import type { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import React, { useEffect, useMemo, useRef, useState } from 'react';
import type { BuildsModel } from '../builds/model';
import {
  checkReference,
  groupFieldErrors,
  IImportForm,
  ImportField,
  importResource,
  RESOURCE_NAME_PATTERN,
  toResourceName
} from '../builds/resource';
import { DEFAULT_PROFILES, ICustomNBImage, PROFILES } from '../builds/types';
import { APIError } from '../request';

export interface IImportImageOptions {
  model: BuildsModel;
  trans: TranslationBundle;
  /** The image reference grammar (the runtime-image schema's pattern). */
  pattern: string;
  /** Prefilled creator (the user's name, when known). */
  creator?: string;
  /** Whether a runtime image with this name exists (a Ready import updates it). */
  imageExists?: (name: string) => boolean;
}

type Errors = Partial<Record<ImportField, string[]>>;

/**
 * The "Import image" form: image reference (checked as you type), name,
 * description, creator and requirement profiles. Submits a CustomNBImage
 * (buildType ImageImport); server field errors show next to their fields.
 */
export function ImportImageForm(
  props: IImportImageOptions & {
    onDone: (created: ICustomNBImage | null) => void;
  }
): JSX.Element {
  const { model, trans, pattern } = props;
  const [form, setForm] = useState<IImportForm>({
    image: '',
    displayName: '',
    description: '',
    creator: props.creator ?? '',
    profiles: [...DEFAULT_PROFILES]
  });
  const [touched, setTouched] = useState<Partial<Record<ImportField, boolean>>>(
    {}
  );
  const [submitted, setSubmitted] = useState(false);
  const [serverErrors, setServerErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);

  useEffect(() => {
    first.current?.focus();
  }, []);

  const reference = useMemo(
    () => checkReference(form.image, pattern),
    [form.image, pattern]
  );
  const resourceName = toResourceName(form.displayName);

  const clientErrors: Errors = {};
  if (!form.image.trim()) {
    clientErrors.image = [trans.__('An image reference is required.')];
  } else if (!reference.valid) {
    clientErrors.image = [
      trans.__(
        'Not a valid image reference: expected [registry[:port]/]repository[:tag][@sha256:digest], lower case.'
      )
    ];
  }
  if (!form.displayName.trim()) {
    clientErrors.displayName = [trans.__('A name is required.')];
  } else if (!RESOURCE_NAME_PATTERN.test(resourceName)) {
    clientErrors.displayName = [
      trans.__('The name needs at least one letter or digit.')
    ];
  }
  if (!form.description.trim()) {
    clientErrors.description = [trans.__('A description is required.')];
  }
  if (!form.creator.trim()) {
    clientErrors.creator = [trans.__('A creator is required.')];
  }

  const shown = (field: ImportField): string[] => {
    const own =
      submitted || touched[field] || (field === 'image' && form.image !== '')
        ? (clientErrors[field] ?? [])
        : [];
    return [...own, ...(serverErrors[field] ?? [])];
  };

  const update = (field: keyof IImportForm, value: any): void => {
    setForm({ ...form, [field]: value });
    if (serverErrors[field as ImportField] || serverErrors.form) {
      const next = { ...serverErrors };
      delete next[field as ImportField];
      delete next.form;
      setServerErrors(next);
    }
  };

  const toggleProfile = (profile: string): void => {
    const profiles = form.profiles.includes(profile)
      ? form.profiles.filter(p => p !== profile)
      : [...form.profiles, profile];
    update(
      'profiles',
      PROFILES.filter(p => profiles.includes(p))
    );
  };

  const submit = async (event?: React.FormEvent): Promise<void> => {
    event?.preventDefault();
    setSubmitted(true);
    if (busy) {
      return;
    }
    if (Object.keys(clientErrors).length > 0) {
      const field = Object.keys(clientErrors)[0];
      document.getElementById(`jp-RuntimeImages-import-${field}`)?.focus();
      return;
    }
    setBusy(true);
    try {
      const created = await model.submit(importResource(form));
      props.onDone(created);
    } catch (error) {
      setBusy(false);
      if (error instanceof APIError && error.status === 409) {
        setServerErrors({
          displayName: [
            trans.__(
              'The name "%1" is taken: a build with this name exists. Choose another name, or delete that build first.',
              resourceName
            )
          ],
          form: error.message ? [error.message] : []
        });
        document.getElementById('jp-RuntimeImages-import-displayName')?.focus();
      } else if (error instanceof APIError && error.errors.length > 0) {
        const grouped = groupFieldErrors(error.errors);
        setServerErrors(grouped);
      } else {
        setServerErrors({
          form: [error instanceof Error ? error.message : String(error)]
        });
      }
    }
  };

  const fieldErrors = (field: ImportField): JSX.Element | null => {
    const messages = shown(field);
    if (messages.length === 0) {
      return null;
    }
    return (
      <div
        className="jp-RuntimeImages-fieldError"
        id={`jp-RuntimeImages-import-${field}-error`}
        role="alert"
      >
        {messages.map((message, index) => (
          <div key={index}>{message}</div>
        ))}
      </div>
    );
  };

  const textField = (
    field: 'image' | 'displayName' | 'description' | 'creator',
    label: string,
    help: string,
    extra?: React.ReactNode
  ): JSX.Element => {
    const id = `jp-RuntimeImages-import-${field}`;
    const invalid = shown(field).length > 0;
    const Tag: any = field === 'description' ? 'textarea' : 'input';
    return (
      <div className="jp-RuntimeImages-importField" data-field={field}>
        <label htmlFor={id}>{label}</label>
        <Tag
          id={id}
          ref={field === 'image' ? first : undefined}
          className="jp-mod-styled"
          type={Tag === 'input' ? 'text' : undefined}
          rows={Tag === 'textarea' ? 2 : undefined}
          value={form[field]}
          aria-label={label}
          title={help}
          aria-invalid={invalid}
          aria-describedby={invalid ? `${id}-error` : undefined}
          spellCheck={false}
          autoComplete="off"
          onChange={(e: React.ChangeEvent<HTMLInputElement>) =>
            update(field, e.currentTarget.value)
          }
          onBlur={() => setTouched({ ...touched, [field]: true })}
        />
        {fieldErrors(field)}
        {extra}
      </div>
    );
  };

  const existing =
    resourceName &&
    RESOURCE_NAME_PATTERN.test(resourceName) &&
    props.imageExists?.(resourceName);

  return (
    <form
      className="jp-RuntimeImages-importForm"
      onSubmit={submit}
      noValidate
      aria-label={trans.__('Import image')}
    >
      {textField(
        'image',
        trans.__('Image reference'),
        trans.__(
          'The image to import, e.g. quay.io/org/image:1.0 (a tag is pinned to its digest on import)'
        ),
        reference.valid && reference.unpinned ? (
          <div className="jp-RuntimeImages-fieldWarning" role="status">
            {trans.__(
              'Unpinned: without a tag (or with :latest) and without a digest, this name may point to another image tomorrow. The import pins the digest it finds now.'
            )}
          </div>
        ) : null
      )}
      {textField(
        'displayName',
        trans.__('Name'),
        trans.__('The runtime image display name'),
        resourceName ? (
          <div className="jp-RuntimeImages-fieldHint">
            {trans.__('Resource name:')}{' '}
            <code className="jp-RuntimeImages-resourceName">
              {resourceName}
            </code>
            {existing && (
              <div className="jp-RuntimeImages-fieldWarning" role="status">
                {trans.__(
                  'A runtime image named "%1" exists: a successful import updates it.',
                  resourceName
                )}
              </div>
            )}
          </div>
        ) : null
      )}
      {textField(
        'description',
        trans.__('Description'),
        trans.__('What the image is for')
      )}
      {textField(
        'creator',
        trans.__('Creator'),
        trans.__('Who imports the image')
      )}
      <fieldset
        className="jp-RuntimeImages-importField jp-RuntimeImages-profiles"
        data-field="profiles"
      >
        <legend>{trans.__('Requirement profiles to check')}</legend>
        {PROFILES.map(profile => (
          <label key={profile} className="jp-RuntimeImages-profile">
            <input
              type="checkbox"
              checked={form.profiles.includes(profile)}
              aria-label={trans.__('Check profile %1', profile)}
              title={trans.__('Check profile %1', profile)}
              onChange={() => toggleProfile(profile)}
            />
            {profile}
          </label>
        ))}
        {fieldErrors('profiles')}
      </fieldset>
      {(serverErrors.form ?? []).length > 0 && (
        <div
          className="jp-RuntimeImages-formMessage jp-RuntimeImages-importError"
          role="alert"
        >
          {(serverErrors.form ?? []).map((message, index) => (
            <div key={index}>{message}</div>
          ))}
        </div>
      )}
      <div className="jp-RuntimeImages-dialogButtons">
        <button
          type="button"
          className="jp-Dialog-button jp-mod-reject jp-mod-styled"
          aria-label={trans.__('Cancel')}
          title={trans.__('Cancel')}
          onClick={() => props.onDone(null)}
        >
          <div className="jp-Dialog-buttonLabel">{trans.__('Cancel')}</div>
        </button>
        <button
          type="submit"
          className="jp-Dialog-button jp-mod-accept jp-mod-styled"
          aria-label={trans.__('Import')}
          title={trans.__('Import')}
          disabled={busy}
        >
          <div className="jp-Dialog-buttonLabel">
            {busy ? trans.__('Importing…') : trans.__('Import')}
          </div>
        </button>
      </div>
    </form>
  );
}

/**
 * Show the import dialog (modal).
 *
 * @returns the submitted build, or `null` when cancelled
 */
export function showImportImageDialog(
  options: IImportImageOptions
): Promise<ICustomNBImage | null> {
  const { trans } = options;
  const previous = document.activeElement as HTMLElement | null;
  return new Promise(resolve => {
    let done = false;
    const finish = (created: ICustomNBImage | null): void => {
      if (done) {
        return;
      }
      done = true;
      Widget.detach(host);
      host.dispose();
      previous?.focus?.();
      resolve(created);
    };
    const host = ReactWidget.create(
      <div
        className="jp-Dialog-content jp-RuntimeImages-importDialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="jp-RuntimeImages-import-title"
        onKeyDown={event => {
          if (event.key === 'Escape') {
            event.preventDefault();
            event.stopPropagation();
            finish(null);
          } else if (event.key === 'Tab') {
            // Keep the focus inside the dialog.
            const nodes = Array.from(
              event.currentTarget.querySelectorAll<HTMLElement>(
                'input, textarea, button:not([disabled])'
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
          <h2
            id="jp-RuntimeImages-import-title"
            className="jp-RuntimeImages-importTitle"
          >
            {trans.__('Import image')}
          </h2>
        </div>
        <div className="jp-Dialog-body">
          <ImportImageForm {...options} onDone={finish} />
        </div>
      </div>
    );
    host.addClass('jp-Dialog');
    host.addClass('jp-RuntimeImages-importDialogHost');
    host.node.addEventListener('mousedown', event => {
      if (event.target === host.node) {
        event.preventDefault(); // a click outside does not close a half-filled form
      }
    });
    Widget.attach(host, document.body);
  });
}
