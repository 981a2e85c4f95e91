/**
 * The small steps the pipeline adds on its own: the lister that cuts a batch into chunks of scans
 * for the fan-out, and the gate that judges the batch from the outcomes the steps recorded. Both
 * run a POSIX shell script (lib/steps/scripts/) in a tiny image; both are short, so they are
 * preemptible where the cluster has priority classes.
 */
import type { ClusterSettings } from '../scheduling/cluster';
import { GATE_STEP, LISTER_STEP, OUTCOME_OUTPUT } from '../names';
import { RetryStrategy, type RetryOptions } from '../scheduling/retry';
import { shellScript } from '../steps/scripts';
import type { Resources } from '../values/shapes';
import { acceptedExitCodes, planStep } from './step';
import type { ListerPlan, StepPlan, StepSpec, UtilityStepOptions } from './types';

/** Default image of the utility steps (pinned). */
export const UTILITY_IMAGE = 'busybox:1.36.1';
/** Default resources of the utility steps: tiny. */
export const UTILITY_RESOURCES: Resources = {
  requests: { cpu: '10m', memory: '16Mi' },
  limits: { cpu: '100m', memory: '64Mi' },
};
/** Default timeout of the utility steps: they take seconds. */
export const UTILITY_TIMEOUT = '10m';
/** Retries of the utility steps: preemption and eviction, quickly. */
export const UTILITY_RETRY = { limit: 3, backoff: { duration: '10s', factor: 2, cap: '1m' } } as const;
/** Where a workflow's termination message goes (Kubernetes' default terminationMessagePath). */
export const TERMINATION_LOG = '/dev/termination-log';
/** Where the lister mounts the volume whose sub-folders are the scans. */
export const LISTER_MOUNT_PATH = '/workspace/list';

/** Environment variables of the lister and the gate (see their scripts). */
export const UtilityEnv = {
  RUN_DIR: 'SLEAP_ROOTS_RUN_DIR',
  SCANS_PER_POD: 'SLEAP_ROOTS_SCANS_PER_POD',
  MAX_SCANS: 'SLEAP_ROOTS_MAX_SCANS',
  SOURCE_NAME: 'SLEAP_ROOTS_SOURCE_NAME',
  SCANS: 'SLEAP_ROOTS_SCANS',
  SCAN_STEPS: 'SLEAP_ROOTS_SCAN_STEPS',
  WHOLE_STEPS: 'SLEAP_ROOTS_WHOLE_STEPS',
  WORKFLOW_STATUS: 'SLEAP_ROOTS_WORKFLOW_STATUS',
} as const;

/** What both utility steps get from the pipeline. */
export interface UtilityContext {
  readonly cluster: ClusterSettings;
  readonly versioned: boolean;
  /** The workflow's run folder. */
  readonly outcomes: { readonly volume: string; readonly runDir: string };
  readonly options?: UtilityStepOptions;
  /** @default 'sleap-roots-' */
  readonly templateNamePrefix?: string;
  readonly templateAnnotations?: Readonly<Record<string, string>>;
}

/**
 * The image, resources, timeout, retries, priority and preemptibility the utility steps share,
 * each replaced by the environment's setting of the same name.
 * @param retryOf the step's kind of retry, from {@link UTILITY_RETRY} and the settings over it
 */
function utilitySpec(name: string, c: UtilityContext, retryOf: (o: RetryOptions) => RetryStrategy, rest: Omit<StepSpec, 'name' | 'dependencies'>): StepSpec {
  const o = c.options ?? {};
  const retry: RetryOptions = { ...UTILITY_RETRY, ...o.retry, backoff: { ...UTILITY_RETRY.backoff, ...o.retry?.backoff } };
  return {
    name,
    dependencies: [],
    ...rest,
    preemptible: o.preemptible ?? c.cluster.priorityClasses !== undefined,
    priorityClassName: o.priorityClassName,
    retry: o.retry?.policy ? RetryStrategy.custom(retry) : retryOf(retry),
    image: o.image ?? UTILITY_IMAGE,
    imagePullPolicy: o.imagePullPolicy,
    resources: o.resources ?? UTILITY_RESOURCES,
    timeout: o.timeout ?? UTILITY_TIMEOUT,
  };
}

/** Where the lister reads the scans from. */
export type ListerSource = { readonly subdirectoriesOf: string; readonly display?: string } | { readonly parameter: string };

/**
 * The lister: lists the batch's scans into the run folder, in chunks, and prints the number of
 * chunks (its `outputs.result` is the fanned-out tasks' `withSequence.count`). Fails on zero scans
 * and above `maxScans`.
 */
export function planLister(c: UtilityContext, source: ListerSource, scansPerPod: number, maxScans: number): ListerPlan {
  const byFolder = 'subdirectoriesOf' in source;
  const spec = utilitySpec(LISTER_STEP, c, RetryStrategy.preemptible, {
    command: ['/bin/sh', '-c', shellScript('list-scans'), LISTER_STEP],
    args: byFolder ? ['folder', LISTER_MOUNT_PATH] : ['list'],
    mounts: byFolder ? [{ volume: source.subdirectoriesOf, path: LISTER_MOUNT_PATH, readOnly: true }] : [],
    env: [
      { name: UtilityEnv.RUN_DIR, value: c.outcomes.runDir },
      { name: UtilityEnv.SCANS_PER_POD, value: String(scansPerPod) },
      { name: UtilityEnv.MAX_SCANS, value: String(maxScans) },
      { name: UtilityEnv.SOURCE_NAME, value: byFolder ? source.display ?? `volume ${source.subdirectoriesOf}` : `parameter ${source.parameter}` },
      // The list travels in an environment variable, not an argument: Argo moves a template's
      // arguments above 128 KiB to a ConfigMap and the emissary turns one over 128 KiB into a
      // file name (cmd/argoexec/commands/emissary.go); the limit that remains is the
      // Workflow object's 1 MiB.
      ...(byFolder ? [] : [{ name: UtilityEnv.SCANS, value: `{{workflow.parameters.${source.parameter}}}` }]),
    ],
  });
  const plan = planStep(spec, { role: 'lister', cluster: c.cluster, versioned: c.versioned, templateNamePrefix: c.templateNamePrefix, templateAnnotations: c.templateAnnotations, outcomes: { ...c.outcomes, record: false } });
  return { ...plan, scansPerPod, maxScans };
}

/**
 * The gate, the workflow's exit handler: passes only when every scan ended 0 or with a declared
 * partial code (and every judged whole step likewise); its summary line is the workflow's message
 * when it fails, and its `outcome` output when it passes.
 */
export function planGate(c: UtilityContext, steps: readonly StepPlan[]): StepPlan {
  const judged = (list: readonly StepPlan[]) => list.map((s) => `${s.name}=${acceptedExitCodes(s).join(',')}`).join(' ');
  // Its failure is the verdict: it retries Error attempts only, keeping the attempt's message (the summary) as the workflow's.
  const spec = utilitySpec(GATE_STEP, c, RetryStrategy.onError, {
    command: ['/bin/sh', '-c', shellScript('gate'), GATE_STEP],
    env: [
      { name: UtilityEnv.RUN_DIR, value: c.outcomes.runDir },
      { name: UtilityEnv.SCAN_STEPS, value: judged(steps.filter((s) => s.fanOut)) },
      { name: UtilityEnv.WHOLE_STEPS, value: judged(steps.filter((s) => !s.fanOut && s.outcomes?.record)) },
      // Set for exit handlers (operator.go operate: varkeys.WorkflowStatus before the exit hook).
      { name: UtilityEnv.WORKFLOW_STATUS, value: '{{workflow.status}}' },
    ],
    mounts: [],
    outputs: [{ name: OUTCOME_OUTPUT, path: TERMINATION_LOG }],
  });
  return planStep(spec, { role: 'gate', cluster: c.cluster, versioned: c.versioned, templateNamePrefix: c.templateNamePrefix, templateAnnotations: c.templateAnnotations, outcomes: { ...c.outcomes, record: false } });
}
