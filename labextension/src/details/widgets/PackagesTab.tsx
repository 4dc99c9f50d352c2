import type { TranslationBundle } from '@jupyterlab/translation';
import React, { useMemo, useState } from 'react';
import { formatBytes } from '../../format';
import { Facts } from '../../ui/Facts';
import { FilterCount, SearchBox } from '../../ui/filters';
import { useSignal } from '../../ui/signals';
import { VirtualList } from '../../ui/VirtualList';
import { DetailsModel, facet } from '../model';
import type { IPackage } from '../types';
import { loadingTab } from './Loading';

/** Row height of the package list, in px (keep in sync with details.css). */
export const PACKAGE_ROW_HEIGHT = 28;

function packageKey(pkg: IPackage): string {
  return `${pkg.ecosystem}\u0000${pkg.environment ?? ''}\u0000${pkg.name}\u0000${pkg.version}\u0000${pkg.architecture ?? ''}`;
}

/** The packages' columns, as the header shows them and the rows fill them. */
function Columns(props: { cells: React.ReactNode[] }): JSX.Element {
  return (
    <>
      {props.cells.map((cell, index) => (
        <span key={index} className="jp-RuntimeImages-packageCell">
          {cell}
        </span>
      ))}
    </>
  );
}

function PackageFacts(props: {
  pkg: IPackage;
  trans: TranslationBundle;
}): JSX.Element {
  const { pkg, trans } = props;
  const facts: [string, React.ReactNode][] = [
    [trans.__('Name'), pkg.name],
    [trans.__('Version'), pkg.version],
    [trans.__('Ecosystem'), pkg.ecosystem],
    [
      trans.__('Environment'),
      pkg.environment && <code>{pkg.environment}</code>
    ],
    [trans.__('Architecture'), pkg.architecture],
    [trans.__('Source package'), pkg.source],
    [trans.__('Licences'), (pkg.licenses ?? []).join(', ')],
    [
      trans.__('Layer'),
      pkg.layer === null || pkg.layer === undefined ? '' : String(pkg.layer)
    ],
    [
      trans.__('Installed size'),
      typeof pkg.installed_size === 'number'
        ? formatBytes(pkg.installed_size)
        : ''
    ],
    [trans.__('Package URL'), pkg.purl && <code>{pkg.purl}</code>],
    [trans.__('Database'), pkg.database && <code>{pkg.database}</code>]
  ];
  return (
    <Facts
      className="jp-RuntimeImages-facts"
      facts={facts.filter(([, value]) => value)}
    />
  );
}

function Packages(props: {
  model: DetailsModel;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, trans } = props;
  useSignal(model.stateChanged);
  const all = model.packages;
  const shown = model.filteredPackages;
  const filter = model.packageFilter;
  const ecosystems = useMemo(() => facet(all, 'ecosystem'), [all]);
  const environments = useMemo(() => facet(all, 'environment'), [all]);
  const [selected, setSelected] = useState<string | null>(null);
  const selectedPackage =
    selected === null ? undefined : all.find(p => packageKey(p) === selected);
  const columns = [
    trans.__('Name'),
    trans.__('Version'),
    trans.__('Ecosystem'),
    trans.__('Environment'),
    trans.__('Layer'),
    trans.__('Licences')
  ];
  return (
    <div className="jp-RuntimeImages-packages">
      <div className="jp-RuntimeImages-packageFilter">
        <SearchBox
          className="jp-RuntimeImages-packageSearch"
          label={trans.__('Filter packages')}
          title={trans.__(
            'Filter by name, version, source package, licence or package URL'
          )}
          value={filter.text}
          onChange={text => model.setPackageFilter({ text })}
        />
        <CountSelect
          className="jp-RuntimeImages-ecosystemSelect"
          label={trans.__('Ecosystem')}
          all={trans.__('All ecosystems')}
          value={filter.ecosystem}
          counts={ecosystems}
          onChange={ecosystem => model.setPackageFilter({ ecosystem })}
        />
        <CountSelect
          className="jp-RuntimeImages-environmentSelect"
          label={trans.__('Environment')}
          all={trans.__('All environments')}
          value={filter.environment}
          counts={environments}
          name={value => value || trans.__('(none)')}
          onChange={environment => model.setPackageFilter({ environment })}
        />
      </div>
      <FilterCount
        className="jp-RuntimeImages-packageCount"
        count={shown.length}
        total={all.length}
        filter={filter.text}
      >
        {shown.length === all.length
          ? trans._n('%1 package', '%1 packages', all.length)
          : trans.__('%1 of %2 packages', shown.length, all.length)}
      </FilterCount>
      <div
        className="jp-RuntimeImages-packageRow jp-RuntimeImages-packageHeader"
        aria-hidden="true"
      >
        <Columns cells={columns} />
      </div>
      {shown.length === 0 ? (
        <p className="jp-RuntimeImages-empty">
          {all.length === 0
            ? trans.__('No package database was found in this image.')
            : trans.__('No package matches the filter.')}
        </p>
      ) : (
        <VirtualList
          className="jp-RuntimeImages-packageList"
          ariaLabel={trans.__('Packages')}
          items={shown}
          rowHeight={PACKAGE_ROW_HEIGHT}
          itemKey={packageKey}
          renderItem={pkg => {
            const key = packageKey(pkg);
            return (
              <div
                className={`jp-RuntimeImages-packageRow${
                  key === selected ? ' jp-mod-selected' : ''
                }`}
                data-name={pkg.name}
                data-ecosystem={pkg.ecosystem}
              >
                <Columns
                  cells={[
                    <button
                      type="button"
                      className="jp-RuntimeImages-packageName"
                      aria-label={trans.__(
                        'Details of %1 %2 (%3)',
                        pkg.name,
                        pkg.version,
                        pkg.ecosystem
                      )}
                      aria-pressed={key === selected}
                      title={pkg.purl ?? pkg.name}
                      onClick={() => setSelected(key === selected ? null : key)}
                    >
                      {pkg.name}
                    </button>,
                    pkg.version,
                    pkg.ecosystem,
                    pkg.environment ?? '',
                    pkg.layer === null || pkg.layer === undefined
                      ? ''
                      : String(pkg.layer),
                    (pkg.licenses ?? []).join(', ')
                  ]}
                />
              </div>
            );
          }}
        />
      )}
      {selectedPackage && (
        <section
          className="jp-RuntimeImages-packageDetails"
          aria-label={trans.__('Package %1', selectedPackage.name)}
        >
          <PackageFacts pkg={selectedPackage} trans={trans} />
        </section>
      )}
    </div>
  );
}

/**
 * A filter of the packages by one field: "all", then each value with how many
 * packages have it; `name` shows a value (default: as it is).
 */
function CountSelect(props: {
  className: string;
  label: string;
  all: string;
  value: string;
  counts: ReadonlyArray<readonly [string, number]>;
  name?: (value: string) => string;
  onChange: (value: string) => void;
}): JSX.Element {
  const name = props.name ?? ((value: string) => value);
  return (
    <select
      className={`jp-mod-styled ${props.className}`}
      aria-label={props.label}
      value={props.value}
      onChange={event => props.onChange(event.currentTarget.value)}
    >
      <option value="">{props.all}</option>
      {props.counts.map(([value, count]) => (
        <option key={value} value={value}>
          {`${name(value)} (${count})`}
        </option>
      ))}
    </select>
  );
}

/** The Packages tab: every package of the image, searchable, virtualised. */
export const PackagesTab = loadingTab({
  loader: model => model.inspection,
  what: trans => trans.__('Reading the image…'),
  render: (_, { model, trans }) => <Packages model={model} trans={trans} />
});
