/**
 * The requirement profiles of the server (runtime_images/inspect/profiles.py), for
 * the forms and views that let a person choose which to check.
 */
export const PROFILES = [
  'elyra',
  'kubeflow',
  'odh-notebook',
  'gateway-kernel'
] as const;
export type Profile = (typeof PROFILES)[number];
export const DEFAULT_PROFILES: Profile[] = ['elyra'];
