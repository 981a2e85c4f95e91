/**
 * The `sleap-roots` command line: commander wiring of the commands in ./commands.
 *
 * Exit codes: 0 success; 1 failure (API error, failed workflow, failed check); 2 usage error
 * (an unknown command too, with or without --help); 3 `retry` not performed (it says which
 * command does it); 130 detached with Ctrl-C (the workflow keeps running). `diff` follows
 * `kubectl diff`: 0 no differences, 1 differences, 2 any error.
 */
import { Command, CommanderError, Option } from 'commander';
import { UserError, formatError, isAbortError } from '../cluster/errors';
import { deployCommand } from './commands/deploy';
import { EXIT_DIFF_ERROR, diffCommand } from './commands/diff';
import { doctorCommand } from './commands/doctor';
import { importCommand } from './commands/import';
import { listCommand, statusCommand } from './commands/inspect';
import { reportCommand } from './commands/report';
import { retryCommand } from './commands/retry';
import { EXIT_DETACHED, logsCommand, resubmitCommand, submitCommand, watchCommand } from './commands/run';
import { resubmitRunCommand, submitRunCommand, watchRunCommand } from './commands/runs';
import type { CliIO } from './io';
import { Session, type GlobalOptions } from './session';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Adds the options every command takes: connection, output, dist/. */
function withCommon(cmd: Command, outputs: readonly string[] = ['text', 'json'], defaultOutput = 'text'): Command {
  return cmd
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default: its current context)')
    .option('-n, --namespace <ns>', "namespace (default: the environment's, else the context's)")
    .option('--server <url>', 'API server URL, for the token flow (no kubeconfig needed)')
    .option('--token <token>', 'bearer token, with or without "Bearer " (prefer $SLEAP_ROOTS_TOKEN: a flag is visible in ps)')
    .option('--insecure-skip-tls-verify', "do not verify the server's certificate (test clusters only)")
    .option('--certificate-authority <file>', "CA bundle for the server's certificate")
    .option('--request-timeout <seconds>', 'timeout of each ordinary request', '30')
    .addOption(new Option('-o, --output <format>', outputs.includes('name') ? 'output format; name prints only the workflow name' : 'output format').choices([...outputs]).default(defaultOutput))
    .option('--no-color', 'no colours (also: NO_COLOR=1)')
    .option('--dist <dir>', 'folder of the synthesized manifests (default: ./dist)')
    .option('-v, --verbose', 'report retries and reconnects');
}

function logOptions(cmd: Command): Command {
  return cmd
    .option('--log-file <file>', 'log file (default: workflow_logs_<YYYYmmdd_HHMMSS>.txt, as the seed wrote)')
    .option('--no-log-file', 'write logs to the terminal only')
    .option('--timestamps', 'prefix log lines with their timestamps');
}

/** How an action ends on an error. */
interface RunOptions {
  /** The exit code of an error (printed as usual). @default 1 */
  readonly errorExitCode?: number;
}

/** Wraps a command's implementation as a commander action that gets a new Session. */
type Run = <A extends unknown[]>(fn: (s: Session, ...args: A) => Promise<number>, options?: RunOptions) => (...args: unknown[]) => Promise<void>;

/** The actions' shared state: the exit code of the last one, and the sessions to close. */
interface Runner {
  readonly run: Run;
  readonly sessions: readonly Session[];
  exitCode(): number;
}

/** Makes `run`: an error is printed (its stack too under --verbose) and gives 1 (or `errorExitCode`); Ctrl-C gives EXIT_DETACHED. */
function createRunner(io: CliIO): Runner {
  let exitCode = 0;
  const sessions: Session[] = [];
  const run: Run =
    <A extends unknown[]>(fn: (s: Session, ...args: A) => Promise<number>, options: RunOptions = {}) =>
    async (...args: unknown[]): Promise<void> => {
      const cmd = args[args.length - 1] as Command;
      const rest = args.slice(0, -1) as A;
      const opts = cmd.opts() as GlobalOptions;
      let session: Session | undefined;
      try {
        session = new Session(io, opts);
        sessions.push(session);
        exitCode = await fn(session, ...rest);
      } catch (e) {
        if (isAbortError(e) || io.signal?.aborted) {
          exitCode = EXIT_DETACHED;
          return;
        }
        const err = session?.io.stderr ?? io.stderr;
        err.write(`${formatError(e, session?.redactor)}\n`);
        if (opts.verbose && e instanceof Error && !['ApiError', 'NetworkError', 'UserError'].includes(e.name) && e.stack) {
          err.write(`${e.stack}\n`);
        }
        exitCode = options.errorExitCode ?? 1;
      }
    };
  return { run, sessions, exitCode: () => exitCode };
}

function addDeployCommand(program: Command, run: Run): void {
  withCommon(
    program
      .command('deploy')
      .description('server-side apply dist/<env>/ (field manager sleap-roots), in dependency order')
      .requiredOption('-e, --env <name>', 'environment (dist/<env>/)')
      .option('--dry-run', 'send dryRun=All: the server validates everything and stores nothing')
      .option('--force-conflicts', 'take over fields another field manager owns')
      .option('--prune', 'delete objects of this environment (by label) that dist/<env>/ no longer has')
      .option('--reset-semaphores', "apply dist/'s semaphore limits over live ones (by default a deploy keeps limits retuned on the cluster)"),
  ).action(run((s, o: { env: string; dryRun?: boolean; forceConflicts?: boolean; prune?: boolean; resetSemaphores?: boolean }) => deployCommand(s, o)));
}

function addDiffCommand(program: Command, run: Run): void {
  withCommon(
    program
      .command('diff')
      .description('what deploy would change: live objects against a server-side dry run of dist/<env>/ as a unified diff, like kubectl diff (exit 1 if any differ)')
      .requiredOption('-e, --env <name>', 'environment (dist/<env>/)')
      .option('--force-conflicts', 'diff as deploy --force-conflicts would apply: take over fields another field manager owns'),
  ).action(run((s, o: { env: string; forceConflicts?: boolean }) => diffCommand(s, o), { errorExitCode: EXIT_DIFF_ERROR }));
}

function addSubmitCommand(program: Command, run: Run): void {
  logOptions(
    withCommon(
      program
        .command('submit')
        .description('run the pipeline: create a Workflow from the sleap-roots-pipeline template')
        .requiredOption('-e, --env <name>', 'environment (dist/<env>/)')
        .option('-p, --param <key=value>', 'workflow parameter (repeatable)', collect)
        .option('-w, --watch', 'live view of the DAG until it finishes (Ctrl-C detaches)')
        .option('-l, --logs', 'follow the logs of every step into the terminal and the log file')
        .option('--dry-run', 'send dryRun=All: validate, create nothing')
        .option('--force-rerun', 'run every step again, ignoring success markers of earlier runs (-p force-rerun=true)')
        .option('--scans <file>', "a run of batches: scan ids, one per line ('-' for stdin), one Workflow per batch")
        .option('--batch-size <n>', 'with --scans: scans per batch (workflow)')
        .option('--max-in-flight <m>', 'with --scans: at most this many unfinished batches at once; the rest are submitted as earlier ones finish')
        .option('--run <id>', 'with --scans: the run id (default: run-<date>-<time>); the same id and scans continue a stopped submit')
        .option('--scan-parameter <name>', "with --scans: the workflow parameter that gets each batch's scan ids, comma-separated (default: the fan-out's parameter)"),
      ['text', 'json', 'name'],
    ),
  ).action(
    run((s, o: SubmitFlags) => {
      if (o.scans !== undefined) return submitRunCommand(s, { ...logFileOptions(o), scans: o.scans });
      const only = (['batchSize', 'maxInFlight', 'run', 'scanParameter'] as const).find((k) => o[k] !== undefined);
      if (only) throw new UserError(`--${only.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --scans`);
      return submitCommand(s, logFileOptions(o));
    }),
  );
}

function addWatchCommand(program: Command, run: Run): void {
  logOptions(
    withCommon(
      program
        .command('watch')
        .description('live view of a workflow until it finishes (re-attach after Ctrl-C)')
        .argument('[workflow]', 'workflow name')
        .option('-e, --env <name>', 'environment (for its namespace)')
        .option('--run <id>', 'the whole run of batches instead: batches and scans, time so far and left')
        .option('-l, --logs', 'also follow the logs of every step'),
    ),
  ).action(
    run((s, name: string | undefined, o: { env?: string; run?: string; logs?: boolean; logFile?: string | false; timestamps?: boolean }) => {
      if (o.run !== undefined && name === undefined) return watchRunCommand(s, o.run, logFileOptions(o));
      if (o.run !== undefined || name === undefined) throw new UserError('watch takes a workflow name or --run <id>, not both');
      return watchCommand(s, name, logFileOptions(o));
    }),
  );
}

function addLogsCommand(program: Command, run: Run): void {
  logOptions(
    withCommon(
      program
        .command('logs')
        .description('logs of every step pod of a workflow (retries included), prefixed by step and attempt, also into a log file')
        .argument('<workflow>', 'workflow name')
        .option('-e, --env <name>', 'environment (for its namespace)')
        .option('-f, --follow', 'keep following until the workflow finishes'),
    ),
  ).action(run((s, name: string, o: { env?: string; follow?: boolean; logFile?: string | false; timestamps?: boolean }) => logsCommand(s, name, logFileOptions(o))));
}

function addStatusCommand(program: Command, run: Run): void {
  withCommon(
    program
      .command('status')
      .alias('get')
      .description('one workflow in detail: phase, progress, each step with its attempts (default: the most recent)')
      .argument('[workflow]', 'workflow name')
      .option('-e, --env <name>', 'environment (for its namespace and to pick the most recent)'),
  ).action(run((s, name: string | undefined, o: { env?: string }) => statusCommand(s, name, o)));
}

function addListCommand(program: Command, run: Run): void {
  withCommon(
    program
      .command('list')
      .alias('ls')
      .description("recent workflows of the pipeline with phase, progress and duration")
      .option('-e, --env <name>', 'only this environment')
      .option('--limit <n>', 'at most this many, newest first', '20'),
  ).action(run((s, o: { env?: string; limit?: string }) => listCommand(s, o)));
}

function addResubmitCommand(program: Command, run: Run): void {
  logOptions(
    withCommon(
      program
        .command('resubmit')
        .description('a new workflow with the same template and parameters as an earlier one')
        .argument('[workflow]', 'workflow name')
        .option('-e, --env <name>', 'environment (for its namespace)')
        .option('--run <id>', 'a run of batches instead (with --failed)')
        .option('--failed', "with --run: a new workflow for each batch whose latest workflow failed (the old ones are kept)")
        .option('--max-in-flight <m>', 'with --run: at most this many unfinished batches at once')
        .option('-p, --param <key=value>', 'change a parameter (repeatable)', collect)
        .option('--force-rerun', 'run every step again; without it finished steps (success markers) are skipped')
        .option('-w, --watch', 'live view until it finishes')
        .option('-l, --logs', 'follow the logs of every step'),
      ['text', 'json', 'name'],
    ),
  ).action(
    run((s, name: string | undefined, o: ResubmitFlags) => {
      if (o.run !== undefined && name === undefined) {
        if (o.forceRerun) throw new UserError('--force-rerun cannot be given with --run: the failed batches rerun with the spec they had', 'to redo finished work, submit a new run with the same scans');
        return resubmitRunCommand(s, o.run, o);
      }
      if (o.run !== undefined || name === undefined) throw new UserError('resubmit takes a workflow name or --run <id> --failed, not both');
      if (o.failed || o.maxInFlight !== undefined) throw new UserError(`--${o.failed ? 'failed' : 'max-in-flight'} needs --run <id>`);
      return resubmitCommand(s, name, logFileOptions(o));
    }),
  );
}

function addRetryCommand(program: Command, run: Run): void {
  withCommon(
    program
      .command('retry')
      .description('rerun only the failed steps: says which argo command does it (see the help)')
      .argument('<workflow>', 'workflow name')
      .option('-e, --env <name>', 'environment (for its namespace)'),
  ).action(run((s, name: string, o: { env?: string }) => retryCommand(s, name, o)));
}

function addReportCommand(program: Command, run: Run): void {
  withCommon(
    program
      .command('report')
      .description('one file a biologist reads: every step attempt on a timeline, each scan\'s outcome (failures with exit code and log tail), GPU hours by step, the slowest scans')
      .argument('[workflow]', 'workflow name')
      .option('--run <id>', 'every workflow of a run (label sleap-roots.io/run=<id>) instead of one')
      .option('-e, --env <name>', 'environment (for its namespace)')
      .option('--out <file>', 'write here; - for stdout (default: html to sleap-roots-report-<name>.html, json and md to stdout)'),
    ['html', 'json', 'md'],
    'html',
  ).action(run((s, name: string | undefined, o: { run?: string; env?: string; out?: string }) => reportCommand(s, name, o)));
}

function addDoctorCommand(program: Command, run: Run): void {
  withCommon(
    program
      .command('doctor')
      .description('check the cluster for everything dist/<env>/ needs; one line per check with its fix')
      .requiredOption('-e, --env <name>', 'environment (dist/<env>/)')
      .option('--gpu-resource <name>', 'extended resource of a whole GPU for Run:AI fraction/memory requests', 'nvidia.com/gpu'),
  ).action(run((s, o: { env: string; gpuResource?: string }) => doctorCommand(s, o)));
}

function addImportCommand(program: Command, run: Run): void {
  program
    .command('import')
    .description('write an environment file from hand-written Argo YAML (step WorkflowTemplates and a DAG Workflow), correcting and explaining its pitfalls')
    .argument('<file...>', 'YAML files (or folders of them) holding the WorkflowTemplates and the DAG; multi-document files too')
    .option('-o, --output-file <file>', 'write the environment file here (e.g. environments/<name>.yaml) instead of stdout')
    .option('-n, --namespace <ns>', "namespace to write (default: the DAG's)")
    .option('--no-gpu', 'the cluster has no GPU: drop every GPU request (default for Docker Desktop hostPaths)')
    .option('--force', 'overwrite an existing output file')
    .action(run((s, files: string[], o: { outputFile?: string; namespace?: string; gpu?: boolean; force?: boolean }) => importCommand(s, files, o)));
}

/** Flags of submit (one workflow, or a run of batches with --scans). */
interface SubmitFlags {
  env: string;
  param?: string[];
  watch?: boolean;
  logs?: boolean;
  dryRun?: boolean;
  forceRerun?: boolean;
  logFile?: string | false;
  timestamps?: boolean;
  scans?: string;
  batchSize?: string;
  maxInFlight?: string;
  run?: string;
  scanParameter?: string;
}

/** Flags of resubmit (one workflow, or the failed batches of a run). */
interface ResubmitFlags {
  env?: string;
  param?: string[];
  forceRerun?: boolean;
  watch?: boolean;
  logs?: boolean;
  logFile?: string | false;
  timestamps?: boolean;
  run?: string;
  failed?: boolean;
  maxInFlight?: string;
}

/** The commands, in the order the help lists them. */
const COMMANDS: readonly ((program: Command, run: Run) => void)[] = [
  addDeployCommand,
  addDiffCommand,
  addSubmitCommand,
  addWatchCommand,
  addLogsCommand,
  addStatusCommand,
  addListCommand,
  addResubmitCommand,
  addRetryCommand,
  addReportCommand,
  addDoctorCommand,
  addImportCommand,
];

/** The program with all commands; commander's output goes to `io`, and it throws instead of exiting. */
function createProgram(io: CliIO, run: Run): Command {
  const program = new Command('sleap-roots')
    .description('Deploy, run, watch and troubleshoot the SLEAP-roots pipeline on a Kubernetes cluster with Argo Workflows.')
    .version(io.version, '--version')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (t) => io.stdout.write(t), writeErr: (t) => io.stderr.write(t) });
  for (const add of COMMANDS) add(program, run);
  return program;
}

/**
 * Runs the CLI with `argv` (without node and the script) and returns the exit code.
 * Never throws and never exits the process.
 */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const runner = createRunner(io);
  const program = createProgram(io, runner.run);
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return 2;
    }
    const unknown = unknownCommandOf(program, argv);
    if (unknown !== undefined) {
      // commander would print the general help and exit 0 for `frobnicate --help`.
      io.stderr.write(`error: unknown command '${unknown}'${suggestion(unknown, commandNames(program))}\n\n`);
      program.outputHelp({ error: true });
      return 2;
    }
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return e.exitCode === 0 ? 0 : 2;
    }
    io.stderr.write(`${formatError(e)}\n`);
    return 1;
  } finally {
    for (const s of runner.sessions) await s.close();
  }
  return runner.exitCode();
}

/** Names and aliases of the program's commands. */
function commandNames(program: Command): string[] {
  return program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
}

/**
 * The command `argv` names when the program has no such command: `frobnicate` in `frobnicate`,
 * `frobnicate --help`, `--help frobnicate` and `help frobnicate`. The program's own options
 * (--version, -h/--help) take no value, so the first word that is not an option is the command.
 */
function unknownCommandOf(program: Command, argv: readonly string[]): string | undefined {
  let i = 0;
  while (argv[i] === '-h' || argv[i] === '--help') i++;
  let word = argv[i];
  if (word === 'help') word = argv[i + 1];
  if (word === undefined || word.startsWith('-')) return undefined;
  return commandNames(program).includes(word) ? undefined : word;
}

/** `\n(Did you mean deploy?)` for a near miss (edit distance at most 2 and under half the name), else ''. */
function suggestion(word: string, names: readonly string[]): string {
  let best: { name: string; d: number } | undefined;
  for (const name of names) {
    const d = editDistance(word, name);
    if (d <= 2 && d < name.length / 2 && (!best || d < best.d)) best = { name, d };
  }
  return best ? `\n(Did you mean ${best.name}?)` : '';
}

/** Levenshtein distance with adjacent transpositions (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** commander gives `logFile: false` for --no-log-file. */
function logFileOptions<T extends { logFile?: string | false }>(o: T): Omit<T, 'logFile'> & { logFile?: string; writeLogFile: boolean } {
  const { logFile, ...rest } = o;
  return { ...rest, logFile: logFile === false ? undefined : logFile, writeLogFile: logFile !== false };
}
