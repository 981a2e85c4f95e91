/**
 * Names of a run's workflows, chosen by the CLI instead of generateName: `<run>-b0007` for a
 * batch, `<run>-b0007-r1` for its first resubmission. The same batch always gets the same name,
 * so a create retried after a lost answer is refused as AlreadyExists instead of starting the
 * batch twice: the API server's create fails on an existing key (k8s.io/apiserver
 * pkg/registry/generic/registry/store.go `(*Store).Create`: `Storage.Create` then
 * `storeerr.InterpretCreateError` gives 409 AlreadyExists), while with generateName each retry
 * gets a new random name (`rest.BeforeCreate`) and a second object.
 */
import { DNS_LABEL } from '../../names';
import { UserError } from '../errors';

/** Longest run id: `<run>-b<index>-r<attempt>` must stay a 63-character label value (Argo labels pods with the workflow's name). */
export const MAX_RUN_ID_LENGTH = 40;

/** @throws UserError for an id that cannot name workflows and label values */
export function checkRunId(id: string): string {
  if (!DNS_LABEL.test(id) || id.length > MAX_RUN_ID_LENGTH) {
    throw new UserError(`--run ${JSON.stringify(id)}: expected lowercase letters, digits and '-', starting and ending with a letter or digit, at most ${MAX_RUN_ID_LENGTH} characters`);
  }
  return id;
}

/** A new run id from the clock: `run-20261201-135500`. */
export function newRunId(now: number): string {
  const d = new Date(now).toISOString();
  return `run-${d.slice(0, 10).replace(/-/g, '')}-${d.slice(11, 19).replace(/:/g, '')}`;
}

/** Digits of a batch index in names: at least 4, enough for the run's last batch. */
export function indexWidth(batches: number): number {
  return Math.max(4, String(Math.max(0, batches - 1)).length);
}

/** The workflow name of a batch's attempt. */
export function batchName(run: string, batch: number, attempt: number, batches: number): string {
  return `${run}-b${String(batch).padStart(indexWidth(batches), '0')}${attempt > 0 ? `-r${attempt}` : ''}`;
}
