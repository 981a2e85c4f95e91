/**
 * How a run of batches is shown: one progress line (batches and scans, time so far and left),
 * its JSON event, the closing summary, and `list`'s one row per run.
 */
import type { RunProgress } from '../cluster/run/progress';
import { formatDuration } from './format';
import type { Style } from './style';

/** `run r1: 160 batches (4000 scans): 100 queued, 8 running, 50 succeeded, 2 failed | scans ...`. */
export function progressLine(p: RunProgress, style: Style): string {
  const total = p.batches ?? p.queued + p.pending + p.running + p.succeeded + p.failed;
  const parts = [
    p.queued ? `${p.queued} queued` : '',
    p.pending ? `${p.pending} pending` : '',
    p.running ? `${p.running} running` : '',
    `${p.succeeded} succeeded`,
    p.failed ? style.red(`${p.failed} failed`) : '0 failed',
  ].filter(Boolean);
  const scans = `scans: ${p.scansSucceeded} succeeded, ${p.scansPartial} partial, ${p.scansFailed} failed${p.scansWithoutOutcome ? ` (${p.scansWithoutOutcome} without an outcome)` : ''}`;
  const time = p.elapsedMs !== undefined ? ` | ${formatDuration(p.elapsedMs)} so far${p.remainingMs !== undefined && p.remainingMs > 0 ? `, about ${formatDuration(p.remainingMs)} left` : ''}` : '';
  return `run ${style.bold(p.run)}: ${total} batch${total === 1 ? '' : 'es'}${p.scans !== undefined ? ` (${p.scans} scans)` : ''}: ${parts.join(', ')} | ${scans}${time}`;
}

/** The NDJSON event of a progress line. */
export function progressEvent(p: RunProgress): string {
  return JSON.stringify({ type: 'progress', ...p }) + '\n';
}

/** Says which batches failed and how to rerun them. */
export function failedLines(p: RunProgress, names: (batch: number) => string, hint: string): string[] {
  if (p.failedBatches.length === 0) return [];
  const shown = p.failedBatches.slice(0, 10).map(names);
  return [`failed batches: ${shown.join(', ')}${p.failedBatches.length > 10 ? ` and ${p.failedBatches.length - 10} more` : ''}`, `  rerun them: ${hint}`];
}
