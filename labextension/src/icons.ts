import { LabIcon } from '@jupyterlab/ui-components';

/** An icon's SVG: 24×24 paths in the colour JupyterLab's themes restyle (`jp-icon3`). */
function iconSvg(...paths: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
${paths.map(d => `    <path d="${d}"/>`).join('\n')}
  </g>
</svg>`;
}

/** The open box under the arrows of the import and publish icons. */
const OPEN_CONTAINER =
  'M4 10.2 2.5 11v8.3L12 23l9.5-3.7V11l-1.5-.8v1.83l-7 2.73v7.12l-6.5-2.53v-6.16l6.5 2.53v-1.9L5.5 11.7 4 11.1z';

/** The sidebar icon of the Runtime Images panel. */
export const runtimeImagesIcon = new LabIcon({
  name: 'jupyter-runtime-images:container',
  svgstr: iconSvg(
    'M12 1.5 2.5 6.5v11L12 22.5l9.5-5v-11L12 1.5zm0 2.26 6.9 3.63L12 11.02 5.1 7.39 12 3.76zM4.5 9.03l6.5 3.42v7.32l-6.5-3.42V9.03zm8.5 10.74v-7.32l6.5-3.42v7.32L13 19.77z'
  )
});

/** A container with an arrow into it: import an image. */
export const importImageIcon = new LabIcon({
  name: 'jupyter-runtime-images:import-image',
  svgstr: iconSvg(
    'M11 1h2v7.17l2.59-2.58L17 7l-5 5-5-5 1.41-1.41L11 8.17V1z',
    OPEN_CONTAINER
  )
});

/** A container with an arrow out of it: publish an image to a registry. */
export const publishImageIcon = new LabIcon({
  name: 'jupyter-runtime-images:publish-image',
  svgstr: iconSvg(
    'M11 12h2V4.83l2.59 2.58L17 6l-5-5-5 5 1.41 1.41L11 4.83V12z',
    OPEN_CONTAINER
  )
});
