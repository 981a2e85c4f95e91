import type { Volume } from './shapes';

/** The five shared directories the built-in steps exchange data through. */
export const Volumes = {
  MODELS_INPUT: 'models-input',
  MODELS_OUTPUT: 'models-output',
  IMAGES_INPUT: 'images-input',
  PREDICTIONS_OUTPUT: 'predictions-output',
  TRAITS_OUTPUT: 'traits-output',
} as const;

/**
 * The volumes of a pipeline that declares none: a PersistentVolumeClaim per shared directory,
 * named as the directory (the claims are the cluster admin's; pods wait until they exist).
 */
export function defaultVolumes(): Record<string, Volume> {
  return Object.fromEntries(Object.values(Volumes).map((name) => [name, { persistentVolumeClaim: name }]));
}
