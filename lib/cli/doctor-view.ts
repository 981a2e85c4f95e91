/**
 * How `doctor` prints: one line per check as soon as it is known, with the fix on the same line.
 */
import type { CheckLevel, CheckResult } from '../cluster/doctor';
import type { Style } from './style';

const WORD: Record<CheckLevel, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', info: 'INFO' };

/** One line for a check. */
export function checkLine(r: CheckResult, style: Style): string {
  const paint = r.level === 'pass' ? style.green : r.level === 'fail' ? style.red : r.level === 'warn' ? style.yellow : style.cyan;
  const fix = r.fix && r.level !== 'pass' ? ` ${style.dim('→ fix:')} ${r.fix}` : '';
  return `${paint(WORD[r.level])}  ${style.bold(r.name)}: ${r.detail}${fix}`;
}

/** `checks: 12 pass, 1 warn, 2 fail, 1 info`. */
export function doctorSummary(results: readonly CheckResult[]): string {
  const n = (l: CheckLevel) => results.filter((r) => r.level === l).length;
  return `checks: ${n('pass')} pass, ${n('warn')} warn, ${n('fail')} fail, ${n('info')} info`;
}
