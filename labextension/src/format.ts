import { Time } from '@jupyterlab/coreutils';

/** Bytes for a person: `1.5 MB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) {
    return '';
  }
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** A time as JupyterLab writes it, or the text as it is when it is not one. */
export function formatTime(value: string | undefined): string {
  if (!value) {
    return '';
  }
  try {
    return Time.format(value);
  } catch {
    return value;
  }
}
