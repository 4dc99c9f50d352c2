/**
 * The "Create kernelspec" request: endpoint, verb, body; errors pass through.
 */
// First: replaces the REST boundary for the imports below.
import { mockedRequestAPI as mocked, SETTINGS } from './support';

import {
  createKernelspec,
  IKernelspecForm,
  kernelspecBody,
  kernelspecFieldOf,
  newKernelspecForm
} from '../kernelspec';
import { APIError } from '../request';

const form: IKernelspecForm = newKernelspecForm();

describe('createKernelspec', () => {
  beforeEach(() => mocked.mockReset());

  it('posts the options to images/{name}/kernelspec', async () => {
    const installed = {
      kernel_name: 'k8s_a_b',
      resource_dir: '/d/kernels/k8s_a_b',
      path: '/d/kernels/k8s_a_b/kernel.json',
      kernel_json: {}
    };
    mocked.mockResolvedValue({ status: 201, data: installed, etag: null });
    const result = await createKernelspec(
      'a b',
      { provisioner: 'docker', launch_timeout: 60 },
      SETTINGS
    );
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
      createKernelspec('x', { provisioner: 'docker' }, SETTINGS)
    ).rejects.toMatchObject({ status: 409 });
    mocked.mockRejectedValueOnce(
      new APIError(424, 'pip install gateway-provisioners', '', [], {
        code: 'GatewayProvisionersMissing'
      })
    );
    await expect(
      createKernelspec('x', { provisioner: 'docker' }, SETTINGS)
    ).rejects.toMatchObject({ status: 424 });
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
