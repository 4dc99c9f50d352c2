import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';
import { formatTime } from '../../format';
import { shortDigest } from '../../imageref';
import { errorMessage } from '../../request';
import { TextButton } from '../../ui/buttons';
import { useSignal } from '../../ui/signals';
import { DetailsSection, DetailsTable, ShortDigest } from '../../ui/tables';
import { atDigest, DetailsModel } from '../model';
import type { IUpdate } from '../types';
import { Loading } from './Loading';

/** What the Details view's buttons do that needs more than its model (dialogs). */
export interface IDetailsActions {
  /** Re-pin the runtime image to its tag's current digest (asks first). */
  repin(model: DetailsModel): Promise<void>;
  /** Download the image's SBOM. */
  downloadSbom(
    model: DetailsModel,
    format: 'cyclonedx-json' | 'spdx-json'
  ): Promise<void>;
  /** Show the Compare tab (e.g. with the pinned and the new image). */
  showTab(model: DetailsModel, tab: 'compare'): void;
}

export function reasonLabel(reason: string, trans: TranslationBundle): string {
  switch (reason) {
    case 'created':
      return trans.__('created');
    case 'pinned':
      return trans.__('pinned');
    case 'repinned':
      return trans.__('re-pinned');
    case 'rebuilt':
      return trans.__('rebuilt');
    case 'published':
      return trans.__('published');
    default:
      return reason;
  }
}

function UpdateBanner(props: {
  model: DetailsModel;
  update: IUpdate;
  trans: TranslationBundle;
  actions: IDetailsActions;
}): JSX.Element {
  const { model, update, trans, actions } = props;
  const summary = update.summary;
  return (
    <div className="jp-RuntimeImages-update" role="status">
      <p className="jp-RuntimeImages-messageTitle">
        {trans.__(
          'An update is available: %1 now points at %2 (since %3).',
          update.reference,
          shortDigest(update.current),
          formatTime(update.since)
        )}
      </p>
      {summary && (
        <p className="jp-RuntimeImages-updateSummary">
          {trans.__(
            'Packages: %1 added, %2 removed, %3 changed.',
            summary.packages.added,
            summary.packages.removed,
            summary.packages.changed
          )}{' '}
          {summary.vulnerabilities &&
            trans.__(
              'Vulnerabilities: %1 fixed, %2 introduced.',
              summary.vulnerabilities.fixed,
              summary.vulnerabilities.introduced
            )}
        </p>
      )}
      <div className="jp-RuntimeImages-updateActions">
        <TextButton
          className="jp-mod-styled"
          label={trans.__('Compare the pinned image with the new one')}
          onClick={() => {
            model.compare(
              atDigest(update.reference, update.current),
              atDigest(update.reference, update.pinned)
            );
            actions.showTab(model, 'compare');
          }}
        >
          {trans.__('Show changes')}
        </TextButton>
        <TextButton
          className="jp-mod-styled jp-mod-accept"
          label={trans.__('Re-pin to the new digest')}
          onClick={() => void actions.repin(model)}
        >
          {trans.__('Re-pin')}
        </TextButton>
      </div>
    </div>
  );
}

/** The History tab: the digests the runtime image pointed at, and Re-pin when its tag moved. */
export function HistoryTab(props: {
  model: DetailsModel;
  trans: TranslationBundle;
  actions: IDetailsActions;
}): JSX.Element {
  const { model, trans, actions } = props;
  useSignal(model.updates.changed);
  if (model.name === null) {
    return (
      <p className="jp-RuntimeImages-empty">
        {trans.__('Only runtime images have a history.')}
      </p>
    );
  }
  const update = model.update;
  return (
    <div className="jp-RuntimeImages-historyTab">
      {update && (
        <UpdateBanner
          model={model}
          update={update}
          trans={trans}
          actions={actions}
        />
      )}
      {model.updates.status === 'ready' && !update && (
        <p className="jp-RuntimeImages-noUpdate">
          {model.updates.data?.checkedAt
            ? trans.__(
                'No update: the tag had not moved when last checked (%1).',
                formatTime(model.updates.data.checkedAt)
              )
            : trans.__('The tags have not been checked yet.')}
        </p>
      )}
      {model.updates.status === 'error' && (
        <p className="jp-RuntimeImages-noUpdate">
          {trans.__(
            'Could not read the updates: %1',
            errorMessage(model.updates.error)
          )}
        </p>
      )}
      <DetailsSection
        className="jp-RuntimeImages-history"
        title={trans.__('History')}
      >
        <Loading
          loader={model.history}
          trans={trans}
          what={trans.__('Reading the history…')}
          model={model}
        >
          {data => (
            <DetailsTable
              columns={[
                {
                  header: trans.__('When'),
                  cell: entry => formatTime(entry.at),
                  title: entry => entry.at
                },
                {
                  header: trans.__('Why'),
                  cell: entry => reasonLabel(entry.reason, trans)
                },
                {
                  header: trans.__('Digest'),
                  cell: entry => <ShortDigest digest={entry.digest} />
                },
                {
                  header: trans.__('Reference'),
                  cell: entry => <code>{entry.reference}</code>
                }
              ]}
              rows={data.history ?? []}
              rowKey={(entry, index) => index}
              rowAttributes={entry => ({
                'data-reason': entry.reason,
                'data-digest': entry.digest
              })}
              empty={trans.__('No history recorded yet.')}
            />
          )}
        </Loading>
      </DetailsSection>
    </div>
  );
}
