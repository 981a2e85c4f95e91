import type { Construct } from 'constructs';
import { ContainerStep, withDefaults, type ContainerStepProps } from './container-step';
import { Predictor } from './predictor';
import { Volumes } from './volumes';

/** Props of {@link TraitExtractor}: every {@link ContainerStepProps} field, with the seed's defaults. */
export interface TraitExtractorProps extends Omit<ContainerStepProps, 'image'> {
  /** @default 'registry.gitlab.com/salk-tm/sleap-roots-traits:latest' (unpinned: environments must pin or opt in) */
  readonly image?: string;
}

/**
 * Computes root traits from the predictions with sleap-roots.
 * Defaults: depends on predictor, args `python /workspace/src/main.py /workspace/input /workspace/output`,
 * predictions-output (read-only) at /workspace/input, traits-output at /workspace/output, requests
 * cpu 1 / memory 2Gi (limits cpu 4 / memory 8Gi), timeout 6h.
 */
export class TraitExtractor extends ContainerStep {
  public static readonly STEP_NAME = 'trait-extractor';
  public static readonly DEFAULT_IMAGE = 'registry.gitlab.com/salk-tm/sleap-roots-traits:latest';

  /** The seed's defaults for this step (what an environment overrides). */
  public static defaults(): Partial<ContainerStepProps> {
    return {
      image: TraitExtractor.DEFAULT_IMAGE,
      args: ['python', '/workspace/src/main.py', '/workspace/input', '/workspace/output'],
      mounts: [
        { volume: Volumes.PREDICTIONS_OUTPUT, path: '/workspace/input', readOnly: true },
        { volume: Volumes.TRAITS_OUTPUT, path: '/workspace/output' },
      ],
      resources: { requests: { cpu: 1, memory: '2Gi' }, limits: { cpu: 4, memory: '8Gi' } },
      timeout: '6h',
      dependencies: [Predictor.STEP_NAME],
    };
  }

  public constructor(scope: Construct, props: TraitExtractorProps) {
    super(scope, TraitExtractor.STEP_NAME, withDefaults<ContainerStepProps>(TraitExtractor.defaults(), props as ContainerStepProps));
  }
}
