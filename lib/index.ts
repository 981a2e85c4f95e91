/**
 * sleap-roots-pipeline as a cdk8s construct library.
 *
 *   import { App } from 'cdk8s';
 *   import { SleapRootsPipeline } from 'sleap-roots-pipeline';
 *   new SleapRootsPipeline(new App(), 'lab', { namespace: 'plants' });
 *
 * Layers: constructs/ declare, plan/ decides (pure data), build/ renders Argo JSON, wire/ adds
 * the cdk8s objects; config/ is the environment-file adapter onto the constructs. Importing this
 * module has no side effects.
 */

// Constructs.
export { SleapRootsPipeline, type SleapRootsPipelineProps } from './constructs/pipeline';
export { ContainerStep, type ContainerStepProps } from './constructs/container-step';
export { ModelsDownloader, type ModelsDownloaderProps } from './constructs/models-downloader';
export { Predictor, type PredictorProps } from './constructs/predictor';
export { TraitExtractor, type TraitExtractorProps } from './constructs/trait-extractor';
export { SleapRootsRun, type SleapRootsRunProps } from './constructs/run';
export { Volumes } from './values/volumes';

// Value types.
export { GpuRequest } from './scheduling/gpu';
export { RetryStrategy, type RetryOptions, type RetryPolicyName } from './scheduling/retry';
export {
  EXISTING_IDENTITY_GRANTS,
  Scheduler,
  type ClusterSettings,
  type DefaultSchedulerOptions,
  type GpuClusterOptions,
  type IdentityOptions,
  type PriorityClasses,
  type SecurityOptions,
  type SharingSchedulerOptions,
} from './scheduling/cluster';
export type { EnvVar, Mount, OutputFile, PipelineParameter, Quantity, ResourceList, Resources, SecretFile, Toleration, Volume } from './values/shapes';

// Options and the plan.
export type {
  ConcurrencyOptions,
  FanOutOptions,
  PipelineOptions,
  PipelinePlan,
  PipelinePolicy,
  ResumeOptions,
  RunFolderOptions,
  StepPlan,
  StepSettings,
  UtilityStepOptions,
  WorkflowOptions,
} from './plan/types';
export { planPipeline } from './plan/plan';
export { formatPolicyProblem, isError, type PolicyProblem } from './plan/policy';

// Environment files.
export { loadEnvironment, parseEnvironment, type LoadedEnvironment } from './config/load';
export { ConfigError, type ConfigProblem } from './config/problems';
export { pipelineFromEnvironment, type AdaptedEnvironment } from './config/adapter';
export { synthesizeEnvironment, type SynthOptions, type SynthesizedFile } from './synth';

// Names the manifests and the command line share.
export { ENVIRONMENT_LABEL, PART_OF_LABEL, PIPELINE_TEMPLATE_NAME, PROJECT_NAME, VERSION_LABEL } from './names';
