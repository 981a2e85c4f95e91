/**
 * Labels and annotations of a run of batches: what the cluster holds about a run, so that a
 * restarted `submit`, `watch --run`, `resubmit --run` and `report --run` all read the same state.
 * The keys follow the project's prefix (`sleap-roots.io/`, lib/cluster/labels.ts).
 */

/** Label: the run a batch workflow belongs to (a DNS label, also the prefix of its name). */
export const RUN_LABEL = 'sleap-roots.io/run';
/** Label: the batch's index in its run, in decimal without padding (`0`, `1`, ... `3999`). */
export const BATCH_LABEL = 'sleap-roots.io/batch';
/** Annotation: `sha256:<hex>` of the batch's scan ids, one per line: a restart checks it. */
export const BATCH_DIGEST = 'sleap-roots.io/batch-digest';
/** Annotation: how many scans the batch holds. */
export const BATCH_SCANS = 'sleap-roots.io/batch-scans';
/** Annotation: how many batches the run holds (so `watch --run` knows what is still queued). */
export const RUN_BATCHES = 'sleap-roots.io/run-batches';
/** Annotation: how many scans the run holds. */
export const RUN_SCANS = 'sleap-roots.io/run-scans';
/** Annotation: the attempt of the batch: 0 for the first workflow, 1 for the first resubmission, ... */
export const BATCH_ATTEMPT = 'sleap-roots.io/batch-attempt';

/**
 * The label selector of every workflow of a run: an equality requirement `key=value`
 * (k8s.io/apimachinery pkg/labels/selector.go `Parse`), applied to list and watch alike.
 */
export function runSelector(run: string): string {
  return `${RUN_LABEL}=${run}`;
}
