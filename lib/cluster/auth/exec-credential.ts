/**
 * Exec credential plugins (`users[].user.exec` in a kubeconfig: kubelogin, `runai login`, aws/gke helpers),
 * run the way kubectl runs them: client-go plugin/pkg/client/auth/exec/exec.go.
 *
 * Why not client-node's ExecAuth (1.4, dist/exec_auth.js): it buffers the plugin's stderr and shows it only
 * when the plugin fails, gives the plugin no stdin and no KUBERNETES_EXEC_INFO (so an interactive login,
 * a device-code prompt or a browser flow, waits unseen for an answer that cannot come), ignores
 * interactiveMode and provideClusterInfo, re-runs a plugin that returns no expirationTimestamp on every
 * request (Date.parse(undefined) is NaN), cannot be asked to re-run after a 401, and reads process.env.
 *
 * What client-go does, and this file with it (function names are exec.go's):
 * - isInteractive: `Never` is never interactive; `IfAvailable` (the default) is interactive when stdin is a
 *   terminal; `Always` fails when stdin is not one.
 * - refreshCredsLocked: KUBERNETES_EXEC_INFO holds an ExecCredential of the plugin's apiVersion with
 *   spec.interactive, and spec.cluster when provideClusterInfo; the environment is the process's plus the
 *   kubeconfig's exec.env; stderr goes to the user's stderr; stdin is passed only when interactive. The
 *   answer must have the configured apiVersion and kind ExecCredential, a status, a token or a cert/key
 *   pair, and both or neither of certificate and key.
 * - getCreds / credsExpired: the credential is reused until status.expirationTimestamp (forever without
 *   one). We ask a little earlier, `refreshBeforeExpiryMs` ahead, so that a long command never sends a
 *   token that expires in flight; a plugin that answers with the same soon-expiring credential is not
 *   asked again before that credential's own expiry.
 * - roundTripper.RoundTrip + maybeRefreshCreds: a 401 re-runs the plugin unless another request already
 *   rotated the credential since this one was sent (once per failed request).
 * - the mutex around refreshCredsLocked: one plugin run at a time, so an interactive prompt shows once.
 * - a changed client certificate closes the old connections (connTracker.CloseAll): connection.ts
 *   rebuilds its TLS agent when {@link ExecCredential.clientCertificateData} changes.
 */
import { spawn, type StdioOptions } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import type { Readable } from 'node:stream';
import { UserError } from '../errors';

/** The `exec` stanza of a kubeconfig user. */
export interface ExecConfig {
  readonly apiVersion?: string;
  readonly command?: string;
  readonly args?: readonly string[];
  readonly env?: readonly { readonly name: string; readonly value: string }[] | null;
  /** Never | IfAvailable | Always. @default 'IfAvailable' */
  readonly interactiveMode?: string;
  readonly provideClusterInfo?: boolean;
  readonly installHint?: string;
}

/** What the user's terminal offers a plugin. */
export interface ExecTerminal {
  /** The stdin handed to an interactive plugin: the process's own ('inherit') or a stream. */
  readonly stdin: 'inherit' | Readable;
  /** stdin is a terminal (IfAvailable and Always depend on it). */
  readonly stdinIsTTY: boolean;
  /** Where the plugin's stderr goes: the process's own ('inherit'), or each chunk to a function. */
  readonly stderr: 'inherit' | ((text: string) => void);
}

/** spec.cluster of the ExecCredential (client.authentication.k8s.io Cluster, JSON names). */
export interface ExecClusterInfo {
  readonly server: string;
  readonly 'tls-server-name'?: string;
  readonly 'insecure-skip-tls-verify'?: boolean;
  readonly 'certificate-authority-data'?: string;
  readonly 'proxy-url'?: string;
  /** The cluster's exec extension; null without one (client-go marshals its empty RawExtension as null). */
  readonly config: unknown;
}

/** Options of {@link ExecCredentialPlugin}. */
export interface ExecPluginOptions {
  readonly config: ExecConfig;
  /** The kubeconfig user's name, for messages. */
  readonly userName: string;
  /** Sent as spec.cluster when the config asks for it. */
  readonly cluster: ExecClusterInfo;
  /** The environment the plugin inherits (the CLI's process environment). @default {} */
  readonly environment?: Readonly<Record<string, string | undefined>>;
  /** @default a non-interactive terminal: stdin not a terminal, stderr dropped */
  readonly terminal?: ExecTerminal;
  /** Re-run the plugin this long before the credential expires. @default 10000 */
  readonly refreshBeforeExpiryMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** A credential from the plugin. */
export interface ExecCredential {
  readonly token?: string;
  readonly clientCertificateData?: string;
  readonly clientKeyData?: string;
  /** Milliseconds since the epoch; undefined: does not expire. */
  readonly expiresAt?: number;
}

const API_VERSIONS = new Set(['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1']);

interface Cached {
  readonly credential: ExecCredential;
  /** When to run the plugin again (ms since the epoch), or undefined: never before a 401. */
  readonly refreshAt?: number;
}

/** One kubeconfig user's exec plugin and its cached credential. */
export class ExecCredentialPlugin {
  /** How many times the plugin has run (for tests and verbose output). */
  public runs = 0;
  private cached?: Cached;
  private running?: Promise<ExecCredential>;
  private readonly now: () => number;
  private readonly refreshBeforeMs: number;
  private readonly command: string;
  private readonly apiVersion: string;

  public constructor(private readonly options: ExecPluginOptions) {
    const { config } = options;
    if (!config.command) throw new UserError(`the kubeconfig user "${options.userName}" has an exec plugin without a command`);
    const apiVersion = config.apiVersion ?? '';
    if (!API_VERSIONS.has(apiVersion)) {
      throw new UserError(`exec plugin of user "${options.userName}": invalid apiVersion ${JSON.stringify(apiVersion)}`, 'expected client.authentication.k8s.io/v1 or client.authentication.k8s.io/v1beta1');
    }
    const mode = config.interactiveMode ?? 'IfAvailable';
    if (!['Never', 'IfAvailable', 'Always'].includes(mode)) throw new UserError(`exec plugin of user "${options.userName}": unknown interactiveMode ${JSON.stringify(mode)}`, 'expected Never, IfAvailable or Always');
    this.command = config.command;
    this.apiVersion = apiVersion;
    this.now = options.now ?? Date.now;
    this.refreshBeforeMs = options.refreshBeforeExpiryMs ?? 10_000;
  }

  /** The credential for the next request: cached, or from a new plugin run. */
  public async get(): Promise<ExecCredential> {
    const c = this.cached;
    if (c && (c.refreshAt === undefined || this.now() < c.refreshAt)) return c.credential;
    return this.run();
  }

  /**
   * A request sent with `used` got 401: runs the plugin again, unless the credential was renewed since
   * (client-go maybeRefreshCreds).
   */
  public async unauthorized(used: ExecCredential): Promise<void> {
    if (this.running) {
      await this.running.catch(() => undefined);
      return;
    }
    if (this.cached && this.cached.credential !== used) return;
    await this.run();
  }

  private run(): Promise<ExecCredential> {
    this.running ??= this.execute().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** isInteractive in exec.go. */
  private interactive(): boolean {
    const tty = this.options.terminal?.stdinIsTTY ?? false;
    switch (this.options.config.interactiveMode ?? 'IfAvailable') {
      case 'Never':
        return false;
      case 'Always':
        if (!tty) throw new UserError(`exec plugin ${this.command} cannot support interactive mode: standard input is not a terminal`, 'run the command in a terminal, or log in first');
        return true;
      default:
        return tty;
    }
  }

  private async execute(): Promise<ExecCredential> {
    const interactive = this.interactive();
    const { config, terminal } = this.options;
    const info = {
      kind: 'ExecCredential',
      apiVersion: this.apiVersion,
      spec: { interactive, ...(config.provideClusterInfo ? { cluster: this.options.cluster } : {}) },
    };
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.options.environment ?? {})) if (v !== undefined) env[k] = v;
    for (const e of config.env ?? []) env[e.name] = e.value;
    env.KUBERNETES_EXEC_INFO = JSON.stringify(info);

    const stdinMode = !interactive ? 'ignore' : terminal?.stdin === 'inherit' ? 'inherit' : 'pipe';
    const stderrMode = terminal?.stderr === 'inherit' ? 'inherit' : 'pipe';
    const stdio: StdioOptions = [stdinMode, 'pipe', stderrMode];
    this.runs++;
    const started = this.now();
    const stdout = await new Promise<string>((resolve, reject) => {
      const child = spawn(this.command, [...(config.args ?? [])], { env, stdio });
      const out: Buffer[] = [];
      child.stdout?.on('data', (c: Buffer) => out.push(c));
      const toUser = terminal?.stderr;
      if (child.stderr) child.stderr.on('data', (c: Buffer) => (typeof toUser === 'function' ? toUser(c.toString('utf8')) : undefined));
      if (stdinMode === 'pipe' && child.stdin && terminal && terminal.stdin !== 'inherit') {
        const input = terminal.stdin;
        input.pipe(child.stdin);
        child.stdin.on('error', () => undefined);
        child.once('close', () => input.unpipe(child.stdin ?? undefined));
      }
      child.once('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') {
          reject(new UserError(`exec plugin: executable ${this.command} not found`, config.installHint?.trim() || `It looks like you are trying to use a client-go credential plugin that is not installed.`));
        } else reject(new UserError(`exec plugin ${this.command} could not start: ${e.message}`));
      });
      child.once('close', (code, signal) => {
        if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
        else reject(new UserError(`exec plugin: executable ${this.command} failed with ${signal ? `signal ${signal}` : `exit code ${code}`}`, `the kubeconfig user "${this.options.userName}" logs in with it; its messages are above`));
      });
    });
    const credential = this.decode(stdout);
    // A credential that is already inside the refresh window is used until it actually expires.
    let refreshAt = credential.expiresAt === undefined ? undefined : credential.expiresAt - this.refreshBeforeMs;
    if (refreshAt !== undefined && credential.expiresAt !== undefined && refreshAt <= started) refreshAt = credential.expiresAt;
    this.cached = { credential, refreshAt };
    return credential;
  }

  private decode(stdout: string): ExecCredential {
    const bad = (what: string) => new UserError(`exec plugin ${this.command}: ${what}`);
    let obj: { apiVersion?: unknown; kind?: unknown; status?: Record<string, unknown> | null };
    try {
      obj = JSON.parse(stdout) as typeof obj;
    } catch {
      throw bad('decoding stdout: not an ExecCredential JSON object');
    }
    if (!obj || typeof obj !== 'object') throw bad('decoding stdout: not an ExecCredential JSON object');
    if (obj.kind !== 'ExecCredential') throw bad(`decoding stdout: kind ${JSON.stringify(obj.kind)}, expected ExecCredential`);
    if (obj.apiVersion !== this.apiVersion) throw bad(`the plugin is configured to use API version ${this.apiVersion}, plugin returned version ${String(obj.apiVersion)}`);
    const status = obj.status;
    if (!status || typeof status !== 'object') throw bad("the plugin didn't return a status field");
    const str = (k: string) => (typeof status[k] === 'string' && status[k] !== '' ? (status[k] as string) : undefined);
    const token = str('token');
    const cert = str('clientCertificateData');
    const key = str('clientKeyData');
    if (!token && !cert && !key) throw bad("the plugin didn't return a token or cert/key pair");
    if (!cert !== !key) throw bad('the plugin returned only certificate or key, not both');
    if (cert) {
      try {
        new X509Certificate(cert);
      } catch (e) {
        throw bad(`failed parsing client certificate: ${(e as Error).message}`);
      }
    }
    const exp = str('expirationTimestamp');
    let expiresAt: number | undefined;
    if (exp) {
      expiresAt = Date.parse(exp);
      if (Number.isNaN(expiresAt)) throw bad(`expirationTimestamp ${JSON.stringify(exp)} is not an RFC 3339 time`);
    }
    return { token, clientCertificateData: cert, clientKeyData: key, expiresAt };
  }
}
