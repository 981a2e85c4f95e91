/**
 * The report as one self-contained HTML page: inline styles, no scripts, no fonts, no network.
 * Every text from the cluster (names, messages, log lines) is escaped.
 */
import { attemptOutcome, formatCounts, formatHours, formatSeconds } from './format';
import type { AttemptReport, Report, ScanReport, WorkflowReport } from './model';

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const e = escapeHtml;

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1b1b}
h1{font-size:1.4em}h2{font-size:1.2em;margin-top:1.6em}h3{font-size:1.05em}h4{font-size:1em;margin:.8em 0 .2em}
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}
th{background:#f2f2f2}td.num{text-align:right}
pre{margin:0;white-space:pre-wrap;font:12px/1.3 monospace;max-width:70em}
.bar{position:relative;height:12px;width:40em;background:#f7f7f7}
.bar span{position:absolute;top:0;height:12px;min-width:2px}
.succeeded{background:#3a8a3a}.failed{background:#c0392b}.error{background:#8e44ad}.running{background:#2e86c1}
.pending{background:#f0b429}.skipped,.omitted{background:#999}
.result-failed{background:#fde8e6}.result-partial{background:#fff6db}
.note{color:#555}
`;

function timelineRows(w: WorkflowReport): string {
  const starts = w.attempts.map((a) => Date.parse(a.startedAt ?? '')).filter((x) => !Number.isNaN(x));
  const t0 = Date.parse(w.startedAt ?? '') || Math.min(...starts);
  const ends = w.attempts.map((a) => Date.parse(a.startedAt ?? '') + (a.durationSeconds ?? 0) * 1000).filter((x) => !Number.isNaN(x));
  const t1 = Math.max(t0 + 1000, ...ends, Date.parse(w.finishedAt ?? '') || 0);
  const span = t1 - t0;
  const bar = (a: AttemptReport) => {
    const s = Date.parse(a.startedAt ?? '');
    if (Number.isNaN(s)) return '<div class="bar"></div>';
    const left = ((s - t0) / span) * 100;
    const width = (((a.durationSeconds ?? 0) * 1000) / span) * 100;
    return `<div class="bar"><span class="${e(a.state)}" style="left:${left.toFixed(2)}%;width:${width.toFixed(2)}%"></span></div>`;
  };
  return w.attempts
    .map(
      (a) =>
        `<tr data-state="${e(a.state)}"><td>${e(a.name)}</td><td>${e(a.step)}</td><td>${e(attemptOutcome(a))}</td><td>${e(a.startedAt ?? '-')}</td>` +
        `<td class="num">${e(formatSeconds(a.durationSeconds))}</td><td>${e(a.exitCode ?? '')}</td><td>${e(a.message ?? '')}</td><td>${bar(a)}</td></tr>`,
    )
    .join('\n');
}

function failureRow(r: ScanReport): string {
  const tail = r.logTail && r.logTail.length > 0 ? `<pre>${e(r.logTail.join('\n'))}</pre>` : `<span class="note">${e(r.logTailUnavailable ?? 'no log lines')}</span>`;
  return `<tr class="result-failed"><td>${e(r.scan)}</td><td>${e(r.step ?? '')}</td><td>${e(r.exitCode ?? 'none recorded')}</td><td>${e(r.detail)}</td><td>${e(r.message ?? '')}</td><td>${tail}</td></tr>`;
}

function scansSection(w: WorkflowReport): string {
  const s = w.scans;
  const out: string[] = ['<h3>Scans</h3>'];
  if (s.counts) out.push(`<p class="counts">${e(formatCounts(s.counts))}</p>`);
  if (!s.available) {
    out.push('<p class="note">Per-scan outcomes are unavailable (see "Unavailable data").</p>');
    return out.join('\n');
  }
  const failed = s.rows.filter((r) => r.result === 'failed');
  if (failed.length > 0) {
    out.push(`<h4>Failed scans (${failed.length})</h4>`);
    out.push('<table class="failures"><thead><tr><th>scan</th><th>step</th><th>exit code</th><th>detail</th><th>message</th><th>log tail</th></tr></thead><tbody>');
    out.push(failed.map(failureRow).join('\n'));
    out.push('</tbody></table>');
  }
  out.push(`<h4>Every scan (${s.rows.length}${s.judged !== undefined && s.judged > s.rows.length ? ` of ${s.judged}` : ''})</h4>`);
  out.push('<table class="scans"><thead><tr><th>scan</th><th>chunk</th><th>result</th><th>exit code</th><th>detail</th></tr></thead><tbody>');
  out.push(
    s.rows
      .map((r) => `<tr class="result-${e(r.result)}"><td>${e(r.scan)}</td><td class="num">${r.chunk}</td><td>${e(r.result)}</td><td>${e(r.exitCode ?? '')}</td><td>${e(r.detail)}</td></tr>`)
      .join('\n'),
  );
  out.push('</tbody></table>');
  return out.join('\n');
}

function gpuSection(w: WorkflowReport): string {
  const rows = w.gpu.byStep
    .map((g) => `<tr><td>${e(g.step)}</td><td class="num">${g.attempts}</td><td>${e(g.request)}</td><td class="num">${e(formatHours(g.gpuHours))}</td><td>${e(g.note ?? '')}</td></tr>`)
    .join('\n');
  return [
    '<h3>GPU hours by step</h3>',
    `<table class="gpu"><thead><tr><th>step</th><th>attempts</th><th>request</th><th>GPU hours</th><th>note</th></tr></thead><tbody>\n${rows}\n</tbody>`,
    `<tfoot><tr><th>total</th><td></td><td></td><td class="num">${e(formatHours(w.gpu.totalHours))}</td><td></td></tr></tfoot></table>`,
  ].join('\n');
}

function slowestSection(w: WorkflowReport): string {
  if (w.slowestScans.length === 0) return '<h3>Slowest scans</h3>\n<p class="note">No scan timings (no step pod log could be read).</p>';
  const rows = w.slowestScans.map((t) => `<tr><td>${e(t.scan)}</td><td>${e(t.step)}</td><td class="num">${e(formatSeconds(t.seconds))}</td><td>${e(t.attempt)}</td></tr>`).join('\n');
  return `<h3>Slowest scans</h3>\n<table class="slowest"><thead><tr><th>scan</th><th>step</th><th>time</th><th>attempt</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

function workflowSection(w: WorkflowReport): string {
  const head = [
    `<section class="workflow" id="wf-${e(w.name)}">`,
    `<h2>${e(w.name)}: ${e(w.phase)}</h2>`,
    `<p>started ${e(w.startedAt ?? '-')}, finished ${e(w.finishedAt ?? '-')}, ${e(formatSeconds(w.durationSeconds))}</p>`,
  ];
  if (w.outcome) head.push(`<p class="outcome">${e(w.outcome)}</p>`);
  if (w.message && w.message !== w.outcome) head.push(`<p class="message">${e(w.message)}</p>`);
  const unavailable = w.unavailable.length > 0 ? `<h3>Unavailable data</h3>\n<ul class="unavailable">${w.unavailable.map((u) => `<li>${e(u)}</li>`).join('')}</ul>` : '';
  return [
    ...head,
    scansSection(w),
    '<h3>Timeline</h3>',
    '<table class="timeline"><thead><tr><th>attempt</th><th>step</th><th>outcome</th><th>started</th><th>took</th><th>exit code</th><th>message</th><th></th></tr></thead><tbody>',
    timelineRows(w),
    '</tbody></table>',
    gpuSection(w),
    slowestSection(w),
    unavailable,
    '</section>',
  ].join('\n');
}

/** The whole page. */
export function renderHtml(r: Report): string {
  const title = r.run ? `run ${r.run}` : r.workflows.map((w) => w.name).join(', ');
  const totals = [r.totals.scans ? formatCounts(r.totals.scans) : undefined, `${formatHours(r.totals.gpuHours)} GPU hours`].filter(Boolean).join('; ');
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    // Nothing may load from anywhere: no network, no scripts.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    `<title>sleap-roots report: ${e(title)}</title>`,
    `<style>${STYLE}</style></head><body>`,
    `<h1>sleap-roots report: ${e(title)}</h1>`,
    `<p>namespace ${e(r.namespace)}${r.asOf ? `, as of ${e(r.asOf)}` : ''}; ${e(totals)}</p>`,
    ...r.workflows.map(workflowSection),
    '</body></html>',
    '',
  ].join('\n');
}
