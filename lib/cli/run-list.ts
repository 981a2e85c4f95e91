/**
 * `list` groups the workflows of a run of batches into one row per run (batches and scans), so
 * 4,000 batches do not push every other workflow off the list.
 */
import { RUN_LABEL } from '../cluster/run/keys';
import { runProgress, type RunProgress } from '../cluster/run/progress';
import { RunState } from '../cluster/run/state';
import type { Workflow } from '../cluster/workflow';
import { columns, formatDuration } from './format';
import type { Style } from './style';

/** Workflows of no run, and each run's progress, newest run first. */
export function groupRuns(workflows: readonly Workflow[], now: number): { lone: Workflow[]; runs: RunProgress[] } {
  const lone: Workflow[] = [];
  const states = new Map<string, RunState>();
  for (const wf of workflows) {
    const run = wf.metadata.labels?.[RUN_LABEL];
    if (!run) {
      lone.push(wf);
      continue;
    }
    let st = states.get(run);
    if (!st) states.set(run, (st = new RunState(run)));
    if (!st.upsert(wf)) lone.push(wf);
  }
  const runs = [...states.values()].filter((st) => st.size > 0).map((st) => runProgress(st, now));
  runs.sort((a, b) => (a.elapsedMs ?? 0) - (b.elapsedMs ?? 0) || (a.run < b.run ? -1 : a.run > b.run ? 1 : 0));
  return { lone, runs };
}

/** One row per run: id, batches, what they do, scans, age. */
export function runListLines(runs: readonly RunProgress[], style: Style): string[] {
  const rows = runs.map((p) => {
    const total = p.batches ?? p.workflows;
    const doing = [p.queued && `${p.queued} queued`, p.pending && `${p.pending} pending`, p.running && `${p.running} running`, `${p.succeeded} succeeded`, p.failed && style.red(`${p.failed} failed`)].filter(Boolean).join(', ');
    return [style.bold(p.run), `${total} batches`, doing, `scans ${p.scansSucceeded}/${p.scansPartial}/${p.scansFailed} ok/partial/failed`, formatDuration(p.elapsedMs)];
  });
  return columns([['RUN', 'BATCHES', 'STATE', 'SCANS', 'AGE'], ...rows]);
}
