/**
 * How `deploy` shows its progress: on a terminal, a live progress bar and the object being
 * applied, with each finished object printed above it; otherwise one plain line per object;
 * with `--output json`, one document at the end.
 */
import type { ApplyOutcome, DeployEvent, DeployResult, ObjectResult } from '../cluster/apply';
import { LiveRegion } from './live';
import type { CliIO } from './io';
import { SPINNER, type Style } from './style';

/** How output is shaped: a live terminal view, plain lines, or JSON. */
export type OutputMode = 'tty' | 'plain' | 'json';

const WORDS: Record<ApplyOutcome, [string, string]> = {
  created: ['created', 'would create'],
  changed: ['changed', 'would change'],
  unchanged: ['unchanged', 'unchanged'],
  configured: ['applied', 'would apply'],
  pruned: ['pruned', 'would prune'],
  kept: ['kept', 'would keep'],
  failed: ['FAILED', 'FAILED'],
  skipped: ['skipped', 'skipped'],
};

/** The word for an outcome (dry runs say what would happen). */
export function outcomeWord(outcome: ApplyOutcome, dryRun: boolean): string {
  return WORDS[outcome][dryRun ? 1 : 0];
}

function paint(style: Style, outcome: ApplyOutcome, text: string): string {
  switch (outcome) {
    case 'created':
      return style.green(text);
    case 'changed':
    case 'configured':
    case 'pruned':
      return style.yellow(text);
    case 'failed':
      return style.red(text);
    default:
      return style.dim(text);
  }
}

/** One line for an object's result. */
export function resultLine(r: ObjectResult, style: Style, dryRun: boolean): string {
  const word = outcomeWord(r.outcome, dryRun).padEnd(12);
  const detail = r.detail && r.outcome !== 'skipped' ? `: ${r.detail}` : '';
  return `${paint(style, r.outcome, word)} ${r.kind}/${r.name}${detail}`;
}

/** Counts per outcome, as `3 created, 5 unchanged`. */
export function summary(results: readonly ObjectResult[], dryRun: boolean): string {
  const order: ApplyOutcome[] = ['created', 'changed', 'configured', 'unchanged', 'pruned', 'kept', 'failed', 'skipped'];
  const counts = new Map<ApplyOutcome, number>();
  for (const r of results) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  return order.filter((o) => counts.get(o)).map((o) => `${counts.get(o)} ${outcomeWord(o, dryRun).toLowerCase()}`).join(', ') || 'nothing to do';
}

export class DeployView {
  private region?: LiveRegion;
  private total = 0;
  private doneCount = 0;
  private currentName = '';
  private frame = 0;
  private stopTicker?: () => void;

  public constructor(
    private readonly io: CliIO,
    private readonly style: Style,
    private readonly mode: OutputMode,
    private readonly dryRun: boolean,
  ) {
    if (mode === 'tty') {
      this.region = new LiveRegion(io.stdout, io.columns ?? 100);
      const every = io.every;
      if (every) this.stopTicker = every(100, () => this.draw(true));
    }
  }

  public onEvent(e: DeployEvent): void {
    if (this.mode === 'json') return;
    switch (e.type) {
      case 'plan':
        this.total = e.objects.length;
        this.draw();
        return;
      case 'start':
        this.currentName = `${e.kind}/${e.name}`;
        this.draw();
        return;
      case 'done':
        this.doneCount++;
        this.emit(resultLine(e.result, this.style, this.dryRun));
        this.draw();
        return;
      case 'prune':
        this.emit(resultLine(e.result, this.style, this.dryRun));
        return;
    }
  }

  /** Ends the live view and prints the summary (text modes) or the JSON document. */
  public finish(result: DeployResult, header: Record<string, unknown>): void {
    this.stopTicker?.();
    if (this.mode === 'json') {
      const results = result.results.map((r) => ({ kind: r.kind, name: r.name, namespace: r.namespace, file: r.file, outcome: r.outcome, detail: r.detail }));
      this.io.stdout.write(JSON.stringify({ ...header, ok: result.ok, results }, null, 2) + '\n');
      return;
    }
    const line = `${result.ok ? this.style.green('done') : this.style.red('failed')}: ${summary(result.results, this.dryRun)}${this.dryRun ? ' (dry run: nothing was stored)' : ''}\n`;
    if (this.region) this.region.close(line);
    else this.io.stdout.write(line);
  }

  /** Stops the live view without a summary (on an error). */
  public abort(): void {
    this.stopTicker?.();
    this.region?.close();
  }

  private emit(line: string): void {
    if (this.region) this.region.print(line + '\n');
    else this.io.stdout.write(line + '\n');
  }

  private draw(tick = false): void {
    if (!this.region) return;
    if (tick) this.frame = (this.frame + 1) % SPINNER.length;
    const width = 24;
    const filled = this.total === 0 ? 0 : Math.round((this.doneCount / this.total) * width);
    const bar = `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
    const busy = this.doneCount < this.total ? ` ${this.style.cyan(SPINNER[this.frame])} ${this.dryRun ? 'checking' : 'applying'} ${this.currentName}` : '';
    this.region.render([`${bar} ${this.doneCount}/${this.total}${busy}`]);
  }
}
