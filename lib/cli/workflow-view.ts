/**
 * How a workflow is shown: the live DAG view of `submit --watch` / `watch` (a redrawn table on a
 * terminal, one line per change otherwise, NDJSON with `--output json`), and the one-shot tables
 * of `status` and `list`.
 */
import { viewWorkflow, type Phase, type StepView, type Workflow, type WorkflowView } from '../cluster/workflow';
import { clockTime, columns, formatDuration } from './format';
import type { CliIO } from './io';
import { LiveRegion } from './live';
import type { OutputMode } from './deploy-view';
import { SPINNER, type Style } from './style';

/** The colour of a phase. */
export function paintPhase(style: Style, phase: Phase | string, text: string = phase): string {
  switch (phase) {
    case 'Succeeded':
      return style.green(text);
    case 'Failed':
    case 'Error':
      return style.red(text);
    case 'Running':
      return style.cyan(text);
    case 'Pending':
      return style.yellow(text);
    default:
      return style.dim(text);
  }
}

function symbol(style: Style, phase: Phase, frame: number): string {
  switch (phase) {
    case 'Succeeded':
      return style.green('✔');
    case 'Failed':
    case 'Error':
      return style.red('✘');
    case 'Running':
      return style.cyan(SPINNER[frame % SPINNER.length]);
    case 'Pending':
      return style.yellow('…');
    default:
      return style.dim('·');
  }
}

function retriesText(s: StepView): string {
  return s.retries > 0 ? `retry ${s.retries}` : '';
}

/** Rows of the step table (shared by the live view and `status`). */
export function stepRows(view: WorkflowView, style: Style, frame = 0, withSymbol = true): string[][] {
  return view.steps.map((s) => [
    ...(withSymbol ? [symbol(style, s.phase, frame)] : []),
    s.item ? `  ${s.name}` : s.name,
    paintPhase(style, s.phase),
    s.durationMs !== undefined ? formatDuration(s.durationMs) : '',
    retriesText(s),
    s.message ?? '',
  ]);
}

/**
 * What to say when the step list is not in status.nodes: nothing for plain nodes; where they came
 * from for compressed ones (status only); for offloaded or unreadable ones, why no step is listed
 * and what to do instead.
 */
export function nodeSourceLines(view: WorkflowView, style: Style, detail = false): string[] {
  const src = view.nodeSource;
  const ns = view.namespace ? ` -n ${view.namespace}` : '';
  const seeThem = `  see the steps: argo get ${view.name}${ns} (through the Argo Server), or the workflow in the Argo UI`;
  switch (src.from) {
    case 'nodes':
      return [];
    case 'compressedNodes':
      return detail ? [`${style.dim('Step list:'.padEnd(14))}decoded from status.compressedNodes (${src.algorithm}): the workflow passed Argo's 1 MiB size limit`] : [];
    case 'offloaded':
      return [
        style.yellow(`No steps to show: Argo keeps this workflow's step list in its database (node status offloading, version ${src.version}); the Kubernetes API cannot read it.`),
        seeThem,
        '  next time: a workflow with fewer nodes keeps its step list readable here: fewer scans per batch, or more scans per pod (fanOut.scansPerPod in the environment file)',
      ];
    case 'unreadable':
      return [style.yellow(`No steps to show: ${src.problem}.`), seeThem];
  }
}

/** The header line of a workflow. */
export function headerLine(view: WorkflowView, style: Style): string {
  const parts = [style.bold(view.name), paintPhase(style, view.phase)];
  if (view.progress) parts.push(view.progress);
  if (view.durationMs !== undefined) parts.push(formatDuration(view.durationMs));
  return parts.join('  ');
}

/** Options of {@link WorkflowDisplay}. */
export interface WorkflowDisplayOptions {
  readonly io: CliIO;
  readonly style: Style;
  readonly mode: OutputMode;
  /** The pipeline template, to list tasks that have not started. @default - none */
  readonly template?: Workflow;
}

/** The live view of one workflow. */
export class WorkflowDisplay {
  public latest?: Workflow;
  private readonly region?: LiveRegion;
  private readonly o: WorkflowDisplayOptions;
  private frame = 0;
  private stopTicker?: () => void;
  private readonly printed = new Map<string, string>();
  private lastJson = '';

  public constructor(options: WorkflowDisplayOptions) {
    this.o = options;
    if (options.mode === 'tty') {
      this.region = new LiveRegion(options.io.stdout, options.io.columns ?? 100);
      const every = options.io.every;
      if (every) {
        this.stopTicker = every(100, () => {
          this.frame++;
          this.draw();
        });
      }
    }
  }

  /** A new state of the workflow: shown at once. */
  public update(wf: Workflow): void {
    this.latest = wf;
    const view = this.view();
    if (!view) return;
    if (this.o.mode === 'tty') this.draw();
    else if (this.o.mode === 'json') this.emitJson(view);
    else this.emitChanges(view);
  }

  /** Text to print above the live view (log lines, notices). */
  public print(text: string): void {
    if (this.region) this.region.print(text);
    else this.o.io.stdout.write(text);
  }

  /** A notice: stderr in plain/json modes, above the view on a terminal. */
  public notice(message: string): void {
    const line = `${this.o.style.dim(`note: ${message}`)}\n`;
    if (this.region) this.region.print(line);
    else this.o.io.stderr.write(`note: ${message}\n`);
  }

  /** Ends the view and prints how the workflow ended; returns the exit code (0 only for Succeeded). */
  public complete(wf: Workflow, hints: { logs: string; retry: string }): number {
    this.latest = wf;
    const view = viewWorkflow(wf, this.o.io.now(), this.o.template);
    if (this.o.mode === 'json') {
      this.close('');
      this.emitJson(view);
      this.o.io.stdout.write(JSON.stringify({ type: 'result', name: view.name, phase: view.phase, durationMs: view.durationMs, failing: view.failing, outcome: view.outcome }) + '\n');
      return view.phase === 'Succeeded' ? 0 : 1;
    }
    if (this.o.mode === 'plain') this.emitChanges(view);
    const s = this.o.style;
    let text = this.o.mode === 'tty' ? this.frameLines(view).join('\n') + '\n' : '';
    if (view.phase === 'Succeeded') {
      text += `${s.green('✔')} ${view.name} Succeeded in ${formatDuration(view.durationMs)}${view.outcome ? `: ${view.outcome}` : ''}\n`;
    } else {
      const failing = view.failing ?? [];
      text += `${s.red('✘')} ${view.name} ${view.phase} after ${formatDuration(view.durationMs)}`;
      const one = (f: { step: string; message?: string }) => `step ${s.bold(f.step)} failed${f.message ? `: ${f.message}` : ''}`;
      if (failing.length === 1) text += `: ${one(failing[0])}\n`;
      else if (failing.length > 1) text += `:\n${failing.map((f) => `  ${one(f)}\n`).join('')}`;
      else text += `${view.message ? `: ${view.message}` : ''}\n`;
      if (view.outcome && !(view.message ?? '').includes(view.outcome)) text += `  outcome: ${view.outcome}\n`;
      text += `  logs:  ${hints.logs}\n  rerun: ${hints.retry}\n`;
    }
    this.close(text);
    return view.phase === 'Succeeded' ? 0 : 1;
  }

  /** Ends the view after Ctrl-C, saying how to re-attach. */
  public detach(name: string, reattach: string, extra = ''): void {
    const text = `Detached from ${name}; it keeps running.\n  re-attach: ${reattach}\n${extra}`;
    if (this.o.mode === 'json') {
      this.close('');
      this.o.io.stdout.write(JSON.stringify({ type: 'detached', name, reattach }) + '\n');
      return;
    }
    if (this.region) this.close(text);
    else {
      this.close('');
      this.o.io.stderr.write(text);
    }
  }

  /** Stops the view without a summary (on an error). */
  public close(finalText = ''): void {
    this.stopTicker?.();
    this.stopTicker = undefined;
    if (this.region) this.region.close(finalText);
    else if (finalText) this.o.io.stdout.write(finalText);
  }

  private view(): WorkflowView | undefined {
    return this.latest ? viewWorkflow(this.latest, this.o.io.now(), this.o.template) : undefined;
  }

  private frameLines(view: WorkflowView): string[] {
    const lines = [headerLine(view, this.o.style)];
    for (const row of columns(stepRows(view, this.o.style, this.frame))) lines.push(`  ${row}`);
    for (const l of nodeSourceLines(view, this.o.style)) lines.push(`  ${l}`);
    if (view.message && !view.completed) lines.push(this.o.style.dim(`  ${view.message}`));
    return lines;
  }

  private draw(): void {
    const view = this.view();
    if (view && this.region) this.region.render(this.frameLines(view));
  }

  /** Plain mode: a line for the workflow and for each step whose phase, retries or message changed. */
  private emitChanges(view: WorkflowView): void {
    const now = clockTime(this.o.io.now());
    let out = '';
    const wfKey = `${view.phase}|${view.message ?? ''}`;
    if (this.printed.get('') !== wfKey) {
      this.printed.set('', wfKey);
      out += `${now} ${view.name} ${paintPhase(this.o.style, view.phase)}${view.progress ? ` ${view.progress}` : ''}${view.message ? `: ${view.message}` : ''}\n`;
    }
    const sourceKey = view.nodeSource.from;
    if (this.printed.get('nodes') !== sourceKey) {
      this.printed.set('nodes', sourceKey);
      for (const l of nodeSourceLines(view, this.o.style)) out += `${now} ${l.trimStart()}\n`;
    }
    for (const s of view.steps) {
      const key = `${s.phase}|${s.retries}|${s.message ?? ''}`;
      if (this.printed.get(`step:${s.name}`) === key) continue;
      if (!this.printed.has(`step:${s.name}`) && s.phase === 'Waiting') {
        this.printed.set(`step:${s.name}`, key);
        continue;
      }
      this.printed.set(`step:${s.name}`, key);
      const extra = [retriesText(s), s.phase !== 'Running' && s.durationMs !== undefined ? formatDuration(s.durationMs) : ''].filter(Boolean).join(', ');
      out += `${now}   ${s.name} ${paintPhase(this.o.style, s.phase)}${extra ? ` (${extra})` : ''}${s.message ? `: ${s.message}` : ''}\n`;
    }
    if (out) this.o.io.stdout.write(out);
  }

  private emitJson(view: WorkflowView): void {
    const doc = {
      type: 'workflow',
      name: view.name,
      phase: view.phase,
      progress: view.progress,
      message: view.message,
      nodeSource: view.nodeSource.from === 'nodes' ? undefined : view.nodeSource,
      steps: view.steps.map((s) => ({ name: s.name, phase: s.phase, retries: s.retries, message: s.message, startedAt: s.startedAt, finishedAt: s.finishedAt })),
    };
    const text = JSON.stringify(doc);
    if (text === this.lastJson) return;
    this.lastJson = text;
    this.o.io.stdout.write(text + '\n');
  }
}

/** The detail of one workflow, for `status`. */
export function statusLines(view: WorkflowView, style: Style, now: number): string[] {
  const lines: string[] = [];
  const field = (k: string, v: string | undefined) => v && lines.push(`${style.dim(k.padEnd(14))}${v}`);
  field('Name:', view.name);
  field('Namespace:', view.namespace);
  field('Template:', view.template);
  field('Environment:', view.environment);
  field('Phase:', paintPhase(style, view.phase));
  field('Progress:', view.progress);
  field('Message:', view.message);
  field('Outcome:', view.outcome);
  field('Submitted by:', view.submittedBy);
  field('Resubmits:', view.resubmittedFrom);
  field('Created:', view.createdAt);
  field('Started:', view.startedAt);
  field('Finished:', view.finishedAt);
  field('Duration:', view.durationMs !== undefined ? formatDuration(view.durationMs) : undefined);
  if (view.parameters.length > 0) field('Parameters:', view.parameters.map((p) => `${p.name}=${p.value ?? ''}`).join(', '));
  const source = nodeSourceLines(view, style, true);
  if (view.nodeSource.from === 'compressedNodes') lines.push(...source);
  lines.push('');
  if (view.nodeSource.from === 'offloaded' || view.nodeSource.from === 'unreadable') {
    lines.push(...source);
    return lines;
  }
  const rows: string[][] = [['STEP', 'PHASE', 'DURATION', 'RETRIES', 'MESSAGE'].map((h) => style.dim(h))];
  for (const s of view.steps) {
    rows.push([s.item ? `  ${s.name}` : s.name, paintPhase(style, s.phase), s.durationMs !== undefined ? formatDuration(s.durationMs) : '', s.retries ? String(s.retries) : '', s.message ?? '']);
    if (s.attempts.length > 1) {
      for (const a of s.attempts) {
        const d = a.startedAt ? formatDuration((Date.parse(a.finishedAt ?? '') || now) - Date.parse(a.startedAt)) : '';
        rows.push([`${s.item ? '    ' : '  '}${a.displayName}`, paintPhase(style, a.phase), d, '', a.message ?? '']);
      }
    }
  }
  lines.push(...columns(rows));
  return lines;
}

/** One row per workflow, for `list`. */
export function listLines(views: readonly WorkflowView[], style: Style, now: number): string[] {
  const rows: string[][] = [['NAME', 'ENV', 'PHASE', 'PROGRESS', 'AGE', 'DURATION', 'SUBMITTED BY'].map((h) => style.dim(h))];
  for (const v of views) {
    const age = v.createdAt ? formatDuration(now - Date.parse(v.createdAt)) : '';
    rows.push([v.name, v.environment ?? '', paintPhase(style, v.phase), v.progress ?? '', age, v.durationMs !== undefined ? formatDuration(v.durationMs) : '', (v.submittedBy ?? '').split(';')[0]]);
  }
  return columns(rows);
}
