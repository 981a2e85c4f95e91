/**
 * `retry <workflow>`: rerunning only the failed nodes.
 *
 * Argo's retry is not a field the workflow controller watches: `argo retry` (in the Argo server,
 * or the argo CLI talking to Kubernetes directly) rewrites the workflow's status itself — it
 * deletes the failed nodes from status.nodes, deletes their pods, clears the finished state and
 * sets the phase back to Running — following rules that change between Argo versions (node
 * types, on-exit handlers, `--node-field-selector`). Repeating that logic here against a
 * controller of another version could corrupt a workflow, so this command does not patch
 * anything: it checks that the workflow can be retried and says exactly which command does it.
 */
import { UserError, isStatus } from '../../cluster/errors';
import { KINDS, resourcePath } from '../../cluster/resources';
import { viewWorkflow, type Workflow } from '../../cluster/workflow';
import type { Session } from '../session';

/** Exit code of `retry`: nothing was done here; the message says what to run. */
export const EXIT_NOT_PERFORMED = 3;

export async function retryCommand(s: Session, name: string, o: { env?: string }): Promise<number> {
  const namespace = await s.namespace(o.env);
  const client = await s.client();
  let wf: Workflow;
  try {
    wf = await client.json<Workflow>({ path: resourcePath(KINDS.Workflow, namespace, name), signal: s.io.signal });
  } catch (e) {
    if (isStatus(e, 404)) throw new UserError(`workflow "${name}" is not in namespace "${namespace}"`, 'list recent ones: npx sleap-roots list');
    throw e;
  }
  const view = viewWorkflow(wf, s.io.now());
  if (view.phase !== 'Failed' && view.phase !== 'Error') {
    throw new UserError(`workflow "${name}" is ${view.phase}; only a Failed or Error workflow can be retried`, view.completed ? `to run it again: npx sleap-roots resubmit ${name} ${s.flagsForHint(namespace)}` : `follow it: npx sleap-roots watch ${name} ${s.flagsForHint(namespace)}`);
  }
  const argo = `argo retry ${name} ${s.flagsForHint(namespace, true)}`;
  const resubmit = `npx sleap-roots resubmit ${name} ${s.flagsForHint(namespace)}`;
  const failed = view.steps.filter((x) => x.phase === 'Failed' || x.phase === 'Error').map((x) => x.name);
  if (s.json) {
    s.io.stdout.write(JSON.stringify({ name, namespace, retried: false, failedSteps: failed, command: argo, alternative: resubmit }, null, 2) + '\n');
    return EXIT_NOT_PERFORMED;
  }
  s.io.stdout.write(
    [
      `${name} is ${view.phase}${failed.length ? `; failed step${failed.length === 1 ? '' : 's'}: ${failed.join(', ')}` : ''}.`,
      'sleap-roots does not retry nodes itself: Argo\'s retry rewrites the workflow status (drops the failed nodes, deletes their pods,',
      'resets the phase) in the argo CLI or Argo Server, not through anything the controller watches, so it cannot be done honestly',
      'through the Kubernetes API alone.',
      '',
      'Rerun only the failed steps (keeps the succeeded ones) with the argo CLI:',
      `  ${argo}`,
      '  (in a fanned-out batch this reruns the chunks whose pods were lost: a scan that already has an outcome in',
      '  this workflow, failed or not, is not run again, and the gate judges the batch anew)',
      'Or start the whole pipeline again with the same parameters (scans marked done are skipped, failed ones run again):',
      `  ${resubmit}`,
      '',
    ].join('\n'),
  );
  return EXIT_NOT_PERFORMED;
}
