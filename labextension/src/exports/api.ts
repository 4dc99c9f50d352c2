import { RESTClient, resourcePath } from '../restClient';

/** A format of `GET export/{format}` (as `GET export` lists them). */
export interface IExportFormat {
  format: string;
  title: string;
  mediaType: string;
  extension: string;
}

/** Which images an export covers: names, or tags, or (neither) every image. */
export interface IExportScope {
  names?: ReadonlyArray<string>;
  tags?: ReadonlyArray<string>;
}

/** An export: the document as text, and the images it had to leave out. */
export interface IExportDocument {
  text: string;
  /** Why images were left out (e.g. only on this machine), from the server. */
  warnings: string[];
}

/** The query of an export: `name=…&name=…&tag=…`. */
export function exportQuery(scope: IExportScope): string {
  const params = new URLSearchParams();
  for (const name of scope.names ?? []) {
    params.append('name', name);
  }
  for (const tag of scope.tags ?? []) {
    params.append('tag', tag);
  }
  const query = params.toString();
  return query ? `?${query}` : '';
}

/** The warnings header of an export: a JSON array of strings, or none. */
export function parseWarnings(header: string | null | undefined): string[] {
  if (!header) {
    return [];
  }
  try {
    const value = JSON.parse(header);
    return Array.isArray(value)
      ? value.filter((each): each is string => typeof each === 'string')
      : [];
  } catch {
    return [];
  }
}

/** A typed client of the export routes (issue 19). */
export class ExportsAPI extends RESTClient {
  /**
   * The formats the server exports to (`formats` of `GET export`); empty when
   * the server has none (before issue 19).
   */
  async formats(): Promise<IExportFormat[]> {
    const data = await this.requestBody<{ formats?: IExportFormat[] }>(
      'export',
      { method: 'GET' }
    );
    return Array.isArray(data?.formats)
      ? data!.formats!.filter(f => f && typeof f.format === 'string')
      : [];
  }

  /** `GET export/{format}?name=…&tag=…`: the document, as text. */
  async document(
    format: string,
    scope: IExportScope
  ): Promise<IExportDocument> {
    const { data, headers } = await this.request<unknown>(
      resourcePath('export', format) + exportQuery(scope),
      { method: 'GET' }
    );
    const text =
      data === null || data === undefined
        ? ''
        : typeof data === 'string'
          ? data
          : JSON.stringify(data, null, 2) + '\n';
    return {
      text,
      warnings: parseWarnings(headers?.get('X-Runtime-Images-Warnings'))
    };
  }
}

export namespace ExportsAPI {
  export type IOptions = RESTClient.IOptions;
}

/** The file name of an export: `runtime-images-{format}.{extension}`. */
export function exportFileName(format: IExportFormat): string {
  const extension = (format.extension || 'txt').replace(/^\.+/, '');
  return `runtime-images-${format.format}.${extension}`;
}
