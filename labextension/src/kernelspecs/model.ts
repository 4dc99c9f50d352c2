import type {
  IInstalledKernelspec,
  IKernelspecOptions,
  KernelspecsAPI
} from './api';

/**
 * Kernelspecs for runtime images: installs one, then tells JupyterLab's kernelspec
 * manager, so the launcher and the kernel pickers list it at once.
 */
export class KernelspecsModel {
  constructor(options: KernelspecsModel.IOptions) {
    this._api = options.api;
    this._refreshSpecs = options.refreshSpecs ?? (() => Promise.resolve());
  }

  /**
   * Install a kernelspec that launches kernels in the runtime image `name`.
   *
   * @throws {APIError} as the server refuses it (see `KernelspecsAPI.install`)
   */
  async install(
    name: string,
    options: IKernelspecOptions
  ): Promise<IInstalledKernelspec> {
    const installed = await this._api.install(name, options);
    // A failed refresh does not undo the install: the next refresh lists it.
    void this._refreshSpecs().catch(() => undefined);
    return installed;
  }

  private readonly _api: KernelspecsAPI;
  private readonly _refreshSpecs: () => Promise<unknown>;
}

export namespace KernelspecsModel {
  export interface IOptions {
    api: KernelspecsAPI;
    /** Refresh the application's kernelspecs (after an install). */
    refreshSpecs?: () => Promise<unknown>;
  }
}
