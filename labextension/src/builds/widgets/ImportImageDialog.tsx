import type { TranslationBundle } from '@jupyterlab/translation';
import { invalidReferenceMessage } from '../../imageref';
import React, { useMemo, useState } from 'react';
import type { BuildsModel } from '../model';
import {
  checkReference,
  groupFieldErrors,
  IImportForm,
  ImportField,
  importResource,
  RESOURCE_NAME_PATTERN
} from '../resource';
import { DEFAULT_PROFILES, ICustomNBImage, PROFILES } from '../types';
import {
  DialogForm,
  FieldMessages,
  FormErrors,
  TextField,
  useInitialFocus
} from '../../ui/forms';
import { showModalForm } from '../../ui/modal';
import { identityErrors, useNewBuildForm } from './useNewBuildForm';

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

type Errors = FormErrors<ImportField>;

const ID = 'jp-RuntimeImages-import';

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
  const { trans, pattern } = props;
  const [touched, setTouched] = useState<Partial<Record<ImportField, boolean>>>(
    {}
  );
  const first = useInitialFocus<HTMLInputElement>();
  const { form, update, resourceName, submitted, busy, serverErrors, submit } =
    useNewBuildForm<IImportForm, ImportField>(props, {
      initial: { image: '', profiles: [...DEFAULT_PROFILES] },
      idPrefix: ID,
      toResource: importResource,
      groupErrors: groupFieldErrors
    });

  const reference = useMemo(
    () => checkReference(form.image, pattern),
    [form.image, pattern]
  );

  const clientErrors: Errors = {};
  if (!form.image.trim()) {
    clientErrors.image = [trans.__('An image reference is required.')];
  } else if (!reference.valid) {
    clientErrors.image = [invalidReferenceMessage(trans)];
  }
  Object.assign(clientErrors, identityErrors(form, trans));

  const shown = (field: ImportField): string[] => {
    const own =
      submitted || touched[field] || (field === 'image' && form.image !== '')
        ? (clientErrors[field] ?? [])
        : [];
    return [...own, ...(serverErrors[field] ?? [])];
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

  const textField = (
    field: 'image' | 'displayName' | 'description' | 'creator',
    label: string,
    help: string,
    extra?: React.ReactNode
  ): JSX.Element => (
    <TextField
      id={`${ID}-${field}`}
      ref={field === 'image' ? first : undefined}
      field={field}
      label={label}
      help={help}
      rows={field === 'description' ? 2 : undefined}
      value={form[field]}
      messages={shown(field)}
      onChange={value => update(field, value)}
      onBlur={() => setTouched({ ...touched, [field]: true })}
      extra={extra}
    />
  );

  const existing =
    resourceName &&
    RESOURCE_NAME_PATTERN.test(resourceName) &&
    props.imageExists?.(resourceName);

  return (
    <DialogForm
      label={trans.__('Import image')}
      onSubmit={event => submit(clientErrors, event)}
      messages={serverErrors.form}
      trans={trans}
      submitLabel={trans.__('Import')}
      busyLabel={trans.__('Importing…')}
      busy={busy}
      onCancel={() => props.onDone(null)}
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
        <FieldMessages
          id={`${ID}-profiles-error`}
          messages={shown('profiles')}
        />
      </fieldset>
    </DialogForm>
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
  return showModalForm<ICustomNBImage>({
    id: ID,
    title: options.trans.__('Import image'),
    className: 'jp-RuntimeImages-importDialog',
    render: done => <ImportImageForm {...options} onDone={done} />
  });
}
