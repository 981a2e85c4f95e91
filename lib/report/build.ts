/**
 * The report from what the Kubernetes API holds: each workflow's status nodes, its pods (while
 * they exist) and their logs. Pure: the same inputs give the same report.
 */
import { ARGO_NODE_ID_ANNOTATION, ARGO_NODE_NAME_ANNOTATION } from '../cluster/labels';
import type { KubeObject } from '../cluster/resources';
import { isCompleted, viewWorkflow, type Workflow } from '../cluster/workflow';
import { gpuOfPod, gpuOfTemplate, type GpuAsk } from './gpu';
import { parseGateLog, parseStepLog, type LogLine, type ScanSegment } from './logs';
import {
  REPORT_API_VERSION,
  SLOWEST_SCANS,
  type AttemptReport,
  type AttemptState,
  type GpuStepReport,
  type Interruption,
  type Report,
  type ScanCounts,
  type ScanOutcomes,
  type ScanReport,
  type ScanTiming,
  type WorkflowReport,
} from './model';
import { attemptsOf, statusNodes, type NodeAttempt, type ReportNode } from './nodes';

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

/** Options of {@link buildReport}. */
export interface ReportOptions {
  readonly namespace: string;
  readonly run?: string;
  /** Milliseconds since the epoch: the end of attempts still running. */
  readonly now: number;
  readonly workflows: readonly WorkflowInput[];
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

function ms(t: string | undefined): number | undefined {
  if (!t) return undefined;
  const v = Date.parse(t);
  return Number.isNaN(v) ? undefined : v;
}

function seconds(start: string | undefined, end: string | undefined, now: number): number | undefined {
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

interface Attempt {
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

function attemptReports(input: WorkflowInput, nodes: readonly ReportNode[], now: number): Attempt[] {
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

function byTime(x: AttemptReport, y: AttemptReport): number {
  return (ms(x.startedAt) ?? Infinity) - (ms(y.startedAt) ?? Infinity) || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0);
}

function gpuByStep(attempts: readonly Attempt[]): GpuStepReport[] {
  const steps = new Map<string, Attempt[]>();
  for (const x of attempts) if (x.a.node.type === 'Pod') steps.set(x.a.step, [...(steps.get(x.a.step) ?? []), x]);
  return [...steps.entries()]
    .map(([step, xs]) => {
      const asks = [...new Set(xs.map((x) => x.gpu.describe))].sort();
      const memory = xs.filter((x) => x.gpu.memoryMB !== undefined && x.gpu.gpus === 0).length;
      return {
        step,
        attempts: xs.length,
        request: asks.join(', '),
        gpuHours: round(xs.reduce((s, x) => s + x.report.gpuHours, 0), 4),
        note: memory > 0 ? `${memory} attempt(s) asked for gpu-memory only: a memory share, not counted as GPU hours` : undefined,
      };
    })
    .sort((x, y) => (x.step < y.step ? -1 : x.step > y.step ? 1 : 0));
}

const SUMMARY = /^(?:workflow \w+ before the gate; )?(\d+) scans: (\d+) succeeded, (\d+) partial, (\d+) failed/;

function countsOf(rows: readonly ScanReport[]): ScanCounts {
  const c = { total: rows.length, succeeded: 0, partial: 0, failed: 0 };
  for (const r of rows) c[r.result]++;
  return c;
}

function countsFromSummary(outcome: string | undefined): ScanCounts | undefined {
  const m = outcome ? SUMMARY.exec(outcome) : null;
  return m ? { total: Number(m[1]), succeeded: Number(m[2]), partial: Number(m[3]), failed: Number(m[4]) } : undefined;
}

function segmentsOf(x: Attempt): ScanSegment[] {
  x.segments ??= x.log?.lines && x.a.chunk !== undefined ? parseStepLog(x.a.step, x.log.lines) : [];
  return x.segments;
}

/** Why an attempt's log is not there, in words. */
function missingLog(x: Attempt): string {
  if (!x.pod) return `pod of ${x.report.name} not found (deleted: podGC, or the attempt was preempted or evicted)`;
  return x.log?.unavailable ?? `log of ${x.report.name} not read`;
}

/** A failed scan's message and log tail: from the last attempt of its step and chunk that logged it. */
function failureDetail(row: ScanReport, attempts: readonly Attempt[]): Pick<ScanReport, 'message' | 'logTail' | 'logTailUnavailable'> {
  const tried = attempts
    .filter((x) => x.a.step === row.step && x.a.chunk === row.chunk && x.a.node.type === 'Pod')
    .sort((x, y) => (y.a.attempt ?? 0) - (x.a.attempt ?? 0));
  if (tried.length === 0) return { logTailUnavailable: row.step ? `${row.step} has no attempt for chunk ${row.chunk} in the workflow's status` : 'no step named' };
  const failedAttempt = tried.find((x) => x.report.state === 'failed' || x.report.state === 'error');
  const message = (failedAttempt ?? tried[0]).report.message;
  for (const x of tried) {
    const seg = [...segmentsOf(x)].reverse().find((s) => s.scan === row.scan);
    if (seg) return { message: x.report.state === 'succeeded' ? undefined : message, logTail: seg.tail };
  }
  const reasons = tried.map((x) => (x.log?.lines ? `${x.report.name}: no lines for this scan${x.log.truncated ? ' (log cut at its read limit)' : ''}` : `${missingLog(x)}`));
  return { message, logTailUnavailable: reasons.join('; ') };
}

function scanOutcomes(attempts: readonly Attempt[], outcome: string | undefined, unavailable: string[], completed: boolean): ScanOutcomes {
  const gates = attempts.filter((x) => x.a.exitHandler && x.a.node.type === 'Pod').sort((x, y) => (y.a.attempt ?? 0) - (x.a.attempt ?? 0));
  const summaryCounts = countsFromSummary(outcome);
  if (gates.length === 0) {
    unavailable.push(completed ? 'per-scan outcomes: the gate never ran' : 'per-scan outcomes: the gate has not run yet');
    return { available: false, counts: summaryCounts, rows: [] };
  }
  for (const g of gates) {
    if (!g.log?.lines) continue;
    const parsed = parseGateLog(g.log.lines.map((l) => l.text));
    if (!parsed.end && parsed.rows.length === 0) continue;
    const rows: ScanReport[] = parsed.rows.map((r) => ({ scan: r.scan, chunk: r.chunk, result: r.result, step: r.step, exitCode: r.code, detail: r.detail }));
    const detailed = rows.map((r) => (r.result === 'failed' ? { ...r, ...failureDetail(r, attempts) } : r));
    const complete = parsed.end !== undefined && parsed.end.printed === parsed.end.judged && rows.length === parsed.end.judged;
    if (!parsed.end) unavailable.push(`per-scan outcomes: the gate's log (${g.report.name}) has no end line: rows may be missing`);
    else if (!complete) unavailable.push(`per-scan outcomes: the gate printed ${parsed.end.printed} of ${parsed.end.judged} rows to its log (SLEAP_ROOTS_REPORT_LOG_LIMIT); all of them are in report.tsv in the run folder`);
    return { available: true, judged: parsed.end?.judged, counts: complete ? countsOf(detailed) : (summaryCounts ?? countsOf(detailed)), rows: detailed };
  }
  unavailable.push(`per-scan outcomes: ${gates.map((g) => (g.log?.lines ? `${g.report.name}: no outcome rows in its log` : missingLog(g))).join('; ')}; the gate's summary is all there is`);
  return { available: false, counts: summaryCounts, rows: [] };
}

function slowest(attempts: readonly Attempt[]): ScanTiming[] {
  const last = new Map<string, ScanTiming & { order: number }>();
  for (const x of attempts) {
    for (const s of segmentsOf(x)) {
      if (!s.end) continue;
      const sec = round(((ms(s.end) ?? 0) - (ms(s.start) ?? 0)) / 1000, 3);
      const key = `${x.a.step}\u0000${s.scan}`;
      const order = x.a.attempt ?? 0;
      const prev = last.get(key);
      if (!prev || prev.order <= order) last.set(key, { scan: s.scan, step: x.a.step, seconds: sec, attempt: x.report.name, order });
    }
  }
  return [...last.values()]
    .sort((a, b) => b.seconds - a.seconds || (a.scan < b.scan ? -1 : a.scan > b.scan ? 1 : 0) || (a.step < b.step ? -1 : 1))
    .slice(0, SLOWEST_SCANS)
    .map(({ order: _order, ...t }) => t);
}

function missingPods(attempts: readonly Attempt[]): string[] {
  const gone = attempts.filter((x) => x.a.node.type === 'Pod' && !x.pod && x.report.state !== 'pending');
  if (gone.length === 0) return [];
  const names = gone.slice(0, 5).map((x) => x.report.name).join(', ');
  return [
    `${gone.length} of ${attempts.filter((x) => x.a.node.type === 'Pod').length} pods no longer exist (${names}${gone.length > 5 ? ', ...' : ''}): ` +
      'their logs and container times are gone (podGC deletes succeeded pods; preempted, evicted and deleted pods go with their attempt); ' +
      "their GPU hours use the node's start and end, Pending time included, and the GPU request the workflow stored for the template",
  ];
}

/**
 * The report of one workflow at time `now` (milliseconds since the epoch). A run's workflows can
 * be reported one by one (their logs dropped after each) and joined with {@link joinReports}.
 */
export function workflowReport(input: WorkflowInput, now: number): WorkflowReport {
  const wf = input.workflow;
  const unavailable: string[] = [];
  let nodes: ReportNode[] = [];
  try {
    nodes = statusNodes(wf);
  } catch (e) {
    unavailable.push(`status nodes: ${(e as Error).message}`);
  }
  const view = viewWorkflow(nodes.length > 0 ? { ...wf, status: { ...wf.status, nodes: Object.fromEntries(nodes.map((n) => [n.id, n])) } } : wf, now);
  const attempts = attemptReports(input, nodes, now);
  unavailable.push(...missingPods(attempts));
  for (const x of attempts) if (x.log?.truncated) unavailable.push(`log of ${x.report.name} cut at its read limit: later scans have no timing or log tail`);
  for (const x of attempts) if (x.log?.unavailable && x.pod) unavailable.push(`log of ${x.report.name}: ${x.log.unavailable}`);
  const scans = scanOutcomes(attempts, view.outcome ?? (isCompleted(wf) ? wf.status?.message : undefined), unavailable, isCompleted(wf));
  const byStep = gpuByStep(attempts);
  return {
    name: view.name,
    phase: wf.status?.phase ?? 'Pending',
    message: view.message,
    outcome: view.outcome,
    startedAt: view.startedAt,
    finishedAt: view.finishedAt,
    durationSeconds: seconds(view.startedAt, view.finishedAt, now),
    attempts: attempts.map((x) => x.report).sort(byTime),
    scans,
    gpu: { byStep, totalHours: round(byStep.reduce((s, x) => s + x.gpuHours, 0), 4) },
    slowestScans: slowest(attempts),
    unavailable,
  };
}

function sumCounts(list: readonly (ScanCounts | undefined)[]): ScanCounts | undefined {
  if (list.length === 0 || list.some((c) => !c)) return undefined;
  return list.reduce<ScanCounts>((s, c) => ({ total: s.total + c!.total, succeeded: s.succeeded + c!.succeeded, partial: s.partial + c!.partial, failed: s.failed + c!.failed }), { total: 0, succeeded: 0, partial: 0, failed: 0 });
}

/** Options of {@link joinReports}. */
export interface JoinOptions {
  readonly namespace: string;
  readonly run?: string;
  readonly now: number;
  /** Some workflow had not finished: the report says when it was measured. */
  readonly running: boolean;
}

/** The report of workflow reports made by {@link workflowReport}, in the order given. */
export function joinReports(workflows: readonly WorkflowReport[], o: JoinOptions): Report {
  return {
    apiVersion: REPORT_API_VERSION,
    kind: 'Report',
    namespace: o.namespace,
    run: o.run,
    asOf: o.running ? new Date(o.now).toISOString() : undefined,
    workflows,
    totals: { scans: sumCounts(workflows.map((w) => w.scans.counts)), gpuHours: round(workflows.reduce((s, w) => s + w.gpu.totalHours, 0), 4) },
  };
}

/** The report of the workflows given, in the order given. */
export function buildReport(o: ReportOptions): Report {
  const workflows = o.workflows.map((w) => workflowReport(w, o.now));
  return joinReports(workflows, { ...o, running: o.workflows.some((w) => !isCompleted(w.workflow)) });
}
