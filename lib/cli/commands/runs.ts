/**
 * Runs of many batches: `submit --scans FILE --batch-size N` (one Workflow per batch, at most
 * `--max-in-flight` unfinished at once), `watch --run ID` (the run as a whole, `--logs` of every
 * batch), `resubmit --run ID --failed` (a new workflow for each failed batch). The run's state is
 * what the cluster lists under its label; see lib/cluster/run/.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, isStatus } from '../../cluster/errors';
import type { KubeClient } from '../../cluster/http';
import { captureLogs } from '../../cluster/logs';
import { KINDS, resourcePath } from '../../cluster/resources';
import { batchWorkflow, repeatWorkflow, type RunSpec } from '../../cluster/run/batch-workflow';
import { batchCount, dispatchRun, type DispatchResult, type RunItem } from '../../cluster/run/dispatch';
import { RUN_LABEL } from '../../cluster/run/keys';
import { batchName, checkRunId, newRunId } from '../../cluster/run/names';
import { scanParameterOf } from '../../cluster/run/scan-parameter';
import { checkSharedStages, sharedStageWarnings } from '../../cluster/run/shared-stages';
import { cutBatches, parseScanList, type Batch } from '../../cluster/run/scans';
import type { RunState } from '../../cluster/run/state';
import { checkParameters, parseParameters, whoAmI, type Submitter } from '../../cluster/submit';
import type { Workflow } from '../../cluster/workflow';
import { FORCE_RERUN_PARAMETER } from '../../names';
import { fileStamp } from '../format';
import { openAppendFile, type FileWriter } from '../io';
import { LogWriter } from '../log-writer';
import { ProgressPrinter } from '../run-printer';
import { failedLines } from '../run-view';
import type { Session } from '../session';
import { EXIT_DETACHED } from './run';

/** Options of `submit --scans`. */
export interface SubmitRunOptions {
  readonly env: string;
  /** A file of scan ids, or `-` for stdin. */
  readonly scans: string;
  readonly batchSize?: string;
  readonly maxInFlight?: string;
  readonly run?: string;
  /** The declared parameter receiving each batch's ids (comma-separated). @default - the fan-out's parameter */
  readonly scanParameter?: string;
  readonly param?: readonly string[];
  readonly forceRerun?: boolean;
  readonly watch?: boolean;
  readonly logs?: boolean;
  readonly dryRun?: boolean;
  readonly logFile?: string;
  readonly writeLogFile?: boolean;
}

function wholeNumber(flag: string, value: string | undefined, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) throw new UserError(`${flag} is required with --scans`);
    return fallback;
  }
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1) throw new UserError(`${flag} ${value}: expected a whole number >= 1`);
  return n;
}

async function readScans(s: Session, file: string): Promise<{ text: string; source: string }> {
  if (file === '-') {
    if (!s.io.readStdin) throw new UserError('--scans -: standard input cannot be read here');
    return { text: await s.io.readStdin(), source: 'stdin' };
  }
  const f = path.resolve(s.io.cwd, file);
  try {
    return { text: fs.readFileSync(f, 'utf8'), source: file };
  } catch (e) {
    throw new UserError(`--scans ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

async function submitterOf(s: Session, client: KubeClient): Promise<Submitter> {
  const local = s.io.localUser ? `${s.io.localUser}${s.io.hostName ? `@${s.io.hostName}` : ''}` : undefined;
  return { kubernetesUser: await whoAmI(client, s.io.signal), localUser: local, tool: `sleap-roots-cli ${s.io.version}` };
}

/** Checks the parameters against the deployed template once (not once per batch). */
async function checkTemplate(client: KubeClient, namespace: string, template: string, parameters: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<void> {
  let wt: { spec?: { arguments?: { parameters?: { name: string; value?: string; enum?: string[] }[] } } };
  try {
    wt = await client.json({ path: resourcePath(KINDS.WorkflowTemplate, namespace, template), signal });
  } catch (e) {
    if (isStatus(e, 404)) throw new UserError(`WorkflowTemplate "${template}" is not in namespace "${namespace}"`, 'deploy it first: npx sleap-roots deploy --env <env>');
    if (isStatus(e, 403)) return;
    throw e;
  }
  checkParameters(parameters, wt?.spec?.arguments?.parameters ?? [], template);
}

/** Follows the logs of every batch that is not finished, each line prefixed by its batch (`--logs`). */
class BatchLogs {
  private readonly followed = new Set<string>();
  private readonly running: Promise<unknown>[] = [];
  private readonly writer: LogWriter;
  private readonly file?: FileWriter;
  public readonly fileName?: string;

  public constructor(
    private readonly s: Session,
    private readonly client: KubeClient,
    private readonly namespace: string,
    o: { logFile?: string; writeLogFile?: boolean },
  ) {
    this.fileName = o.writeLogFile === false ? undefined : path.resolve(s.io.cwd, o.logFile ?? `workflow_logs_${fileStamp(s.io.now())}.txt`);
    this.file = this.fileName ? (s.io.openAppend ?? openAppendFile)(this.fileName) : undefined;
    this.writer = new LogWriter({ file: this.file, terminal: (t) => s.io.stdout.write(t), json: s.json, style: s.style, redactor: s.redactor });
  }

  public follow(state: RunState): void {
    for (const w of state.workflows) {
      if (w.completed || this.followed.has(w.name)) continue;
      this.followed.add(w.name);
      const name = w.name;
      const short = name.slice(state.run.length + 1);
      this.running.push(
        captureLogs(this.client, {
          namespace: this.namespace,
          workflow: name,
          follow: true,
          signal: this.s.io.signal,
          sink: { write: (b) => this.writer.write({ ...b, label: `${short} ${b.label}` }) },
          onNotice: (m) => this.s.io.stderr.write(`note: ${name}: ${m}\n`),
        }).catch((e: unknown) => this.s.io.stderr.write(`note: logs of ${name} stopped: ${e instanceof Error ? e.message : String(e)}\n`)),
      );
    }
  }

  public async close(): Promise<void> {
    await Promise.all(this.running);
    this.file?.close();
  }
}

/** How a run's dispatch ends on the terminal; the exit code. */
function finish(s: Session, result: DispatchResult, printer: ProgressPrinter, namespace: string, batches: number | undefined, reattach: string): number {
  const p = printer.final(result.state);
  const flags = s.flagsForHint(namespace);
  if (result.type === 'detached') {
    if (!s.json) s.io.stderr.write(`Detached; the run goes on (batches not yet submitted stay queued until a submit with the same --run). Re-attach: ${reattach}\n`);
    return EXIT_DETACHED;
  }
  const total = batches ?? batchCount(result.state) ?? 0;
  if (!s.json) {
    const lines = failedLines(p, (b) => batchName(result.state.run, b, result.state.latest(b)?.attempt ?? 0, total), `npx sleap-roots resubmit --run ${result.state.run} --failed ${flags}`);
    if (lines.length) s.io.stdout.write(lines.join('\n') + '\n');
  }
  if (result.type === 'submitted') {
    if (!s.json) s.io.stdout.write(`All ${total} batches of run ${result.state.run} are submitted. Follow: npx sleap-roots watch --run ${result.state.run} ${flags}\n`);
    return 0;
  }
  return p.failed > 0 ? 1 : 0;
}

/** `submit --env E --scans FILE --batch-size N [--max-in-flight M] [--run ID]`. */
export async function submitRunCommand(s: Session, o: SubmitRunOptions): Promise<number> {
  if (o.dryRun) throw new UserError('--dry-run cannot be combined with --scans', 'check one workflow first: npx sleap-roots submit --env <env> --dry-run');
  const batchSize = wholeNumber('--batch-size', o.batchSize);
  const maxInFlight = wholeNumber('--max-in-flight', o.maxInFlight, Number.MAX_SAFE_INTEGER);
  const run = o.run !== undefined ? checkRunId(o.run) : newRunId(s.io.now());
  const dist = s.readDist(o.env);
  const scanParameter = scanParameterOf(dist, o.scanParameter);
  checkSharedStages(dist, o.forceRerun === true);
  if (scanParameter.maxScans !== undefined && batchSize > scanParameter.maxScans) {
    throw new UserError(`--batch-size ${batchSize} is above the environment's largest batch (fanOut.maxScans ${scanParameter.maxScans})`);
  }
  const parameters = parseParameters(o.param ?? []);
  if (scanParameter.name in parameters) throw new UserError(`-p ${scanParameter.name}=...: the scans come from --scans; leave this parameter out`);
  if (o.forceRerun) parameters[FORCE_RERUN_PARAMETER] = 'true';
  const { text, source } = await readScans(s, o.scans);
  const scans = parseScanList(text, source);
  const batches = cutBatches(scans, batchSize);
  for (const w of sharedStageWarnings(dist, Math.min(maxInFlight, batches.length))) s.io.stderr.write(`warning: ${w}\n`);
  const namespace = s.opts.namespace ?? dist.namespace;
  const client = await s.client();
  const template = (dist.run?.object as Workflow | undefined)?.spec?.workflowTemplateRef?.name ?? 'sleap-roots-pipeline';
  await checkTemplate(client, namespace, template, { ...parameters, [scanParameter.name]: '' }, s.io.signal);
  const spec: RunSpec = {
    run,
    namespace,
    environment: o.env,
    base: dist.run?.object,
    scanParameter: scanParameter.name,
    parameters,
    batches: batches.length,
    scans: scans.length,
    submitter: await submitterOf(s, client),
  };
  const flags = s.flagsForHint(namespace);
  const restart = `npx sleap-roots submit --env ${o.env} --scans ${o.scans} --batch-size ${batchSize}${o.maxInFlight ? ` --max-in-flight ${maxInFlight}` : ''} --run ${run} ${flags}`;
  if (s.json) s.io.stdout.write(JSON.stringify({ type: 'run', run, namespace, scans: scans.length, batches: batches.length, batchSize, maxInFlight: o.maxInFlight ? maxInFlight : undefined }) + '\n');
  else s.io.stdout.write(`Run ${s.style.bold(run)}: ${scans.length} scans in ${batches.length} batch${batches.length === 1 ? '' : 'es'} of ${batchSize}${o.maxInFlight ? `, at most ${maxInFlight} unfinished at once` : ''}, namespace "${namespace}"\n  stopped? the same command with --run continues it: ${restart}\n`);
  const printer = new ProgressPrinter(s, batches.length);
  const logs = o.logs ? new BatchLogs(s, client, namespace, o) : undefined;
  try {
    const result = await dispatchRun(client, {
      namespace,
      run,
      maxInFlight,
      untilFinished: !!(o.watch || o.logs),
      batches: batches.length,
      signal: s.io.signal,
      plan: () => batches.map((b): RunItem => ({ batch: b.index, attempt: 0, build: () => batchWorkflow(spec, b) })),
      check: (w) => checkBatch(run, batches, w.batch, w.digest, w.runBatches),
      onSubmitted: (w, created) => {
        if (s.json) s.io.stdout.write(JSON.stringify({ type: 'submitted', run, batch: w.batch, name: w.name, existed: !created }) + '\n');
        else if (s.opts.verbose) s.io.stderr.write(`note: ${created ? 'submitted' : 'already there (an earlier answer was lost)'}: ${w.name}\n`);
      },
      onChange: (state) => {
        printer.update(state);
        logs?.follow(state);
      },
      onReconnect: (n) => s.opts.verbose && s.io.stderr.write(`note: watch of run ${run} ${n.reason}; ${n.reason === 'expired' ? 'listing again' : `resuming from resourceVersion ${n.resourceVersion}`}\n`),
    });
    return finish(s, result, printer, namespace, batches.length, restart);
  } finally {
    await logs?.close();
  }
}

/** A workflow of the run must be the batch these scans make. @throws UserError */
function checkBatch(run: string, batches: readonly Batch[], index: number, digest: string | undefined, runBatches: number | undefined): void {
  const hint = `a run is its scans: use the same --scans and --batch-size to continue run ${run}, or another --run id`;
  if (runBatches !== undefined && runBatches !== batches.length) {
    throw new UserError(`run "${run}" on the cluster has ${runBatches} batches; these scans make ${batches.length}`, hint);
  }
  const b = batches[index];
  if (!b || (digest !== undefined && digest !== b.digest)) {
    throw new UserError(`batch ${index} of run "${run}" on the cluster was submitted with other scans (${digest ?? 'no digest'}, these give ${b?.digest ?? 'no such batch'})`, hint);
  }
}

/** `watch --run ID [--logs]`. */
export async function watchRunCommand(s: Session, run: string, o: { env?: string; logs?: boolean; logFile?: string; writeLogFile?: boolean }): Promise<number> {
  checkRunId(run);
  const namespace = await s.namespace(o.env);
  const client = await s.client();
  const printer = new ProgressPrinter(s);
  const logs = o.logs ? new BatchLogs(s, client, namespace, o) : undefined;
  try {
    const result = await dispatchRun(client, {
      namespace,
      run,
      untilFinished: true,
      signal: s.io.signal,
      plan: (state) => {
        if (state.size === 0) throw new UserError(`no workflows of run "${run}" in namespace "${namespace}"`, 'list runs: npx sleap-roots list');
        return [];
      },
      onChange: (state) => {
        printer.update(state);
        logs?.follow(state);
      },
    });
    return finish(s, result, printer, namespace, undefined, `npx sleap-roots watch --run ${run} ${s.flagsForHint(namespace)}${o.logs ? ' --logs' : ''}`);
  } finally {
    await logs?.close();
  }
}

/** `resubmit --run ID --failed [--max-in-flight M] [--watch]`. */
export async function resubmitRunCommand(s: Session, run: string, o: { env?: string; failed?: boolean; maxInFlight?: string; watch?: boolean }): Promise<number> {
  checkRunId(run);
  if (!o.failed) throw new UserError(`resubmit --run ${run}: say which batches: --failed`, 'batches that succeeded are not run again');
  const maxInFlight = wholeNumber('--max-in-flight', o.maxInFlight, Number.MAX_SAFE_INTEGER);
  const namespace = await s.namespace(o.env);
  const client = await s.client();
  const submitter = await submitterOf(s, client);
  const printer = new ProgressPrinter(s);
  let planned = 0;
  const result = await dispatchRun(client, {
    namespace,
    run,
    maxInFlight,
    untilFinished: !!o.watch,
    signal: s.io.signal,
    plan: (state) => {
      if (state.size === 0) throw new UserError(`no workflows of run "${run}" in namespace "${namespace}"`, 'list runs: npx sleap-roots list');
      const total = batchCount(state) ?? 0;
      const items: RunItem[] = [];
      for (const b of state.batches()) {
        const latest = state.latest(b);
        if (!latest || state.stateOf(b) !== 'failed') continue;
        items.push({
          batch: b,
          attempt: latest.attempt + 1,
          build: async () => repeatWorkflow(await client.json<Workflow>({ path: resourcePath(KINDS.Workflow, namespace, latest.name), signal: s.io.signal }), latest.attempt + 1, total, submitter),
        });
      }
      planned = items.length;
      if (!s.json) s.io.stdout.write(planned === 0 ? `No failed batches in run ${run}.\n` : `Resubmitting ${planned} failed batch${planned === 1 ? '' : 'es'} of run ${run}: ${items.slice(0, 10).map((i) => batchName(run, i.batch, i.attempt, total)).join(', ')}${planned > 10 ? ` and ${planned - 10} more` : ''}\n`);
      return items;
    },
    onSubmitted: (w, created) => {
      if (s.json) s.io.stdout.write(JSON.stringify({ type: 'submitted', run, batch: w.batch, attempt: w.attempt, name: w.name, existed: !created }) + '\n');
    },
    onChange: (state) => printer.update(state),
  });
  if (result.type === 'submitted' && planned === 0) return 0;
  return finish(s, result, printer, namespace, undefined, `npx sleap-roots watch --run ${run} ${s.flagsForHint(namespace)}`);
}

/** The run a workflow belongs to, if any (for `list`). */
export function runOf(wf: Workflow): string | undefined {
  return wf.metadata.labels?.[RUN_LABEL];
}
