import { Clipboard } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import React, { useEffect, useRef, useState } from 'react';
import { errorMessage } from '../../request';
import { TextButton } from '../../ui/buttons';
import {
  ChoiceGroup,
  DialogButton,
  FormMessages,
  useInitialFocus
} from '../../ui/forms';
import { formDialog, FormDialogProps } from '../../ui/modal';
import {
  exportFileName,
  ExportsAPI,
  IExportDocument,
  IExportFormat
} from '../api';

export interface IExportDialogOptions {
  api: ExportsAPI;
  trans: TranslationBundle;
  formats: ReadonlyArray<IExportFormat>;
  /** The selected images (names); empty: every image, or those of `tags`. */
  names: ReadonlyArray<string>;
  /** The tags the images use (offered to narrow an export of every image). */
  tags: ReadonlyArray<string>;
  /** Save `text` as the file `name` (a download). */
  download: (text: string, name: string, mediaType: string) => void;
}

const ID = 'jp-RuntimeImages-exportTo';

/**
 * The "Export to…" dialog: a format (those the server offers), which images
 * (the selection, or every image — optionally only those with some tags), a
 * preview of the document, and Download / Copy.
 */
export function ExportForm(
  props: FormDialogProps<IExportDialogOptions, string>
): JSX.Element {
  const { trans, formats, names, api } = props;
  const [format, setFormat] = useState<string>(formats[0]?.format ?? '');
  const [tags, setTags] = useState<string[]>([]);
  const [preview, setPreview] = useState<IExportDocument | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [copied, setCopied] = useState(false);
  const seq = useRef(0);
  const first = useInitialFocus<HTMLButtonElement>();
  const chosen = formats.find(f => f.format === format);

  useEffect(() => {
    if (!format) {
      return;
    }
    const at = ++seq.current;
    setLoading(true);
    setError(null);
    setCopied(false);
    api
      .document(format, names.length > 0 ? { names } : { tags })
      .then(document => {
        if (at === seq.current) {
          setPreview(document);
          setLoading(false);
        }
      })
      .catch(reason => {
        if (at === seq.current) {
          setPreview(null);
          setError(errorMessage(reason));
          setLoading(false);
        }
      });
  }, [format, tags.join('\n'), names.join('\n')]);

  const scope =
    names.length > 0
      ? trans._n(
          'The selected image: %2',
          'The %1 selected images: %2',
          names.length,
          names.join(', ')
        )
      : tags.length > 0
        ? trans.__('Every runtime image tagged %1', tags.join(', '))
        : trans.__('Every runtime image');

  const text = preview?.text ?? '';
  return (
    <div className="jp-RuntimeImages-exportForm">
      <ChoiceGroup<string>
        type="radio"
        id={`${ID}-format`}
        field="format"
        legend={trans.__('Format')}
        className="jp-RuntimeImages-exportFormats"
        choices={formats.map((f, index) => ({
          value: f.format,
          id: index === 0 ? `${ID}-format` : `${ID}-format-${f.format}`,
          label: f.title || f.format,
          title: trans.__('%1 (%2, .%3)', f.title, f.mediaType, f.extension)
        }))}
        isChecked={value => value === format}
        onToggle={setFormat}
      />
      <p className="jp-RuntimeImages-exportScope" data-count={names.length}>
        {scope}
      </p>
      {names.length === 0 && props.tags.length > 0 && (
        <ChoiceGroup<string>
          type="checkbox"
          id={`${ID}-tags`}
          field="tags"
          legend={trans.__('Only images tagged (optional)')}
          className="jp-RuntimeImages-exportTags"
          choices={props.tags.map(tag => ({
            value: tag,
            label: trans.__('Only images tagged %1', tag),
            text: tag
          }))}
          isChecked={tag => tags.includes(tag)}
          onToggle={tag =>
            setTags(
              tags.includes(tag) ? tags.filter(t => t !== tag) : [...tags, tag]
            )
          }
        />
      )}
      <div className="jp-RuntimeImages-exportPreviewHeader">
        <span id={`${ID}-preview-label`}>{trans.__('Preview')}</span>
        {loading && (
          <span className="jp-RuntimeImages-exportLoading" role="status">
            {trans.__('Loading…')}
          </span>
        )}
      </div>
      {(preview?.warnings ?? []).length > 0 && (
        <ul className="jp-RuntimeImages-fieldWarning jp-RuntimeImages-exportWarnings">
          {preview!.warnings.map((warning, index) => (
            <li key={index}>{warning}</li>
          ))}
        </ul>
      )}
      <pre
        className="jp-RuntimeImages-exportPreview"
        tabIndex={0}
        aria-labelledby={`${ID}-preview-label`}
        data-format={format}
      >
        {text}
      </pre>
      <FormMessages messages={error ? [error] : []} />
      <div className="jp-RuntimeImages-dialogButtons">
        <DialogButton
          ref={first}
          kind="reject"
          label={trans.__('Close')}
          onClick={() => props.onDone(null)}
        />
        <TextButton
          className="jp-Dialog-button jp-mod-styled jp-RuntimeImages-copyButton"
          label={trans.__('Copy the document')}
          disabled={!preview || loading}
          onClick={() => {
            Clipboard.copyToSystem(text);
            setCopied(true);
          }}
        >
          {copied ? trans.__('Copied') : trans.__('Copy')}
        </TextButton>
        <DialogButton
          kind="accept"
          label={trans.__('Download')}
          disabled={!preview || loading || !chosen}
          onClick={() => {
            if (chosen && preview) {
              const name = exportFileName(chosen);
              props.download(text, name, chosen.mediaType);
              props.onDone(name);
            }
          }}
        />
      </div>
    </div>
  );
}

/** Show the Export to… dialog: the downloaded file's name, or `null`. */
export const showExportDialog = formDialog<IExportDialogOptions, string>(
  ExportForm,
  {
    id: ID,
    className: 'jp-RuntimeImages-exportToDialog',
    title: ({ trans }) => trans.__('Export to…')
  }
);
