import type { TranslationBundle } from '@jupyterlab/translation';
import { copyIcon, deleteIcon, editIcon } from '@jupyterlab/ui-components';
import React from 'react';
import { parseImageReference, shortDigest } from '../../imageref';
import type { IRuntimeImage } from '../../tokens';
import { RowActions } from '../../ui/buttons';
import type { ImageCommands } from './RuntimeImagesPanel';

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
}): JSX.Element {
  const { trans } = props;
  const ref = parseImageReference(props.reference);
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
      {props.warnings?.map(warning => (
        <span
          key={warning}
          className="jp-RuntimeImages-badge jp-RuntimeImages-unpinned"
          title={warning}
        >
          {trans.__('unpinned')}
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
    >
      <div className="jp-RuntimeImages-rowHeader">
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
