/**
 * From an environment file to the constructs: the one place that knows the file's field names.
 * Two tables map the file's fields to the pipeline's and the steps' props (a field missing from a
 * table does not compile); then the file's steps are created and linked by name. No environment
 * is special-cased here.
 */
import type { Construct } from 'constructs';
import { ContainerStep } from '../constructs/container-step';
import { ModelsDownloader } from '../constructs/models-downloader';
import { SleapRootsPipeline, type SleapRootsPipelineProps } from '../constructs/pipeline';
import { Predictor } from '../constructs/predictor';
import { TraitExtractor } from '../constructs/trait-extractor';
import { formatPolicyProblem, RESERVED_LABELS, type PolicyProblem } from '../plan/policy';
import type { StepSettings } from '../plan/types';
import { Scheduler } from '../scheduling/cluster';
import { GpuRequest } from '../scheduling/gpu';
import { RetryStrategy } from '../scheduling/retry';
import type { LoadedEnvironment } from './load';
import type { EnvironmentConfig, GpuRequestConfig, StepConfig } from './schema';

/** How one field of the file becomes props: copied as it is, a conversion, or handled apart (links, retries). */
type FieldMapping<C, K extends keyof C, P> = ((value: NonNullable<C[K]>, whole: C) => Partial<P>) | 'apart';
type FieldTable<C, P> = { readonly [K in keyof C]-?: FieldMapping<C, K, P> };

/** A field copied under the same name (compiles only where the file's type fits the prop's). */
function copy<P>() {
  return <K extends string>(key: K) => (value: K extends keyof P ? P[K] : never): Partial<P> => ({ [key]: value }) as Partial<P>;
}
const step = copy<StepSettings>();
const pipeline = copy<SleapRootsPipelineProps>();

/** The file's `gpu:` of a step as a request. */
export function gpuRequestOf(config: GpuRequestConfig): GpuRequest {
  if (config === 'none') return GpuRequest.none();
  if ('count' in config) return GpuRequest.whole(config.count);
  if ('fraction' in config) return GpuRequest.fraction(config.fraction);
  return GpuRequest.memoryMB(config.memoryMB);
}

/** `steps.<name>.*` → step props. */
const STEP_FIELDS: FieldTable<StepConfig, StepSettings> = {
  enabled: 'apart',
  dependencies: 'apart',
  retry: 'apart',
  image: step('image'),
  imagePullPolicy: step('imagePullPolicy'),
  command: step('command'),
  entrypoint: step('entrypoint'),
  provenance: (p) => ({ imageDigestEnv: p.imageDigestEnv }),
  args: step('args'),
  workingDir: step('workingDir'),
  env: step('env'),
  mounts: step('mounts'),
  secretFiles: step('secretFiles'),
  resources: step('resources'),
  gpu: (g) => ({ gpu: gpuRequestOf(g) }),
  preemptible: step('preemptible'),
  priorityClassName: step('priorityClassName'),
  timeout: step('timeout'),
  runAsUser: step('runAsUser'),
  containerSecurityContext: step('containerSecurityContext'),
  hardened: step('hardened'),
  scheduler: step('scheduler'),
  templateName: step('templateName'),
  templateAnnotations: step('templateAnnotations'),
  runAsGroup: step('runAsGroup'),
  privileged: step('privileged'),
  readOnlyRootFilesystem: step('readOnlyRootFilesystem'),
  nodeSelector: step('nodeSelector'),
  tolerations: step('tolerations'),
  podLabels: step('podLabels'),
  podAnnotations: step('podAnnotations'),
  partialExitCodes: step('partialExitCodes'),
  semaphore: step('semaphore'),
  exclusive: step('exclusive'),
  output: step('output'),
};

/** Top-level fields → pipeline props. */
const PIPELINE_FIELDS: FieldTable<EnvironmentConfig, SleapRootsPipelineProps> = {
  description: () => ({}),
  steps: 'apart',
  retry: 'apart',
  namespace: pipeline('namespace'),
  labels: pipeline('labels'),
  policy: pipeline('policy'),
  scheduling: (s) => ({ scheduler: Scheduler.of(s.scheduler ?? 'default-scheduler', { project: s.project, queueLabels: s.queueLabels, priorityClasses: s.priorityClasses }) }),
  gpu: pipeline('gpu'),
  security: pipeline('security'),
  serviceAccountName: (name, whole) => ({ identity: { ...whole.identity, serviceAccountName: name } }),
  identity: (i, whole) => ({ identity: { ...i, serviceAccountName: i.serviceAccountName ?? whole.serviceAccountName } }),
  volumes: pipeline('volumes'),
  parameters: pipeline('parameters'),
  workflow: pipeline('workflow'),
  resume: pipeline('resume'),
  fanOut: pipeline('fanOut'),
  runFolder: pipeline('runFolder'),
  concurrency: pipeline('concurrency'),
  partialSuccess: (p) => ({ gate: p.gate }),
  provenance: (p) => ({ imageDigestEnv: p.imageDigestEnv }),
  versionedTemplates: pipeline('versionedTemplates'),
  templateNamePrefix: pipeline('templateNamePrefix'),
  templateAnnotations: pipeline('templateAnnotations'),
};

function mapFields<C extends object, P>(table: FieldTable<C, P>, config: C): Partial<P> {
  let out: Partial<P> = {};
  for (const key of Object.keys(config) as (keyof C)[]) {
    // Own keys only: the tables are object literals, whose prototype has `constructor`, `toString`...
    if (!Object.hasOwn(table, key)) continue;
    const mapping = table[key];
    const value = config[key];
    if (value === undefined || mapping === 'apart') continue;
    out = { ...out, ...mapping(value as NonNullable<C[keyof C]>, config) };
  }
  return out;
}

/** A step's retry: the file's `retry.preemptible` defaults under a preemptible step's own `retry`. */
function retryOf(s: StepConfig, env: EnvironmentConfig): RetryStrategy | undefined {
  const defaults = env.retry?.preemptible;
  if (s.preemptible) {
    const merged = { ...defaults, ...s.retry, backoff: { ...defaults?.backoff, ...s.retry?.backoff } };
    return merged.policy ? RetryStrategy.custom(merged) : RetryStrategy.preemptible(merged);
  }
  return s.retry ? RetryStrategy.custom(s.retry) : undefined;
}

function stepProps(s: StepConfig, env: EnvironmentConfig): StepSettings {
  const retry = retryOf(s, env);
  return { ...mapFields(STEP_FIELDS, s), ...(retry ? { retry } : {}) };
}

/** The built-in steps: file name → the pipeline prop that configures it. */
const BUILT_INS = new Map<string, 'modelsDownloader' | 'predictor' | 'traitExtractor'>([
  [ModelsDownloader.STEP_NAME, 'modelsDownloader'],
  [Predictor.STEP_NAME, 'predictor'],
  [TraitExtractor.STEP_NAME, 'traitExtractor'],
]);

/** The pipeline of an environment file, and the problems of its step links. */
export interface AdaptedEnvironment {
  readonly pipeline: SleapRootsPipeline;
  /** Dependencies naming no step, a disabled step, or the step itself (at `steps.<name>.dependencies[i]`). */
  readonly problems: readonly PolicyProblem[];
}

/** Builds an environment file's pipeline in `scope`. */
export function pipelineFromEnvironment(scope: Construct, env: LoadedEnvironment, version?: string): AdaptedEnvironment {
  const c = env.config;
  const fileSteps = new Map(Object.entries(c.steps ?? {}));
  // Dependencies named in the file replace the built-in ones; they are linked below.
  const builtIns = Object.fromEntries([...BUILT_INS].map(([name, prop]) => {
    const s = fileSteps.get(name);
    return [prop, s?.enabled === false ? false : s ? { ...stepProps(s, c), ...(s.dependencies ? { dependencies: [] } : {}) } : {}];
  })) as Pick<SleapRootsPipelineProps, 'modelsDownloader' | 'predictor' | 'traitExtractor'>;
  // constructs (10.x) looks child ids up with `children[id]`, so an id that is a property of
  // Object.prototype (an environment named `constructor`) collides with it: such a chart gets
  // another construct id (with a dot, so no environment name can be it); every label keeps the name.
  const id = Object.hasOwn(Object.prototype, env.name) ? `${env.name}.env` : env.name;
  const pipeline = new SleapRootsPipeline(scope, id, { ...mapFields(PIPELINE_FIELDS, c), ...builtIns, environment: env.name, version });
  for (const [name, s] of fileSteps) {
    // A step without an image is reported by policy (steps.<name>.image).
    if (!BUILT_INS.has(name) && s.enabled !== false) new ContainerStep(pipeline, name, { image: s.image ?? '', ...stepProps(s, c) });
  }
  const problems = [...reservedLabelProblems(c), ...identityProblems(c), ...link(pipeline, fileSteps)];
  // Reported with the pipeline's own problems when cdk8s validates the app.
  pipeline.node.addValidation({ validate: () => problems.map(formatPolicyProblem) });
  return { pipeline, problems };
}

/** `labels` may not set the labels the pipeline sets on every object (its own values would be replaced: the chart merges `labels` last). */
function reservedLabelProblems(c: EnvironmentConfig): PolicyProblem[] {
  return Object.entries(c.labels ?? {}).filter(([key]) => RESERVED_LABELS.includes(key)).map(([key, value]) => ({
    path: ['labels', key],
    message: `given "${value}" for ${key}, a label the pipeline sets itself on every object (what deploy --prune and list select on); expected another key`,
  }));
}

/** `serviceAccountName` is the older spelling of `identity.serviceAccountName`: one of them. */
function identityProblems(c: EnvironmentConfig): PolicyProblem[] {
  if (c.serviceAccountName === undefined || c.identity?.serviceAccountName === undefined) return [];
  return [{
    path: ['serviceAccountName'],
    message: `given "${c.serviceAccountName}" beside identity.serviceAccountName "${c.identity.serviceAccountName}"; serviceAccountName is the older spelling of identity.serviceAccountName; expected only identity.serviceAccountName`,
  }];
}

/** Links the file's `dependencies` by name. */
function link(pipeline: SleapRootsPipeline, fileSteps: ReadonlyMap<string, StepConfig>): PolicyProblem[] {
  const byName = new Map(pipeline.steps.map((s) => [s.name, s]));
  const problems: PolicyProblem[] = [];
  for (const [name, s] of fileSteps) {
    const target = byName.get(name);
    if (!target || !s.dependencies) continue;
    s.dependencies.forEach((dep, i) => {
      const path = ['steps', name, 'dependencies', i];
      const upstream = byName.get(dep);
      const others = [...byName.keys()].filter((n) => n !== name).join(', ') || '(no other steps)';
      if (dep === name) problems.push({ path, message: 'a step cannot depend on itself' });
      else if (upstream) target.after(upstream);
      else if (fileSteps.get(dep)?.enabled === false) problems.push({ path, message: `step "${dep}" is disabled (enabled: false); expected one of: ${others}` });
      else problems.push({ path, message: `there is no step "${dep}"; expected one of: ${others}` });
    });
  }
  return problems;
}
