/**
 * A run's progress on the terminal: a line (or an NDJSON event) when the run changed, at most
 * once a second, the last change of a burst shown at the end of its second.
 */
import type { RunProgress } from '../cluster/run/progress';
import { runProgress } from '../cluster/run/progress';
import type { RunState } from '../cluster/run/state';
import { progressEvent, progressLine } from './run-view';
import type { Session } from './session';

/** Progress lines at most this often (the last one is always printed). */
export const PROGRESS_INTERVAL_MS = 1000;

/** Prints progress: NDJSON events, or a line when it changed, at most once a second. */
export class ProgressPrinter {
  private last = '';
  private lastAt = -Infinity;
  private pending?: NodeJS.Timeout;
  public constructor(
    private readonly s: Session,
    private readonly batches?: number,
  ) {}

  /** Prints the run's progress when it is time to; returns it when it was computed. */
  public update(state: RunState, force = false): RunProgress | undefined {
    const now = this.s.io.now();
    // Summing up is O(batches): only when a line may be printed, not on every event.
    if (!force && now - this.lastAt < PROGRESS_INTERVAL_MS) {
      // A change inside the interval is shown at its end, even if nothing else happens by then.
      this.pending ??= setTimeout(() => {
        this.pending = undefined;
        this.update(state);
      }, PROGRESS_INTERVAL_MS - (now - this.lastAt));
      this.pending.unref();
      return undefined;
    }
    const p = runProgress(state, now, this.batches);
    const text = this.s.json ? progressEvent(p) : `${progressLine(p, this.s.style)}\n`;
    // The clock is part of the line; compare without it.
    const key = JSON.stringify({ ...p, elapsedMs: 0, remainingMs: 0 });
    if (key === this.last && !force) return p;
    this.last = key;
    this.lastAt = now;
    this.s.io.stdout.write(text);
    return p;
  }

  /** The last line, printed unless it is the one already shown. */
  public final(state: RunState): RunProgress {
    clearTimeout(this.pending);
    this.pending = undefined;
    this.lastAt = -Infinity;
    return this.update(state) ?? runProgress(state, this.s.io.now(), this.batches);
  }
}
