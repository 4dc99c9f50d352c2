/**
 * Save `text` as a file named `filename` (the browser's download), through an
 * object URL that is released once the download has started.
 */
export function downloadText(
  text: string,
  filename: string,
  type = 'application/json'
): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.style.display = 'none';
  document.body.appendChild(link);
  link.click();
  document.body.removeChild(link);
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** A file name made of `text`: letters, digits, `.`, `_` and `-` only. */
export function safeFileName(text: string): string {
  return (
    text
      .replace(/@sha256:[0-9a-f]+$/, '')
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .replace(/^[._]+|_+$/g, '')
      .slice(0, 100) || 'image'
  );
}
