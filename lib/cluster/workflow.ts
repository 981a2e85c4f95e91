/**
 * What a Workflow's status says, as the CLI shows it: one row per DAG task (phase, duration,
 * retries, message), the failing step, and which step and attempt a pod belongs to.
 *
 * Argo's status.nodes is a flat map: the root DAG node (named like the workflow), one node per
 * task (`<wf>.<task>`, displayName `<task>`), and for a task with a retryStrategy a `Retry` node
 * whose children are the attempts, Pod nodes `<wf>.<task>(0)`, `<wf>.<task>(1)`, ...
 * A large workflow has them in status.compressedNodes, or in Argo's database (node-status.ts).
 */
import { ARGO_NODE_ID_ANNOTATION, ARGO_NODE_NAME_ANNOTATION, ENVIRONMENT_LABEL, RESUBMITTED_FROM, SUBMITTED_BY } from './labels';
import { OUTCOME_OUTPUT } from '../names';
import { nodeStatusOf, nodesOf, type NodeSource } from './node-status';
import type { KubeObject } from './resources';

export type { NodeSource } from './node-status';

/** Phases of an Argo node or workflow; `Waiting` is ours: a task with no node yet. */
export type Phase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Error' | 'Skipped' | 'Omitted' | 'Waiting';

/** One node of status.nodes (the fields the CLI reads). */
export interface ArgoNode {
  readonly id: string;
  readonly name: string;
  readonly displayName?: string;
  readonly type?: string;
  readonly phase?: string;
  readonly message?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly boundaryID?: string;
  readonly children?: readonly string[];
  readonly templateName?: string;
  readonly templateRef?: { readonly name?: string; readonly template?: string };
  readonly outputs?: { readonly exitCode?: string; readonly parameters?: readonly { readonly name: string; readonly value?: string }[] };
}

/** A parameter name and value. */
export interface Parameter {
  readonly name: string;
  readonly value?: string;
}

interface DagTask {
  readonly name: string;
}
interface Template {
  readonly name?: string;
  readonly dag?: { readonly tasks?: readonly DagTask[] };
}

/** An Argo Workflow, as far as the CLI reads it. */
export interface Workflow extends KubeObject {
  spec?: {
    workflowTemplateRef?: { name?: string; clusterScope?: boolean };
    arguments?: { parameters?: Parameter[] };
    entrypoint?: string;
    templates?: Template[];
    [field: string]: unknown;
  };
  status?: {
    phase?: string;
    message?: string;
    progress?: string;
    startedAt?: string;
    finishedAt?: string;
    nodes?: Record<string, ArgoNode>;
    /** The nodes, compressed and base64-encoded, when the workflow grew past Argo's size limit. */
    compressedNodes?: string;
    /** Set when the nodes are in Argo's database (node status offloading). */
    offloadNodeStatusVersion?: string;
    storedWorkflowTemplateSpec?: { entrypoint?: string; templates?: Template[] };
    [field: string]: unknown;
  };
}

/** One attempt of a step (one pod). */
export interface AttemptView {
  /** 0-based, as in Argo's `task(N)` names; undefined for a step without retries. */
  readonly index?: number;
  readonly nodeId: string;
  readonly displayName: string;
  readonly phase: Phase;
  readonly message?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly exitCode?: string;
}

/** One DAG task, or one item of a task that fans out (withParam/withItems). */
export interface StepView {
  /** The task name, or the item's display name (`predictor(0:set-a)`). */
  readonly name: string;
  /** The DAG task it belongs to. */
  readonly task: string;
  /** True for one item of a fanned-out task (shown under the task's row). */
  readonly item: boolean;
  readonly phase: Phase;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  /** Run time so far (running) or in all (finished). */
  readonly durationMs?: number;
  /** Attempts after the first (for a fanned-out task: of all its items). */
  readonly retries: number;
  readonly attempts: readonly AttemptView[];
  readonly message?: string;
}

/** A workflow as the CLI shows it. */
export interface WorkflowView {
  readonly name: string;
  readonly namespace?: string;
  readonly phase: Phase;
  readonly completed: boolean;
  readonly message?: string;
  /** Argo's `done/total` of pods. */
  readonly progress?: string;
  readonly createdAt?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly durationMs?: number;
  readonly template?: string;
  readonly environment?: string;
  readonly submittedBy?: string;
  readonly resubmittedFrom?: string;
  readonly parameters: readonly Parameter[];
  /** The steps; empty when the nodes cannot be read (see {@link nodeSource}). */
  readonly steps: readonly StepView[];
  /** Where the step list came from: status.nodes, status.compressedNodes, or why it is missing. */
  readonly nodeSource: NodeSource;
  /**
   * Why a Failed/Error workflow failed: its failed steps (leaves: items rather than their task),
   * earliest first, each with its message.
   */
  readonly failing?: readonly { readonly step: string; readonly message?: string }[];
  /**
   * The batch's outcome as the gate (the exit handler, node `<wf>.onExit`) summed it up, e.g.
   * "1000 scans: 990 succeeded, 7 partial, 3 failed: ...".
   */
  readonly outcome?: string;
  /** The workflow's resourceVersion this view was made from. */
  readonly resourceVersion?: string;
}

const PHASES = new Set<Phase>(['Pending', 'Running', 'Succeeded', 'Failed', 'Error', 'Skipped', 'Omitted']);
/** Phases after which a node or workflow does not change. */
export const DONE_PHASES: ReadonlySet<string> = new Set(['Succeeded', 'Failed', 'Error', 'Skipped', 'Omitted']);

/** True when the workflow has finished (Succeeded, Failed or Error). */
export function isCompleted(wf: Workflow): boolean {
  const p = wf.status?.phase;
  return p === 'Succeeded' || p === 'Failed' || p === 'Error';
}

function phaseOf(p: string | undefined): Phase {
  return p && PHASES.has(p as Phase) ? (p as Phase) : 'Pending';
}

function ms(t: string | undefined): number | undefined {
  if (!t) return undefined;
  const v = Date.parse(t);
  return Number.isNaN(v) ? undefined : v;
}

function duration(start: string | undefined, end: string | undefined, now: number): number | undefined {
  const s = ms(start);
  if (s === undefined) return undefined;
  const e = ms(end) ?? now;
  return Math.max(0, e - s);
}

const ATTEMPT = /^(.*)\((\d+)\)$/;

/** Task names in DAG order, from the workflow's stored template or a template given. */
function taskOrder(wf: Workflow, template?: KubeObject): string[] {
  const sources = [wf.status?.storedWorkflowTemplateSpec, wf.spec, (template as Workflow | undefined)?.spec];
  for (const spec of sources) {
    if (!spec?.templates) continue;
    const entry = spec.entrypoint ?? spec.templates[0]?.name;
    const t = spec.templates.find((x) => x.name === entry);
    if (t?.dag?.tasks) return t.dag.tasks.map((x) => x.name);
  }
  return [];
}

/** status.nodes, indexed for building rows. */
interface NodeIndex {
  readonly wfName: string;
  readonly nodes: readonly ArgoNode[];
  readonly byId: ReadonlyMap<string, ArgoNode>;
  /** The root DAG node, named like the workflow. */
  readonly root?: ArgoNode;
  /** Children of Retry nodes: attempts, shown inside their task's row. */
  readonly attemptIds: ReadonlySet<string>;
  /** The TaskGroup node (a fanned-out task) each item node belongs to. */
  readonly groupOf: ReadonlyMap<string, ArgoNode>;
}

/** What rows need besides the nodes: the clock, and the end of nodes with no finishedAt. */
interface RowContext {
  readonly now: number;
  /** The workflow's finishedAt once it has completed, else undefined. */
  readonly wfEnd?: string;
}

function indexNodes(wf: Workflow): NodeIndex {
  const wfName = wf.metadata.name ?? '';
  const nodes = Object.values(nodesOf(wf));
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const root = byId.get(wfName) ?? nodes.find((n) => n.name === wfName);
  const attemptIds = new Set<string>();
  for (const n of nodes) if (n.type === 'Retry') for (const c of n.children ?? []) attemptIds.add(c);
  const groupOf = new Map<string, ArgoNode>();
  for (const n of nodes) if (n.type === 'TaskGroup') for (const c of n.children ?? []) groupOf.set(c, n);
  return { wfName, nodes, byId, root, attemptIds, groupOf };
}

function isFailedPhase(p: string | undefined): boolean {
  return p === 'Failed' || p === 'Error';
}

/** A node's display name, or its name without the `<wf>.` prefix. */
function displayOf(n: ArgoNode, wfName: string): string {
  return n.displayName ?? n.name.slice(wfName.length + 1);
}

function endOf(n: ArgoNode, ctx: RowContext): string | undefined {
  return n.finishedAt ?? ctx.wfEnd;
}

/** True for a node shown as its own row: not the root, an attempt, a TaskGroup, or a DAG/Steps node. */
function isStepNode(n: ArgoNode, idx: NodeIndex): boolean {
  if (n === idx.root || idx.attemptIds.has(n.id) || n.type === 'TaskGroup') return false;
  return !(n.type === 'DAG' || n.type === 'Steps' || n.type === 'StepGroup');
}

/** A step node's attempts: a Retry node's children by index, else the node itself. */
function attemptsOf(n: ArgoNode, byId: ReadonlyMap<string, ArgoNode>): AttemptView[] {
  const attempts: AttemptView[] = [];
  if (n.type === 'Retry') {
    for (const c of n.children ?? []) {
      const child = byId.get(c);
      if (!child) continue;
      const m = ATTEMPT.exec(child.displayName ?? '');
      attempts.push(attemptOf(child, m ? Number(m[2]) : attempts.length));
    }
    attempts.sort((x, y) => (x.index ?? 0) - (y.index ?? 0));
  } else {
    attempts.push(attemptOf(n, undefined));
  }
  return attempts;
}

/** A failed step's last failed attempt's message if any, else the node's, else the last attempt's. */
function stepMessage(n: ArgoNode, phase: Phase, attempts: readonly AttemptView[]): string | undefined {
  const failedAttempt = [...attempts].reverse().find((x) => isFailedPhase(x.phase));
  const last = attempts[attempts.length - 1];
  return isFailedPhase(phase) && failedAttempt?.message ? failedAttempt.message : n.message ?? last?.message;
}

/** The row of a task, or of one item of a fanned-out task. */
function stepRow(n: ArgoNode, idx: NodeIndex, ctx: RowContext): StepView {
  const display = displayOf(n, idx.wfName);
  const group = idx.groupOf.get(n.id);
  const attempts = attemptsOf(n, idx.byId);
  const phase = phaseOf(n.phase);
  const message = stepMessage(n, phase, attempts);
  return {
    name: display,
    task: group ? displayOf(group, idx.wfName) : display,
    item: !!group,
    phase,
    startedAt: n.startedAt,
    finishedAt: n.finishedAt,
    durationMs: duration(n.startedAt, endOf(n, ctx), ctx.now),
    retries: Math.max(0, attempts.length - 1),
    attempts,
    message: message || undefined,
  };
}

/** The row of a fanned-out task (TaskGroup node), summing up its item rows. */
function groupRow(g: ArgoNode, rows: ReadonlyMap<string, StepView>, wfName: string, ctx: RowContext): StepView {
  const display = displayOf(g, wfName);
  const items = [...rows.values()].filter((r) => r.item && r.task === display);
  const failedItems = items.filter((r) => isFailedPhase(r.phase)).length;
  const doneItems = items.filter((r) => DONE_PHASES.has(r.phase)).length;
  return {
    name: display,
    task: display,
    item: false,
    phase: phaseOf(g.phase),
    startedAt: g.startedAt,
    finishedAt: g.finishedAt,
    durationMs: duration(g.startedAt, endOf(g, ctx), ctx.now),
    retries: items.reduce((sum, r) => sum + r.retries, 0),
    attempts: [],
    message: g.message || (items.length > 0 ? `${doneItems}/${items.length} items done${failedItems ? `, ${failedItems} failed` : ''}` : undefined),
  };
}

/** Rows by name: step nodes, then TaskGroups, then DAG tasks with no node (Omitted once completed, else Waiting). */
function stepRows(idx: NodeIndex, ctx: RowContext, order: readonly string[], completed: boolean): Map<string, StepView> {
  const rows = new Map<string, StepView>();
  for (const n of idx.nodes) {
    if (!isStepNode(n, idx)) continue;
    const row = stepRow(n, idx, ctx);
    rows.set(row.name, row);
  }
  for (const g of idx.nodes) {
    if (g.type !== 'TaskGroup') continue;
    const row = groupRow(g, rows, idx.wfName, ctx);
    rows.set(row.name, row);
  }
  for (const t of order) {
    if (!rows.has(t)) rows.set(t, { name: t, task: t, item: false, phase: completed ? 'Omitted' : 'Waiting', retries: 0, attempts: [] });
  }
  return rows;
}

/** Rows by DAG task order (other tasks last, by name), a task's own row before its items, then start time, then name. */
function orderSteps(rows: ReadonlyMap<string, StepView>, order: readonly string[]): StepView[] {
  const rank = (r: StepView) => {
    const i = order.indexOf(r.task);
    return i >= 0 ? i : order.length;
  };
  const time = (r: StepView) => ms(r.startedAt) ?? Infinity;
  return [...rows.values()].sort(
    (x, y) => rank(x) - rank(y) || (x.task < y.task ? -1 : x.task > y.task ? 1 : 0) || Number(x.item) - Number(y.item) || time(x) - time(y) || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0),
  );
}

/** For a Failed/Error workflow: its failed leaf steps, earliest finished first, or else the workflow itself. */
function failingOf(wf: Workflow, wfName: string, ordered: readonly StepView[]): WorkflowView['failing'] {
  if (!isFailedPhase(wf.status?.phase)) return undefined;
  const isGroup = (r: StepView) => !r.item && ordered.some((x) => x.item && x.task === r.name);
  const failed = ordered
    .filter((r) => isFailedPhase(r.phase) && !isGroup(r))
    .sort((x, y) => (ms(x.finishedAt) ?? Infinity) - (ms(y.finishedAt) ?? Infinity))
    .map((r) => ({ step: r.name, message: r.message }));
  return failed.length > 0 ? failed : [{ step: wfName, message: wf.status?.message }];
}

/**
 * The view of a workflow at time `now`.
 * @param template the pipeline WorkflowTemplate, to list tasks that have no node yet
 */
export function viewWorkflow(wf: Workflow, now: number, template?: KubeObject): WorkflowView {
  const idx = indexNodes(wf);
  const name = idx.wfName;
  const completed = isCompleted(wf);
  const ctx: RowContext = { now, wfEnd: completed ? wf.status?.finishedAt : undefined };
  const source = nodeStatusOf(wf).source;
  // Without readable nodes, listing the template's tasks as Waiting would say something false.
  const known = source.from === 'nodes' || source.from === 'compressedNodes';
  const order = taskOrder(wf, template);
  const ordered = known ? orderSteps(stepRows(idx, ctx, order, completed), order) : [];
  const labels = wf.metadata.labels ?? {};
  const annotations = wf.metadata.annotations ?? {};
  return {
    name,
    namespace: wf.metadata.namespace,
    phase: phaseOf(wf.status?.phase),
    completed,
    message: wf.status?.message || undefined,
    progress: wf.status?.progress,
    createdAt: wf.metadata.creationTimestamp,
    startedAt: wf.status?.startedAt,
    finishedAt: wf.status?.finishedAt,
    durationMs: duration(wf.status?.startedAt, wf.status?.finishedAt, now),
    template: wf.spec?.workflowTemplateRef?.name,
    environment: labels[ENVIRONMENT_LABEL],
    submittedBy: annotations[SUBMITTED_BY] ?? labels[SUBMITTED_BY],
    resubmittedFrom: labels[RESUBMITTED_FROM],
    parameters: wf.spec?.arguments?.parameters ?? [],
    steps: ordered,
    nodeSource: source,
    failing: failingOf(wf, name, ordered),
    outcome: outcomeOf(idx.nodes, name),
    resourceVersion: wf.metadata.resourceVersion,
  };
}

/** The gate's summary: the exit handler node's `outcome` output (its Retry node carries the last attempt's outputs). */
function outcomeOf(nodes: readonly ArgoNode[], wfName: string): string | undefined {
  const exit = nodes.filter((n) => n.name === `${wfName}.onExit` || n.name.startsWith(`${wfName}.onExit(`));
  for (const n of exit) {
    const v = n.outputs?.parameters?.find((p) => p.name === OUTCOME_OUTPUT)?.value?.trim();
    if (v) return v;
  }
  return undefined;
}

function attemptOf(n: ArgoNode, index: number | undefined): AttemptView {
  return {
    index,
    nodeId: n.id,
    displayName: n.displayName ?? n.name,
    phase: phaseOf(n.phase),
    message: n.message || undefined,
    startedAt: n.startedAt,
    finishedAt: n.finishedAt,
    exitCode: n.outputs?.exitCode,
  };
}

/** Which step (and attempt) a pod runs. */
export interface PodStep {
  /** The task name, e.g. `predictor`. */
  readonly step: string;
  /** 0-based attempt, when the task retries. */
  readonly attempt?: number;
  /** How log lines are prefixed: Argo's display name, e.g. `predictor(1)` or `predictor`. */
  readonly label: string;
}

/** Maps a pod of a workflow to its step and attempt (from Argo's pod annotations, or the node ids). */
export function stepOfPod(pod: KubeObject, wf?: Workflow): PodStep {
  const podName = pod.metadata.name ?? '';
  const wfName = wf?.metadata.name ?? pod.metadata.labels?.['workflows.argoproj.io/workflow'] ?? '';
  const annotations = pod.metadata.annotations ?? {};
  const nodes = wf ? nodesOf(wf) : {};
  let node: ArgoNode | undefined;
  const nodeId = annotations[ARGO_NODE_ID_ANNOTATION];
  if (nodeId) node = nodes[nodeId];
  const nodeName = annotations[ARGO_NODE_NAME_ANNOTATION];
  if (!node && nodeName) node = Object.values(nodes).find((n) => n.name === nodeName);
  if (!node && wfName) {
    // Pod names (Argo POD_NAMES=v2): <workflow>-<template>-<hash>, node ids: <workflow>-<hash>.
    node = Object.values(nodes).find((n) => n.type === 'Pod' && (n.id === podName || (podName.startsWith(`${wfName}-`) && podName.endsWith(`-${n.id.slice(wfName.length + 1)}`))));
  }
  let label = node?.displayName ?? (nodeName ? (nodeName.startsWith(`${wfName}.`) ? nodeName.slice(wfName.length + 1) : nodeName) : podName);
  if (!label) label = podName;
  const m = ATTEMPT.exec(label);
  return m ? { step: m[1], attempt: Number(m[2]), label } : { step: label, label };
}
