/**
 * What the report reads from pod logs: the gate's marked outcome rows (lib/steps/scripts/gate.sh)
 * and each scan's part of a step pod's log (lib/steps/scripts/step.sh, which says
 * `sleap-roots: <step>: <scan>` before it runs each scan of a chunk).
 */
import { LOG_LINE_CHARS, LOG_TAIL_LINES, type ScanResult } from './model';

/** A log line with the API's timestamp (pods/log `timestamps=true`). */
export interface LogLine {
  readonly time: string;
  readonly text: string;
}

/** The gate's marked rows. */
export interface GateLog {
  readonly rows: readonly GateRow[];
  /** From the end line: rows printed and scans judged; absent when the log has no end line. */
  readonly end?: { readonly printed: number; readonly judged: number };
}

/** One `sleap-roots-report/v1 scan ...` row. */
export interface GateRow {
  readonly chunk: number;
  readonly scan: string;
  readonly result: ScanResult;
  readonly step?: string;
  readonly code?: string;
  readonly detail: string;
}

const MARK = 'sleap-roots-report/v1';
const RESULTS: ReadonlySet<string> = new Set(['succeeded', 'partial', 'failed']);

/** The gate's rows from its log; lines that are not well-formed rows are ignored. */
export function parseGateLog(lines: readonly string[]): GateLog {
  const rows: GateRow[] = [];
  let end: GateLog['end'];
  for (const line of lines) {
    if (!line.startsWith(`${MARK}\t`)) continue;
    const f = line.split('\t');
    if (f[1] === 'scan' && f.length >= 8 && /^\d+$/.test(f[2]) && f[3] && RESULTS.has(f[4])) {
      rows.push({ chunk: Number(f[2]), scan: f[3], result: f[4] as ScanResult, step: f[5] || undefined, code: f[6] || undefined, detail: f.slice(7).join('\t') });
    } else if (f[1] === 'end' && /^\d+$/.test(f[2] ?? '') && /^\d+$/.test(f[3] ?? '')) {
      end = { printed: Number(f[2]), judged: Number(f[3]) };
    }
  }
  return { rows, end };
}

/** One scan's part of a step pod's log. */
export interface ScanSegment {
  readonly scan: string;
  /** Time of the wrapper's `<step>: <scan>` line. */
  readonly start: string;
  /** Time of the line that ended it (the next scan, a skip, the chunk's end); absent when the log ended first. */
  readonly end?: string;
  /** The lines the scan's command logged (each cut to {@link LOG_LINE_CHARS}), at most the last {@link LOG_TAIL_LINES}. */
  readonly tail: readonly string[];
}

const PREFIX = 'sleap-roots: ';

/** True for a wrapper line that closes the scan before it (another scan's start or skip, the chunk's end). */
function closes(text: string, step: string): boolean {
  if (!text.startsWith(PREFIX)) return false;
  const rest = text.slice(PREFIX.length);
  if (rest.startsWith(`${step}: `)) return true;
  // done_before: "... already done, skipping <scan>"; upstream_ok: "<scan>: <step> exited N; not running <step>".
  return / already done, skipping /.test(rest) || rest.endsWith(`; not running ${step}`);
}

const cut = (s: string) => (s.length > LOG_LINE_CHARS ? `${s.slice(0, LOG_LINE_CHARS)}…` : s);

/** The scans of a chunk pod's log, in order. A whole-step pod (no scan lines) gives none. */
export function parseStepLog(step: string, lines: readonly LogLine[]): ScanSegment[] {
  const out: ScanSegment[] = [];
  const start = `${PREFIX}${step}: `;
  const chunkDone = new RegExp(`^${PREFIX}${step.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: chunk \\d+ done: \\d+ scans, \\d+ run or checked in this attempt$`);
  let open: { scan: string; start: string; tail: string[] } | undefined;
  const close = (end?: string) => {
    if (open) out.push({ scan: open.scan, start: open.start, end, tail: open.tail.slice(-LOG_TAIL_LINES) });
    open = undefined;
  };
  for (const l of lines) {
    if (closes(l.text, step)) {
      close(l.time);
      if (l.text.startsWith(start) && !chunkDone.test(l.text)) open = { scan: l.text.slice(start.length), start: l.time, tail: [] };
      continue;
    }
    if (open) {
      open.tail.push(cut(l.text));
      if (open.tail.length > LOG_TAIL_LINES * 2) open.tail.splice(0, open.tail.length - LOG_TAIL_LINES);
    }
  }
  close(undefined);
  return out;
}
