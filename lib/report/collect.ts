/**
 * Reads what a report needs through the Kubernetes API: the workflow (or every workflow of a run,
 * by label), its pods that still exist, and their logs. Nothing here reads the shared volumes:
 * per-scan outcomes come from the gate's log (lib/steps/scripts/gate.sh prints them there).
 */
import { UserError, isStatus } from '../cluster/errors';
import { readBody, type KubeClient } from '../cluster/http';
import { ARGO_WORKFLOW_LABEL } from '../cluster/labels';
import { KINDS, resourcePath, type KubeList, type KubeObject } from '../cluster/resources';
import { BATCH_LABEL, RUN_LABEL, runSelector } from '../cluster/run/keys';
import type { Workflow } from '../cluster/workflow';
import type { PodLog, WorkflowInput } from './build';
import type { LogLine } from './logs';

/** Bytes read of one pod's log (pods/log `limitBytes`); a longer log is cut and the report says so. */
export const LOG_READ_LIMIT_BYTES = 16 * 1024 * 1024;
/** Pod logs read at once. */
const LOG_CONCURRENCY = 4;

/** Options of {@link collect}. */
export interface CollectOptions {
  readonly namespace: string;
  readonly signal?: AbortSignal;
  /** @default {@link LOG_READ_LIMIT_BYTES} */
  readonly logLimitBytes?: number;
}

/** One workflow by name. @throws UserError when it does not exist */
export async function getWorkflow(client: KubeClient, namespace: string, name: string, signal?: AbortSignal): Promise<Workflow> {
  try {
    return await client.json<Workflow>({ path: resourcePath(KINDS.Workflow, namespace, name), signal });
  } catch (e) {
    if (isStatus(e, 404)) throw new UserError(`workflow "${name}" is not in namespace "${namespace}"`, 'list recent ones: npx sleap-roots list');
    throw e;
  }
}

/** Every workflow labelled with the run id, by batch index then name. @throws UserError when there is none */
export async function runWorkflows(client: KubeClient, namespace: string, run: string, signal?: AbortSignal): Promise<Workflow[]> {
  const list = await client.json<KubeList<Workflow>>({ path: resourcePath(KINDS.Workflow, namespace), query: { labelSelector: runSelector(run) }, signal });
  const batch = (w: Workflow) => Number(w.metadata.labels?.[BATCH_LABEL] ?? Infinity);
  const items = (list.items ?? []).sort((a, b) => batch(a) - batch(b) || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  if (items.length === 0) throw new UserError(`no workflows labelled ${RUN_LABEL}=${run} in namespace "${namespace}"`);
  return items;
}

/** `2025-01-02T03:04:05.123Z text` lines; a last line without its newline is kept. */
export function splitTimestamped(text: string): LogLine[] {
  const out: LogLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') continue;
    const sp = line.indexOf(' ');
    out.push(sp > 0 ? { time: line.slice(0, sp), text: line.slice(sp + 1) } : { time: line, text: '' });
  }
  return out;
}

async function readLog(client: KubeClient, namespace: string, pod: string, limit: number, signal?: AbortSignal): Promise<PodLog> {
  try {
    const res = await client.stream({ path: resourcePath(KINDS.Pod, namespace, pod, 'log'), query: { container: 'main', timestamps: true, limitBytes: limit }, signal });
    const body = await readBody(res);
    const truncated = body.length >= limit;
    let text = body.toString('utf8');
    // A cut log ends mid-line: drop the partial line.
    if (truncated) text = text.slice(0, text.lastIndexOf('\n') + 1);
    return { lines: splitTimestamped(text), truncated };
  } catch (e) {
    if (isStatus(e, 404)) return { unavailable: 'pod deleted before its log was read' };
    if (e instanceof Error && e.name === 'ApiError') return { unavailable: e.message };
    throw e;
  }
}

/** Runs `fn` over `items`, at most `n` at a time, keeping their order. */
async function mapLimit<T, R>(items: readonly T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

/** The pods and logs of one workflow. */
export async function collect(client: KubeClient, wf: Workflow, o: CollectOptions): Promise<WorkflowInput> {
  const name = wf.metadata.name ?? '';
  const list = await client.json<KubeList<KubeObject>>({ path: resourcePath(KINDS.Pod, o.namespace), query: { labelSelector: `${ARGO_WORKFLOW_LABEL}=${name}` }, signal: o.signal });
  const pods = (list.items ?? []).sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  const names = pods.map((p) => p.metadata.name ?? '').filter(Boolean);
  const logs = await mapLimit(names, LOG_CONCURRENCY, (p) => readLog(client, o.namespace, p, o.logLimitBytes ?? LOG_READ_LIMIT_BYTES, o.signal));
  return { workflow: wf, pods, logs: new Map(names.map((p, i) => [p, logs[i]])) };
}
