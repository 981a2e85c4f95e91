/**
 * The report as Markdown (GitHub-flavoured tables). Text from the cluster is escaped so it can
 * neither break a table nor become markup or HTML; log tails go in fences longer than any run
 * of backticks they contain.
 */
import { attemptOutcome, formatCounts, formatHours, formatSeconds } from './format';
import type { Report, WorkflowReport } from './model';

/** Escapes text for a Markdown table cell or paragraph (one line). */
export function escapeMarkdown(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').replace(/[\\`*_[\]{}<>|#!~]/g, (c) => `\\${c}`);
}

const m = escapeMarkdown;

function table(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

function fence(lines: readonly string[]): string[] {
  const longest = Math.max(2, ...lines.map((l) => Math.max(0, ...(l.match(/`+/g) ?? []).map((x) => x.length))));
  const f = '`'.repeat(longest + 1);
  return [f, ...lines, f];
}

function workflowSection(w: WorkflowReport): string[] {
  const out: string[] = [`## ${m(w.name)}: ${m(w.phase)}`, '', `started ${m(w.startedAt ?? '-')}, finished ${m(w.finishedAt ?? '-')}, ${formatSeconds(w.durationSeconds)}`, ''];
  if (w.outcome) out.push(m(w.outcome), '');
  if (w.message && w.message !== w.outcome) out.push(`Message: ${m(w.message)}`, '');
  out.push('### Scans', '');
  if (w.scans.counts) out.push(formatCounts(w.scans.counts), '');
  if (!w.scans.available) out.push('Per-scan outcomes are unavailable (see Unavailable data).', '');
  const failed = w.scans.rows.filter((r) => r.result === 'failed');
  for (const r of failed) {
    out.push(`#### Failed: ${m(r.scan)}`, '', `${m(r.step ?? '')} exit code ${m(r.exitCode ?? 'none recorded')}: ${m(r.detail)}${r.message ? `; ${m(r.message)}` : ''}`, '');
    if (r.logTail && r.logTail.length > 0) out.push(...fence(r.logTail), '');
    else out.push(`No log tail: ${m(r.logTailUnavailable ?? 'no log lines')}`, '');
  }
  const others = w.scans.rows.filter((r) => r.result !== 'failed');
  if (others.length > 0) out.push(...table(['scan', 'chunk', 'result', 'exit code', 'detail'], others.map((r) => [m(r.scan), String(r.chunk), r.result, m(r.exitCode ?? ''), m(r.detail)])), '');
  out.push('### Timeline', '');
  out.push(
    ...table(
      ['attempt', 'step', 'outcome', 'started', 'took', 'exit code', 'message'],
      w.attempts.map((a) => [m(a.name), m(a.step), m(attemptOutcome(a)), m(a.startedAt ?? '-'), formatSeconds(a.durationSeconds), m(a.exitCode ?? ''), m(a.message ?? '')]),
    ),
    '',
  );
  out.push('### GPU hours by step', '');
  out.push(...table(['step', 'attempts', 'request', 'GPU hours', 'note'], [...w.gpu.byStep.map((g) => [m(g.step), String(g.attempts), m(g.request), formatHours(g.gpuHours), m(g.note ?? '')]), ['**total**', '', '', formatHours(w.gpu.totalHours), '']]), '');
  out.push('### Slowest scans', '');
  if (w.slowestScans.length === 0) out.push('No scan timings (no step pod log could be read).', '');
  else out.push(...table(['scan', 'step', 'time', 'attempt'], w.slowestScans.map((t) => [m(t.scan), m(t.step), formatSeconds(t.seconds), m(t.attempt)])), '');
  if (w.unavailable.length > 0) out.push('### Unavailable data', '', ...w.unavailable.map((u) => `- ${m(u)}`), '');
  return out;
}

/** The whole document. */
export function renderMarkdown(r: Report): string {
  const title = r.run ? `run ${m(r.run)}` : r.workflows.map((w) => m(w.name)).join(', ');
  const totals = [r.totals.scans ? formatCounts(r.totals.scans) : undefined, `${formatHours(r.totals.gpuHours)} GPU hours`].filter(Boolean).join('; ');
  return [`# sleap-roots report: ${title}`, '', `namespace ${m(r.namespace)}${r.asOf ? `, as of ${m(r.asOf)}` : ''}; ${totals}`, '', ...r.workflows.flatMap(workflowSection)].join('\n').replace(/\n+$/, '\n');
}
