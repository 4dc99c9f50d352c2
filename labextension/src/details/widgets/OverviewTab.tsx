import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';
import { formatBytes } from '../../format';
import { parseImageReference } from '../../imageref';
import { TextButton } from '../../ui/buttons';
import { Facts } from '../../ui/Facts';
import { useSignal } from '../../ui/signals';
import { DetailsSection, DetailsTable, TableSection } from '../../ui/tables';
import type { DetailsModel } from '../model';
import type { IInspection, IPlatformSummary, ISizes } from '../types';
import { Loading, loadingTab } from './Loading';

function sizeText(size: ISizes | number | null | undefined): string {
  if (typeof size === 'number') {
    return formatBytes(size);
  }
  if (!size) {
    return '';
  }
  return `${formatBytes(size.compressed)} / ${formatBytes(size.uncompressed)}`;
}

/**
 * The platform of the image: a selector when the image is an index with more
 * than one platform; "List platforms" reads them (`inspect?platform=all`).
 */
export function PlatformSelector(props: {
  model: DetailsModel;
  trans: TranslationBundle;
  current: string;
}): JSX.Element {
  const { model, trans, current } = props;
  useSignal(model.platforms.changed);
  const choices = model.platformChoices;
  const selected = model.platform ?? current;
  return (
    <span className="jp-RuntimeImages-platform">
      {choices.length > 1 ? (
        <select
          className="jp-mod-styled jp-RuntimeImages-platformSelect"
          aria-label={trans.__('Platform')}
          value={selected}
          onChange={event => model.setPlatform(event.currentTarget.value)}
        >
          {choices.map(platform => (
            <option key={platform} value={platform}>
              {platform}
            </option>
          ))}
        </select>
      ) : (
        <code>{current}</code>
      )}{' '}
      {model.platforms.status === 'idle' && (
        <TextButton
          className="jp-RuntimeImages-linkButton"
          label={trans.__('List the platforms of the image')}
          onClick={() => model.listPlatforms()}
        >
          {trans.__('List platforms')}
        </TextButton>
      )}
    </span>
  );
}

/** A platform's checks in a word: pass, or how many failed ('' when not checked). */
function checksText(
  platform: IPlatformSummary,
  trans: TranslationBundle
): string {
  if (platform.checks === undefined) {
    return '';
  }
  const failed = platform.checks.filter(c => c.result === 'fail').length;
  return failed === 0
    ? trans.__('pass')
    : trans._n('%1 failed', '%1 failed', failed);
}

function PlatformsTable(props: {
  platforms: IPlatformSummary[];
  trans: TranslationBundle;
}): JSX.Element {
  const { platforms, trans } = props;
  return (
    <DetailsTable
      columns={[
        { header: trans.__('Platform'), cell: p => p.platform },
        { header: trans.__('Digest'), cell: p => <code>{p.digest}</code> },
        { header: trans.__('Size'), cell: p => sizeText(p.size) },
        { header: trans.__('Checks'), cell: p => checksText(p, trans) }
      ]}
      rows={platforms}
      rowKey={p => p.platform}
      rowAttributes={p => ({ 'data-platform': p.platform })}
    />
  );
}

function Overview(props: {
  model: DetailsModel;
  data: IInspection;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, data, trans } = props;
  const image = data.image ?? ({} as IInspection['image']);
  const reference = model.reference ?? image.reference ?? '';
  const pinned = parseImageReference(reference).digest !== null;
  const python =
    data.python?.version ??
    (data.pythons ?? []).find(p => p.version)?.version ??
    null;
  const accelerators = data.accelerators ?? [];
  const facts: [string, React.ReactNode][] = [
    [trans.__('Reference'), <code>{reference}</code>],
    [trans.__('Digest'), <code>{image.digest}</code>],
    [
      trans.__('Platform'),
      <PlatformSelector
        model={model}
        trans={trans}
        current={image.platform ?? ''}
      />
    ],
    [trans.__('OS'), data.os?.pretty_name || trans.__('unknown')],
    [trans.__('Python'), python ?? trans.__('none found')],
    [
      trans.__('Size'),
      data.size
        ? trans.__(
            '%1 compressed, %2 on disk',
            formatBytes(data.size.compressed),
            formatBytes(data.size.uncompressed)
          )
        : data.compressed_size !== undefined
          ? trans.__('%1 compressed', formatBytes(data.compressed_size))
          : ''
    ],
    [
      trans.__('Packages'),
      String((data.packages ?? []).length || trans.__('none found'))
    ],
    [
      trans.__('Availability'),
      image.local
        ? trans.__('local: only this machine can use it')
        : trans.__('published in a registry')
    ],
    [
      trans.__('Pinned'),
      pinned
        ? trans.__('yes: always the same image')
        : trans.__('no: the tag may move')
    ],
    [
      trans.__('Accelerators'),
      accelerators.length === 0
        ? trans.__('none detected')
        : accelerators
            .map(a => (a.version ? `${a.name} ${a.version}` : a.name))
            .join(', ')
    ]
  ];
  const environments = data.environments ?? [];
  const databases = data.databases ?? [];
  const platforms = model.platforms.data?.platforms ?? [];
  return (
    <>
      <Facts className="jp-RuntimeImages-facts" facts={facts} />
      {(model.platforms.status !== 'idle' || platforms.length > 0) && (
        <DetailsSection
          className="jp-RuntimeImages-platforms"
          title={trans.__('Platforms')}
        >
          <Loading
            loader={model.platforms}
            trans={trans}
            what={trans.__('Reading every platform of the image…')}
            model={model}
          >
            {data => (
              <PlatformsTable platforms={data.platforms ?? []} trans={trans} />
            )}
          </Loading>
        </DetailsSection>
      )}
      {environments.length > 0 && (
        <TableSection
          className="jp-RuntimeImages-environments"
          title={trans.__('Environments')}
          columns={[
            { header: trans.__('Path'), cell: env => <code>{env.path}</code> },
            { header: trans.__('Kind'), cell: env => env.kind },
            { header: trans.__('Python'), cell: env => env.python ?? '' }
          ]}
          rows={environments}
          rowKey={env => env.path}
        />
      )}
      {databases.length > 0 && (
        <TableSection
          className="jp-RuntimeImages-databases"
          title={trans.__('Package databases')}
          columns={[
            { header: trans.__('Path'), cell: db => <code>{db.path}</code> },
            { header: trans.__('Format'), cell: db => db.format },
            {
              header: trans.__('Read'),
              cell: db => (db.read ? trans.__('yes') : trans.__('no'))
            },
            { header: trans.__('Reason'), cell: db => db.reason ?? '' }
          ]}
          rows={databases}
          rowKey={db => db.path}
          rowAttributes={db => ({
            className: db.read ? undefined : 'jp-mod-error',
            'data-read': db.read
          })}
        />
      )}
    </>
  );
}

/** The Overview tab: what the image is, where it runs, how big it is. */
export const OverviewTab = loadingTab({
  loader: model => model.inspection,
  what: trans => trans.__('Reading the image…'),
  render: (data, { model, trans }) => (
    <Overview model={model} data={data} trans={trans} />
  )
});
