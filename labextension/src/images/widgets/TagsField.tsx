import type { TranslationBundle } from '@jupyterlab/translation';
import { closeIcon } from '@jupyterlab/ui-components';
import type { FieldProps } from '@rjsf/utils';
import React, { useState } from 'react';
import { TextButton } from '../../ui/buttons';

/**
 * An rjsf field for `metadata.tags`: the tags as chips (each removable) and a text
 * box that adds a tag on Enter or with the "Add tag" button. Per-tag errors from
 * the server (`metadata.tags.1`) show next to the tag.
 */
export function createTagsField(
  trans: TranslationBundle
): (props: FieldProps) => JSX.Element {
  return function TagsField(props: FieldProps): JSX.Element {
    const tags: string[] = Array.isArray(props.formData) ? props.formData : [];
    const [draft, setDraft] = useState('');
    const id = props.idSchema.$id;
    const itemErrors = (index: number): string[] =>
      ((props.errorSchema as any)?.[index]?.__errors as string[]) ?? [];

    const add = (): void => {
      const value = draft.trim();
      if (!value) {
        return;
      }
      if (!tags.includes(value)) {
        props.onChange([...tags, value]);
      }
      setDraft('');
    };
    const remove = (index: number): void => {
      const next = tags.filter((_, i) => i !== index);
      props.onChange(next.length > 0 ? next : undefined);
    };

    return (
      <div className="jp-RuntimeImages-tagsField">
        <ul className="jp-RuntimeImages-tagsList" aria-label={trans.__('Tags')}>
          {tags.map((tag, index) => (
            <li
              key={`${index}:${tag}`}
              className={`jp-RuntimeImages-tagChip${
                itemErrors(index).length ? ' jp-mod-error' : ''
              }`}
              id={`${id}_${index}`}
            >
              <span>{tag}</span>
              <button
                type="button"
                className="jp-RuntimeImages-tagRemove"
                aria-label={trans.__('Remove tag %1', tag)}
                title={trans.__('Remove tag %1', tag)}
                disabled={props.disabled || props.readonly}
                onClick={() => remove(index)}
              >
                <closeIcon.react tag="span" elementSize="small" />
              </button>
              {itemErrors(index).length > 0 && (
                <span
                  className="jp-RuntimeImages-tagError"
                  id={`${id}_${index}__error`}
                >
                  {itemErrors(index).join(' ')}
                </span>
              )}
            </li>
          ))}
        </ul>
        <div className="jp-RuntimeImages-tagsInput">
          <input
            id={id}
            type="text"
            className="form-control"
            value={draft}
            placeholder={trans.__('Add a tag and press Enter')}
            aria-label={trans.__('New tag')}
            disabled={props.disabled || props.readonly}
            onChange={event => setDraft(event.currentTarget.value)}
            onKeyDown={event => {
              if (event.key === 'Enter') {
                event.preventDefault();
                add();
              }
            }}
            onBlur={() => props.onBlur?.(id, tags)}
          />
          <TextButton
            className="jp-mod-styled jp-mod-accept"
            label={trans.__('Add tag')}
            disabled={props.disabled || props.readonly || !draft.trim()}
            onClick={add}
          >
            {trans.__('Add')}
          </TextButton>
        </div>
      </div>
    );
  };
}
