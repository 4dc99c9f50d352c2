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

function PlatformsTable(props: {
  platforms: IPlatformSummary[];
  trans: TranslationBundle;
}): JSX.Element {
  const { platforms, trans } = props;
  return (
    <DetailsTable
      columns={[
        trans.__('Platform'),
        trans.__('Digest'),
        trans.__('Size'),
        trans.__('Checks')
      ]}
      rows={platforms}
    >
      {p => {
        const failed = (p.checks ?? []).filter(c => c.result === 'fail');
        return (
          <tr key={p.platform} data-platform={p.platform}>
            <td>{p.platform}</td>
            <td>
              <code>{p.digest}</code>
            </td>
            <td>{sizeText(p.size)}</td>
            <td>
              {p.checks === undefined
                ? ''
                : failed.length === 0
                  ? trans.__('pass')
                  : trans._n('%1 failed', '%1 failed', failed.length)}
            </td>
          </tr>
        );
      }}
    </DetailsTable>
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
          columns={[trans.__('Path'), trans.__('Kind'), trans.__('Python')]}
          rows={environments}
        >
          {env => (
            <tr key={env.path}>
              <td>
                <code>{env.path}</code>
              </td>
              <td>{env.kind}</td>
              <td>{env.python ?? ''}</td>
            </tr>
          )}
        </TableSection>
      )}
      {databases.length > 0 && (
        <TableSection
          className="jp-RuntimeImages-databases"
          title={trans.__('Package databases')}
          columns={[
            trans.__('Path'),
            trans.__('Format'),
            trans.__('Read'),
            trans.__('Reason')
          ]}
          rows={databases}
        >
          {db => (
            <tr
              key={db.path}
              className={db.read ? undefined : 'jp-mod-error'}
              data-read={db.read}
            >
              <td>
                <code>{db.path}</code>
              </td>
              <td>{db.format}</td>
              <td>{db.read ? trans.__('yes') : trans.__('no')}</td>
              <td>{db.reason ?? ''}</td>
            </tr>
          )}
        </TableSection>
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
