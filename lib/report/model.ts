/**
 * The report of one workflow, or of a run of many (every Workflow labelled with one run id): the
 * documented shape of `sleap-roots report -o json` (apiVersion sleap-roots.io/report/v1). Fields
 * are added, never renamed or retyped, within v1; an absent optional field means "not known",
 * never zero, and `unavailable` says why.
 */

export const REPORT_API_VERSION = 'sleap-roots.io/report/v1';

/** How one attempt (one pod) of a step ended, or where it is. */
export type AttemptState = 'pending' | 'running' | 'succeeded' | 'failed' | 'error' | 'skipped' | 'omitted';

/**
 * What ended an attempt from outside, as far as Argo's status shows it:
 * - `deleted`: the pod vanished before it finished, Argo's "pod deleted" (preemption by a
 *   scheduler, a drain, `kubectl delete`: Argo cannot tell them apart);
 * - `evicted`: the kubelet evicted the pod (node pressure);
 * - `preempted`: the pod still exists and Kubernetes marked it `DisruptionTarget` with reason
 *   `PreemptionByScheduler`;
 * - `stopped`: the step exited 143 or 137 (SIGTERM/SIGKILL from outside: preemption with a grace
 *   period, a deadline, a manual stop).
 */
export type Interruption = 'deleted' | 'evicted' | 'preempted' | 'stopped';

/** One attempt of a step: one row of the timeline. */
export interface AttemptReport {
  /** The step (the template's name): `predictor`, `gate`, ... */
  readonly step: string;
  /** Argo's display name of the attempt, e.g. `predictor(3:3)(1)`. */
  readonly name: string;
  /** The chunk of a fanned-out step (withSequence item). */
  readonly chunk?: number;
  /** 0-based attempt of a retried step. */
  readonly attempt?: number;
  readonly state: AttemptState;
  readonly interruption?: Interruption;
  /** True when a later attempt of the same step and chunk followed this one. */
  readonly retried: boolean;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  /** Node start to end (or to `asOf` while it runs): Pending time included. */
  readonly durationSeconds?: number;
  /** Seconds the main container ran (from the pod), else undefined. */
  readonly runSeconds?: number;
  readonly exitCode?: string;
  readonly message?: string;
  /** The pod's name, when the pod was found. */
  readonly pod?: string;
  /** GPUs this attempt asked for (whole GPUs count N, a fraction its share); 0 for none. */
  readonly gpus: number;
  /** GPU hours: seconds run (the pod's, else the node's) times `gpus`. */
  readonly gpuHours: number;
}

/** A scan's outcome: succeeded (0 everywhere), partial (a declared partial code), failed. */
export type ScanResult = 'succeeded' | 'partial' | 'failed';

/** One scan, as the gate judged it. */
export interface ScanReport {
  readonly scan: string;
  readonly chunk: number;
  readonly result: ScanResult;
  /** The step that decided a failed or partial result. */
  readonly step?: string;
  /** Its exit code; absent when it recorded none (its pod was lost, or the batch stopped first). */
  readonly exitCode?: string;
  /** The gate's words: `predictor exited 1`, `trait-extractor: no outcome recorded`. */
  readonly detail: string;
  /** For a failed scan: the message of the attempt it ran in (or was lost in). */
  readonly message?: string;
  /** For a failed scan: the last lines its step logged for it (at most {@link LOG_TAIL_LINES}). */
  readonly logTail?: readonly string[];
  /** For a failed scan without a log tail: why there is none. */
  readonly logTailUnavailable?: string;
}

/** Scan counts. */
export interface ScanCounts {
  readonly total: number;
  readonly succeeded: number;
  readonly partial: number;
  readonly failed: number;
}

/** The per-scan outcomes of a workflow, read from its gate's log. */
export interface ScanOutcomes {
  /** False when the gate's log could not be read (see `unavailable`): no rows, maybe `summary`. */
  readonly available: boolean;
  /** Scans the gate judged (its end line); rows may be fewer (its log limit). */
  readonly judged?: number;
  readonly counts?: ScanCounts;
  readonly rows: readonly ScanReport[];
}

/** GPU use of one step. */
export interface GpuStepReport {
  readonly step: string;
  readonly attempts: number;
  /** What each attempt asked for, e.g. `1 GPU`, `0.5 GPU (gpu-fraction)`, `gpu-memory 8192 MB`. */
  readonly request: string;
  readonly gpuHours: number;
  /** Set when part of it could not be counted, e.g. gpu-memory requests. */
  readonly note?: string;
}

/** One scan's time in one step, from its step's log. */
export interface ScanTiming {
  readonly scan: string;
  readonly step: string;
  readonly seconds: number;
  /** The attempt it ran in. */
  readonly attempt: string;
}

/** Everything reported about one workflow. */
export interface WorkflowReport {
  readonly name: string;
  readonly phase: string;
  readonly message?: string;
  /** The gate's summary line (`1000 scans: 990 succeeded, ...`). */
  readonly outcome?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly durationSeconds?: number;
  /** Timeline: every attempt of every step, by start time. */
  readonly attempts: readonly AttemptReport[];
  readonly scans: ScanOutcomes;
  readonly gpu: { readonly byStep: readonly GpuStepReport[]; readonly totalHours: number };
  /** The slowest scans (at most {@link SLOWEST_SCANS}), slowest first. */
  readonly slowestScans: readonly ScanTiming[];
  /** What could not be read and why (pods deleted by podGC, logs rotated...), in plain words. */
  readonly unavailable: readonly string[];
}

/** The report. */
export interface Report {
  readonly apiVersion: typeof REPORT_API_VERSION;
  readonly kind: 'Report';
  readonly namespace: string;
  /** The run id, when the report covers every workflow of a run. */
  readonly run?: string;
  /** The time running attempts were measured to; absent when every workflow had finished. */
  readonly asOf?: string;
  readonly workflows: readonly WorkflowReport[];
  readonly totals: { readonly scans?: ScanCounts; readonly gpuHours: number };
}

/** Lines of a failed scan's log tail. */
export const LOG_TAIL_LINES = 20;
/** Characters kept of each log line. */
export const LOG_LINE_CHARS = 400;
/** Scans listed as slowest. */
export const SLOWEST_SCANS = 10;
