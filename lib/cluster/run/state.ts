/**
 * A run as the cluster's labels and annotations say: every workflow labelled with the run id,
 * reduced to what progress needs (no workflow object is kept: 4,000 batches stay small).
 */
import { ARGO_COMPLETED_LABEL } from '../labels';
import { OUTCOME_OUTPUT } from '../../names';
import type { Workflow } from '../workflow';
import { BATCH_ATTEMPT, BATCH_DIGEST, BATCH_LABEL, BATCH_SCANS, RUN_BATCHES, RUN_LABEL, RUN_SCANS } from './keys';

/** Scans of a finished batch, as its gate summed them up. */
export interface ScanCounts {
  readonly succeeded: number;
  readonly partial: number;
  readonly failed: number;
}

/** What a run keeps of one of its workflows. */
export interface BatchWorkflow {
  readonly name: string;
  readonly batch: number;
  readonly attempt: number;
  /** Argo's phase; undefined before the controller has seen it. */
  readonly phase?: string;
  readonly completed: boolean;
  readonly failed: boolean;
  readonly createdAt?: number;
  readonly finishedAt?: number;
  readonly digest?: string;
  readonly scans?: number;
  readonly runBatches?: number;
  readonly runScans?: number;
  /** From the gate's summary line; undefined while running or when the gate said nothing. */
  readonly outcome?: ScanCounts;
}

/** `1000 scans: 990 succeeded, 7 partial, 3 failed...` (lib/steps/scripts/gate.sh). */
const SUMMARY = /(\d+) scans?: (\d+) succeeded, (\d+) partial, (\d+) failed/;

/** Parses a gate summary line. */
export function parseOutcome(text: string | undefined): ScanCounts | undefined {
  const m = text ? SUMMARY.exec(text) : null;
  return m ? { succeeded: Number(m[2]), partial: Number(m[3]), failed: Number(m[4]) } : undefined;
}

function time(t: string | undefined): number | undefined {
  const v = t ? Date.parse(t) : NaN;
  return Number.isNaN(v) ? undefined : v;
}

function count(v: string | undefined): number | undefined {
  const n = Number(v);
  return v !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/**
 * The gate's line: its `outcome` output on the exit handler node when it passed, else the
 * workflow's message (a failed exit handler's message becomes the workflow's: Argo
 * workflow/controller/operator.go `operate`; README "Batch outcomes").
 */
function outcomeText(wf: Workflow): string | undefined {
  const name = wf.metadata.name ?? '';
  for (const n of Object.values(wf.status?.nodes ?? {})) {
    if (n.name !== `${name}.onExit` && !n.name.startsWith(`${name}.onExit(`)) continue;
    const v = n.outputs?.parameters?.find((p) => p.name === OUTCOME_OUTPUT)?.value;
    if (v && SUMMARY.test(v)) return v;
  }
  return wf.status?.message;
}

/** The run's record of a workflow; undefined when it is not a batch (no batch label). */
export function batchWorkflowOf(wf: Workflow): BatchWorkflow | undefined {
  const labels = wf.metadata.labels ?? {};
  const annotations = wf.metadata.annotations ?? {};
  const batch = count(labels[BATCH_LABEL]);
  if (batch === undefined || !wf.metadata.name) return undefined;
  const phase = wf.status?.phase;
  // Argo sets workflows.argoproj.io/completed=true once the workflow is done
  // (workflow/controller/operator.go `markWorkflowPhase`, at v4.1.2).
  const completed = labels[ARGO_COMPLETED_LABEL] === 'true' || phase === 'Succeeded' || phase === 'Failed' || phase === 'Error';
  return {
    name: wf.metadata.name,
    batch,
    attempt: count(annotations[BATCH_ATTEMPT]) ?? 0,
    phase,
    completed,
    failed: completed && phase !== 'Succeeded',
    createdAt: time(wf.metadata.creationTimestamp),
    finishedAt: time(wf.status?.finishedAt),
    digest: annotations[BATCH_DIGEST],
    scans: count(annotations[BATCH_SCANS]),
    runBatches: count(annotations[RUN_BATCHES]),
    runScans: count(annotations[RUN_SCANS]),
    outcome: completed ? parseOutcome(outcomeText(wf)) : undefined,
  };
}

/** What a batch is doing: its latest workflow's state. */
export type BatchState = 'queued' | 'pending' | 'running' | 'succeeded' | 'failed';

/** Every workflow of one run, by batch. */
export class RunState {
  private readonly byName = new Map<string, BatchWorkflow>();
  private readonly byBatch = new Map<number, BatchWorkflow[]>();
  /** Kept as workflows come and go: asked after every event of a 4,000-batch run. */
  private open = 0;

  public constructor(public readonly run: string) {}

  /** Replaces everything (a list, or a re-list after 410 Gone). */
  public replace(items: readonly Workflow[]): void {
    this.byName.clear();
    this.byBatch.clear();
    this.open = 0;
    for (const wf of items) this.upsert(wf);
  }

  /** Records a workflow (ADDED, MODIFIED, or a create's answer); returns its record. */
  public upsert(wf: Workflow): BatchWorkflow | undefined {
    if (wf.metadata.labels?.[RUN_LABEL] !== this.run) return undefined;
    const b = batchWorkflowOf(wf);
    if (!b) return undefined;
    this.drop(b.name);
    this.byName.set(b.name, b);
    if (!b.completed) this.open++;
    const list = this.byBatch.get(b.batch) ?? [];
    list.push(b);
    list.sort((x, y) => x.attempt - y.attempt || (x.createdAt ?? 0) - (y.createdAt ?? 0));
    this.byBatch.set(b.batch, list);
    return b;
  }

  /** Forgets a deleted workflow. */
  public remove(wf: Workflow): void {
    if (wf.metadata.name) this.drop(wf.metadata.name);
  }

  private drop(name: string): void {
    const old = this.byName.get(name);
    if (!old) return;
    this.byName.delete(name);
    if (!old.completed) this.open--;
    const rest = (this.byBatch.get(old.batch) ?? []).filter((x) => x.name !== name);
    if (rest.length > 0) this.byBatch.set(old.batch, rest);
    else this.byBatch.delete(old.batch);
  }

  public get workflows(): IterableIterator<BatchWorkflow> {
    return this.byName.values();
  }

  public get size(): number {
    return this.byName.size;
  }

  /** The batch's workflow of that attempt. */
  public find(batch: number, attempt: number): BatchWorkflow | undefined {
    return this.byBatch.get(batch)?.find((x) => x.attempt === attempt);
  }

  /** The batch's latest attempt. */
  public latest(batch: number): BatchWorkflow | undefined {
    const list = this.byBatch.get(batch);
    return list?.[list.length - 1];
  }

  /** Batch indexes that have a workflow, ascending. */
  public batches(): number[] {
    return [...this.byBatch.keys()].sort((a, b) => a - b);
  }

  /** Workflows not finished yet (of any attempt). */
  public unfinished(): number {
    return this.open;
  }

  public stateOf(batch: number): BatchState {
    const w = this.latest(batch);
    if (!w) return 'queued';
    if (!w.completed) return w.phase === 'Running' ? 'running' : 'pending';
    return w.failed ? 'failed' : 'succeeded';
  }
}
