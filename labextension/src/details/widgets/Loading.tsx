import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';
import { errorMessage } from '../../request';
import { TextButton } from '../../ui/buttons';
import { useSignal, useTick } from '../../ui/signals';
import type { Loader } from '../loader';
import type { DetailsModel } from '../model';

/**
 * What a tab shows around one read: a spinner with the time spent and a Cancel
 * button while it runs, the error and Retry when it failed, "Cancelled" and Load
 * again when cancelled; `children(data)` once there is a result (a reload keeps
 * the last result shown under the spinner).
 */
export function Loading<T>(props: {
  loader: Loader<T>;
  trans: TranslationBundle;
  /** What is being read, e.g. "Reading the image…". */
  what: string;
  /** What reloads `loader` (Retry, Load again): the Details view's model. */
  model: { reload(loader: Loader<unknown>): void };
  /** What to show instead of the generic error (e.g. an empty state), or null. */
  renderError?: (error: unknown) => React.ReactNode | null;
  children: (data: T) => React.ReactNode;
}): JSX.Element {
  const { loader, trans } = props;
  const reload = () => props.model.reload(loader);
  useSignal(loader.changed);
  const loading = loader.status === 'loading';
  useTick(1000, loading);
  const data = loader.data;
  let state: React.ReactNode = null;
  if (loading) {
    const seconds = Math.floor(
      (Date.now() - (loader.startedAt ?? Date.now())) / 1000
    );
    state = (
      <div className="jp-RuntimeImages-loading" role="status">
        <span className="jp-RuntimeImages-spinner" aria-hidden="true" />
        <span className="jp-RuntimeImages-loadingText">
          {seconds > 0
            ? trans.__('%1 (%2 s)', props.what, seconds)
            : props.what}
        </span>
        <TextButton
          className="jp-mod-styled jp-RuntimeImages-cancelLoad"
          label={trans.__('Cancel')}
          title={trans.__('Stop reading')}
          onClick={() => loader.cancel()}
        />
      </div>
    );
  } else if (loader.status === 'error') {
    const custom = props.renderError?.(loader.error) ?? null;
    state = custom ?? (
      <div className="jp-RuntimeImages-loadError" role="alert">
        <p>{errorMessage(loader.error)}</p>
        <TextButton
          className="jp-mod-styled jp-mod-accept"
          label={trans.__('Retry')}
          onClick={reload}
        />
      </div>
    );
  } else if (loader.status === 'cancelled') {
    state = (
      <div className="jp-RuntimeImages-loadCancelled" role="status">
        <p>{trans.__('Cancelled.')}</p>
        <TextButton
          className="jp-mod-styled jp-mod-accept"
          label={trans.__('Load again')}
          onClick={reload}
        />
      </div>
    );
  }
  return (
    <div className="jp-RuntimeImages-loadable" data-status={loader.status}>
      {state}
      {data !== null && loader.status !== 'error' && props.children(data)}
    </div>
  );
}

/** What every tab of the Details view is given. */
export interface IDetailsTabProps {
  model: DetailsModel;
  trans: TranslationBundle;
}

/**
 * A tab of the Details view that shows one read of its model: `Loading` around
 * what `render` makes of the data.
 */
export function loadingTab<T>(tab: {
  /** The model's read that the tab shows. */
  loader: (model: DetailsModel) => Loader<T>;
  /** What is being read, translated. */
  what: (trans: TranslationBundle) => string;
  renderError?: (
    error: unknown,
    trans: TranslationBundle
  ) => React.ReactNode | null;
  render: (data: T, props: IDetailsTabProps) => React.ReactNode;
}): (props: IDetailsTabProps) => JSX.Element {
  const { renderError } = tab;
  return function LoadingTab(props: IDetailsTabProps): JSX.Element {
    const { model, trans } = props;
    return (
      <Loading
        loader={tab.loader(model)}
        trans={trans}
        what={tab.what(trans)}
        model={model}
        renderError={renderError && (error => renderError(error, trans))}
      >
        {data => tab.render(data, props)}
      </Loading>
    );
  };
}
