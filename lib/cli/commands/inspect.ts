/**
 * `status [<workflow>]` and `list`: the pipeline's recent workflows, and one workflow in detail.
 */
import { UserError, isStatus } from '../../cluster/errors';
import { ownedSelector } from '../../cluster/labels';
import { KINDS, resourcePath, type KubeList } from '../../cluster/resources';
import { viewWorkflow, type Workflow } from '../../cluster/workflow';
import type { Session } from '../session';
import { listLines, statusLines } from '../workflow-view';
import { groupRuns, runListLines } from '../run-list';

/** Options of list. */
export interface ListCommandOptions {
  readonly env?: string;
  /** Most recent first; at most this many. */
  readonly limit?: string;
}

async function listWorkflows(s: Session, namespace: string, env?: string): Promise<Workflow[]> {
  const client = await s.client();
  const list = await client.json<KubeList<Workflow>>({ path: resourcePath(KINDS.Workflow, namespace), query: { labelSelector: ownedSelector(env) }, signal: s.io.signal });
  return (list.items ?? []).sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || (b.metadata.name ?? '').localeCompare(a.metadata.name ?? ''));
}

/** `list`. */
export async function listCommand(s: Session, o: ListCommandOptions): Promise<number> {
  const limit = o.limit ? Number(o.limit) : 20;
  if (!Number.isInteger(limit) || limit < 1) throw new UserError(`--limit ${o.limit}: expected a whole number >= 1`);
  const namespace = await s.namespace(o.env);
  const now = s.io.now();
  // The batches of a run are one row per run (lib/cli/run-list.ts).
  const { lone, runs } = groupRuns(await listWorkflows(s, namespace, o.env), now);
  const views = lone.slice(0, limit).map((w) => viewWorkflow(w, now));
  if (s.json) {
    s.io.stdout.write(JSON.stringify({ namespace, items: views.map(({ steps: _steps, ...v }) => v), runs: runs.slice(0, limit) }, null, 2) + '\n');
    return 0;
  }
  if (runs.length > 0) s.io.stdout.write(runListLines(runs.slice(0, limit), s.style).join('\n') + '\n' + (views.length > 0 ? '\n' : ''));
  if (views.length === 0 && runs.length > 0) return 0;
  if (views.length === 0) {
    s.io.stdout.write(`No workflows of the pipeline in namespace "${namespace}"${o.env ? ` for environment ${o.env}` : ''}.\n`);
    return 0;
  }
  s.io.stdout.write(listLines(views, s.style, now).join('\n') + '\n');
  return 0;
}

/** `status [<workflow>]`: the most recent workflow when none is named. */
export async function statusCommand(s: Session, name: string | undefined, o: { env?: string }): Promise<number> {
  const namespace = await s.namespace(o.env);
  const client = await s.client();
  let wf: Workflow;
  if (name) {
    try {
      wf = await client.json<Workflow>({ path: resourcePath(KINDS.Workflow, namespace, name), signal: s.io.signal });
    } catch (e) {
      if (isStatus(e, 404)) throw new UserError(`workflow "${name}" is not in namespace "${namespace}"`, 'list recent ones: npx sleap-roots list');
      throw e;
    }
  } else {
    const latest = (await listWorkflows(s, namespace, o.env))[0];
    if (!latest) throw new UserError(`no workflows of the pipeline in namespace "${namespace}"`, 'submit one: npx sleap-roots submit --env <env>');
    wf = latest;
  }
  // The template lists the tasks that have no node yet (best effort: status works without it).
  const templateName = wf.spec?.workflowTemplateRef?.name;
  const template = templateName
    ? await client.json<Workflow>({ path: resourcePath(KINDS.WorkflowTemplate, namespace, templateName), maxAttempts: 2, signal: s.io.signal }).catch(() => undefined)
    : undefined;
  const view = viewWorkflow(wf, s.io.now(), template);
  if (s.json) {
    s.io.stdout.write(JSON.stringify(view, null, 2) + '\n');
    return 0;
  }
  s.io.stdout.write(statusLines(view, s.style, s.io.now()).join('\n') + '\n');
  return 0;
}
