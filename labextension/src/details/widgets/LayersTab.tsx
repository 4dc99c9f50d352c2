import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';
import { formatBytes } from '../../format';
import { shortDigest } from '../../imageref';
import { Facts } from '../../ui/Facts';
import { ILayerBar, layerBars } from '../model';
import type { ILayers, IPathSize } from '../types';
import { loadingTab } from './Loading';

function Largest(props: {
  title: string;
  items: IPathSize[] | undefined;
}): JSX.Element | null {
  if (!props.items || props.items.length === 0) {
    return null;
  }
  return (
    <div className="jp-RuntimeImages-largest">
      <h4>{props.title}</h4>
      <ul>
        {props.items.map(item => (
          <li key={item.path}>
            <code>{item.path}</code> {formatBytes(item.size)}
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * One layer: a bar whose length is its size (of the largest layer) and whose
 * hatched end is its wasted part, its numbers, the command that made it, and its
 * largest files and directories (in a disclosure).
 */
function LayerRow(props: {
  bar: ILayerBar;
  trans: TranslationBundle;
}): JSX.Element {
  const { bar, trans } = props;
  const { layer } = bar;
  const summary = trans.__(
    'Layer %1: %2 (%3 compressed), %4 wasted',
    layer.index,
    formatBytes(layer.uncompressed_size),
    formatBytes(layer.compressed_size),
    formatBytes(layer.wasted_bytes)
  );
  return (
    <li
      className="jp-RuntimeImages-layer"
      data-index={layer.index}
      data-wasted={layer.wasted_bytes}
    >
      <div className="jp-RuntimeImages-layerHead">
        <span className="jp-RuntimeImages-layerIndex">{layer.index}</span>
        <div
          className="jp-RuntimeImages-layerBar"
          role="img"
          aria-label={summary}
          title={summary}
        >
          <div
            className="jp-RuntimeImages-layerBarSize"
            style={{ width: `${(bar.size * 100).toFixed(2)}%` }}
          >
            <div
              className="jp-RuntimeImages-layerBarWasted"
              style={{ width: `${(bar.wasted * 100).toFixed(2)}%` }}
            />
          </div>
        </div>
        <span className="jp-RuntimeImages-layerSize">
          {formatBytes(layer.uncompressed_size)}
        </span>
        <span className="jp-RuntimeImages-layerWasted">
          {layer.wasted_bytes > 0
            ? trans.__('%1 wasted', formatBytes(layer.wasted_bytes))
            : ''}
        </span>
      </div>
      <details className="jp-RuntimeImages-layerDetails">
        <summary>
          <code className="jp-RuntimeImages-layerCommand">
            {layer.created_by || shortDigest(layer.digest)}
          </code>
        </summary>
        <Facts
          className="jp-RuntimeImages-facts"
          facts={[
            [trans.__('Digest'), <code>{layer.digest}</code>],
            [trans.__('Compressed'), formatBytes(layer.compressed_size)],
            [trans.__('Uncompressed'), formatBytes(layer.uncompressed_size)],
            [
              trans.__('Files'),
              trans.__(
                '%1 added, %2 changed, %3 removed',
                layer.added ?? 0,
                layer.changed ?? 0,
                layer.removed ?? 0
              )
            ],
            [
              trans.__('Wasted'),
              trans.__(
                '%1 (files a later layer overwrote or deleted)',
                formatBytes(layer.wasted_bytes)
              )
            ]
          ]}
        />
        <Largest
          title={trans.__('Largest files')}
          items={layer.largest_files}
        />
        <Largest
          title={trans.__('Largest directories')}
          items={layer.largest_dirs}
        />
      </details>
    </li>
  );
}

function Layers(props: {
  data: ILayers;
  trans: TranslationBundle;
}): JSX.Element {
  const { data, trans } = props;
  const bars = layerBars(data.layers ?? []);
  const total = data.total;
  return (
    <>
      {total && (
        <p className="jp-RuntimeImages-layerTotal">
          {trans.__(
            '%1 layers: %2 compressed, %3 uncompressed, %4 wasted.',
            bars.length,
            formatBytes(total.compressed),
            formatBytes(total.uncompressed),
            formatBytes(total.wasted_bytes)
          )}
        </p>
      )}
      <div className="jp-RuntimeImages-layerLegend" aria-hidden="true">
        <span className="jp-RuntimeImages-legendSize" />
        {trans.__('size')}
        <span className="jp-RuntimeImages-legendWasted" />
        {trans.__('wasted (overwritten or deleted later)')}
      </div>
      <ol className="jp-RuntimeImages-layers" aria-label={trans.__('Layers')}>
        {bars.map(bar => (
          <LayerRow key={bar.layer.index} bar={bar} trans={trans} />
        ))}
      </ol>
    </>
  );
}

/** The Layers tab: a bar chart (CSS) of the layers' sizes and wasted bytes. */
export const LayersTab = loadingTab({
  loader: model => model.layers,
  what: trans => trans.__('Reading the layers…'),
  render: (data, { trans }) => <Layers data={data} trans={trans} />
});
