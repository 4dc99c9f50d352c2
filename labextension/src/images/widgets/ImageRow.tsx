import type { TranslationBundle } from '@jupyterlab/translation';
import { copyIcon, deleteIcon, editIcon } from '@jupyterlab/ui-components';
import React from 'react';
import { parseImageReference, shortDigest } from '../../imageref';
import type { IImageBadge, IRuntimeImage } from '../../tokens';
import { RowActions } from '../../ui/buttons';
import type { ImageCommands } from './RuntimeImagesPanel';
import { classNames } from '../../ui/classNames';

/**
 * Whether a warning of the server is the one about a local image (the row shows
 * it in its **local** badge). The API gives warnings as text only; the server's
 * says the image "is only on this machine".
 */
export function isLocalWarning(warning: string): boolean {
  return /only (on )?this machine/i.test(warning);
}

/** A badge: its text, and its meaning as tooltip and for screen readers. */
export function Badge(props: { badge: IImageBadge }): JSX.Element {
  const { badge } = props;
  return (
    <span
      className={classNames('jp-RuntimeImages-badge', badge.className)}
      data-badge={badge.key}
      title={badge.title}
    >
      {badge.text}
      {/* A plain span's aria-label is not read: the meaning is text. */}
      <span className="jp-RuntimeImages-srOnly">{`: ${badge.title}`}</span>
    </span>
  );
}

/**
 * The check box that selects a row: a button (the list's arrow keys move
 * between a row's buttons) that reads as a check box.
 */
export function SelectButton(props: {
  selected: boolean;
  label: string;
  describedBy?: string;
  onToggle: (range: boolean) => void;
}): JSX.Element {
  return (
    <button
      type="button"
      role="checkbox"
      aria-checked={props.selected}
      className={`jp-RuntimeImages-select${props.selected ? ' jp-mod-selected' : ''}`}
      aria-label={props.label}
      aria-describedby={props.describedBy}
      title={props.label}
      onClick={event => {
        event.stopPropagation();
        props.onToggle(event.shiftKey);
      }}
    >
      <span className="jp-RuntimeImages-selectBox" aria-hidden="true">
        {props.selected ? '\u2713' : ''}
      </span>
    </button>
  );
}

/** Row height of the virtual list, in px (keep in sync with base.css). */
export const ROW_HEIGHT = 84;

/**
 * The image reference with its parts: registry host, repository, tag or digest,
 * and a "pinned" mark when a digest is present.
 */
export function ImageReference(props: {
  reference: string;
  trans: TranslationBundle;
  warnings?: string[];
  /** Only this machine can use the image (the server's `local`). */
  local?: boolean;
}): JSX.Element {
  const { trans } = props;
  const ref = parseImageReference(props.reference);
  const floating = !ref.digest && (ref.tag === null || ref.tag === 'latest');
  const warnings = (props.warnings ?? []).filter(
    warning => !(props.local && isLocalWarning(warning))
  );
  return (
    <div className="jp-RuntimeImages-imageRef" title={props.reference}>
      <span
        className={`jp-RuntimeImages-registry${
          ref.explicitRegistry ? '' : ' jp-mod-implicit'
        }`}
      >
        {ref.registry}
      </span>
      <span className="jp-RuntimeImages-sep">/</span>
      <span className="jp-RuntimeImages-repository">{ref.repository}</span>
      {ref.tag && <span className="jp-RuntimeImages-tag">:{ref.tag}</span>}
      {ref.digest && (
        <span className="jp-RuntimeImages-digest" title={ref.digest}>
          @{shortDigest(ref.digest)}
        </span>
      )}
      {ref.digest && (
        <span
          className="jp-RuntimeImages-badge jp-RuntimeImages-pinned"
          title={trans.__('Pinned to a digest: always the same image')}
        >
          {trans.__('pinned')}
        </span>
      )}
      {props.local && (
        <Badge
          badge={{
            key: 'local',
            text: trans.__('local'),
            title: trans.__(
              'Only this machine can use this image — publish it'
            ),
            className: 'jp-RuntimeImages-local'
          }}
        />
      )}
      {warnings.map(warning => (
        <span
          key={warning}
          className={`jp-RuntimeImages-badge ${
            floating ? 'jp-RuntimeImages-unpinned' : 'jp-RuntimeImages-warning'
          }`}
          title={warning}
        >
          {floating ? trans.__('unpinned') : trans.__('note')}
          {/* A plain span's aria-label is not read: the warning is text. */}
          <span className="jp-RuntimeImages-srOnly">{`: ${warning}`}</span>
        </span>
      ))}
    </div>
  );
}

/**
 * One runtime image of the list.
 */
export function ImageRow(props: {
  image: IRuntimeImage;
  trans: TranslationBundle;
  onEdit: (image: IRuntimeImage) => void;
  onDuplicate: (image: IRuntimeImage) => void;
  onDelete: (image: IRuntimeImage) => void;
  /** The commands other features add to every image (run with `{ name }`). */
  commands: ImageCommands;
  /** The badges other features give the image. */
  badges?: ReadonlyArray<IImageBadge>;
  /** Whether the row is selected, and how it is (shift: a range). */
  selected?: boolean;
  onToggleSelected?: (image: IRuntimeImage, range: boolean) => void;
}): JSX.Element {
  const { image, trans } = props;
  const md = image.metadata ?? ({} as IRuntimeImage['metadata']);
  const tags = Array.isArray(md.tags) ? md.tags : [];
  const origin = image.origin ?? 'user';
  const deletable = origin === 'user';
  // The row's buttons say what they do ("Edit"); the name says on what.
  const nameId = `jp-RuntimeImages-image-${image.name}`;
  return (
    <div
      className="jp-RuntimeImages-row"
      data-name={image.name}
      data-origin={origin}
      data-local={image.local ? 'true' : undefined}
      data-selected={props.selected ? 'true' : undefined}
      onMouseDown={event => {
        // A double-click opens the image: it does not select the word under it.
        if (event.detail > 1 && props.commands.defaultId) {
          event.preventDefault();
        }
      }}
      onDoubleClick={event => {
        const id = props.commands.defaultId;
        // A double-click on a button is two clicks on it, not the row's.
        if (id && !(event.target as Element).closest('button')) {
          void props.commands.registry.execute(id, { name: image.name });
        }
      }}
    >
      <div className="jp-RuntimeImages-rowHeader">
        {props.onToggleSelected && (
          <SelectButton
            selected={!!props.selected}
            label={trans.__('Select')}
            describedBy={nameId}
            onToggle={range => props.onToggleSelected?.(image, range)}
          />
        )}
        <span
          id={nameId}
          className="jp-RuntimeImages-displayName"
          title={`${image.display_name} (${image.name})`}
        >
          {image.display_name}
        </span>
        <RowActions
          describedBy={nameId}
          actions={[
            {
              icon: editIcon,
              label: trans.__('Edit'),
              onClick: () => props.onEdit(image)
            },
            {
              icon: copyIcon,
              label: trans.__('Duplicate'),
              onClick: () => props.onDuplicate(image)
            },
            ...props.commands.ids.map(id => {
              const args = { name: image.name };
              const { registry } = props.commands;
              return {
                key: id,
                icon: registry.icon(id, args),
                label: registry.label(id, args),
                onClick: () => void registry.execute(id, args)
              };
            }),
            deletable && {
              icon: deleteIcon,
              label: trans.__('Delete'),
              onClick: () => props.onDelete(image)
            }
          ]}
        />
      </div>
      <ImageReference
        reference={md.image_name ?? ''}
        trans={trans}
        warnings={props.image.warnings}
        local={image.local}
      />
      <div className="jp-RuntimeImages-details">
        {origin !== 'user' && (
          <span
            className={`jp-RuntimeImages-badge jp-RuntimeImages-origin jp-mod-${origin}`}
            title={
              origin === 'factory'
                ? trans.__(
                    'Factory image: shipped with the installation. Editing it saves your own copy.'
                  )
                : trans.__(
                    'Shared image: installed for all users. Editing it saves your own copy.'
                  )
            }
          >
            {origin === 'factory' ? trans.__('factory') : trans.__('shared')}
          </span>
        )}
        {(props.badges ?? []).map(badge => (
          <Badge key={badge.key} badge={badge} />
        ))}
        {md.pull_policy && (
          <span
            className="jp-RuntimeImages-pullPolicy"
            title={trans.__('Image pull policy')}
          >
            {trans.__('Pull: %1', md.pull_policy)}
          </span>
        )}
        {tags.map(tag => (
          <span key={tag} className="jp-RuntimeImages-tagChip">
            {tag}
          </span>
        ))}
        {md.description && (
          <span className="jp-RuntimeImages-description" title={md.description}>
            {md.description}
          </span>
        )}
      </div>
    </div>
  );
}
