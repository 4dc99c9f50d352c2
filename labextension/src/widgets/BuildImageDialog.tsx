import type { TranslationBundle } from '@jupyterlab/translation';
import React, { useEffect, useMemo, useRef, useState } from 'react';
import {
  BuildField,
  buildResource,
  groupBuildErrors,
  IBuildForm,
  packageLines
} from '../builds/buildForm';
import type { BuildsModel } from '../builds/model';
import {
  checkReference,
  RESOURCE_NAME_PATTERN,
  toResourceName
} from '../builds/resource';
import type { ICustomNBImage } from '../builds/types';
import { APIError } from '../request';
import type { IRuntimeImage } from '../tokens';
import { DialogButtons, FieldMessages, showModalForm } from './ModalForm';

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

type Errors = Partial<Record<BuildField, string[]>>;

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
  const { model, trans, pattern } = props;
  const [form, setForm] = useState<IBuildForm>({
    mode: 'packages',
    fromImage: '',
    packages: '',
    repositoryUrl: '',
    gitRef: '',
    displayName: '',
    description: '',
    creator: props.creator ?? ''
  });
  const [submitted, setSubmitted] = useState(false);
  const [serverErrors, setServerErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);

  useEffect(() => {
    first.current?.focus();
  }, []);

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
  const resourceName = toResourceName(form.displayName);
  const clientErrors: Errors = {};
  const base = form.fromImage.trim();
  if (!git && !base) {
    clientErrors.fromImage = [trans.__('A base image is required.')];
  } else if (base && !checkReference(base, pattern).valid) {
    clientErrors.fromImage = [
      trans.__(
        'Not a valid image reference: expected [registry[:port]/]repository[:tag][@sha256:digest], lower case.'
      )
    ];
  }
  if (!git && packageLines(form.packages).length === 0) {
    clientErrors.packages = [trans.__('At least one package is required.')];
  }
  if (git && !form.repositoryUrl.trim()) {
    clientErrors.repositoryUrl = [trans.__('A repository URL is required.')];
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

  const shown = (field: BuildField): string[] => [
    ...(submitted ? (clientErrors[field] ?? []) : []),
    ...(serverErrors[field] ?? [])
  ];

  const update = (field: keyof IBuildForm, value: string): void => {
    setForm({ ...form, [field]: value });
    if (serverErrors[field as BuildField] || serverErrors.form) {
      const next = { ...serverErrors };
      delete next[field as BuildField];
      delete next.form;
      setServerErrors(next);
    }
  };

  const submit = async (event?: React.FormEvent): Promise<void> => {
    event?.preventDefault();
    setSubmitted(true);
    if (busy) {
      return;
    }
    const invalid = Object.keys(clientErrors);
    if (invalid.length > 0) {
      document.getElementById(`${ID}-${invalid[0]}`)?.focus();
      return;
    }
    setBusy(true);
    try {
      props.onDone(await model.submit(buildResource(form)));
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
        document.getElementById(`${ID}-displayName`)?.focus();
      } else if (error instanceof APIError && error.errors.length > 0) {
        setServerErrors(groupBuildErrors(error.errors));
      } else {
        setServerErrors({
          form: [error instanceof Error ? error.message : String(error)]
        });
      }
    }
  };

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
  ): JSX.Element => {
    const id = `${ID}-${name}`;
    const messages = shown(name);
    const invalid = messages.length > 0;
    const common = {
      id,
      className: 'jp-mod-styled',
      value: form[name],
      placeholder: options.placeholder,
      'aria-label': label,
      title: help,
      'aria-invalid': invalid,
      'aria-describedby': invalid ? `${id}-error` : undefined,
      spellCheck: false,
      autoComplete: 'off'
    };
    return (
      <div className="jp-RuntimeImages-importField" data-field={name}>
        <label htmlFor={id}>{label}</label>
        {options.multiline ? (
          <textarea
            {...common}
            rows={name === 'packages' ? 4 : 2}
            onChange={e => update(name, e.currentTarget.value)}
          />
        ) : (
          <input
            {...common}
            ref={name === 'fromImage' && !git ? first : undefined}
            type="text"
            list={options.list}
            onChange={e => update(name, e.currentTarget.value)}
          />
        )}
        <FieldMessages id={`${id}-error`} messages={messages} />
        {options.extra}
      </div>
    );
  };

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
    <form
      className="jp-RuntimeImages-importForm jp-RuntimeImages-buildForm"
      onSubmit={submit}
      noValidate
      aria-label={trans.__('Build image')}
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
      {shown('form').length > 0 && (
        <div
          className="jp-RuntimeImages-formMessage jp-RuntimeImages-importError"
          role="alert"
        >
          {shown('form').map((message, index) => (
            <div key={index}>{message}</div>
          ))}
        </div>
      )}
      <DialogButtons
        trans={trans}
        submitLabel={trans.__('Build')}
        busyLabel={trans.__('Submitting…')}
        busy={busy}
        onCancel={() => props.onDone(null)}
      />
    </form>
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
