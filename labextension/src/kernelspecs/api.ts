import { RESTClient, resourcePath } from '../restClient';

export type Provisioner = 'kubernetes' | 'docker';
export type KernelLanguage = 'python' | 'r' | 'scala';

/** The body of `POST images/{name}/kernelspec` (see docs/kernelspecs.md). */
export interface IKernelspecOptions {
  provisioner: Provisioner;
  kernel_name?: string;
  display_name?: string;
  language?: KernelLanguage;
  replace?: boolean;
  launch_timeout?: number;
  port_range?: string;
  authorized_users?: string[];
  unauthorized_users?: string[];
  user?: boolean;
  sys_prefix?: boolean;
}

/** The 201 answer: the kernelspec written. */
export interface IInstalledKernelspec {
  kernel_name: string;
  resource_dir: string;
  /** The kernel.json written. */
  path: string;
  kernel_json: Record<string, unknown>;
}

/**
 * A typed client of `POST runtime-images/images/{name}/kernelspec`.
 */
export class KernelspecsAPI extends RESTClient {
  /**
   * Write a Gateway Provisioners kernelspec that launches kernels in the runtime
   * image `name`.
   *
   * @throws {APIError} 400 field errors, 404 no such image, 409 the kernelspec
   *   exists (and `replace` is not set), 424 gateway-provisioners is not installed
   */
  async install(
    name: string,
    options: IKernelspecOptions
  ): Promise<IInstalledKernelspec> {
    return this.requestBody(resourcePath('images', name, 'kernelspec'), {
      method: 'POST',
      body: JSON.stringify(options)
    });
  }
}

export namespace KernelspecsAPI {
  export type IOptions = RESTClient.IOptions;
}
