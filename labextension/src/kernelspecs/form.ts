import type { IKernelspecOptions, KernelLanguage, Provisioner } from './api';

/**
 * The "Create kernelspec" dialog's form: its fields as typed, the request body
 * they make, and which field a server error is about.
 */

export type InstallLocation = 'user' | 'sys_prefix';

export const PROVISIONERS: Provisioner[] = ['kubernetes', 'docker'];
export const KERNEL_LANGUAGES: KernelLanguage[] = ['python', 'r', 'scala'];

/** What the "Create kernelspec" dialog collects (text as typed). */
export interface IKernelspecForm {
  provisioner: Provisioner;
  kernelName: string;
  displayName: string;
  language: KernelLanguage;
  location: InstallLocation;
  replace: boolean;
  launchTimeout: string;
  portRange: string;
  authorizedUsers: string;
  unauthorizedUsers: string;
}

export type KernelspecField =
  | 'provisioner'
  | 'kernelName'
  | 'displayName'
  | 'language'
  | 'location'
  | 'replace'
  | 'launchTimeout'
  | 'portRange'
  | 'authorizedUsers'
  | 'unauthorizedUsers'
  | 'form';

/** The form as the dialog opens: every optional field empty (server defaults). */
export function newKernelspecForm(): IKernelspecForm {
  return {
    provisioner: 'kubernetes',
    kernelName: '',
    displayName: '',
    language: 'python',
    location: 'user',
    replace: false,
    launchTimeout: '',
    portRange: '',
    authorizedUsers: '',
    unauthorizedUsers: ''
  };
}

/** User names from a text field: separated by commas, spaces or new lines. */
export function splitUsers(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map(user => user.trim())
    .filter(user => user !== '');
}

/**
 * The request body for the form: empty fields are left out, so the server applies
 * its defaults (`k8s_<name>`, `<display name> on Kubernetes`, 30 s, …).
 */
export function kernelspecBody(form: IKernelspecForm): IKernelspecOptions {
  const body: IKernelspecOptions = { provisioner: form.provisioner };
  if (form.kernelName.trim()) {
    body.kernel_name = form.kernelName.trim();
  }
  if (form.displayName.trim()) {
    body.display_name = form.displayName.trim();
  }
  body.language = form.language;
  if (form.location === 'sys_prefix') {
    body.sys_prefix = true;
  } else {
    body.user = true;
  }
  if (form.replace) {
    body.replace = true;
  }
  const timeout = form.launchTimeout.trim();
  if (timeout) {
    // Sent as typed when it is not a whole number: the server says what is wrong.
    body.launch_timeout = /^\d+$/.test(timeout)
      ? Number(timeout)
      : (timeout as unknown as number);
  }
  if (form.portRange.trim()) {
    body.port_range = form.portRange.trim();
  }
  const authorized = splitUsers(form.authorizedUsers);
  if (authorized.length > 0) {
    body.authorized_users = authorized;
  }
  const unauthorized = splitUsers(form.unauthorizedUsers);
  if (unauthorized.length > 0) {
    body.unauthorized_users = unauthorized;
  }
  return body;
}

/** Which dialog field a server error path (`port_range`, `authorized_users.0`) is about. */
export function kernelspecFieldOf(path: string): KernelspecField {
  const key = (path ?? '').replace(/^[#/]+/, '').split(/[./]/)[0];
  switch (key) {
    case 'provisioner':
      return 'provisioner';
    case 'kernel_name':
      return 'kernelName';
    case 'display_name':
      return 'displayName';
    case 'language':
      return 'language';
    case 'user':
    case 'prefix':
    case 'sys_prefix':
      return 'location';
    case 'replace':
      return 'replace';
    case 'launch_timeout':
      return 'launchTimeout';
    case 'port_range':
      return 'portRange';
    case 'authorized_users':
      return 'authorizedUsers';
    case 'unauthorized_users':
      return 'unauthorizedUsers';
    default:
      return 'form';
  }
}
