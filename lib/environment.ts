/**
 * From an environment file to the pipeline's props: the one place where YAML field names meet
 * construct props. No environment is special-cased here.
 */
import type { LoadedEnvironment } from './config/load';
import type { StepConfig } from './config/schema';
import { clusterSettings } from './scheduling/cluster';
import { GpuRequest } from './scheduling/gpu';
import { RetryStrategy } from './scheduling/retry';
import type { SleapRootsPipelineProps, StepOptions } from './pipeline';

/** The props of the SleapRootsPipeline chart for one environment. */
export function pipelineProps(env: LoadedEnvironment, version?: string): SleapRootsPipelineProps {
  const c = env.config;
  const cluster = clusterSettings(c);
  const preemptibleRetry = c.retry?.preemptible;
  const steps: Record<string, StepOptions> | undefined = c.steps
    ? Object.fromEntries(Object.entries(c.steps).map(([name, s]) => [name, stepOptions(s, preemptibleRetry)]))
    : undefined;
  return {
    environment: env.name,
    cluster,
    steps: withBuiltIns(steps),
    volumes: c.volumes,
    parameters: c.parameters,
    workflow: c.workflow,
    policy: c.policy,
    labels: c.labels,
    version,
    resume: c.resume,
    fanOut: c.fanOut,
    concurrency: c.concurrency,
    partialSuccess: c.partialSuccess,
    runFolder: c.runFolder,
    imageDigestEnv: c.provenance?.imageDigestEnv,
    versionedTemplates: c.versionedTemplates,
  };
}

/** An environment lists only the steps it changes; the built-in steps are always considered. */
function withBuiltIns(steps: Record<string, StepOptions> | undefined): Record<string, StepOptions> | undefined {
  if (!steps) return undefined;
  return { 'models-downloader': {}, predictor: {}, 'trait-extractor': {}, ...steps };
}

function stepOptions(s: StepConfig, preemptibleRetry: StepConfig['retry']): StepOptions {
  const preemptible = s.preemptible ?? false;
  let retry: RetryStrategy | undefined;
  const merged = { ...preemptibleRetry, ...s.retry, backoff: { ...preemptibleRetry?.backoff, ...s.retry?.backoff } };
  if (preemptible) retry = merged.policy ? RetryStrategy.custom(merged) : RetryStrategy.preemptible(merged);
  else if (s.retry) retry = RetryStrategy.custom(s.retry);
  return {
    enabled: s.enabled,
    image: s.image,
    imagePullPolicy: s.imagePullPolicy,
    command: s.command,
    args: s.args,
    workingDir: s.workingDir,
    env: s.env,
    mounts: s.mounts,
    secretFiles: s.secretFiles,
    resources: s.resources,
    gpu: s.gpu === undefined ? undefined : GpuRequest.fromConfig(s.gpu),
    preemptible: s.preemptible,
    priorityClassName: s.priorityClassName,
    retry,
    timeout: s.timeout,
    dependencies: s.dependencies,
    runAsUser: s.runAsUser,
    runAsGroup: s.runAsGroup,
    privileged: s.privileged,
    readOnlyRootFilesystem: s.readOnlyRootFilesystem,
    nodeSelector: s.nodeSelector,
    tolerations: s.tolerations,
    podLabels: s.podLabels,
    podAnnotations: s.podAnnotations,
    partialExitCodes: s.partialExitCodes,
    semaphore: s.semaphore,
    output: s.output,
  };
}
