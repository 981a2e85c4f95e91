/**
 * Each attempt of a workflow's steps as reported: its node, its pod when it still exists, what
 * ended it, how long it ran and what GPU it asked for, with the pod's log as read.
 */
import { ARGO_NODE_ID_ANNOTATION, ARGO_NODE_NAME_ANNOTATION } from '../cluster/labels';
import type { KubeObject } from '../cluster/resources';
import { isCompleted, type Workflow } from '../cluster/workflow';
import { gpuOfPod, gpuOfTemplate, type GpuAsk } from './gpu';
import type { LogLine, ScanSegment } from './logs';
import type { AttemptReport, AttemptState, Interruption } from './model';
import { attemptsOf, type NodeAttempt, type ReportNode } from './nodes';

/** A pod's log as read, or why it could not be. */
export interface PodLog {
  readonly lines?: readonly LogLine[];
  /** The read stopped at its byte limit: later lines are missing. */
  readonly truncated?: boolean;
  readonly unavailable?: string;
}

/** What was read for one workflow. */
export interface WorkflowInput {
  readonly workflow: Workflow;
  /** Its pods that still exist. */
  readonly pods: readonly KubeObject[];
  /** Logs by pod name (pods not in the map were not read). */
  readonly logs: ReadonlyMap<string, PodLog>;
}

export const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

export function ms(t: string | undefined): number | undefined {
  if (!t) return undefined;
  const v = Date.parse(t);
  return Number.isNaN(v) ? undefined : v;
}

export function seconds(start: string | undefined, end: string | undefined, now: number): number | undefined {
  const s = ms(start);
  if (s === undefined) return undefined;
  return round(Math.max(0, (ms(end) ?? now) - s) / 1000, 3);
}

const STATES: Readonly<Record<string, AttemptState>> = {
  Pending: 'pending',
  Running: 'running',
  Succeeded: 'succeeded',
  Failed: 'failed',
  Error: 'error',
  Skipped: 'skipped',
  Omitted: 'omitted',
};

interface PodStatus {
  reason?: string;
  message?: string;
  conditions?: { type?: string; status?: string; reason?: string }[];
  containerStatuses?: { name: string; state?: { running?: { startedAt?: string }; terminated?: { startedAt?: string; finishedAt?: string; exitCode?: number } } }[];
}

/**
 * What ended an attempt from outside. Argo marks a node whose pod vanished Error "pod deleted"
 * (operator.go podReconciliation); an evicted pod has status.reason Evicted and its message
 * becomes the node's (operator.go assessNodeStatus, inferFailedReason: pod.Status.Message first);
 * 143/137 is the main container ended by SIGTERM/SIGKILL (the step wrapper exits 143 when stopped).
 */
function interruptionOf(node: ReportNode, pod: KubeObject | undefined): Interruption | undefined {
  const status = pod?.status as PodStatus | undefined;
  // core/v1 PodConditionType DisruptionTarget (Kubernetes >= 1.26): why the pod is being deleted.
  const disruption = status?.conditions?.find((c) => c.type === 'DisruptionTarget' && c.status === 'True');
  if (disruption?.reason === 'PreemptionByScheduler') return 'preempted';
  if (node.message === 'pod deleted') return 'deleted';
  // The kubelet's eviction message ("The node was low on resource: memory. ...") becomes the node's.
  if (status?.reason === 'Evicted' || disruption?.reason === 'TerminationByKubelet' || /\bevict|^The node was low on resource/i.test(node.message ?? '')) return 'evicted';
  const code = node.outputs?.exitCode;
  if ((node.phase === 'Failed' || node.phase === 'Error') && (code === '143' || code === '137')) return 'stopped';
  return undefined;
}

/** Seconds the main container ran, from the pod's container state. */
function runSecondsOf(pod: KubeObject | undefined, now: number): number | undefined {
  const main = (pod?.status as PodStatus | undefined)?.containerStatuses?.find((c) => c.name === 'main');
  const t = main?.state?.terminated;
  if (t?.startedAt) return seconds(t.startedAt, t.finishedAt, now);
  const r = main?.state?.running;
  if (r?.startedAt) return seconds(r.startedAt, undefined, now);
  return undefined;
}

/** The template Argo stored for a node (status.storedTemplates, key `namespaced/<ref>/<template>`). */
function storedTemplate(wf: Workflow, n: ReportNode): { container?: object; metadata?: { annotations?: Record<string, string> } } | undefined {
  const stored = wf.status?.storedTemplates as Record<string, { container?: object; metadata?: { annotations?: Record<string, string> } }> | undefined;
  const ref = n.templateRef;
  if (!stored || !ref?.name || !ref.template) return undefined;
  return stored[`namespaced/${ref.name}/${ref.template}`] ?? stored[`cluster/${ref.name}/${ref.template}`];
}

/** An attempt with what the report derives from it. */
export interface Attempt {
  readonly a: NodeAttempt;
  readonly pod?: KubeObject;
  readonly report: AttemptReport;
  readonly gpu: GpuAsk;
  readonly log?: PodLog;
  segments?: ScanSegment[];
}

function podIndex(pods: readonly KubeObject[]): Map<string, KubeObject> {
  const m = new Map<string, KubeObject>();
  for (const p of pods) {
    const a = p.metadata.annotations ?? {};
    if (a[ARGO_NODE_ID_ANNOTATION]) m.set(`id:${a[ARGO_NODE_ID_ANNOTATION]}`, p);
    if (a[ARGO_NODE_NAME_ANNOTATION]) m.set(`name:${a[ARGO_NODE_NAME_ANNOTATION]}`, p);
  }
  return m;
}

/** Every attempt of the workflow, with its pod and log when they exist. */
export function attemptReports(input: WorkflowInput, nodes: readonly ReportNode[], now: number): Attempt[] {
  const wf = input.workflow;
  const wfName = wf.metadata.name ?? '';
  const pods = podIndex(input.pods);
  const end = isCompleted(wf) ? wf.status?.finishedAt : undefined;
  return attemptsOf(wf, nodes).map((a) => {
    const n = a.node;
    const pod = n.type === 'Pod' ? (pods.get(`id:${n.id}`) ?? pods.get(`name:${n.name}`)) : undefined;
    const gpu = pod ? gpuOfPod(pod) : gpuOfTemplate(storedTemplate(wf, n) ?? storedTemplate(wf, a.item) ?? {});
    const durationSeconds = seconds(n.startedAt, n.finishedAt ?? end, now);
    const runSeconds = runSecondsOf(pod, now);
    const report: AttemptReport = {
      step: a.step,
      name: n.displayName ?? n.name.slice(wfName.length + 1),
      chunk: a.chunk,
      attempt: a.attempt,
      state: STATES[n.phase ?? ''] ?? 'pending',
      interruption: interruptionOf(n, pod),
      retried: a.retried,
      startedAt: n.startedAt,
      finishedAt: n.finishedAt,
      durationSeconds,
      runSeconds,
      exitCode: n.outputs?.exitCode,
      message: n.message || undefined,
      pod: pod?.metadata.name,
      gpus: gpu.gpus,
      gpuHours: n.type === 'Pod' ? round(((runSeconds ?? durationSeconds ?? 0) * gpu.gpus) / 3600, 4) : 0,
    };
    const log = pod?.metadata.name ? input.logs.get(pod.metadata.name) : undefined;
    return { a, pod, report, gpu, log };
  });
}

/** Timeline order: start time, then name. */
export function byTime(x: AttemptReport, y: AttemptReport): number {
  return (ms(x.startedAt) ?? Infinity) - (ms(y.startedAt) ?? Infinity) || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0);
}
