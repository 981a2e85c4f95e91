/**
 * One step's plan: its declared settings with the cluster's and the pipeline's decisions applied
 * (priority class, retry, semaphore, markers, fan-out, outcomes).
 */
import type { ClusterSettings } from '../scheduling/cluster';
import { GpuRequest } from '../scheduling/gpu';
import { RetryStrategy } from '../scheduling/retry';
import { WrapperExit } from '../steps/wrapper';
import { STEP_TEMPLATE_PREFIX } from '../names';
import { markerFile, outputOf, type MarkerSettings } from './resume';
import type { StepFanOut, StepOutcomes, StepPlan, StepRole, StepSpec } from './types';

/** What the pipeline decided for one step. */
export interface StepDecisions {
  readonly role: StepRole;
  readonly cluster: ClusterSettings;
  readonly versioned: boolean;
  /** Tasks the step runs after, beyond its own dependencies (the lister). @default [] */
  readonly extraDependencies?: readonly string[];
  readonly semaphore?: { readonly configMap: string; readonly key: string };
  readonly resume?: MarkerSettings & { readonly inputMarkers?: readonly string[] };
  readonly fanOut?: StepFanOut;
  readonly outcomes?: StepOutcomes;
  readonly inputs?: Readonly<Record<string, string>>;
  readonly imageDigestEnv?: string;
  /** @default 'sleap-roots-' */
  readonly templateNamePrefix?: string;
  /** The pipeline's annotations on every WorkflowTemplate. @default {} */
  readonly templateAnnotations?: Readonly<Record<string, string>>;
}

/** The plan of one step. */
export function planStep(s: StepSpec, d: StepDecisions): StepPlan {
  const preemptible = s.preemptible ?? false;
  const classes = d.cluster.priorityClasses;
  const retry = s.retry ?? (preemptible ? RetryStrategy.preemptible() : RetryStrategy.infrastructure());
  const outputDir = outputOf(s).path;
  const markerPath = d.resume && outputDir ? markerFile(outputDir, d.resume, s.name) : undefined;
  // The wrapper exits 75 when it cannot record an outcome (shared storage): worth another attempt.
  const wrapped = d.resume !== undefined || d.outcomes?.record === true;
  return {
    name: s.name,
    role: d.role,
    templateName: s.templateName ?? `${d.templateNamePrefix ?? STEP_TEMPLATE_PREFIX}${s.name}`,
    versioned: d.versioned,
    image: s.image ?? '',
    imagePullPolicy: s.imagePullPolicy,
    command: s.command,
    entrypoint: s.entrypoint,
    args: s.args,
    workingDir: s.workingDir,
    env: s.env ?? [],
    mounts: s.mounts ?? [],
    secretFiles: s.secretFiles ?? [],
    resources: s.resources,
    gpu: s.gpu ?? GpuRequest.none(),
    preemptible,
    priorityClassName: s.priorityClassName ?? (classes ? (preemptible ? classes.preemptible : classes.nonPreemptible) : undefined),
    retry: wrapped ? retry.alsoRetrying([WrapperExit.CANNOT_RECORD]) : retry,
    timeout: s.timeout,
    dependencies: [...s.dependencies, ...(d.extraDependencies ?? [])],
    declaredDependencies: s.dependencies,
    runAsUser: s.runAsUser,
    runAsGroup: s.runAsGroup,
    containerSecurityContext: s.containerSecurityContext ?? {},
    hardened: s.hardened ?? true,
    scheduler: s.scheduler ?? d.cluster.scheduler,
    templateAnnotations: { ...d.templateAnnotations, ...s.templateAnnotations },
    privileged: s.privileged ?? false,
    readOnlyRootFilesystem: s.readOnlyRootFilesystem,
    nodeSelector: s.nodeSelector ?? {},
    tolerations: s.tolerations ?? [],
    podLabels: s.podLabels ?? {},
    podAnnotations: s.podAnnotations ?? {},
    partialExitCodes: s.partialExitCodes ?? [],
    semaphore: d.semaphore,
    mutex: s.exclusive ? `${d.templateNamePrefix ?? STEP_TEMPLATE_PREFIX}${s.name}` : undefined,
    outputDir,
    outputs: s.outputs ?? [],
    inputs: d.inputs ?? {},
    resume: d.resume && markerPath ? { ...d.resume, markerPath } : undefined,
    fanOut: d.fanOut,
    outcomes: d.outcomes,
    wrapped,
    // The step's own variable, else the pipeline's: its value is always this step's image digest.
    imageDigestEnv: s.imageDigestEnv ?? d.imageDigestEnv,
  };
}

/** The exit codes the gate accepts from a step: 0 and its partial codes. */
export function acceptedExitCodes(s: Pick<StepPlan, 'partialExitCodes'>): readonly number[] {
  return [0, ...s.partialExitCodes.filter((c) => c !== 0)];
}

/** True when the step's command runs under the wrapper that records its outcomes. */
export function recordsOutcomes(s: Pick<StepPlan, 'outcomes'>): boolean {
  return s.outcomes?.record === true;
}
