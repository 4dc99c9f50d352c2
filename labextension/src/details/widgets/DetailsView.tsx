import type { TranslationBundle } from '@jupyterlab/translation';
import { downloadIcon, LabIcon, refreshIcon } from '@jupyterlab/ui-components';
import React, { useEffect } from 'react';
import { IconButton, TextButton } from '../../ui/buttons';
import { useSignal } from '../../ui/signals';
import type { IRuntimeImages } from '../../tokens';
import { DetailsModel, DetailsTab, TABS } from '../model';
import { ChecksTab } from './ChecksTab';
import { CompareTab } from './CompareTab';
import { HistoryTab, IDetailsActions } from './HistoryTab';
import { LayersTab } from './LayersTab';
import { OverviewTab } from './OverviewTab';
import { PackagesTab } from './PackagesTab';
import { Tabs } from './Tabs';
import { VulnerabilitiesTab } from './VulnerabilitiesTab';

function tabLabel(tab: DetailsTab, trans: TranslationBundle): string {
  switch (tab) {
    case 'overview':
      return trans.__('Overview');
    case 'packages':
      return trans.__('Packages');
    case 'layers':
      return trans.__('Layers');
    case 'checks':
      return trans.__('Checks');
    case 'vulnerabilities':
      return trans.__('Vulnerabilities');
    case 'history':
      return trans.__('History');
    case 'compare':
      return trans.__('Compare with…');
  }
}

/** A unique id per view (for the ids of its tabs and panels). */
let views = 0;

/**
 * The Details view of a runtime image (or of a reference): a title, Download
 * SBOM and Refresh, and the tabs. Reads start when a tab is shown; closing the
 * view aborts them (the widget disposes the model).
 */
export function DetailsView(props: {
  model: DetailsModel;
  trans: TranslationBundle;
  actions: IDetailsActions;
  images: IRuntimeImages;
}): JSX.Element {
  const { model, trans, actions, images } = props;
  useSignal(model.stateChanged);
  useSignal(images.changed);
  const [idPrefix] = React.useState(
    () => `jp-RuntimeImages-details-${++views}`
  );
  useEffect(() => {
    model.show(model.tab);
  }, [model]);
  const image = model.name === null ? undefined : images.find(model.name);
  const title = image?.display_name ?? model.reference ?? model.name ?? '';
  return (
    <div
      className="jp-RuntimeImages-imageDetails"
      data-name={model.name ?? undefined}
      data-reference={model.reference ?? undefined}
    >
      <div className="jp-RuntimeImages-imageDetailsHeader">
        <h2 className="jp-RuntimeImages-imageDetailsTitle">{title}</h2>
        {model.reference && (
          <code className="jp-RuntimeImages-imageDetailsReference">
            {model.reference}
          </code>
        )}
        <span className="jp-RuntimeImages-imageDetailsActions">
          <span
            className="jp-RuntimeImages-sbom"
            role="group"
            aria-label={trans.__('Download SBOM')}
          >
            <LabIcon.resolveReact
              icon={downloadIcon}
              tag="span"
              className="jp-RuntimeImages-sbomIcon"
            />
            {trans.__('SBOM:')}
            <TextButton
              className="jp-RuntimeImages-linkButton jp-RuntimeImages-sbomCycloneDX"
              label={trans.__('Download SBOM (CycloneDX)')}
              onClick={() => void actions.downloadSbom(model, 'cyclonedx-json')}
            >
              CycloneDX
            </TextButton>
            <TextButton
              className="jp-RuntimeImages-linkButton jp-RuntimeImages-sbomSpdx"
              label={trans.__('Download SBOM (SPDX)')}
              onClick={() => void actions.downloadSbom(model, 'spdx-json')}
            >
              SPDX
            </TextButton>
          </span>
          <IconButton
            icon={refreshIcon}
            label={trans.__('Read this tab again')}
            className="jp-RuntimeImages-detailsRefresh"
            onClick={() => model.reloadTab()}
          />
        </span>
      </div>
      <Tabs
        idPrefix={idPrefix}
        label={trans.__('Details of %1', title)}
        tabs={TABS.map(id => ({ id, label: tabLabel(id, trans) }))}
        selected={model.tab}
        onSelect={tab => model.show(tab)}
      >
        {model.tab === 'overview' && (
          <OverviewTab model={model} trans={trans} />
        )}
        {model.tab === 'packages' && (
          <PackagesTab model={model} trans={trans} />
        )}
        {model.tab === 'layers' && <LayersTab model={model} trans={trans} />}
        {model.tab === 'checks' && <ChecksTab model={model} trans={trans} />}
        {model.tab === 'vulnerabilities' && (
          <VulnerabilitiesTab model={model} trans={trans} />
        )}
        {model.tab === 'history' && (
          <HistoryTab model={model} trans={trans} actions={actions} />
        )}
        {model.tab === 'compare' && (
          <CompareTab model={model} trans={trans} images={images.images} />
        )}
      </Tabs>
    </div>
  );
}
