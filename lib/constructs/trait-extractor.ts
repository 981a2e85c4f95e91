import type { Construct } from 'constructs';
import { ContainerStep, withDefaults, type ContainerStepProps } from './container-step';
import { Volumes } from '../values/volumes';

/** Props of {@link TraitExtractor}: every {@link ContainerStepProps} field, with the seed's defaults. */
export interface TraitExtractorProps extends Partial<ContainerStepProps> {
  /** @default 'registry.gitlab.com/salk-tm/sleap-roots-traits:latest' (unpinned: pin it or allow unpinned images) */
  readonly image?: string;
}

/**
 * Computes root traits from the predictions with sleap-roots.
 * Defaults: args `python /workspace/src/main.py /workspace/input /workspace/output`,
 * predictions-output (read-only) at /workspace/input, traits-output at /workspace/output, requests
 * cpu 1 / memory 2Gi (limits cpu 4 / memory 8Gi), timeout 6h. In a pipeline's built-in steps it
 * runs after the predictor.
 */
export class TraitExtractor extends ContainerStep {
  /** The step name the pipeline gives its built-in trait extractor. */
  public static readonly STEP_NAME = 'trait-extractor';
  public static readonly DEFAULT_IMAGE = 'registry.gitlab.com/salk-tm/sleap-roots-traits:latest';

  /** The seed's defaults for this step. */
  public static defaults(): Partial<ContainerStepProps> {
    return {
      image: TraitExtractor.DEFAULT_IMAGE,
      // The seed's images define no ENTRYPOINT: the args name the program (a step under the wrapper runs them as they are).
      entrypoint: [],
      args: ['python', '/workspace/src/main.py', '/workspace/input', '/workspace/output'],
      mounts: [
        { volume: Volumes.PREDICTIONS_OUTPUT, path: '/workspace/input', readOnly: true },
        { volume: Volumes.TRAITS_OUTPUT, path: '/workspace/output' },
      ],
      resources: { requests: { cpu: 1, memory: '2Gi' }, limits: { cpu: 4, memory: '8Gi' } },
      timeout: '6h',
    };
  }

  public constructor(scope: Construct, id: string, props: TraitExtractorProps = {}) {
    super(scope, id, withDefaults<ContainerStepProps>(TraitExtractor.defaults(), props));
  }
}
