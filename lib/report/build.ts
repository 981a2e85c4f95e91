/**
 * The report from what the Kubernetes API holds: each workflow's status nodes, its pods (while
 * they exist) and their logs. Pure: the same inputs give the same report.
 */
import { isCompleted, viewWorkflow } from '../cluster/workflow';
import { attemptReports, byTime, round, seconds, type Attempt, type WorkflowInput } from './attempts';
import { REPORT_API_VERSION, type GpuStepReport, type Report, type ScanCounts, type WorkflowReport } from './model';
import { statusNodes, type ReportNode } from './nodes';
import { scanOutcomes, slowest } from './scans';

export type { PodLog, WorkflowInput } from './attempts';

/** Options of {@link buildReport}. */
export interface ReportOptions {
  readonly namespace: string;
  readonly run?: string;
  /** Milliseconds since the epoch: the end of attempts still running. */
  readonly now: number;
  readonly workflows: readonly WorkflowInput[];
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
