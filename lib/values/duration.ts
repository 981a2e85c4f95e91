/**
 * Go durations as Argo parses them (`wfv1.ParseStringToDuration`: a bare number is seconds, else
 * `time.ParseDuration`), to seconds, so that timeouts can be compared and summed.
 */

const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** Seconds in a duration such as `90s`, `2m`, `1h30m` or `600`; undefined when malformed. */
export function durationSeconds(d: string): number | undefined {
  if (/^[0-9]+$/.test(d)) return Number(d);
  const parts = [...d.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== d) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_SECONDS[p[2]], 0);
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
