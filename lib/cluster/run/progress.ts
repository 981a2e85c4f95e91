/**
 * A run as a whole, from its state: batches queued, pending, running, succeeded, failed; scans
 * succeeded, partial and failed from the finished batches' gate summaries; time so far and an
 * estimate of the time left from the rate at which batches have finished.
 */
import { batchCount } from './dispatch';
import type { RunState } from './state';

/** The run's progress at one moment. */
export interface RunProgress {
  readonly run: string;
  /** Batches of the run (undefined when no workflow says, e.g. nothing submitted yet). */
  readonly batches?: number;
  readonly scans?: number;
  readonly queued: number;
  readonly pending: number;
  readonly running: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Workflows of the run (resubmissions included). */
  readonly workflows: number;
  readonly scansSucceeded: number;
  readonly scansPartial: number;
  readonly scansFailed: number;
  /** Scans of finished batches whose gate left no summary (counted as failed too). */
  readonly scansWithoutOutcome: number;
  /** Since the first workflow of the run was created. */
  readonly elapsedMs?: number;
  /** Time left at the rate batches have finished so far; undefined before the first finishes. */
  readonly remainingMs?: number;
  /** Failed batches, by index (their latest attempt failed). */
  readonly failedBatches: readonly number[];
}

/** Sums up the run at `now`. */
export function runProgress(state: RunState, now: number, batchesGiven?: number): RunProgress {
  const batches = batchCount(state, batchesGiven);
  const counts = { pending: 0, running: 0, succeeded: 0, failed: 0 };
  const failedBatches: number[] = [];
  let scansSucceeded = 0;
  let scansPartial = 0;
  let scansFailed = 0;
  let withoutOutcome = 0;
  let first: number | undefined;
  let scans: number | undefined;
  for (const w of state.workflows) {
    if (w.createdAt !== undefined) first = Math.min(first ?? w.createdAt, w.createdAt);
    if (w.runScans !== undefined) scans = Math.max(scans ?? 0, w.runScans);
  }
  const present = state.batches();
  for (const b of present) {
    const s = state.stateOf(b);
    if (s === 'queued') continue;
    counts[s]++;
    if (s === 'failed') failedBatches.push(b);
    const w = state.latest(b);
    if (!w?.completed) continue;
    if (w.outcome) {
      scansSucceeded += w.outcome.succeeded;
      scansPartial += w.outcome.partial;
      scansFailed += w.outcome.failed;
    } else {
      withoutOutcome += w.scans ?? 0;
    }
  }
  const queued = Math.max(0, (batches ?? present.length) - present.length);
  const elapsedMs = first !== undefined ? Math.max(0, now - first) : undefined;
  const done = counts.succeeded + counts.failed;
  const total = batches ?? present.length;
  const remainingMs = elapsedMs !== undefined && done > 0 && total > done ? Math.round((elapsedMs / done) * (total - done)) : done >= total && total > 0 ? 0 : undefined;
  return {
    run: state.run,
    batches,
    scans,
    queued,
    ...counts,
    workflows: state.size,
    scansSucceeded,
    scansPartial,
    scansFailed: scansFailed + withoutOutcome,
    scansWithoutOutcome: withoutOutcome,
    elapsedMs,
    remainingMs,
    failedBatches,
  };
}
