/**
 * Driving a run: one list+watch of the run's workflows (label selector `sleap-roots.io/run=<id>`),
 * and a create whenever fewer than `maxInFlight` of them are unfinished. Nothing is polled: the
 * requests are one list, one watch (reopened from its resourceVersion when it ends or drops, see
 * ../watch.ts), and one create per batch started; finishing batches arrive as watch events.
 *
 * A watch opened at the list's resourceVersion delivers every change after that list, in order
 * (k8s.io/apiserver pkg/storage/cacher/cacher.go `(*Cacher).Watch` starts its watcher at that
 * version), so no batch that finishes between the list and the watch is missed; ../watch.ts
 * resumes a dropped watch from the last version seen and re-lists after 410 Gone (a SYNC here,
 * which replaces the whole state).
 *
 * What has been submitted is what the cluster lists, never what this process remembers: a
 * restarted dispatcher lists the run, skips every batch that has its workflow, and goes on.
 */
import { isAbortError } from '../errors';
import type { KubeClient } from '../http';
import { KINDS, resourcePath } from '../resources';
import { listWatch, type ReconnectNotice, type WatchEvent } from '../watch';
import type { Workflow } from '../workflow';
import { createOnce } from './create';
import { runSelector } from './keys';
import { RunState, type BatchWorkflow } from './state';

/** One workflow to create: a batch's attempt. */
export interface RunItem {
  readonly batch: number;
  readonly attempt: number;
  /** The workflow to create (may read the cluster, e.g. the attempt it repeats). */
  readonly build: () => Workflow | Promise<Workflow>;
}

/** Options of {@link dispatchRun}. */
export interface DispatchOptions {
  readonly namespace: string;
  readonly run: string;
  /** What to create, decided once from the run as first listed; items whose workflow exists are skipped. */
  readonly plan: (state: RunState) => readonly RunItem[];
  /** Called for every workflow of the run seen; throws to stop (e.g. a batch with other scans). @default - nothing */
  readonly check?: (w: BatchWorkflow) => void;
  /** At most this many unfinished workflows of the run at once. @default Infinity */
  readonly maxInFlight?: number;
  /**
   * Keep watching after the last create until every batch has finished. The run's batch count
   * comes from `batches`, else from the workflows' run-batches annotation.
   * @default false
   */
  readonly untilFinished?: boolean;
  /** @default - the run's annotation */
  readonly batches?: number;
  readonly signal?: AbortSignal;
  /** After each create (created: false when it existed: a lost answer retried). */
  readonly onSubmitted?: (w: BatchWorkflow, created: boolean) => void;
  /** After every change of the run's state (events, creates). */
  readonly onChange?: (state: RunState) => void;
  readonly onReconnect?: (notice: ReconnectNotice) => void;
}

/** How a dispatch ended. */
export interface DispatchResult {
  /** `submitted`: every item exists; `finished`: and every batch finished; `detached`: the signal aborted. */
  readonly type: 'submitted' | 'finished' | 'detached';
  readonly state: RunState;
}

/** The run's batch count: as given, else the largest run-batches annotation seen. */
export function batchCount(state: RunState, given?: number): number | undefined {
  if (given !== undefined) return given;
  let n: number | undefined;
  for (const w of state.workflows) if (w.runBatches !== undefined) n = Math.max(n ?? 0, w.runBatches);
  return n;
}

/** True when every batch of the run has a workflow and none is unfinished. */
export function allFinished(state: RunState, batches: number | undefined): boolean {
  if (batches === undefined || state.unfinished() > 0) return false;
  for (let b = 0; b < batches; b++) if (!state.latest(b)) return false;
  return true;
}

/** Runs the dispatch loop. @throws what `check` throws, UserError from creates, ApiError */
export async function dispatchRun(client: KubeClient, options: DispatchOptions): Promise<DispatchResult> {
  const state = new RunState(options.run);
  const events = listWatch<Workflow>(client, {
    path: resourcePath(KINDS.Workflow, options.namespace),
    labelSelector: runSelector(options.run),
    signal: options.signal,
    onReconnect: options.onReconnect,
  });
  try {
    return await drive(client, events, state, options);
  } catch (e) {
    // Stopped (Ctrl-C) in the middle of a create: what was created is on the cluster, the rest is not.
    if (options.signal?.aborted && isAbortError(e)) return { type: 'detached', state };
    throw e;
  }
}

async function drive(client: KubeClient, events: AsyncIterable<WatchEvent<Workflow>>, state: RunState, options: DispatchOptions): Promise<DispatchResult> {
  const max = options.maxInFlight ?? Infinity;
  let items: readonly RunItem[] | undefined;
  let cursor = 0;
  const seen = (w: BatchWorkflow | undefined) => {
    if (w) options.check?.(w);
  };
  for await (const ev of events) {
    if (ev.type === 'SYNC') {
      state.replace(ev.items);
      for (const w of state.workflows) seen(w);
      items ??= options.plan(state);
    } else if (ev.type === 'DELETED') {
      state.remove(ev.object);
    } else {
      seen(state.upsert(ev.object));
    }
    if (!items) continue;
    // Show the run as listed before creating anything (the first progress line comes at once).
    if (ev.type === 'SYNC') options.onChange?.(state);
    while (cursor < items.length && state.unfinished() < max) {
      const item = items[cursor];
      // A batch's first workflow is due only while the batch has none at all: its failed first
      // attempt may have been deleted after a resubmission.
      if (state.find(item.batch, item.attempt) || (item.attempt === 0 && state.latest(item.batch))) {
        cursor++;
        continue;
      }
      const { workflow, created } = await createOnce(client, await item.build(), options.signal);
      const record = state.upsert(workflow);
      seen(record);
      cursor++;
      if (record) options.onSubmitted?.(record, created);
    }
    options.onChange?.(state);
    if (cursor < items.length) continue;
    if (!options.untilFinished) return { type: 'submitted', state };
    if (allFinished(state, batchCount(state, options.batches))) return { type: 'finished', state };
  }
  return { type: 'detached', state };
}
