import type { Construct } from 'constructs';
import { GpuRequest } from '../scheduling/gpu';
import { ContainerStep, withDefaults, type ContainerStepProps } from './container-step';
import { Volumes } from '../values/volumes';

/** Props of {@link Predictor}: every {@link ContainerStepProps} field, with the seed's defaults. */
export interface PredictorProps extends Partial<ContainerStepProps> {
  /** @default 'registry.gitlab.com/salk-tm/sleap-roots-predict:latest' (unpinned: pin it or allow unpinned images) */
  readonly image?: string;
  /** @default GpuRequest.whole(1) */
  readonly gpu?: GpuRequest;
}

/**
 * Runs SLEAP inference on the GPU: images + models in, predictions out.
 * Defaults: GPU `GpuRequest.whole(1)`, args
 * `python /workspace/src/main.py /workspace/images_input /workspace/models_input /workspace/output`,
 * images-input and models-output read-only, predictions-output at /workspace/output, requests
 * cpu 2 / memory 8Gi (limit 24Gi), timeout 12h. In a pipeline's built-in steps it runs after the
 * models downloader.
 */
export class Predictor extends ContainerStep {
  /** The step name the pipeline gives its built-in predictor. */
  public static readonly STEP_NAME = 'predictor';
  public static readonly DEFAULT_IMAGE = 'registry.gitlab.com/salk-tm/sleap-roots-predict:latest';

  /** The seed's defaults for this step. */
  public static defaults(): Partial<ContainerStepProps> {
    return {
      image: Predictor.DEFAULT_IMAGE,
      // The seed's images define no ENTRYPOINT: the args name the program (a step under the wrapper runs them as they are).
      entrypoint: [],
      args: ['python', '/workspace/src/main.py', '/workspace/images_input', '/workspace/models_input', '/workspace/output'],
      mounts: [
        { volume: Volumes.IMAGES_INPUT, path: '/workspace/images_input', readOnly: true },
        { volume: Volumes.MODELS_OUTPUT, path: '/workspace/models_input', readOnly: true },
        { volume: Volumes.PREDICTIONS_OUTPUT, path: '/workspace/output' },
      ],
      resources: { requests: { cpu: 2, memory: '8Gi' }, limits: { memory: '24Gi' } },
      timeout: '12h',
      gpu: GpuRequest.whole(1),
    };
  }

  public constructor(scope: Construct, id: string, props: PredictorProps = {}) {
    super(scope, id, withDefaults<ContainerStepProps>(Predictor.defaults(), props));
  }
}
