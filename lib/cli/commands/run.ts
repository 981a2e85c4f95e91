/**
 * `submit`, `resubmit`, `watch` and `logs`: creating workflows and following them (the live DAG
 * view, the logs into the terminal and the log file).
 */
import * as path from 'node:path';
import { UserError, isStatus } from '../../cluster/errors';
import { captureLogs, type LogSummary } from '../../cluster/logs';
import { PIPELINE_TEMPLATE_NAME } from '../../cluster/labels';
import { FORCE_RERUN_PARAMETER } from '../../names';
import { KINDS, resourcePath } from '../../cluster/resources';
import { parseParameters, resubmit, submit, whoAmI, type Submitter } from '../../cluster/submit';
import { followWorkflow } from '../../cluster/workflow-watch';
import type { Workflow } from '../../cluster/workflow';
import { isCompleted } from '../../cluster/workflow';
import type { KubeClient } from '../../cluster/http';
import { fileStamp } from '../format';
import { openAppendFile, type FileWriter } from '../io';
import { LogWriter } from '../log-writer';
import type { Session } from '../session';
import { WorkflowDisplay } from '../workflow-view';

/** Exit code after Ctrl-C detached from a running workflow. */
export const EXIT_DETACHED = 130;

/** Options of following a workflow. */
export interface AttachOptions {
  /** Live DAG view. */
  readonly watch?: boolean;
  /** Step logs to the terminal and the log file. */
  readonly logs?: boolean;
  /** The log file. @default workflow_logs_<YYYYmmdd_HHMMSS>.txt */
  readonly logFile?: string;
  /** false with --no-log-file. */
  readonly writeLogFile?: boolean;
  readonly timestamps?: boolean;
}

/** Options of submit. */
export interface SubmitCommandOptions extends AttachOptions {
  readonly env: string;
  readonly param?: readonly string[];
  readonly dryRun?: boolean;
  /** Run every step again despite success markers. */
  readonly forceRerun?: boolean;
}

async function submitter(s: Session, client: KubeClient): Promise<Submitter> {
  const local = s.io.localUser ? `${s.io.localUser}${s.io.hostName ? `@${s.io.hostName}` : ''}` : undefined;
  return { kubernetesUser: await whoAmI(client, s.io.signal), localUser: local, tool: `sleap-roots-cli ${s.io.version}` };
}

/** `submit --env <name>`. */
export async function submitCommand(s: Session, o: SubmitCommandOptions): Promise<number> {
  const parameters = parseParameters(o.param ?? []);
  if (o.forceRerun) parameters[FORCE_RERUN_PARAMETER] = 'true';
  const dist = s.readDist(o.env);
  const namespace = s.opts.namespace ?? dist.namespace;
  const client = await s.client();
  const wf = await submit(client, {
    namespace,
    environment: o.env,
    base: dist.run?.object,
    parameters,
    submitter: await submitter(s, client),
    dryRun: o.dryRun,
    signal: s.io.signal,
  });
  return afterCreate(s, client, wf, namespace, o);
}

/** Options of resubmit. */
export interface ResubmitCommandOptions extends AttachOptions {
  readonly param?: readonly string[];
  readonly env?: string;
  readonly forceRerun?: boolean;
}

/** `resubmit <workflow>`. */
export async function resubmitCommand(s: Session, name: string, o: ResubmitCommandOptions): Promise<number> {
  const parameters = parseParameters(o.param ?? []);
  const namespace = await s.namespace(o.env);
  const client = await s.client();
  const wf = await resubmit(client, { name, namespace, parameters, forceRerun: o.forceRerun, submitter: await submitter(s, client), signal: s.io.signal });
  return afterCreate(s, client, wf, namespace, o, name);
}

async function afterCreate(s: Session, client: KubeClient, wf: Workflow, namespace: string, o: AttachOptions & { dryRun?: boolean }, from?: string): Promise<number> {
  const name = wf.metadata.name ?? '';
  if (s.opts.output === 'name') s.io.stdout.write(`${name}\n`);
  else if (s.json) s.io.stdout.write(JSON.stringify({ type: 'submitted', name, namespace, resubmittedFrom: from, dryRun: !!o.dryRun }) + '\n');
  else {
    const params = wf.spec?.arguments?.parameters ?? [];
    s.io.stdout.write(
      `${o.dryRun ? 'Would submit' : 'Submitted'} ${s.style.bold(name)} to namespace "${namespace}"${from ? ` (repeating ${from})` : ''}${params.length ? ` with ${params.map((p) => `${p.name}=${p.value ?? ''}`).join(', ')}` : ''}\n`,
    );
    if (!o.watch && !o.logs && !o.dryRun) {
      const f = s.flagsForHint(namespace);
      s.io.stdout.write(`  watch: npx sleap-roots watch ${name} ${f}\n  logs:  npx sleap-roots logs ${name} ${f} --follow\n`);
    }
  }
  if (o.dryRun || (!o.watch && !o.logs)) return 0;
  return attach(s, client, name, namespace, o);
}

/** `watch <workflow>`: re-attach to a running (or finished) workflow. */
export async function watchCommand(s: Session, name: string, o: AttachOptions & { env?: string }): Promise<number> {
  const namespace = await s.namespace(o.env);
  const client = await s.client();
  await mustExist(s, client, name, namespace);
  return attach(s, client, name, namespace, { ...o, watch: true });
}

/** Fails with a clear message when the workflow does not exist (before any log file is created). */
async function mustExist(s: Session, client: KubeClient, name: string, namespace: string): Promise<void> {
  try {
    await client.json({ path: resourcePath(KINDS.Workflow, namespace, name), signal: s.io.signal });
  } catch (e) {
    if (isStatus(e, 404)) throw new UserError(`workflow "${name}" is not in namespace "${namespace}"`, 'list recent ones: npx sleap-roots list');
    throw e;
  }
}

/** `logs <workflow>`. */
export async function logsCommand(s: Session, name: string, o: AttachOptions & { follow?: boolean; env?: string }): Promise<number> {
  const namespace = await s.namespace(o.env);
  const client = await s.client();
  await mustExist(s, client, name, namespace);
  if (o.follow) return attach(s, client, name, namespace, { ...o, logs: true, watch: false }, true);
  const { writer, file, fileName } = openLogs(s, o);
  try {
    const summary = await captureLogs(client, {
      namespace,
      workflow: name,
      follow: false,
      sink: writer,
      signal: s.io.signal,
      onNotice: (m) => s.io.stderr.write(`note: ${m}\n`),
    });
    reportLogSummary(s, summary, fileName);
    return 0;
  } finally {
    file?.close();
  }
}

function openLogs(s: Session, o: AttachOptions, print?: (text: string) => void): { writer: LogWriter; file?: FileWriter; fileName?: string } {
  const fileName = o.writeLogFile === false ? undefined : path.resolve(s.io.cwd, o.logFile ?? `workflow_logs_${fileStamp(s.io.now())}.txt`);
  const file = fileName ? (s.io.openAppend ?? openAppendFile)(fileName) : undefined;
  const writer = new LogWriter({
    file,
    terminal: print ?? ((t) => s.io.stdout.write(t)),
    json: s.json,
    style: s.style,
    timestamps: o.timestamps,
    redactor: s.redactor,
  });
  return { writer, file, fileName };
}

function reportLogSummary(s: Session, summary: LogSummary, fileName: string | undefined): void {
  const text = `${summary.lines} lines from ${summary.pods} pod${summary.pods === 1 ? '' : 's'}${fileName ? ` written to ${fileName}` : ''}`;
  if (s.json) s.io.stderr.write(`${text}\n`);
  else s.io.stderr.write(`${s.style.dim(text)}\n`);
}

/** Follows a workflow: live view and/or logs, until it completes or Ctrl-C detaches. */
async function attach(s: Session, client: KubeClient, name: string, namespace: string, o: AttachOptions, logsOnly = false): Promise<number> {
  const flags = s.flagsForHint(namespace);
  const hints = { logs: `npx sleap-roots logs ${name} ${flags}`, retry: `npx sleap-roots retry ${name} ${flags}  (or: npx sleap-roots resubmit ${name} ${flags})` };
  const template = o.watch ? await readTemplate(client, namespace) : undefined;
  const display = new WorkflowDisplay({ io: s.io, style: s.style, mode: o.watch ? s.mode : s.json ? 'json' : 'plain', template });
  const reattach = `npx sleap-roots ${logsOnly ? 'logs' : 'watch'} ${name} ${flags}${logsOnly ? ' --follow' : o.logs ? ' --logs' : ''}`;
  let file: FileWriter | undefined;
  try {
    if (o.logs) {
      const opened = openLogs(s, o, (t) => display.print(t));
      file = opened.file;
      if (opened.fileName && !s.json) s.io.stderr.write(`${s.style.dim(`logs: ${opened.fileName}`)}\n`);
      const summary = await captureLogs(client, {
        namespace,
        workflow: name,
        follow: true,
        sink: opened.writer,
        signal: s.io.signal,
        onNotice: (m) => display.notice(m),
        onWorkflow: o.watch ? (wf) => display.update(wf) : undefined,
      });
      if (!summary.detached && (!summary.workflow || !isCompleted(summary.workflow))) {
        display.close();
        throw new UserError(`workflow "${name}" was deleted before it finished`, opened.fileName ? `logs so far: ${opened.fileName}` : undefined);
      }
      if (summary.detached || !summary.workflow) {
        display.detach(name, reattach, opened.fileName ? `  logs so far: ${opened.fileName}\n` : '');
        return EXIT_DETACHED;
      }
      if (logsOnly) {
        display.close();
        reportLogSummary(s, summary, opened.fileName);
        return 0;
      }
      const code = display.complete(summary.workflow, hints);
      reportLogSummary(s, summary, opened.fileName);
      return code;
    }
    const result = await followWorkflow(client, {
      namespace,
      name,
      signal: s.io.signal,
      onChange: (wf) => display.update(wf),
      onReconnect: (n) => s.opts.verbose && display.notice(`watch ${n.reason}; ${n.reason === 'expired' ? 'listing again' : `resuming from resourceVersion ${n.resourceVersion}`}`),
    });
    if (result.type === 'detached') {
      display.detach(name, reattach);
      return EXIT_DETACHED;
    }
    return display.complete(result.workflow, hints);
  } catch (e) {
    display.close();
    throw e;
  } finally {
    file?.close();
  }
}

async function readTemplate(client: KubeClient, namespace: string): Promise<Workflow | undefined> {
  try {
    return await client.json<Workflow>({ path: resourcePath(KINDS.WorkflowTemplate, namespace, PIPELINE_TEMPLATE_NAME), maxAttempts: 2 });
  } catch {
    return undefined; // only used to list tasks that have not started yet
  }
}
