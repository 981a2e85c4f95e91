/**
 * One command's run: its options, output mode and style, the redacting writers, the lazily
 * opened connection, and where dist/ and the namespace come from.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { proxyEnvironmentOf } from '../cluster/auth/proxy';
import { WarningPrinter } from '../cluster/auth/warnings';
import { connect, SERVICE_ACCOUNT_DIR, type ConnectionOptions } from '../cluster/connection';
import { UserError } from '../cluster/errors';
import { KubeClient } from '../cluster/http';
import { readDist, type DistTree } from '../cluster/manifests';
import { Redactor } from '../cluster/redact';
import type { OutputMode } from './deploy-view';
import type { CliIO, Writer } from './io';
import { makeStyle, useColor, type Style } from './style';

/** Options every command takes (connection, output, dist/). */
export interface GlobalOptions {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly namespace?: string;
  readonly server?: string;
  readonly token?: string;
  readonly insecureSkipTlsVerify?: boolean;
  readonly certificateAuthority?: string;
  /** text | json (| name for submit, html | md for report). */
  readonly output?: string;
  /** false with --no-color. */
  readonly color?: boolean;
  readonly dist?: string;
  readonly verbose?: boolean;
  /** Seconds, for each ordinary request. */
  readonly requestTimeout?: string;
}

export class Session {
  public readonly redactor = new Redactor();
  public readonly io: CliIO;
  public readonly style: Style;
  public readonly mode: OutputMode;
  public readonly opts: GlobalOptions;
  private clientPromise?: Promise<KubeClient>;
  /** Each distinct API warning once on stderr, as kubectl prints them. */
  private readonly warnings = new WarningPrinter((line) => this.io.stderr.write(line));

  public constructor(io: CliIO, opts: GlobalOptions) {
    this.opts = opts;
    const output = opts.output ?? 'text';
    // html and md: `report` only (commander checks each command's own choices).
    if (!['text', 'json', 'name', 'html', 'md'].includes(output)) throw new UserError(`--output ${output}: expected text or json`);
    const safe = (w: Writer): Writer => ({ write: (t) => w.write(this.redactor.redact(t)) });
    this.io = { ...io, stdout: safe(io.stdout), stderr: safe(io.stderr) };
    this.redactor.add(this.token());
    this.mode = output === 'json' ? 'json' : io.isTTY ? 'tty' : 'plain';
    this.style = makeStyle(output === 'text' && useColor(io.isTTY, io.env, opts.color === false));
  }

  /** `--output json` was asked. */
  public get json(): boolean {
    return this.mode === 'json';
  }

  /** The bearer token from `--token`, or from SLEAP_ROOTS_TOKEN with `--server`. */
  private token(): string | undefined {
    return this.opts.token ?? (this.opts.server ? this.io.env.SLEAP_ROOTS_TOKEN : undefined);
  }

  /** Kubeconfig files: --kubeconfig, else KUBECONFIG, else ~/.kube/config. */
  public kubeconfigFiles(): string[] {
    if (this.opts.kubeconfig) return [this.opts.kubeconfig];
    const env = this.io.env.KUBECONFIG;
    if (env) return env.split(this.io.pathDelimiter ?? ':').filter(Boolean);
    if (this.io.homeDir) {
      const f = path.join(this.io.homeDir, '.kube', 'config');
      if (fs.existsSync(f)) return [f];
    }
    return [];
  }

  public connectionOptions(): ConnectionOptions {
    const { env } = this.io;
    return {
      kubeconfigFiles: this.kubeconfigFiles(),
      context: this.opts.context,
      server: this.opts.server,
      token: this.token(),
      insecureSkipTlsVerify: this.opts.insecureSkipTlsVerify,
      certificateAuthority: this.opts.certificateAuthority,
      serviceAccountDir: this.io.serviceAccountDir ?? SERVICE_ACCOUNT_DIR,
      inClusterEnvironment: { KUBERNETES_SERVICE_HOST: env.KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT: env.KUBERNETES_SERVICE_PORT, POD_NAMESPACE: env.POD_NAMESPACE },
      proxyEnvironment: proxyEnvironmentOf(env),
      execEnvironment: this.io.processEnv,
      terminal: {
        stdin: this.io.stdin ?? 'inherit',
        stdinIsTTY: (this.io.stdinIsTTY ?? false) && this.io.stdin !== undefined,
        // A login prompt must reach the user as it is written, not after the plugin ends.
        stderr: this.io.execStderr ?? ((text) => this.io.stderr.write(text)),
      },
    };
  }

  /** The API client, connected on first use. */
  public client(): Promise<KubeClient> {
    this.clientPromise ??= (async () => {
      const connection = await connect(this.connectionOptions(), this.redactor);
      const timeout = this.opts.requestTimeout ? Number(this.opts.requestTimeout) : undefined;
      if (timeout !== undefined && !(timeout > 0)) throw new UserError(`--request-timeout ${this.opts.requestTimeout}: expected seconds > 0`);
      return new KubeClient(connection, {
        userAgent: `sleap-roots/${this.io.version}`,
        requestTimeoutMs: timeout !== undefined ? timeout * 1000 : undefined,
        onWarning: (w) => void this.warnings.handle(w),
        onRetry: (n) => {
          if (this.opts.verbose || n.delayMs >= 2000) {
            this.io.stderr.write(`note: ${n.reason} from ${n.path}; retrying in ${(n.delayMs / 1000).toFixed(1)}s (attempt ${n.attempt + 1})\n`);
          }
        },
      });
    })();
    return this.clientPromise;
  }

  /** The dist/ folder: --dist, else ./dist, else the project's. */
  public distRoot(): string {
    if (this.opts.dist) return path.resolve(this.io.cwd, this.opts.dist);
    const local = path.join(this.io.cwd, 'dist');
    if (fs.existsSync(local) || !this.io.projectRoot) return local;
    return path.join(this.io.projectRoot, 'dist');
  }

  public readDist(environment: string): DistTree {
    return readDist(this.distRoot(), environment);
  }

  /** environments/<env>.yaml next to dist/, when it exists. */
  public environmentFile(environment: string): string | undefined {
    const f = path.join(path.dirname(this.distRoot()), 'environments', `${environment}.yaml`);
    return fs.existsSync(f) ? f : undefined;
  }

  /** The namespace: -n, else the environment's, else the context's, else `default`. */
  public async namespace(environment?: string): Promise<string> {
    if (this.opts.namespace) return this.opts.namespace;
    if (environment) return this.readDist(environment).namespace;
    const client = await this.client();
    return client.connection.contextNamespace ?? 'default';
  }

  /** The connection flags to repeat in a suggested command (never the token itself). */
  public flagsForHint(namespace: string, forArgo = false): string {
    const parts = [`-n ${namespace}`];
    if (this.opts.kubeconfig) parts.push(`--kubeconfig ${this.opts.kubeconfig}`);
    if (this.opts.context) parts.push(`--context ${this.opts.context}`);
    if (this.opts.server) {
      parts.push(`--server ${this.opts.server}`);
      if (this.opts.token || forArgo) parts.push('--token "$SLEAP_ROOTS_TOKEN"');
      if (this.opts.insecureSkipTlsVerify) parts.push('--insecure-skip-tls-verify');
    }
    return parts.join(' ');
  }

  public async close(): Promise<void> {
    if (!this.clientPromise) return;
    try {
      (await this.clientPromise).connection.close();
    } catch {
      // connecting failed: nothing to close
    }
  }
}
