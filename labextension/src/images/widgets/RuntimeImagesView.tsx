import type { TranslationBundle } from '@jupyterlab/translation';
import { deleteIcon, editIcon } from '@jupyterlab/ui-components';
import React, { useRef } from 'react';
import type { IRuntimeImage } from '../../tokens';
import { RowActions, TextButton } from '../../ui/buttons';
import { FilterCount, SearchBox } from '../../ui/filters';
import { useSignal } from '../../ui/signals';
import { VirtualList } from '../../ui/VirtualList';
import type { RuntimeImagesModel } from '../model';
import type { IInvalidRuntimeImage } from '../types';
import { ImageRow, ROW_HEIGHT } from './ImageRow';
import { SelectButton } from './ImageRow';
import type { ImageBadges, ImageCommands } from './RuntimeImagesPanel';

/**
 * What the panel's buttons do (implemented by the plugin, which owns dialogs and
 * the main area).
 */
export interface IPanelActions {
  create(): void;
  edit(image: IRuntimeImage): void;
  repair(item: IInvalidRuntimeImage): void;
  duplicate(image: IRuntimeImage): void;
  remove(image: IRuntimeImage): void;
  removeInvalid(item: IInvalidRuntimeImage): void;
  retry(): void;
}

function ServerStatusMessage(props: {
  model: RuntimeImagesModel;
  trans: TranslationBundle;
  actions: IPanelActions;
}): JSX.Element | null {
  const { model, trans } = props;
  if (model.status === 'checking') {
    return (
      <div className="jp-RuntimeImages-message" role="status">
        {trans.__('Connecting to the runtime images service…')}
      </div>
    );
  }
  if (model.status !== 'missing' && model.status !== 'error') {
    return null;
  }
  return (
    <div
      className="jp-RuntimeImages-message jp-RuntimeImages-serverError"
      role="alert"
      data-status={model.status}
    >
      {model.status === 'missing' ? (
        <>
          <p className="jp-RuntimeImages-messageTitle">
            {trans.__(
              'The runtime images server extension is not installed or not enabled.'
            )}
          </p>
          <p>
            {trans.__(
              'The server answered 404 Not Found for %1. Install the Python package "jupyter-runtime-images" in the environment that runs the Jupyter server, or enable it with "jupyter server extension enable runtime_images", then restart the server.',
              'runtime-images/schema'
            )}
          </p>
        </>
      ) : (
        <>
          <p className="jp-RuntimeImages-messageTitle">
            {trans.__('The runtime images service did not answer.')}
          </p>
          <p>{model.statusMessage}</p>
        </>
      )}
      <TextButton
        className="jp-mod-styled jp-mod-accept"
        label={trans.__('Retry')}
        onClick={() => props.actions.retry()}
      />
    </div>
  );
}

function InvalidItems(props: {
  items: ReadonlyArray<IInvalidRuntimeImage>;
  trans: TranslationBundle;
  actions: IPanelActions;
}): JSX.Element | null {
  const { items, trans, actions } = props;
  if (items.length === 0) {
    return null;
  }
  return (
    <section
      className="jp-RuntimeImages-invalid"
      aria-label={trans.__('Invalid runtime images')}
    >
      <h3 className="jp-RuntimeImages-sectionTitle">
        {trans._n(
          '%1 invalid runtime image',
          '%1 invalid runtime images',
          items.length
        )}
      </h3>
      <ul>
        {items.map(item => (
          <li
            key={`${item.origin ?? ''}/${item.name}`}
            className="jp-RuntimeImages-invalidItem"
            data-name={item.name}
          >
            <div className="jp-RuntimeImages-rowHeader">
              <span className="jp-RuntimeImages-badge jp-RuntimeImages-invalidMark">
                {trans.__('invalid')}
              </span>
              <span className="jp-RuntimeImages-displayName" title={item.name}>
                {(item.document &&
                  typeof item.document.display_name === 'string' &&
                  item.document.display_name) ||
                  item.name}
              </span>
              <RowActions
                actions={[
                  {
                    icon: editIcon,
                    label: trans.__('Edit'),
                    onClick: () => actions.repair(item)
                  },
                  (item.origin ?? 'user') === 'user' && {
                    icon: deleteIcon,
                    label: trans.__('Delete'),
                    onClick: () => actions.removeInvalid(item)
                  }
                ]}
              />
            </div>
            <div className="jp-RuntimeImages-reason">{item.reason}</div>
            {(item.errors ?? []).length > 0 && (
              <ul className="jp-RuntimeImages-reasonList">
                {(item.errors ?? []).map((error, index) => (
                  <li key={index}>
                    {error.path ? <code>{error.path}</code> : null}{' '}
                    {error.message}
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

/**
 * What can be done with the selected images: the commands other features add
 * (run with `{ names }`), and clearing the selection.
 */
function SelectionBar(props: {
  model: RuntimeImagesModel;
  trans: TranslationBundle;
  commands: ImageCommands;
}): JSX.Element | null {
  const { model, trans, commands } = props;
  const names = model.selection;
  if (names.length === 0) {
    return null;
  }
  const args = { names: [...names] };
  return (
    <div
      className="jp-RuntimeImages-selectionBar"
      role="group"
      aria-label={trans.__('Selected runtime images')}
      data-count={names.length}
    >
      <span className="jp-RuntimeImages-selectionCount">
        {trans._n('%1 selected', '%1 selected', names.length)}
      </span>
      {commands.ids.map(id => (
        <TextButton
          key={id}
          className="jp-mod-styled jp-RuntimeImages-selectionCommand"
          label={commands.registry.label(id, args)}
          disabled={!commands.registry.isEnabled(id, args)}
          onClick={() => void commands.registry.execute(id, args)}
        />
      ))}
      <TextButton
        className="jp-RuntimeImages-linkButton"
        label={trans.__('Clear selection')}
        onClick={() => model.clearSelection()}
      />
    </div>
  );
}

/**
 * The content of the Runtime Images panel: filter, tag chips, status, invalid
 * files and the (virtualised) list of images.
 */
export function RuntimeImagesView(props: {
  model: RuntimeImagesModel;
  trans: TranslationBundle;
  actions: IPanelActions;
  imageCommands: ImageCommands;
  badges: ImageBadges;
  selectionCommands: ImageCommands;
}): JSX.Element {
  const { model, trans, actions, imageCommands, badges, selectionCommands } =
    props;
  useSignal(model.stateChanged);
  useSignal(imageCommands.changed);
  useSignal(badges.changed);
  useSignal(selectionCommands.changed);
  const search = useRef<HTMLInputElement>(null);

  if (model.status !== 'ready') {
    return (
      <div className="jp-RuntimeImages-view">
        <ServerStatusMessage model={model} trans={trans} actions={actions} />
      </div>
    );
  }

  const filtered = model.filtered;
  const total = model.images.length;
  const invalid = model.filteredInvalid;
  const selected = model.filter.tags;

  return (
    <div className="jp-RuntimeImages-view">
      <div className="jp-RuntimeImages-filter">
        <SearchBox
          ref={search}
          className="jp-RuntimeImages-search"
          label={trans.__('Filter runtime images')}
          title={trans.__(
            'Filter by display name, name, image name or description'
          )}
          value={model.filter.text}
          onChange={text => model.setFilterText(text)}
        />
        {model.allTags.length > 0 && (
          <div
            className="jp-RuntimeImages-tagFilter"
            role="group"
            aria-label={trans.__('Filter by tags')}
          >
            {model.allTags.map(tag => (
              <button
                key={tag}
                type="button"
                className={`jp-RuntimeImages-tagToggle${
                  selected.has(tag) ? ' jp-mod-selected' : ''
                }`}
                aria-pressed={selected.has(tag)}
                aria-label={trans.__('Tag: %1', tag)}
                title={trans.__('Show images tagged "%1"', tag)}
                onClick={() => model.toggleTag(tag)}
              >
                {tag}
              </button>
            ))}
          </div>
        )}
      </div>
      {model.refreshError && (
        <div className="jp-RuntimeImages-refreshError" role="alert">
          {trans.__('Could not refresh the list: %1', model.refreshError)}
        </div>
      )}
      <FilterCount
        count={filtered.length}
        total={total}
        filter={model.filter.text}
      >
        {filtered.length > 0 && (
          <SelectButton
            selected={filtered.every(image => model.isSelected(image.name))}
            label={trans.__('Select all shown images')}
            onToggle={() => model.toggleAllShown()}
          />
        )}
        {model.isFiltered
          ? trans.__('%1 of %2 images', filtered.length, total)
          : trans._n('%1 image', '%1 images', total)}
        {model.isFiltered && (
          <TextButton
            className="jp-RuntimeImages-linkButton"
            label={trans.__('Clear filter')}
            onClick={() => {
              model.clearFilter();
              // The button goes away with the filter: the focus goes to the filter box.
              search.current?.focus();
            }}
          />
        )}
      </FilterCount>
      <SelectionBar model={model} trans={trans} commands={selectionCommands} />
      <InvalidItems items={invalid} trans={trans} actions={actions} />
      {model.loaded && total === 0 && (
        <div className="jp-RuntimeImages-message">
          {trans.__('No runtime images yet. Click the + button to add one.')}
        </div>
      )}
      {total > 0 && filtered.length === 0 && (
        <div className="jp-RuntimeImages-message">
          {trans.__('No runtime image matches the filter.')}
        </div>
      )}
      <VirtualList
        className="jp-RuntimeImages-list"
        ariaLabel={trans.__('Runtime images')}
        items={filtered}
        rowHeight={ROW_HEIGHT}
        itemKey={image => image.name}
        renderItem={image => (
          <ImageRow
            image={image}
            trans={trans}
            onEdit={actions.edit}
            onDuplicate={actions.duplicate}
            onDelete={actions.remove}
            commands={imageCommands}
            badges={badges.of(image)}
            selected={model.isSelected(image.name)}
            onToggleSelected={(image, range) =>
              model.toggleSelected(image.name, range)
            }
          />
        )}
      />
    </div>
  );
}
