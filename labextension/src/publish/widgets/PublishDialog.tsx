import { Clipboard, Notification } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import React, { useEffect, useRef, useState } from 'react';
import { APIError, errorMessage } from '../../request';
import { TextButton } from '../../ui/buttons';
import { Facts } from '../../ui/Facts';
import {
  CheckboxField,
  DialogForm,
  DialogResult,
  FormErrors,
  TextField,
  useInitialFocus,
  withoutErrorsOf
} from '../../ui/forms';
import { formDialog, FormDialogProps } from '../../ui/modal';
import type { IPublishResult, PublishSource } from '../api';
import {
  canRepoint,
  groupPublishErrors,
  IPublishForm,
  pinnedReference,
  publishFormErrors,
  PublishField,
  publishRequest
} from '../form';
import type { PublishModel } from '../model';

export interface IPublishDialogOptions {
  model: PublishModel;
  trans: TranslationBundle;
  source: PublishSource;
  /** What is published, as a person reads it (a display name). */
  label: string;
  /** The image reference published now (a build's result, an image's reference). */
  reference: string;
  /** The destination proposed (the last registry's), maybe empty. */
  initialTo: string;
  /** The name of the runtime image a repoint moves, if any. */
  runtimeImage: string | null;
}

const ID = 'jp-RuntimeImages-publish';

/** Seconds since `start`, updated every second while `running`. */
function useElapsed(running: boolean): number {
  const [elapsed, setElapsed] = useState(0);
  useEffect(() => {
    if (!running) {
      return;
    }
    const start = Date.now();
    setElapsed(0);
    const timer = setInterval(
      () => setElapsed(Math.round((Date.now() - start) / 1000)),
      1000
    );
    return () => clearInterval(timer);
  }, [running]);
  return elapsed;
}

/** The published image: where, its digest, its pinned reference (to copy). */
function PublishResult(props: {
  result: IPublishResult;
  trans: TranslationBundle;
  onClose: () => void;
}): JSX.Element {
  const { result, trans } = props;
  const pinned = pinnedReference(result);
  const moved: [string, string][] = result.kernelspecs?.length
    ? [
        [
          trans.__('Kernelspecs'),
          trans.__(
            '%1 now launch the published image.',
            result.kernelspecs.join(', ')
          )
        ]
      ]
    : [];
  const [copied, setCopied] = useState(false);
  return (
    <DialogResult
      trans={trans}
      className="jp-RuntimeImages-publishResult"
      message={trans.__('Published.')}
      onClose={props.onClose}
    >
      <Facts
        className="jp-RuntimeImages-facts"
        facts={[
          [trans.__('Destination'), <code>{result.to}</code>],
          [trans.__('Digest'), <code>{result.digest}</code>],
          [
            trans.__('Pinned reference'),
            <span className="jp-RuntimeImages-copyable">
              <code className="jp-RuntimeImages-pinnedReference">{pinned}</code>
              <TextButton
                className="jp-mod-styled jp-RuntimeImages-copyButton"
                label={trans.__('Copy the pinned reference')}
                onClick={() => {
                  Clipboard.copyToSystem(pinned);
                  setCopied(true);
                }}
              >
                {copied ? trans.__('Copied') : trans.__('Copy')}
              </TextButton>
            </span>
          ],
          [
            trans.__('Runtime image'),
            result.runtimeImage
              ? trans.__(
                  '"%1" now points at the published image.',
                  result.runtimeImage.display_name
                )
              : trans.__('Unchanged.')
          ],
          ...moved
        ]}
      />
    </DialogResult>
  );
}

/**
 * The "Publish" form: the destination (a registry, an OCI archive, containers
 * storage or the Docker daemon) and whether to point the runtime image at the
 * published image; progress while the server copies it; then the published
 * image and its pinned reference, with a Copy button. The server's errors about
 * the destination show at its field.
 */
export function PublishForm(
  props: FormDialogProps<IPublishDialogOptions, IPublishResult>
): JSX.Element {
  const { trans, model } = props;
  const [form, setForm] = useState<IPublishForm>({
    to: props.initialTo,
    repoint: true
  });
  const [submitted, setSubmitted] = useState(false);
  const [serverErrors, setServerErrors] = useState<FormErrors<PublishField>>(
    {}
  );
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<IPublishResult | null>(null);
  const elapsed = useElapsed(busy);
  const first = useInitialFocus<HTMLInputElement>();
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    []
  );

  const clientErrors = publishFormErrors(form, trans);
  const messages = (field: PublishField): string[] => [
    ...(submitted ? (clientErrors[field] ?? []) : []),
    ...(serverErrors[field] ?? [])
  ];
  const update = <K extends keyof IPublishForm>(
    field: K,
    value: IPublishForm[K]
  ): void => {
    setForm({ ...form, [field]: value });
    setServerErrors(withoutErrorsOf(serverErrors, field));
  };

  const submit = async (event?: React.FormEvent): Promise<void> => {
    event?.preventDefault();
    setSubmitted(true);
    if (busy) {
      return;
    }
    if (Object.keys(clientErrors).length > 0) {
      first.current?.focus();
      return;
    }
    setBusy(true);
    const request = publishRequest({
      ...form,
      repoint: form.repoint && !!props.runtimeImage
    });
    try {
      const published = await model.publish(props.source, request);
      if (mounted.current) {
        setBusy(false);
        setResult(published);
      } else {
        // Closed while it ran: say how it ended.
        Notification.success(
          trans.__('Published "%1" to %2.', props.label, published.to),
          { autoClose: 5000 }
        );
      }
    } catch (error) {
      if (!mounted.current) {
        Notification.error(
          trans.__(
            'Could not publish "%1": %2',
            props.label,
            errorMessage(error)
          ),
          { autoClose: false }
        );
        return;
      }
      setBusy(false);
      if (error instanceof APIError && error.errors.length > 0) {
        const grouped = groupPublishErrors(error.errors);
        setServerErrors(grouped);
        if (grouped.to) {
          first.current?.focus();
        }
      } else {
        setServerErrors({ form: [errorMessage(error)] });
      }
    }
  };

  if (result) {
    return (
      <PublishResult
        result={result}
        trans={trans}
        onClose={() => props.onDone(result)}
      />
    );
  }

  const repointable = canRepoint(form.to);
  const repointHelp = !props.runtimeImage
    ? trans.__('No runtime image comes from this build yet.')
    : repointable
      ? trans.__(
          'The runtime image "%1" will use the published image (pinned to its digest), which pipelines and clusters can pull.',
          props.runtimeImage
        )
      : trans.__(
          'Only an image in a registry (docker://) can be pulled: the runtime image stays as it is.'
        );

  return (
    <DialogForm
      trans={trans}
      busy={busy}
      onSubmit={submit}
      onCancel={() => props.onDone(null)}
      messages={messages('form')}
      label={trans.__('Publish image')}
      className="jp-RuntimeImages-publishForm"
      submitLabel={trans.__('Publish')}
      busyLabel={trans.__('Publishing…')}
    >
      <p className="jp-RuntimeImages-publishSource">
        {trans.__('Copy %1 to:', props.label)}{' '}
        {props.reference && <code>{props.reference}</code>}
      </p>
      <TextField
        id={`${ID}-to`}
        ref={first}
        field="to"
        label={trans.__('Destination')}
        help={trans.__(
          'docker://HOST[:PORT]/REPOSITORY[:TAG], oci-archive:FILE, containers-storage:REPOSITORY:TAG or docker-daemon:REPOSITORY:TAG'
        )}
        placeholder="docker://registry.example.com/team/image:1.0"
        list={`${ID}-recent`}
        value={form.to}
        messages={messages('to')}
        onChange={value => update('to', value)}
        extra={
          <>
            <datalist id={`${ID}-recent`}>
              {model.recent.map(each => (
                <option key={each} value={each} />
              ))}
            </datalist>
            <div className="jp-RuntimeImages-fieldHint">
              {trans.__(
                'A registry (docker://), an OCI archive file (oci-archive:), containers storage or the Docker daemon.'
              )}
            </div>
          </>
        }
      />
      <CheckboxField
        id={`${ID}-repoint`}
        field="repoint"
        label={trans.__('Point the runtime image at the published image')}
        title={repointHelp}
        checked={form.repoint && repointable && !!props.runtimeImage}
        disabled={!repointable || !props.runtimeImage}
        onChange={checked => update('repoint', checked)}
        hint={repointHelp}
        messages={messages('repoint')}
      />
      {busy && (
        <div className="jp-RuntimeImages-buildProgressRow">
          <div
            className="jp-RuntimeImages-buildProgress jp-mod-indeterminate"
            role="progressbar"
            aria-label={trans.__('Publish progress')}
            aria-valuetext={trans.__('Publishing… %1 s', elapsed)}
          >
            <div className="jp-RuntimeImages-buildProgressBar" />
          </div>
          <span className="jp-RuntimeImages-buildProgressText" role="status">
            {trans.__('Copying the image… %1 s', elapsed)}
          </span>
        </div>
      )}
    </DialogForm>
  );
}

/** Show the Publish dialog (modal): the result, or `null` when cancelled. */
export const showPublishDialog = formDialog<
  IPublishDialogOptions,
  IPublishResult
>(PublishForm, {
  id: ID,
  className: 'jp-RuntimeImages-publishDialog',
  title: ({ trans, label }) => trans.__('Publish "%1"', label)
});
