/**
 * A lab's own cdk8s app: the production pipeline composed in TypeScript (an images-downloader
 * before the predictor, GPU halves on Run:AI), and a staging pipeline from an environment file.
 * `npx cdk8s synth` writes dist/production.k8s.yaml and dist/staging.k8s.yaml.
 */
import { App } from 'cdk8s';
import {
  ContainerStep,
  GpuRequest,
  loadEnvironment,
  pipelineFromEnvironment,
  RetryStrategy,
  Scheduler,
  SleapRootsPipeline,
  Volumes,
} from 'sleap-roots-pipeline';

const app = new App();

const production = new SleapRootsPipeline(app, 'production', {
  // Namespace runai-greenhouse, from the project.
  scheduler: Scheduler.runai({ project: 'greenhouse', priorityClasses: { preemptible: 'train', nonPreemptible: 'build' } }),
  volumes: {
    [Volumes.MODELS_INPUT]: { hostPath: '/nfs/models' },
    [Volumes.MODELS_OUTPUT]: { hostPath: '/nfs/models-cache' },
    [Volumes.IMAGES_INPUT]: { hostPath: '/nfs/scans' },
    [Volumes.PREDICTIONS_OUTPUT]: { hostPath: '/nfs/predictions' },
    [Volumes.TRAITS_OUTPUT]: { hostPath: '/nfs/traits' },
  },
  parameters: { 'scan-ids': { description: 'comma-separated scan ids to fetch' } },
  modelsDownloader: { image: 'ghcr.io/example-lab/models-downloader:1.4.0', preemptible: true },
  predictor: { image: 'ghcr.io/example-lab/sleap-roots-predict:1.4.0', gpu: GpuRequest.fraction(0.5), preemptible: true },
  traitExtractor: { image: 'ghcr.io/example-lab/sleap-roots-traits:1.4.0', preemptible: true },
});

// The lab's own stage: fetch the scans the dispatcher names, then predict.
const images = new ContainerStep(production, 'images-downloader', {
  image: 'ghcr.io/example-lab/images-downloader:2.0.1',
  args: ['--scans', '{{workflow.parameters.scan-ids}}', '--out', '/workspace/images'],
  mounts: [{ volume: Volumes.IMAGES_INPUT, path: '/workspace/images' }],
  resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '2Gi' } },
  timeout: '2h',
  preemptible: true,
  retry: RetryStrategy.preemptible({ limit: 5 }),
});
production.predictor?.after(images);

// The staging cluster, from its environment file.
pipelineFromEnvironment(app, loadEnvironment('staging.yaml'));

app.synth();
