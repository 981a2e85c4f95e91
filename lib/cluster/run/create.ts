/**
 * Creating a batch's workflow exactly once. The client retries 429, 5xx and connection resets
 * (lib/cluster/http.ts); a retry after a lost answer then finds the name taken, and the object
 * under it is ours when it carries the same run, batch, attempt and scan digest.
 */
import { ApiError, UserError, isStatus } from '../errors';
import type { KubeClient } from '../http';
import { KINDS, resourcePath } from '../resources';
import type { Workflow } from '../workflow';
import { BATCH_ATTEMPT, BATCH_DIGEST, BATCH_LABEL, RUN_LABEL } from './keys';

function sameBatch(a: Workflow, b: Workflow): boolean {
  const l = (w: Workflow, k: string) => w.metadata.labels?.[k];
  const n = (w: Workflow, k: string) => w.metadata.annotations?.[k] ?? '0';
  return l(a, RUN_LABEL) === l(b, RUN_LABEL) && l(a, BATCH_LABEL) === l(b, BATCH_LABEL) && n(a, BATCH_ATTEMPT) === n(b, BATCH_ATTEMPT) && a.metadata.annotations?.[BATCH_DIGEST] === b.metadata.annotations?.[BATCH_DIGEST];
}

/**
 * Creates the workflow under its own name; an AlreadyExists answer for the same batch is our
 * earlier create (the API server refuses a second object under a name:
 * k8s.io/apiserver pkg/registry/generic/registry/store.go `(*Store).Create`).
 * @returns the workflow, and whether this call created it
 * @throws UserError when the name belongs to something else; ApiError
 */
export async function createOnce(client: KubeClient, wf: Workflow, signal?: AbortSignal): Promise<{ workflow: Workflow; created: boolean }> {
  const namespace = wf.metadata.namespace ?? '';
  const name = wf.metadata.name ?? '';
  try {
    return { workflow: await client.json<Workflow>({ method: 'POST', path: resourcePath(KINDS.Workflow, namespace), body: wf, signal }), created: true };
  } catch (e) {
    if (!(e instanceof ApiError) || e.statusCode !== 409 || e.reason !== 'AlreadyExists') throw e;
  }
  let existing: Workflow;
  try {
    existing = await client.json<Workflow>({ path: resourcePath(KINDS.Workflow, namespace, name), signal });
  } catch (e) {
    // Deleted between the two requests: a batch that someone removed is not ours to bring back.
    if (isStatus(e, 404)) throw new UserError(`workflow "${name}" was deleted while it was being created`, 'run the same command again');
    throw e;
  }
  if (!sameBatch(existing, wf)) {
    throw new UserError(
      `workflow "${name}" already exists in namespace "${namespace}" and is not batch ${wf.metadata.labels?.[BATCH_LABEL]} of run "${wf.metadata.labels?.[RUN_LABEL]}" with these scans`,
      'choose another --run id',
    );
  }
  return { workflow: existing, created: false };
}
