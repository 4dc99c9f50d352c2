import type { TranslationBundle } from '@jupyterlab/translation';
import React, { useMemo } from 'react';
import {
  BuildField,
  buildFormErrors,
  BuildMode,
  buildResource,
  groupBuildErrors,
  IBuildForm
} from '../buildForm';
import type { BuildsModel } from '../model';
import { BUILD_PLATFORMS, ICustomNBImage } from '../types';
import type { IRuntimeImage } from '../../tokens';
import {
  CheckboxField,
  ChoiceGroup,
  DialogForm,
  TextField,
  useInitialFocus
} from '../../ui/forms';
import { formDialog, FormDialogProps } from '../../ui/modal';
import { ResourceNameHint } from './ResourceNameHint';
import { useNewBuildForm } from './useNewBuildForm';

export interface IBuildImageOptions {
  model: BuildsModel;
  trans: TranslationBundle;
  /** The image reference grammar (the runtime-image schema's pattern). */
  pattern: string;
  /** The runtime images, offered as base images. */
  images: ReadonlyArray<IRuntimeImage>;
  /** Prefilled creator (the user's name, when known). */
  creator?: string;
}

const ID = 'jp-RuntimeImages-build';

/**
 * The "Build image" form: packages on an existing image (PackageList) or a git
 * repository (GitRepository), with the name, description and creator of an import.
 */
export function BuildImageForm(
  props: FormDialogProps<IBuildImageOptions, ICustomNBImage>
): JSX.Element {
  const { trans, pattern } = props;
  const first = useInitialFocus<HTMLInputElement>();
  const { form, update, fieldProps, resourceName, messages, formProps } =
    useNewBuildForm<IBuildForm, BuildField>(props, {
      initial: {
        mode: 'packages',
        fromImage: '',
        packages: '',
        repositoryUrl: '',
        gitRef: '',
        rebuildOnBaseUpdate: false,
        platforms: []
      },
      idPrefix: ID,
      toResource: buildResource,
      groupErrors: groupBuildErrors,
      validate: form => buildFormErrors(form, pattern, trans)
    });

  const bases = useMemo(() => {
    const seen = new Map<string, string>();
    for (const image of props.images) {
      const reference = image.metadata?.image_name;
      if (reference && !seen.has(reference)) {
        seen.set(reference, image.display_name);
      }
    }
    return [...seen.entries()];
  }, [props.images]);

  const git = form.mode === 'git';
  const field = (
    name: Exclude<BuildField, 'form'>,
    label: string,
    help: string,
    options: {
      multiline?: boolean;
      placeholder?: string;
      list?: string;
      extra?: React.ReactNode;
    } = {}
  ): JSX.Element => (
    <TextField
      {...fieldProps(name)}
      ref={name === 'fromImage' && !git ? first : undefined}
      label={label}
      help={help}
      rows={options.multiline ? (name === 'packages' ? 4 : 2) : undefined}
      placeholder={options.placeholder}
      list={options.list}
      messages={messages(name)}
      extra={options.extra}
    />
  );

  const baseField = field(
    'fromImage',
    git ? trans.__('Base image (optional)') : trans.__('Base image'),
    trans.__(
      'Pick a runtime image or type an image reference: the packages are added on top of it'
    ),
    {
      list: `${ID}-bases`,
      placeholder: git
        ? trans.__('The server default')
        : trans.__('e.g. quay.io/org/image:1.0'),
      extra: (
        <datalist id={`${ID}-bases`}>
          {bases.map(([reference, display]) => (
            <option key={reference} value={reference}>
              {display}
            </option>
          ))}
        </datalist>
      )
    }
  );

  return (
    <DialogForm
      {...formProps}
      label={trans.__('Build image')}
      className="jp-RuntimeImages-buildForm"
      submitLabel={trans.__('Build')}
      busyLabel={trans.__('Submitting…')}
    >
      <ChoiceGroup<BuildMode>
        type="radio"
        id={`${ID}-mode`}
        field="mode"
        legend={trans.__('Build from')}
        choices={[
          {
            value: 'packages',
            id: `${ID}-mode-packages`,
            label: trans.__('An image and packages'),
            title: trans.__('Add Python packages to an existing image')
          },
          {
            value: 'git',
            id: `${ID}-mode-git`,
            label: trans.__('A git repository'),
            title: trans.__(
              'Install what a git repository lists (requirements.txt, binder/, …)'
            )
          }
        ]}
        isChecked={mode => form.mode === mode}
        onToggle={mode => update('mode', mode)}
      />
      {git ? (
        <>
          {field(
            'repositoryUrl',
            trans.__('Repository URL'),
            trans.__(
              'The git repository to clone (https://, ssh:// or file://)'
            ),
            { placeholder: 'https://github.com/org/repo.git' }
          )}
          {field(
            'gitRef',
            trans.__('Git ref (optional)'),
            trans.__('A branch, tag or commit; the default branch when empty'),
            { placeholder: 'main' }
          )}
          {baseField}
        </>
      ) : (
        <>
          {baseField}
          <div className="jp-RuntimeImages-buildPackages">
            {field(
              'packages',
              trans.__('Packages'),
              trans.__('Requirements, one per line, e.g. six==1.16.0'),
              { multiline: true, placeholder: 'six==1.16.0' }
            )}
          </div>
          <ChoiceGroup<string>
            type="checkbox"
            id={`${ID}-platforms`}
            field="platforms"
            className="jp-RuntimeImages-platforms"
            legend={trans.__('Platforms (optional)')}
            choices={BUILD_PLATFORMS.map((platform, index) => ({
              value: platform,
              id: index === 0 ? `${ID}-platforms` : undefined,
              label: trans.__('Build for %1', platform),
              text: platform,
              title: trans.__(
                'Build for %1 too: one image index with an image per platform (wheels resolved per platform, no emulation). None checked: the server default platform.',
                platform
              )
            }))}
            isChecked={platform => (form.platforms ?? []).includes(platform)}
            onToggle={platform => {
              const platforms = form.platforms ?? [];
              update(
                'platforms',
                BUILD_PLATFORMS.filter(p =>
                  p === platform
                    ? !platforms.includes(p)
                    : platforms.includes(p)
                )
              );
            }}
            messages={messages('platforms')}
          />
        </>
      )}
      <CheckboxField
        id={`${ID}-rebuild`}
        field="rebuild"
        label={trans.__('Rebuild when the base image changes')}
        title={trans.__(
          'When the base image tag moves to a new image, build again on it; the runtime image moves only when the new build is Ready.'
        )}
        checked={!!form.rebuildOnBaseUpdate}
        onChange={checked => update('rebuildOnBaseUpdate', checked)}
      />
      {field(
        'displayName',
        trans.__('Name'),
        trans.__('The runtime image display name'),
        { extra: <ResourceNameHint name={resourceName} trans={trans} /> }
      )}
      {field(
        'description',
        trans.__('Description'),
        trans.__('What the image is for'),
        { multiline: true }
      )}
      {field('creator', trans.__('Creator'), trans.__('Who builds the image'))}
    </DialogForm>
  );
}

/**
 * Show the "Build image" dialog (modal): the submitted build, or `null` when
 * cancelled.
 */
export const showBuildImageDialog = formDialog<
  IBuildImageOptions,
  ICustomNBImage
>(BuildImageForm, {
  id: ID,
  className: 'jp-RuntimeImages-buildDialog',
  title: ({ trans }) => trans.__('Build image')
});
