import { RESTClient } from '../restClient';

/** Findings by severity level. */
export interface ISeverityCounts {
  critical: number;
  high: number;
  medium: number;
  low: number;
  unknown: number;
}

/** `GET vulns/summary`: the counts of the images already inspected and matched. */
export interface IVulnsSummary {
  images: Record<string, { digest: string; counts: ISeverityCounts }>;
}

/** A typed client of `GET vulns/summary` (issue 17): fast, never reads an image. */
export class VulnsAPI extends RESTClient {
  async summary(): Promise<IVulnsSummary> {
    const data = await this.requestBody<Partial<IVulnsSummary>>(
      'vulns/summary',
      { method: 'GET' }
    );
    const images = data?.images;
    return {
      images: images && typeof images === 'object' ? images : {}
    };
  }
}

export namespace VulnsAPI {
  export type IOptions = RESTClient.IOptions;
}
