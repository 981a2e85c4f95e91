/** The five shared directories the built-in steps exchange data through. */
export const Volumes = {
  MODELS_INPUT: 'models-input',
  MODELS_OUTPUT: 'models-output',
  IMAGES_INPUT: 'images-input',
  PREDICTIONS_OUTPUT: 'predictions-output',
  TRAITS_OUTPUT: 'traits-output',
} as const;
