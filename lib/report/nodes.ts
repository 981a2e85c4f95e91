/**
 * The attempts of a workflow, from its status nodes: Argo's status.nodes is a flat map in which a
 * step with a retryStrategy is a `Retry` node whose children are its attempts, `Pod` nodes named
 * `<parent>(N)` (workflow/controller/operator.go executeTemplate: initializeExecutableNode(...,
 * NodeTypeRetry, ...) then one child per attempt; pkg/apis/workflow/v1alpha1/workflow_types.go
 * NodeTypeRetry). An item of a fanned-out task (withSequence) is named `<task>(<index>:<value>)`,
 * and the exit handler (`hooks.exit`, the gate) `<workflow>.onExit` (operator.go operate:
 * HasExitHook, common.GenerateOnExitNodeName). A Pod node's phase, message, startedAt/finishedAt
 * and outputs.exitCode stay in the status after its pod is gone; startedAt is set when the node
 * is created (operator.go initializeNode), so it includes the time the pod waited Pending.
 */
import { nodeStatusOf } from '../cluster/node-status';
import type { ArgoNode, Workflow } from '../cluster/workflow';

/** A node as the report reads it (ArgoNode plus fields the CLI's view does not use). */
export interface ReportNode extends ArgoNode {
  readonly resourcesDuration?: Readonly<Record<string, number>>;
}

/**
 * The workflow's nodes wherever Argo put them (status.nodes, or status.compressedNodes decoded by
 * cluster/node-status.ts, as `status` and `watch` read them).
 * @throws Error when they cannot be read: compressedNodes undecodable, or offloaded to Argo's database
 */
export function statusNodes(wf: Workflow): ReportNode[] {
  const { nodes, source } = nodeStatusOf(wf);
  if (source.from === 'unreadable') throw new Error(source.problem);
  if (source.from === 'offloaded') throw new Error(`offloaded to Argo's database (status.offloadNodeStatusVersion ${source.version}); not readable through the Kubernetes API: see \`argo get ${wf.metadata?.name ?? ''}\``);
  return Object.values(nodes) as ReportNode[];
}

/** One attempt: a Pod node, or a Retry node with no attempt yet (waiting for a semaphore or backoff). */
export interface NodeAttempt {
  readonly node: ReportNode;
  /** The step's node: the Retry parent, or the Pod node itself. */
  readonly item: ReportNode;
  readonly step: string;
  readonly chunk?: number;
  readonly attempt?: number;
  /** A later attempt of the same item exists. */
  readonly retried: boolean;
  /** True for the exit handler (the gate). */
  readonly exitHandler: boolean;
}

const ATTEMPT = /\((\d+)\)$/;
const ITEM = /\((\d+):[^()]*\)$/;

function display(n: ArgoNode, wfName: string): string {
  return n.displayName ?? n.name.slice(wfName.length + 1);
}

function stepOf(n: ArgoNode, item: ArgoNode, wfName: string): string {
  const t = n.templateRef?.template ?? n.templateName ?? item.templateRef?.template ?? item.templateName;
  if (t) return t;
  return display(item, wfName).replace(ITEM, '');
}

/** Every attempt of the workflow's steps, Retry parents with none yet included. */
export function attemptsOf(wf: Workflow, nodes: readonly ReportNode[]): NodeAttempt[] {
  const wfName = wf.metadata.name ?? '';
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const retryOf = new Map<string, ReportNode>();
  for (const n of nodes) if (n.type === 'Retry') for (const c of n.children ?? []) retryOf.set(c, n);
  const out: NodeAttempt[] = [];
  const isExit = (item: ArgoNode) => item.name === `${wfName}.onExit`;
  for (const n of nodes) {
    if (n.type === 'Pod') {
      const item = retryOf.get(n.id) ?? n;
      const own = ATTEMPT.exec(display(n, wfName));
      const attempt = item !== n && own ? Number(own[1]) : undefined;
      const siblings = item !== n ? (item.children ?? []).map((c) => byId.get(c)).filter((c): c is ReportNode => !!c) : [];
      const retried = attempt !== undefined && siblings.some((s) => Number(ATTEMPT.exec(display(s, wfName))?.[1] ?? -1) > attempt);
      const m = ITEM.exec(display(item, wfName));
      out.push({ node: n, item, step: stepOf(n, item, wfName), chunk: m ? Number(m[1]) : undefined, attempt, retried, exitHandler: isExit(item) });
    } else if (n.type === 'Retry' && (n.children ?? []).length === 0) {
      const m = ITEM.exec(display(n, wfName));
      out.push({ node: n, item: n, step: stepOf(n, n, wfName), chunk: m ? Number(m[1]) : undefined, retried: false, exitHandler: isExit(n) });
    }
  }
  return out;
}
