/**
 * The process side of the `sleap-roots` command: the only place that reads process.env,
 * process.argv and the terminal, and turns Ctrl-C into an AbortSignal. Everything else is
 * lib/cli (see runCli), which gets these as options.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../lib/cli/program';
import { defaultEvery, type CliIO } from '../lib/cli/io';
import { proxyEnvironmentOf } from '../lib/cluster/auth/proxy';
import { version } from '../package.json';

/** Runs the CLI for this process. `projectRoot` is where dist/ is found when ./dist is absent. */
export async function main(projectRoot: string = path.join(__dirname, '..')): Promise<void> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts > 1) {
      if (process.stdout.isTTY) process.stdout.write('\x1b[?25h\n');
      process.exit(130);
    }
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const env = process.env;
  const io: CliIO = {
    stdout: { write: (t) => void process.stdout.write(t) },
    stderr: { write: (t) => void process.stderr.write(t) },
    isTTY: !!process.stdout.isTTY,
    columns: process.stdout.columns,
    env: {
      KUBECONFIG: env.KUBECONFIG,
      SLEAP_ROOTS_TOKEN: env.SLEAP_ROOTS_TOKEN,
      NO_COLOR: env.NO_COLOR,
      FORCE_COLOR: env.FORCE_COLOR,
      KUBERNETES_SERVICE_HOST: env.KUBERNETES_SERVICE_HOST,
      KUBERNETES_SERVICE_PORT: env.KUBERNETES_SERVICE_PORT,
      POD_NAMESPACE: env.POD_NAMESPACE,
      ...proxyEnvironmentOf(env),
    },
    // Exec credential plugins get the process's environment, stdin and stderr, as kubectl gives them.
    processEnv: env,
    stdin: 'inherit',
    stdinIsTTY: !!process.stdin.isTTY,
    execStderr: 'inherit',
    cwd: process.cwd(),
    homeDir: safe(() => os.homedir()),
    pathDelimiter: path.delimiter,
    projectRoot,
    now: () => Date.now(),
    signal: controller.signal,
    localUser: safe(() => os.userInfo().username),
    hostName: safe(() => os.hostname()),
    version,
    every: defaultEvery,
    readStdin: async () => {
      let text = '';
      process.stdin.setEncoding('utf8');
      for await (const chunk of process.stdin) text += chunk as string;
      return text;
    },
  };
  const code = await runCli(process.argv.slice(2), io);
  process.exitCode = code;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  // Nothing should keep the process alive now; if something does, do not hang the shell.
  setTimeout(() => process.exit(code), 2000).unref();
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}
