import type { Construct } from 'constructs';
import { ContainerStep, withDefaults, type ContainerStepProps } from './container-step';
import { Volumes } from '../values/volumes';

/** Props of {@link ModelsDownloader}: every {@link ContainerStepProps} field, with the seed's defaults. */
export interface ModelsDownloaderProps extends Partial<ContainerStepProps> {
  /** @default 'registry.gitlab.com/salk-tm/models-downloader:latest' (unpinned: pin it or allow unpinned images) */
  readonly image?: string;
}

/**
 * Fetches the SLEAP models into the models-output directory.
 * Defaults: args `python /workspace/src/main.py /workspace/input /workspace/output`,
 * models-input (read-only) at /workspace/input, models-output at /workspace/output, no dependencies,
 * requests cpu 500m / memory 1Gi (limit 4Gi), timeout 1h.
 */
export class ModelsDownloader extends ContainerStep {
  /** The step name the pipeline gives its built-in models downloader. */
  public static readonly STEP_NAME = 'models-downloader';
  public static readonly DEFAULT_IMAGE = 'registry.gitlab.com/salk-tm/models-downloader:latest';

  /** The seed's defaults for this step. */
  public static defaults(): Partial<ContainerStepProps> {
    return {
      image: ModelsDownloader.DEFAULT_IMAGE,
      // The seed's images define no ENTRYPOINT: the args name the program (a step under the wrapper runs them as they are).
      entrypoint: [],
      args: ['python', '/workspace/src/main.py', '/workspace/input', '/workspace/output'],
      mounts: [
        { volume: Volumes.MODELS_INPUT, path: '/workspace/input', readOnly: true },
        { volume: Volumes.MODELS_OUTPUT, path: '/workspace/output' },
      ],
      resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '4Gi' } },
      timeout: '1h',
      // Every workflow (each batch of a run) writes and reads the one models folder: one at a time.
      exclusive: true,
    };
  }

  public constructor(scope: Construct, id: string, props: ModelsDownloaderProps = {}) {
    super(scope, id, withDefaults<ContainerStepProps>(ModelsDownloader.defaults(), props));
  }
}
