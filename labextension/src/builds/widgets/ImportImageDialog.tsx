import type { TranslationBundle } from '@jupyterlab/translation';
import React, { useMemo, useState } from 'react';
import type { BuildsModel } from '../model';
import {
  checkReference,
  groupFieldErrors,
  IImportForm,
  ImportField,
  importFormErrors,
  importResource,
  RESOURCE_NAME_PATTERN
} from '../resource';
import { DEFAULT_PROFILES, ICustomNBImage, PROFILES } from '../types';
import {
  ChoiceGroup,
  DialogForm,
  TextField,
  useInitialFocus
} from '../../ui/forms';
import { formDialog, FormDialogProps } from '../../ui/modal';
import { ResourceNameHint } from './ResourceNameHint';
import { useNewBuildForm } from './useNewBuildForm';

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

const ID = 'jp-RuntimeImages-import';

/**
 * The "Import image" form: image reference (checked as you type), name,
 * description, creator and requirement profiles. Submits a CustomNBImage
 * (buildType ImageImport); server field errors show next to their fields.
 */
export function ImportImageForm(
  props: FormDialogProps<IImportImageOptions, ICustomNBImage>
): JSX.Element {
  const { trans, pattern } = props;
  const [touched, setTouched] = useState<Partial<Record<ImportField, boolean>>>(
    {}
  );
  const first = useInitialFocus<HTMLInputElement>();
  const { form, update, fieldProps, resourceName, messages, formProps } =
    useNewBuildForm<IImportForm, ImportField>(props, {
      initial: { image: '', profiles: [...DEFAULT_PROFILES] },
      idPrefix: ID,
      toResource: importResource,
      groupErrors: groupFieldErrors,
      validate: form => importFormErrors(form, pattern, trans)
    });

  const reference = useMemo(
    () => checkReference(form.image, pattern),
    [form.image, pattern]
  );

  /** A field's messages: those of its value once left (the image's at once). */
  const shown = (field: ImportField): string[] =>
    messages(field, touched[field] || (field === 'image' && form.image !== ''));

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
      {...fieldProps(field)}
      ref={field === 'image' ? first : undefined}
      label={label}
      help={help}
      rows={field === 'description' ? 2 : undefined}
      messages={shown(field)}
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
      {...formProps}
      label={trans.__('Import image')}
      submitLabel={trans.__('Import')}
      busyLabel={trans.__('Importing…')}
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
        <ResourceNameHint name={resourceName} trans={trans}>
          {existing && (
            <div className="jp-RuntimeImages-fieldWarning" role="status">
              {trans.__(
                'A runtime image named "%1" exists: a successful import updates it.',
                resourceName
              )}
            </div>
          )}
        </ResourceNameHint>
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
      <ChoiceGroup
        type="checkbox"
        id={`${ID}-profiles`}
        field="profiles"
        className="jp-RuntimeImages-profiles"
        legend={trans.__('Requirement profiles to check')}
        choices={PROFILES.map(profile => ({
          value: profile,
          label: trans.__('Check profile %1', profile),
          text: profile
        }))}
        isChecked={profile => form.profiles.includes(profile)}
        onToggle={toggleProfile}
        messages={shown('profiles')}
      />
    </DialogForm>
  );
}

/**
 * Show the import dialog (modal): the submitted build, or `null` when cancelled.
 */
export const showImportImageDialog = formDialog<
  IImportImageOptions,
  ICustomNBImage
>(ImportImageForm, {
  id: ID,
  className: 'jp-RuntimeImages-importDialog',
  title: ({ trans }) => trans.__('Import image')
});
