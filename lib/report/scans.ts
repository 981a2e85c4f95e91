/**
 * Per-scan outcomes from the gate's log, each failure's message and log tail from its step's
 * attempts, and the slowest scans from the step pods' logs.
 */
import { parseGateLog, parseStepLog, type ScanSegment } from './logs';
import { SLOWEST_SCANS, type ScanCounts, type ScanOutcomes, type ScanReport, type ScanTiming } from './model';
import { ms, round, type Attempt } from './attempts';

const SUMMARY = /^(?:workflow \w+ before the gate; )?(\d+) scans: (\d+) succeeded, (\d+) partial, (\d+) failed/;

function countsOf(rows: readonly ScanReport[]): ScanCounts {
  const c = { total: rows.length, succeeded: 0, partial: 0, failed: 0 };
  for (const r of rows) c[r.result]++;
  return c;
}

function countsFromSummary(outcome: string | undefined): ScanCounts | undefined {
  const m = outcome ? SUMMARY.exec(outcome) : null;
  return m ? { total: Number(m[1]), succeeded: Number(m[2]), partial: Number(m[3]), failed: Number(m[4]) } : undefined;
}

function segmentsOf(x: Attempt): ScanSegment[] {
  x.segments ??= x.log?.lines && x.a.chunk !== undefined ? parseStepLog(x.a.step, x.log.lines) : [];
  return x.segments;
}

/** Why an attempt's log is not there, in words. */
function missingLog(x: Attempt): string {
  if (!x.pod) return `pod of ${x.report.name} not found (deleted: podGC, or the attempt was preempted or evicted)`;
  return x.log?.unavailable ?? `log of ${x.report.name} not read`;
}

/** A failed scan's message and log tail: from the last attempt of its step and chunk that logged it. */
function failureDetail(row: ScanReport, attempts: readonly Attempt[]): Pick<ScanReport, 'message' | 'logTail' | 'logTailUnavailable'> {
  const tried = attempts
    .filter((x) => x.a.step === row.step && x.a.chunk === row.chunk && x.a.node.type === 'Pod')
    .sort((x, y) => (y.a.attempt ?? 0) - (x.a.attempt ?? 0));
  if (tried.length === 0) return { logTailUnavailable: row.step ? `${row.step} has no attempt for chunk ${row.chunk} in the workflow's status` : 'no step named' };
  const failedAttempt = tried.find((x) => x.report.state === 'failed' || x.report.state === 'error');
  const message = (failedAttempt ?? tried[0]).report.message;
  for (const x of tried) {
    const seg = [...segmentsOf(x)].reverse().find((s) => s.scan === row.scan);
    if (seg) return { message: x.report.state === 'succeeded' ? undefined : message, logTail: seg.tail };
  }
  const reasons = tried.map((x) => (x.log?.lines ? `${x.report.name}: no lines for this scan${x.log.truncated ? ' (log cut at its read limit)' : ''}` : `${missingLog(x)}`));
  return { message, logTailUnavailable: reasons.join('; ') };
}

/** The scans the gate judged; adds to `unavailable` what could not be read. */
export function scanOutcomes(attempts: readonly Attempt[], outcome: string | undefined, unavailable: string[], completed: boolean): ScanOutcomes {
  const gates = attempts.filter((x) => x.a.exitHandler && x.a.node.type === 'Pod').sort((x, y) => (y.a.attempt ?? 0) - (x.a.attempt ?? 0));
  const summaryCounts = countsFromSummary(outcome);
  if (gates.length === 0) {
    unavailable.push(completed ? 'per-scan outcomes: the gate never ran' : 'per-scan outcomes: the gate has not run yet');
    return { available: false, counts: summaryCounts, rows: [] };
  }
  for (const g of gates) {
    if (!g.log?.lines) continue;
    const parsed = parseGateLog(g.log.lines.map((l) => l.text));
    if (!parsed.end && parsed.rows.length === 0) continue;
    const rows: ScanReport[] = parsed.rows.map((r) => ({ scan: r.scan, chunk: r.chunk, result: r.result, step: r.step, exitCode: r.code, detail: r.detail }));
    const detailed = rows.map((r) => (r.result === 'failed' ? { ...r, ...failureDetail(r, attempts) } : r));
    const complete = parsed.end !== undefined && parsed.end.printed === parsed.end.judged && rows.length === parsed.end.judged;
    if (!parsed.end) unavailable.push(`per-scan outcomes: the gate's log (${g.report.name}) has no end line: rows may be missing`);
    else if (!complete) unavailable.push(`per-scan outcomes: the gate printed ${parsed.end.printed} of ${parsed.end.judged} rows to its log (SLEAP_ROOTS_REPORT_LOG_LIMIT); all of them are in report.tsv in the run folder`);
    return { available: true, judged: parsed.end?.judged, counts: complete ? countsOf(detailed) : (summaryCounts ?? countsOf(detailed)), rows: detailed };
  }
  unavailable.push(`per-scan outcomes: ${gates.map((g) => (g.log?.lines ? `${g.report.name}: no outcome rows in its log` : missingLog(g))).join('; ')}; the gate's summary is all there is`);
  return { available: false, counts: summaryCounts, rows: [] };
}

/** The slowest scans of any step (the last attempt that timed each), slowest first. */
export function slowest(attempts: readonly Attempt[]): ScanTiming[] {
  const last = new Map<string, ScanTiming & { order: number }>();
  for (const x of attempts) {
    for (const s of segmentsOf(x)) {
      if (!s.end) continue;
      const sec = round(((ms(s.end) ?? 0) - (ms(s.start) ?? 0)) / 1000, 3);
      const key = `${x.a.step}\u0000${s.scan}`;
      const order = x.a.attempt ?? 0;
      const prev = last.get(key);
      if (!prev || prev.order <= order) last.set(key, { scan: s.scan, step: x.a.step, seconds: sec, attempt: x.report.name, order });
    }
  }
  return [...last.values()]
    .sort((a, b) => b.seconds - a.seconds || (a.scan < b.scan ? -1 : a.scan > b.scan ? 1 : 0) || (a.step < b.step ? -1 : 1))
    .slice(0, SLOWEST_SCANS)
    .map(({ order: _order, ...t }) => t);
}
