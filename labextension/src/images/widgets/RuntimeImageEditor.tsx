import {
  Dialog,
  MainAreaWidget,
  ReactWidget,
  showDialog
} from '@jupyterlab/apputils';
import type { Message } from '@lumino/messaging';
import type { ITranslator, TranslationBundle } from '@jupyterlab/translation';
import { FormComponent } from '@jupyterlab/ui-components';
import type { ErrorSchema, RJSFSchema, UiSchema } from '@rjsf/utils';
import { customizeValidator } from '@rjsf/validator-ajv8';
import type { JSONSchema7 } from 'json-schema';
import React, { useEffect, useMemo, useRef, useState } from 'react';
import {
  formDataToBody,
  formSchema,
  hasErrors,
  IErrorSchema,
  imageToFormData,
  IFormData,
  readableErrors,
  toErrorSchema
} from '../forms';
import type { RuntimeImagesModel } from '../model';
import { APIError, errorMessage } from '../../request';
import { IRuntimeImage, TRANSLATION_DOMAIN } from '../../tokens';
import { TextButton } from '../../ui/buttons';
import { FieldTemplate } from './FieldTemplate';
import { createTagsField } from './TagsField';

/** The form validator (the server's schema uses the `image-reference` format;
 * its `pattern` does the actual check). */
const validator = customizeValidator({
  customFormats: { 'image-reference': () => true }
});

let editorCount = 0;

function buildUiSchema(
  trans: TranslationBundle,
  mode: RuntimeImageEditor.Mode
): UiSchema {
  return {
    'ui:order': ['display_name', 'name', 'metadata', '*'],
    display_name: {
      'ui:title': trans.__('Display Name'),
      'ui:autofocus': true
    },
    name: {
      'ui:title': trans.__('Name'),
      'ui:readonly': mode !== 'create',
      'ui:placeholder':
        mode === 'create' ? trans.__('derived from the display name') : ''
    },
    metadata: {
      'ui:title': trans.__('Image'),
      'ui:order': [
        'image_name',
        'pull_policy',
        'pull_secret',
        'tags',
        'description',
        '*'
      ],
      image_name: {
        'ui:title': trans.__('Image Name'),
        'ui:placeholder': trans.__('registry/owner/image:tag')
      },
      pull_policy: { 'ui:title': trans.__('Image Pull Policy') },
      pull_secret: { 'ui:title': trans.__('Image Pull Secret') },
      tags: { 'ui:title': trans.__('Tags'), 'ui:field': 'runtimeImageTags' },
      description: {
        'ui:title': trans.__('Description'),
        'ui:widget': 'textarea'
      }
    }
  };
}

function EditorComponent(props: {
  options: RuntimeImageEditor.IOptions;
  trans: TranslationBundle;
  idPrefix: string;
  onSaved: (image: IRuntimeImage) => void;
  onCancel: () => void;
  onDirty: (dirty: boolean) => void;
}): JSX.Element {
  const { options, trans } = props;
  const { model, mode } = options;
  const schema = useMemo(
    () => formSchema(model.schema) as RJSFSchema,
    [model.schema]
  );
  const uiSchema = useMemo(() => buildUiSchema(trans, mode), [trans, mode]);
  const fields = useMemo(
    () => ({ runtimeImageTags: createTagsField(trans) }),
    [trans]
  );
  const templates = useMemo(() => ({ FieldTemplate }), []);
  const [formData, setFormData] = useState<IFormData>(options.formData);
  const [etag, setEtag] = useState<string | null>(options.etag ?? null);
  const [errors, setErrors] = useState<IErrorSchema | undefined>(undefined);
  const [message, setMessage] = useState<string | null>(null);
  const [liveValidate, setLiveValidate] = useState(false);
  const [saving, setSaving] = useState(false);
  const [formKey, setFormKey] = useState(0);
  // Bumped after a failed save: the first invalid field (else the message) takes the focus.
  const [failedSaves, setFailedSaves] = useState(0);
  const body = useRef<HTMLDivElement>(null);
  const messageRef = useRef<HTMLDivElement>(null);
  const fixedName = mode === 'create' ? undefined : options.name;

  useEffect(() => {
    if (failedSaves === 0) {
      return;
    }
    // After rjsf's own update: it applies new errors in a render of its own.
    const timer = setTimeout(() => {
      const invalid = body.current?.querySelector<HTMLElement>(
        '[aria-invalid="true"]'
      );
      (invalid ?? messageRef.current)?.focus();
    }, 0);
    return () => clearTimeout(timer);
  }, [failedSaves]);

  const validate = (data: IFormData): IErrorSchema | undefined => {
    const result = validator.validateFormData(data, schema, undefined, errors =>
      readableErrors(errors, schema as JSONSchema7, trans)
    );
    return result.errors.length > 0
      ? (result.errorSchema as IErrorSchema)
      : undefined;
  };

  const reload = async (): Promise<void> => {
    if (!fixedName) {
      return;
    }
    const fresh = await model.get(fixedName);
    setFormData(imageToFormData(fresh.image));
    setEtag(fresh.etag);
    setErrors(undefined);
    setMessage(trans.__('Reloaded the current version from the server.'));
    setFormKey(key => key + 1);
  };

  const save = async (overwrite = false): Promise<void> => {
    const clientErrors = validate(formData);
    if (clientErrors) {
      setErrors(clientErrors);
      setLiveValidate(true);
      setMessage(trans.__('Fix the highlighted fields before saving.'));
      setFailedSaves(count => count + 1);
      return;
    }
    const body = formDataToBody(formData, fixedName);
    setSaving(true);
    setMessage(null);
    try {
      const image =
        mode === 'create'
          ? await model.create(body)
          : await model.replace(fixedName!, body, overwrite ? null : etag);
      props.onSaved(image);
      return;
    } catch (error) {
      if (error instanceof APIError && error.status === 412) {
        setSaving(false);
        const choice = await showDialog({
          title: trans.__('Runtime image changed elsewhere'),
          body: trans.__(
            '"%1" was changed on the server since you opened it (in another tab or with the command line). Reload it to see the current version (your changes are discarded), or overwrite it with your version.',
            formData.display_name ?? fixedName ?? ''
          ),
          buttons: [
            Dialog.cancelButton({ label: trans.__('Cancel') }),
            Dialog.warnButton({
              label: trans.__('Overwrite'),
              ariaLabel: trans.__('Overwrite')
            }),
            Dialog.okButton({
              label: trans.__('Reload'),
              ariaLabel: trans.__('Reload')
            })
          ]
        });
        if (choice.button.label === trans.__('Reload')) {
          await reload().catch(reason => setMessage(errorMessage(reason)));
        } else if (choice.button.label === trans.__('Overwrite')) {
          await save(true);
        }
        return;
      }
      if (error instanceof APIError) {
        let fieldErrors = toErrorSchema(error.errors);
        if (error.status === 409 && !hasErrors(fieldErrors)) {
          fieldErrors = toErrorSchema([
            { path: 'name', message: error.message }
          ]);
        }
        setErrors(hasErrors(fieldErrors) ? fieldErrors : undefined);
        setMessage(error.message);
      } else {
        setMessage(errorMessage(error));
      }
      setFailedSaves(count => count + 1);
    }
    setSaving(false);
  };

  return (
    <div className="jp-RuntimeImages-editorBody" ref={body}>
      <h2 className="jp-RuntimeImages-editorTitle">
        {mode === 'create'
          ? trans.__('New runtime image')
          : mode === 'repair'
            ? trans.__('Repair runtime image "%1"', options.name ?? '')
            : trans.__('Edit runtime image "%1"', options.name ?? '')}
      </h2>
      {mode === 'repair' && options.reason && (
        <div className="jp-RuntimeImages-repairReason" role="note">
          <p>{trans.__('This file is not a valid runtime image:')}</p>
          <p className="jp-RuntimeImages-reason">{options.reason}</p>
          {options.raw && (
            <details>
              <summary>{trans.__('File content')}</summary>
              <pre className="jp-RuntimeImages-raw">{options.raw}</pre>
            </details>
          )}
        </div>
      )}
      {options.origin && options.origin !== 'user' && (
        <p className="jp-RuntimeImages-note">
          {trans.__(
            'This is a %1 image: saving stores your own copy, which takes precedence. Delete your copy to get the original back.',
            options.origin
          )}
        </p>
      )}
      {message && (
        <div
          ref={messageRef}
          tabIndex={-1}
          className="jp-RuntimeImages-formMessage"
          role="alert"
        >
          {message}
        </div>
      )}
      <FormComponent
        key={formKey}
        schema={schema}
        uiSchema={uiSchema as any}
        fields={fields}
        templates={templates}
        formData={formData as any}
        validator={validator as any}
        idPrefix={props.idPrefix}
        liveValidate={false}
        showErrorList={false}
        noHtml5Validate={true}
        extraErrors={errors as ErrorSchema | undefined}
        translator={options.translator}
        formContext={{ defaultFormData: {} }}
        showModifiedFromDefault={false}
        onChange={event => {
          const data = (event.formData ?? {}) as IFormData;
          setFormData(data);
          props.onDirty(true);
          if (liveValidate) {
            setErrors(validate(data));
          }
        }}
      />
      <div className="jp-RuntimeImages-editorButtons">
        <TextButton
          className="jp-mod-styled jp-mod-reject"
          label={trans.__('Cancel')}
          onClick={props.onCancel}
        />
        <TextButton
          className="jp-mod-styled jp-mod-accept"
          label={trans.__('Save')}
          disabled={saving}
          onClick={() => void save()}
        >
          {saving ? trans.__('Saving…') : trans.__('Save')}
        </TextButton>
      </div>
    </div>
  );
}

/**
 * The add/edit/repair form of a runtime image, generated from the server's schema.
 */
export class RuntimeImageEditor extends ReactWidget {
  constructor(options: RuntimeImageEditor.IOptions) {
    super();
    this.options = options;
    this.trans = options.translator.load(TRANSLATION_DOMAIN);
    this.addClass('jp-RuntimeImages-editor');
    this.idPrefix = `jp-RuntimeImages-form${++editorCount}-root`;
  }

  readonly options: RuntimeImageEditor.IOptions;

  protected render(): JSX.Element {
    return (
      <EditorComponent
        options={this.options}
        trans={this.trans}
        idPrefix={this.idPrefix}
        onSaved={image => {
          this._dirty = false;
          this.options.onDone(image);
        }}
        onCancel={() => this.options.onDone(null)}
        onDirty={dirty => {
          this._dirty = dirty;
        }}
      />
    );
  }

  /** Whether the form has unsaved changes. */
  get isDirty(): boolean {
    return this._dirty;
  }

  private trans: TranslationBundle;
  private idPrefix: string;
  private _dirty = false;
}

/**
 * The main-area tab of an editor: asks before closing with unsaved changes.
 */
export class RuntimeImageEditorPanel extends MainAreaWidget<RuntimeImageEditor> {
  protected onCloseRequest(msg: Message): void {
    if (!this.content.isDirty) {
      super.onCloseRequest(msg);
      return;
    }
    const trans = this.content.options.translator.load(TRANSLATION_DOMAIN);
    void showDialog({
      title: trans.__('Close without saving?'),
      body: trans.__(
        'The runtime image "%1" has unsaved changes.',
        this.title.label
      ),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Keep editing') }),
        Dialog.warnButton({ label: trans.__('Discard changes') })
      ]
    }).then(result => {
      if (result.button.accept) {
        this.dispose();
      }
    });
  }
}

export namespace RuntimeImageEditor {
  export type Mode = 'create' | 'edit' | 'repair';

  export interface IOptions {
    model: RuntimeImagesModel;
    translator: ITranslator;
    mode: Mode;
    /** The name of the edited/repaired instance. */
    name?: string;
    /** Initial form data. */
    formData: IFormData;
    /** The ETag of the edited instance (sent as `If-Match`). */
    etag?: string | null;
    /** For repair: why the file is invalid, and its text when it is not JSON. */
    reason?: string;
    raw?: string;
    /** Where the edited instance comes from. */
    origin?: string;
    /** Called with the saved image, or `null` on cancel. */
    onDone: (image: IRuntimeImage | null) => void;
  }
}
