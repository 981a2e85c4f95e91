/**
 * What the CLI touches outside itself, injected so that tests and benchmarks can drive it:
 * writers, the terminal flag, the environment variables the entry read, the clock, Ctrl-C.
 */
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import type { ProxyEnvironment } from '../cluster/auth/proxy';

/** Somewhere text goes. */
export interface Writer {
  write(text: string): void;
}

/** The environment variables the CLI reads (read by bin/, never by lib/); and the proxy variables. */
export interface CliEnv extends ProxyEnvironment {
  /** Kubeconfig files, separated by the platform's path delimiter. */
  readonly KUBECONFIG?: string;
  /** Bearer token for `--server` (with or without `Bearer `). */
  readonly SLEAP_ROOTS_TOKEN?: string;
  /** Any non-empty value turns colours off (https://no-color.org). */
  readonly NO_COLOR?: string;
  /** Forces colours on even when stdout is not a terminal. */
  readonly FORCE_COLOR?: string;
  /** Set inside a pod: with no kubeconfig, the service account is used (in-cluster configuration). */
  readonly KUBERNETES_SERVICE_HOST?: string;
  readonly KUBERNETES_SERVICE_PORT?: string;
  /** The namespace in-cluster, before the service account's `namespace` file. */
  readonly POD_NAMESPACE?: string;
}

/** Everything the CLI needs from its process. */
export interface CliIO {
  readonly stdout: Writer;
  readonly stderr: Writer;
  /** stdout is a terminal: live displays instead of plain lines. */
  readonly isTTY: boolean;
  /** Terminal width. @default 100 */
  readonly columns?: number;
  readonly env: CliEnv;
  /** Current directory (log files, dist/). */
  readonly cwd: string;
  /** Home directory (for ~/.kube/config). */
  readonly homeDir?: string;
  /** Path separator of KUBECONFIG. @default ':' */
  readonly pathDelimiter?: string;
  /** The folder holding dist/ and environments/ when ./dist is absent (the package root). */
  readonly projectRoot?: string;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** Aborted on Ctrl-C: long commands detach cleanly. */
  readonly signal?: AbortSignal;
  /** Local account name, e.g. `alice`. */
  readonly localUser?: string;
  readonly hostName?: string;
  /** The CLI's version. */
  readonly version: string;
  /** Schedules a repeating callback (spinner, clocks) and returns its cancel. @default setInterval, unref'd */
  readonly every?: (ms: number, fn: () => void) => () => void;
  /** Opens a file for appending. @default node:fs */
  readonly openAppend?: (path: string) => FileWriter;
  /** The whole environment, handed to exec credential plugins (kubectl passes its own). @default {} */
  readonly processEnv?: Readonly<Record<string, string | undefined>>;
  /** stdin for an interactive exec credential plugin: the process's ('inherit') or a stream. @default - none */
  readonly stdin?: 'inherit' | Readable;
  /** stdin is a terminal (an exec plugin's interactiveMode IfAvailable/Always depends on it). @default false */
  readonly stdinIsTTY?: boolean;
  /** 'inherit': exec plugins write to the process's stderr directly. @default - their stderr goes to `stderr` */
  readonly execStderr?: 'inherit';
  /**
   * The service account folder for in-cluster configuration. Tests point it at a folder of their own.
   * @default SERVICE_ACCOUNT_DIR, /var/run/secrets/kubernetes.io/serviceaccount
   */
  readonly serviceAccountDir?: string;
  /** Reads all of standard input (`--scans -`). @default - stdin cannot be read */
  readonly readStdin?: () => Promise<string>;
}

/** An append-only file. */
export interface FileWriter extends Writer {
  close(): void;
}

/** Appends synchronously: every batch is on disk (in the page cache) when write returns. */
export function openAppendFile(path: string): FileWriter {
  const fd = fs.openSync(path, 'a');
  let open = true;
  return {
    write(text: string) {
      if (open) fs.writeSync(fd, text);
    },
    close() {
      if (open) fs.closeSync(fd);
      open = false;
    },
  };
}

/** The default repeating timer; does not keep the process alive. */
export function defaultEvery(ms: number, fn: () => void): () => void {
  const t = setInterval(fn, ms);
  t.unref();
  return () => clearInterval(t);
}
