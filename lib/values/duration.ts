/**
 * Go durations as Argo parses them (`wfv1.ParseStringToDuration`: a bare number is seconds, else
 * `time.ParseDuration`), to seconds, so that timeouts can be compared and summed.
 */

const UNIT_SECONDS: ReadonlyMap<string, number> = new Map([['ns', 1e-9], ['us', 1e-6], ['µs', 1e-6], ['ms', 1e-3], ['s', 1], ['m', 60], ['h', 3600]]);
const UNIT_NANOS: ReadonlyMap<string, bigint> = new Map([['ns', 1n], ['us', 1_000n], ['µs', 1_000n], ['ms', 1_000_000n], ['s', 1_000_000_000n], ['m', 60_000_000_000n], ['h', 3_600_000_000_000n]]);

/**
 * The longest Go `time.Duration`: int64 nanoseconds, 2562047h47m16.854775807s. Go's
 * `time.ParseDuration` (src/time/format.go) fails "invalid duration" above it; Argo's
 * `wfv1.ParseStringToDuration` (pkg/apis/workflow/v1alpha1/workflow_types.go) multiplies a bare
 * number of seconds by `time.Second` without a check, so above it the duration wraps around.
 */
export const MAX_GO_DURATION_NANOS = 2n ** 63n - 1n;
/** {@link MAX_GO_DURATION_NANOS} as Go prints it. */
export const MAX_GO_DURATION = '2562047h47m16.854775807s';

/** Seconds in a duration such as `90s`, `2m`, `1h30m` or `600`; undefined when malformed. */
export function durationSeconds(d: string): number | undefined {
  if (/^[0-9]+$/.test(d)) return Number(d);
  const parts = [...d.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== d) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_SECONDS.get(p[2])!, 0);
}

/**
 * Nanoseconds in a duration, exactly (as Go sums them: the whole part times the unit plus the
 * fraction, truncated); undefined when malformed.
 */
export function durationNanos(d: string): bigint | undefined {
  if (/^[0-9]+$/.test(d)) return BigInt(d) * 1_000_000_000n;
  const parts = [...d.matchAll(/([0-9]+)(?:\.([0-9]+))?(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== d) return undefined;
  return parts.reduce((sum, p) => {
    const unit = UNIT_NANOS.get(p[3])!;
    const frac = p[2] ? (BigInt(p[2]) * unit) / 10n ** BigInt(p[2].length) : 0n;
    return sum + BigInt(p[1]) * unit + frac;
  }, 0n);
}

/** True when a well-formed duration fits a Go `time.Duration` (see {@link MAX_GO_DURATION_NANOS}); malformed ones are left to the grammar. */
export function isWithinGoDurationRange(d: string): boolean {
  const n = durationNanos(d);
  return n === undefined || n <= MAX_GO_DURATION_NANOS;
}

/** A number of seconds as a short duration (`1h30m`, `45s`, `2d` for whole days). */
export function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  if (s >= 86_400 && s % 86_400 === 0) return `${s / 86_400}d`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${r || (!h && !m) ? `${r}s` : ''}`;
}
