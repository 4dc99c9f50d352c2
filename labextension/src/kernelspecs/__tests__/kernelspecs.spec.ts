/**
 * The "Create kernelspec" request: endpoint, verb, body; errors pass through; the
 * model refreshes JupyterLab's kernelspecs after an install.
 */
// First: replaces the REST boundary for the imports below.
import {
  mockedRequestAPI as mocked,
  response,
  SETTINGS
} from '../../__tests__/support';

import { KernelspecsAPI } from '../api';
import {
  IKernelspecForm,
  kernelspecBody,
  kernelspecFieldOf,
  newKernelspecForm
} from '../form';
import { KernelspecsModel } from '../model';
import { APIError } from '../../request';

const form: IKernelspecForm = newKernelspecForm();

describe('KernelspecsAPI.install', () => {
  const api = new KernelspecsAPI({ serverSettings: SETTINGS });

  it('posts the options to images/{name}/kernelspec', async () => {
    const installed = {
      kernel_name: 'k8s_a_b',
      resource_dir: '/d/kernels/k8s_a_b',
      path: '/d/kernels/k8s_a_b/kernel.json',
      kernel_json: {}
    };
    mocked.mockResolvedValue(response(installed, { status: 201 }));
    const result = await api.install('a b', {
      provisioner: 'docker',
      launch_timeout: 60
    });
    expect(result).toEqual(installed);
    expect(mocked).toHaveBeenCalledWith(
      'images/a%20b/kernelspec',
      {
        method: 'POST',
        body: JSON.stringify({ provisioner: 'docker', launch_timeout: 60 })
      },
      SETTINGS
    );
  });

  it('passes a 409 and a 424 through as APIErrors', async () => {
    mocked.mockRejectedValueOnce(new APIError(409, 'exists'));
    await expect(
      api.install('x', { provisioner: 'docker' })
    ).rejects.toMatchObject({ status: 409 });
    mocked.mockRejectedValueOnce(
      new APIError(424, 'pip install gateway-provisioners', '', [], {
        code: 'GatewayProvisionersMissing'
      })
    );
    await expect(
      api.install('x', { provisioner: 'docker' })
    ).rejects.toMatchObject({ status: 424 });
  });
});

describe('KernelspecsModel', () => {
  const installed = {
    kernel_name: 'k8s_x',
    resource_dir: '/d/kernels/k8s_x',
    path: '/d/kernels/k8s_x/kernel.json',
    kernel_json: {}
  };

  it('installs through the API, then refreshes the kernelspecs', async () => {
    const api = { install: jest.fn().mockResolvedValue(installed) } as any;
    const refreshSpecs = jest.fn().mockResolvedValue(undefined);
    const model = new KernelspecsModel({ api, refreshSpecs });
    await expect(model.install('x', { provisioner: 'docker' })).resolves.toBe(
      installed
    );
    expect(api.install).toHaveBeenCalledWith('x', { provisioner: 'docker' });
    expect(refreshSpecs).toHaveBeenCalledTimes(1);
  });

  it('does not refresh when the server refuses; a failed refresh is not a failure', async () => {
    const refused = new APIError(409, 'exists');
    const refreshSpecs = jest.fn().mockRejectedValue(new Error('offline'));
    const model = new KernelspecsModel({
      api: {
        install: jest
          .fn()
          .mockRejectedValueOnce(refused)
          .mockResolvedValueOnce(installed)
      } as any,
      refreshSpecs
    });
    await expect(model.install('x', { provisioner: 'docker' })).rejects.toBe(
      refused
    );
    expect(refreshSpecs).not.toHaveBeenCalled();
    await expect(model.install('x', { provisioner: 'docker' })).resolves.toBe(
      installed
    );
    expect(refreshSpecs).toHaveBeenCalledTimes(1);
  });
});

describe('kernelspecBody', () => {
  it('leaves empty fields to the server defaults', () => {
    expect(kernelspecBody(form)).toEqual({
      provisioner: 'kubernetes',
      language: 'python',
      user: true
    });
  });

  it('sends every option given', () => {
    expect(
      kernelspecBody({
        ...form,
        provisioner: 'docker',
        kernelName: ' k ',
        displayName: 'K on D',
        language: 'r',
        location: 'sys_prefix',
        replace: true,
        launchTimeout: '60',
        portRange: '40000..41000',
        authorizedUsers: 'alice, bob\ncarol',
        unauthorizedUsers: 'root'
      })
    ).toEqual({
      provisioner: 'docker',
      kernel_name: 'k',
      display_name: 'K on D',
      language: 'r',
      sys_prefix: true,
      replace: true,
      launch_timeout: 60,
      port_range: '40000..41000',
      authorized_users: ['alice', 'bob', 'carol'],
      unauthorized_users: ['root']
    });
  });

  it('sends a launch timeout that is not a number as typed', () => {
    expect(kernelspecBody({ ...form, launchTimeout: 'soon' })).toMatchObject({
      launch_timeout: 'soon'
    });
  });
});

describe('kernelspecFieldOf', () => {
  it('maps server paths to fields', () => {
    expect(kernelspecFieldOf('port_range')).toBe('portRange');
    expect(kernelspecFieldOf('authorized_users.0')).toBe('authorizedUsers');
    expect(kernelspecFieldOf('sys_prefix')).toBe('location');
    expect(kernelspecFieldOf('')).toBe('form');
    expect(kernelspecFieldOf('bogus')).toBe('form');
  });
});
