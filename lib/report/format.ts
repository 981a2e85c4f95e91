/** Small formatting helpers shared by the HTML and Markdown renderings. */
import type { AttemptReport, ScanCounts } from './model';

/** `1h 02m`, `3m 04s`, `12s`; `-` when unknown. */
export function formatSeconds(s: number | undefined): string {
  if (s === undefined) return '-';
  const t = Math.round(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

/** GPU hours with up to 2 decimals (`0.25`, `12`). */
export function formatHours(h: number): string {
  return String(Math.round(h * 100) / 100);
}

/** `10 scans: 7 succeeded, 1 partial, 2 failed`. */
export function formatCounts(c: ScanCounts): string {
  return `${c.total} scans: ${c.succeeded} succeeded, ${c.partial} partial, ${c.failed} failed`;
}

/** What happened to an attempt, in words: `failed, preempted or deleted (pod deleted), retried`. */
export function attemptOutcome(a: AttemptReport): string {
  const parts: string[] = [a.state];
  if (a.interruption === 'deleted') parts.push('pod deleted (preempted or removed)');
  if (a.interruption === 'evicted') parts.push('evicted');
  if (a.interruption === 'preempted') parts.push('preempted');
  if (a.interruption === 'stopped') parts.push(`stopped from outside (exit ${a.exitCode})`);
  if (a.retried) parts.push('retried');
  return parts.join(', ');
}
