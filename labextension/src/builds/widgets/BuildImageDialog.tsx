import type { TranslationBundle } from '@jupyterlab/translation';
import { invalidReferenceMessage } from '../../imageref';
import React, { useMemo } from 'react';
import {
  BuildField,
  buildResource,
  groupBuildErrors,
  IBuildForm,
  packageLines
} from '../buildForm';
import type { BuildsModel } from '../model';
import { checkReference } from '../resource';
import type { ICustomNBImage } from '../types';
import type { IRuntimeImage } from '../../tokens';
import {
  DialogForm,
  FormErrors,
  TextField,
  useInitialFocus
} from '../../ui/forms';
import { showModalForm } from '../../ui/modal';
import { identityErrors, useNewBuildForm } from './useNewBuildForm';

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

type Errors = FormErrors<BuildField>;

const ID = 'jp-RuntimeImages-build';

/**
 * The "Build image" form: packages on an existing image (PackageList) or a git
 * repository (GitRepository), with the name, description and creator of an import.
 */
export function BuildImageForm(
  props: IBuildImageOptions & {
    onDone: (created: ICustomNBImage | null) => void;
  }
): JSX.Element {
  const { trans, pattern } = props;
  const first = useInitialFocus<HTMLInputElement>();
  const { form, update, resourceName, submitted, serverErrors, busy, submit } =
    useNewBuildForm<IBuildForm, BuildField>(props, {
      initial: {
        mode: 'packages',
        fromImage: '',
        packages: '',
        repositoryUrl: '',
        gitRef: ''
      },
      idPrefix: ID,
      toResource: buildResource,
      groupErrors: groupBuildErrors
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
  const clientErrors: Errors = {};
  const base = form.fromImage.trim();
  if (!git && !base) {
    clientErrors.fromImage = [trans.__('A base image is required.')];
  } else if (base && !checkReference(base, pattern).valid) {
    clientErrors.fromImage = [invalidReferenceMessage(trans)];
  }
  if (!git && packageLines(form.packages).length === 0) {
    clientErrors.packages = [trans.__('At least one package is required.')];
  }
  if (git && !form.repositoryUrl.trim()) {
    clientErrors.repositoryUrl = [trans.__('A repository URL is required.')];
  }
  Object.assign(clientErrors, identityErrors(form, trans));

  const shown = (field: BuildField): string[] => [
    ...(submitted ? (clientErrors[field] ?? []) : []),
    ...(serverErrors[field] ?? [])
  ];

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
      id={`${ID}-${name}`}
      ref={name === 'fromImage' && !git ? first : undefined}
      field={name}
      label={label}
      help={help}
      rows={options.multiline ? (name === 'packages' ? 4 : 2) : undefined}
      placeholder={options.placeholder}
      list={options.list}
      value={form[name]}
      messages={shown(name)}
      onChange={value => update(name, value)}
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
      label={trans.__('Build image')}
      className="jp-RuntimeImages-buildForm"
      onSubmit={event => submit(clientErrors, event)}
      messages={shown('form')}
      trans={trans}
      submitLabel={trans.__('Build')}
      busyLabel={trans.__('Submitting…')}
      busy={busy}
      onCancel={() => props.onDone(null)}
    >
      <fieldset className="jp-RuntimeImages-importField" data-field="mode">
        <legend>{trans.__('Build from')}</legend>
        <label className="jp-RuntimeImages-profile">
          <input
            id={`${ID}-mode-packages`}
            type="radio"
            name={`${ID}-mode`}
            checked={!git}
            aria-label={trans.__('An image and packages')}
            title={trans.__('Add Python packages to an existing image')}
            onChange={() => update('mode', 'packages')}
          />
          {trans.__('An image and packages')}
        </label>
        <label className="jp-RuntimeImages-profile">
          <input
            id={`${ID}-mode-git`}
            type="radio"
            name={`${ID}-mode`}
            checked={git}
            aria-label={trans.__('A git repository')}
            title={trans.__(
              'Install what a git repository lists (requirements.txt, binder/, …)'
            )}
            onChange={() => update('mode', 'git')}
          />
          {trans.__('A git repository')}
        </label>
      </fieldset>
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
        </>
      )}
      {field(
        'displayName',
        trans.__('Name'),
        trans.__('The runtime image display name'),
        {
          extra: resourceName ? (
            <div className="jp-RuntimeImages-fieldHint">
              {trans.__('Resource name:')}{' '}
              <code className="jp-RuntimeImages-resourceName">
                {resourceName}
              </code>
            </div>
          ) : null
        }
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
 * Show the "Build image" dialog (modal).
 *
 * @returns the submitted build, or `null` when cancelled
 */
export function showBuildImageDialog(
  options: IBuildImageOptions
): Promise<ICustomNBImage | null> {
  return showModalForm<ICustomNBImage>({
    id: ID,
    title: options.trans.__('Build image'),
    className: 'jp-RuntimeImages-buildDialog',
    render: done => <BuildImageForm {...options} onDone={done} />
  });
}
