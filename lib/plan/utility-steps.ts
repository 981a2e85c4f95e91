/**
 * Small utility steps the pipeline adds on its own: the lister that cuts a batch into chunks of
 * scans for the fan-out, and the gate that judges the batch from the outcomes the steps recorded.
 * Both are plain {@link ContainerStep}s running a POSIX shell script (scripts/*.sh) in a tiny
 * image; both are short, so they are preemptible where the cluster has priority classes.
 */
import type { Construct } from 'constructs';
import type { ResourcesConfig } from '../config/schema';
import { OUTCOME_OUTPUT } from '../names';
import { RetryStrategy } from '../scheduling/retry';
import { ContainerStep, withDefaults, type ContainerStepProps, type OutcomeOptions } from './container-step';
import { shellScript } from './scripts';

/** Default image of the utility steps (pinned). */
export const UTILITY_IMAGE = 'busybox:1.36.1';
/** Default resources of the utility steps: tiny. */
export const UTILITY_RESOURCES: ResourcesConfig = {
  requests: { cpu: '10m', memory: '16Mi' },
  limits: { cpu: '100m', memory: '64Mi' },
};
/** Default timeout of the utility steps: they take seconds. */
export const UTILITY_TIMEOUT = '10m';
/** Retries of the utility steps: preemption and eviction, quickly. */
export const UTILITY_RETRY = { limit: 3, backoff: { duration: '10s', factor: 2, cap: '1m' } } as const;
/** Where a workflow's termination message goes (Kubernetes' default terminationMessagePath). */
export const TERMINATION_LOG = '/dev/termination-log';

/** What the utility steps share: image, resources, timeout, retries, and preemptible where the cluster has classes for it. */
function utilityDefaults(cluster: ContainerStepProps['cluster']): Partial<ContainerStepProps> {
  return {
    image: UTILITY_IMAGE,
    resources: UTILITY_RESOURCES,
    timeout: UTILITY_TIMEOUT,
    preemptible: cluster.priorityClasses !== undefined,
    retry: RetryStrategy.preemptible(UTILITY_RETRY),
  };
}

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

/** Props of {@link ImageSetLister}. */
export interface ImageSetListerProps extends Omit<ContainerStepProps, 'image' | 'outcomes'> {
  /** Where the scans come from: the sub-folders of a volume, or a workflow parameter. */
  readonly source: { readonly subdirectoriesOf: string; readonly display?: string } | { readonly parameter: string };
  /** The run folder the scan list and chunks are written to. */
  readonly outcomes: OutcomeOptions;
  /** Scans per chunk (one pod per chunk of each fanned-out step). */
  readonly scansPerPod: number;
  /** The most scans a batch may have; the lister fails above it. */
  readonly maxScans: number;
  /** @default UTILITY_IMAGE */
  readonly image?: string;
}

/**
 * Lists the batch's scans into the run folder, in chunks, and prints the number of chunks: its
 * `outputs.result` is the fanned-out tasks' `withSequence.count`. Fails on zero scans.
 */
export class ImageSetLister extends ContainerStep {
  public static readonly STEP_NAME = 'list-image-sets';
  public static readonly MOUNT_PATH = '/workspace/list';

  public readonly scansPerPod: number;
  public readonly maxScans: number;

  public constructor(scope: Construct, props: ImageSetListerProps) {
    const { source, scansPerPod, maxScans, ...rest } = props;
    const byFolder = 'subdirectoriesOf' in source;
    super(scope, ImageSetLister.STEP_NAME, withDefaults<ContainerStepProps>({
      ...utilityDefaults(props.cluster),
      command: ['/bin/sh', '-c', shellScript('list-scans'), ImageSetLister.STEP_NAME],
      args: byFolder ? ['folder', ImageSetLister.MOUNT_PATH] : ['list'],
      mounts: byFolder ? [{ volume: source.subdirectoriesOf, path: ImageSetLister.MOUNT_PATH, readOnly: true }] : [],
      env: [
        { name: UtilityEnv.RUN_DIR, value: props.outcomes.runDir },
        { name: UtilityEnv.SCANS_PER_POD, value: String(scansPerPod) },
        { name: UtilityEnv.MAX_SCANS, value: String(maxScans) },
        { name: UtilityEnv.SOURCE_NAME, value: byFolder ? source.display ?? `volume ${source.subdirectoriesOf}` : `parameter ${source.parameter}` },
        // The list travels in an environment variable, not an argument: Argo moves a template's
        // arguments above 128 KiB to a ConfigMap and the emissary turns one over 128 KiB into a
        // file name (cmd/argoexec/commands/emissary.go); the limit that remains is the
        // Workflow object's 1 MiB.
        ...(byFolder ? [] : [{ name: UtilityEnv.SCANS, value: `{{workflow.parameters.${source.parameter}}}` }]),
      ],
    }, { ...rest, outcomes: { ...props.outcomes, record: false } } as ContainerStepProps));
    this.scansPerPod = scansPerPod;
    this.maxScans = maxScans;
  }
}

/** Props of {@link BatchGate}. */
export interface BatchGateProps extends Omit<ContainerStepProps, 'image' | 'outcomes'> {
  /** The run folder the steps recorded their outcomes in. */
  readonly outcomes: OutcomeOptions;
  /** Fanned-out steps, in DAG order, judged per scan. */
  readonly scanSteps: readonly ContainerStep[];
  /** Steps that run once and record one outcome, judged whole. */
  readonly wholeSteps: readonly ContainerStep[];
  /** @default UTILITY_IMAGE */
  readonly image?: string;
}

/**
 * The workflow's exit handler: passes only when every scan ended 0 or with a declared partial
 * code (and every judged whole step likewise); its summary line is the workflow's message when
 * it fails, and its `outcome` output when it passes.
 */
export class BatchGate extends ContainerStep {
  public static readonly STEP_NAME = 'gate';
  /** Output parameter holding the summary line. */
  public static readonly OUTCOME_OUTPUT = OUTCOME_OUTPUT;

  public readonly scanSteps: readonly string[];
  public readonly wholeSteps: readonly string[];

  public constructor(scope: Construct, props: BatchGateProps) {
    const { scanSteps, wholeSteps, ...rest } = props;
    const judged = (steps: readonly ContainerStep[]) => steps.map((s) => `${s.name}=${s.acceptedExitCodes.join(',')}`).join(' ');
    super(scope, BatchGate.STEP_NAME, withDefaults<ContainerStepProps>({
      ...utilityDefaults(props.cluster),
      command: ['/bin/sh', '-c', shellScript('gate'), BatchGate.STEP_NAME],
      env: [
        { name: UtilityEnv.RUN_DIR, value: props.outcomes.runDir },
        { name: UtilityEnv.SCAN_STEPS, value: judged(scanSteps) },
        { name: UtilityEnv.WHOLE_STEPS, value: judged(wholeSteps) },
        // Set for exit handlers (operator.go operate: varkeys.WorkflowStatus before the exit hook).
        { name: UtilityEnv.WORKFLOW_STATUS, value: '{{workflow.status}}' },
      ],
      mounts: [],
      outputs: [{ name: BatchGate.OUTCOME_OUTPUT, path: TERMINATION_LOG }],
      // Its failure is the verdict: keep the attempt's message (the summary) as the workflow's.
      retry: RetryStrategy.onError(UTILITY_RETRY),
    }, { ...rest, outcomes: { ...props.outcomes, record: false } } as ContainerStepProps));
    this.scanSteps = scanSteps.map((s) => s.name);
    this.wholeSteps = wholeSteps.map((s) => s.name);
  }
}
