/**
 * Where the API server is and how to authenticate to it: a kubeconfig (files, context), or the
 * seed's token flow (`--server URL --token TOKEN [--insecure-skip-tls-verify]`).
 *
 * @kubernetes/client-node's KubeConfig does the config and authentication work (kubeconfig
 * merging, client certificates, CA, exec and auth-provider plugins, bearer tokens); its
 * `applyToHTTPSOptions` gives the headers and TLS material that {@link KubeClient} then uses on
 * plain node:http(s) requests (see http.ts for why). client-node takes about half a second to
 * load, so it is imported here, lazily, and nowhere else.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { UserError } from './errors';
import { Redactor } from './redact';

/** How to reach the cluster. Nothing here is read from the environment: the CLI passes it in. */
export interface ConnectionOptions {
  /**
   * Kubeconfig files, merged in order (as `KUBECONFIG=a:b` lists them: the first file that sets
   * a value wins).
   * @default - none; then `server` must be given
   */
  readonly kubeconfigFiles?: readonly string[];
  /** Context of the kubeconfig to use. @default - the kubeconfig's current context */
  readonly context?: string;
  /**
   * API server URL. With `token`, the seed's flow: no kubeconfig is read at all.
   * @default - the context's cluster
   */
  readonly server?: string;
  /**
   * Bearer token, with or without a `Bearer ` prefix. Overrides the kubeconfig user's credentials.
   * @default - the kubeconfig user's credentials
   */
  readonly token?: string;
  /** Do not verify the server's certificate. @default - the kubeconfig's setting (false) */
  readonly insecureSkipTlsVerify?: boolean;
  /** A CA bundle file for the server's certificate. @default - the kubeconfig's */
  readonly certificateAuthority?: string;
}

/** An authenticated route to one API server. */
export interface Connection {
  /** The API server's base URL, without a trailing slash. */
  readonly server: string;
  /** The kubeconfig context used, if any. */
  readonly contextName?: string;
  /** The context's default namespace, if it sets one. */
  readonly contextNamespace?: string;
  /** Keep-alive agent carrying the TLS settings. */
  readonly agent: http.Agent;
  /** Registers every credential so that output can be scrubbed of it. */
  readonly redactor: Redactor;
  /**
   * Authentication headers for the next request. Cached; `refresh` asks the kubeconfig again
   * (exec plugins and auth providers renew their tokens then).
   */
  headers(refresh?: boolean): Promise<Readonly<Record<string, string>>>;
  /** `context "x" (https://host:6443)` or `https://host:6443`: for messages. */
  describe(): string;
  /** Closes idle sockets. */
  close(): void;
}

/** How long authentication headers are reused before the kubeconfig is asked again. */
const HEADER_TTL_MS = 60_000;

type KubeConfigModule = typeof import('@kubernetes/client-node');
type KubeConfig = InstanceType<KubeConfigModule['KubeConfig']>;

/** Strips an optional `Bearer ` prefix and surrounding white space from a token. */
export function normalizeToken(token: string): string {
  return token.trim().replace(/^Bearer\s+/i, '').trim();
}

/**
 * Builds a connection from the options.
 * @throws UserError when no usable configuration is found, naming what was tried
 */
export async function connect(options: ConnectionOptions, redactor: Redactor = new Redactor()): Promise<Connection> {
  const token = options.token !== undefined ? normalizeToken(options.token) : undefined;
  if (options.token !== undefined && !token) throw new UserError('the token is empty');
  redactor.add(token);
  const k8s: KubeConfigModule = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();

  if (options.server && token) {
    // The seed's flow: server + token only, no kubeconfig.
    const server = checkServerUrl(options.server);
    kc.loadFromOptions({
      clusters: [{ name: 'cli', server, skipTLSVerify: options.insecureSkipTlsVerify ?? false, caFile: options.certificateAuthority }],
      users: [{ name: 'cli', token }],
      contexts: [{ name: 'cli', cluster: 'cli', user: 'cli' }],
      currentContext: 'cli',
    });
  } else {
    const files = options.kubeconfigFiles ?? [];
    if (files.length === 0) {
      throw new UserError(
        options.server ? `--server ${options.server} needs a token (--token, or the SLEAP_ROOTS_TOKEN environment variable)` : 'no kubeconfig found',
        'pass --kubeconfig FILE, set KUBECONFIG, or use --server URL with --token TOKEN',
      );
    }
    loadKubeconfigFiles(k8s, kc, files);
    if (options.context) {
      if (!kc.getContextObject(options.context)) {
        throw new UserError(`context "${options.context}" is not in the kubeconfig (${files.join(', ')})`, `contexts there: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'}`);
      }
      kc.setCurrentContext(options.context);
    }
    const ctx = kc.getContextObject(kc.getCurrentContext());
    if (!ctx) throw new UserError(`the kubeconfig (${files.join(', ')}) has no current context`, 'pass --context NAME');
    const cluster = kc.getCluster(ctx.cluster);
    if (!cluster) throw new UserError(`context "${ctx.name}" names cluster "${ctx.cluster}", which the kubeconfig does not define`);
    const user = kc.getUser(ctx.user);
    // Flags override the context's cluster and user, as kubectl's do.
    const clusterOverride = {
      ...cluster,
      server: options.server ? checkServerUrl(options.server) : cluster.server,
      skipTLSVerify: options.insecureSkipTlsVerify ?? cluster.skipTLSVerify,
      ...(options.certificateAuthority ? { caFile: options.certificateAuthority, caData: undefined } : {}),
    };
    kc.clusters = kc.clusters.map((c) => (c.name === cluster.name ? clusterOverride : c));
    if (token) {
      kc.users = [...kc.users.filter((u) => u.name !== ctx.user), { name: ctx.user, token }];
    }
    redactor.add(user?.token);
    redactor.add(user?.password);
  }
  return new KubeConfigConnection(kc, redactor, !(options.server && token));
}

function checkServerUrl(server: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new UserError(`--server ${JSON.stringify(server)} is not a URL`, 'expected e.g. https://10.0.0.1:6443');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UserError(`--server ${server}: expected an http:// or https:// URL`);
  return server.replace(/\/+$/, '');
}

function loadKubeconfigFiles(k8s: KubeConfigModule, kc: KubeConfig, files: readonly string[]): void {
  let loaded = 0;
  for (const file of files) {
    const one = new k8s.KubeConfig();
    try {
      one.loadFromFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && files.length > 1) continue; // KUBECONFIG may list absent files
      throw new UserError(`cannot load kubeconfig ${file}: ${(e as Error).message.split('\n')[0]}`);
    }
    loaded++;
    // kubectl's merge rule: the first file to define a name (or the current context) wins.
    const has = <T extends { name: string }>(list: readonly T[], name: string) => list.some((x) => x.name === name);
    kc.clusters = [...(kc.clusters ?? []), ...one.clusters.filter((c) => !has(kc.clusters ?? [], c.name))];
    kc.users = [...(kc.users ?? []), ...one.users.filter((u) => !has(kc.users ?? [], u.name))];
    kc.contexts = [...(kc.contexts ?? []), ...one.contexts.filter((c) => !has(kc.contexts ?? [], c.name))];
    if (!kc.currentContext && one.currentContext) kc.currentContext = one.currentContext;
  }
  if (loaded === 0) throw new UserError(`no kubeconfig found at ${files.join(', ')}`, 'pass --kubeconfig FILE, set KUBECONFIG, or use --server URL with --token TOKEN');
}

class KubeConfigConnection implements Connection {
  public readonly server: string;
  public readonly contextName?: string;
  public readonly contextNamespace?: string;
  public readonly redactor: Redactor;
  public agent: http.Agent;
  private cached?: { headers: Record<string, string>; at: number };
  private readonly kc: KubeConfig;

  public constructor(kc: KubeConfig, redactor: Redactor, fromKubeconfig: boolean) {
    this.kc = kc;
    this.redactor = redactor;
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new UserError('the kubeconfig has no cluster for the current context');
    this.server = cluster.server.replace(/\/+$/, '');
    const ctx = kc.getContextObject(kc.getCurrentContext());
    this.contextName = fromKubeconfig ? ctx?.name : undefined;
    this.contextNamespace = ctx?.namespace;
    // Placeholder until the first headers() call builds the real agent from the TLS material.
    this.agent = this.server.startsWith('https:') ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  }

  public describe(): string {
    return this.contextName ? `context "${this.contextName}" (${this.server})` : this.server;
  }

  public async headers(refresh = false): Promise<Readonly<Record<string, string>>> {
    const now = Date.now();
    if (!refresh && this.cached && now - this.cached.at < HEADER_TTL_MS) return this.cached.headers;
    const opts: https.RequestOptions & { headers?: Record<string, string> } = { headers: {} };
    const kc = this.plainHttpSafe();
    try {
      await kc.applyToHTTPSOptions(opts);
    } catch (e) {
      throw new UserError(`cannot get credentials for ${this.describe()}: ${this.redactor.redact((e as Error).message)}`);
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === 'string') headers[k] = v;
    if (opts.auth) {
      const [, password] = opts.auth.split(/:(.*)/s);
      this.redactor.add(password);
      headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    }
    const authorization = headers.Authorization ?? headers.authorization;
    if (authorization) this.redactor.add(authorization.replace(/^(Bearer|Basic)\s+/i, ''));
    if (!this.cached) this.agent = this.buildAgent(opts);
    this.cached = { headers, at: now };
    return headers;
  }

  public close(): void {
    this.agent.destroy();
  }

  /**
   * client-node refuses an `http:` server unless skipTLSVerify is set (there is no TLS to verify
   * on such a connection, e.g. `kubectl proxy`): hand it a copy that says so.
   */
  private plainHttpSafe(): KubeConfig {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster || !cluster.server.startsWith('http:') || cluster.skipTLSVerify) return this.kc;
    this.kc.clusters = this.kc.clusters.map((c) => (c.name === cluster.name ? { ...c, skipTLSVerify: true } : c));
    return this.kc;
  }

  private buildAgent(opts: https.RequestOptions): http.Agent {
    const cluster = this.kc.getCurrentCluster();
    // A proxy needs client-node's proxy agent; otherwise a keep-alive agent of our own.
    if (cluster?.proxyUrl && opts.agent) return opts.agent as http.Agent;
    if (this.server.startsWith('http:')) return new http.Agent({ keepAlive: true });
    return new https.Agent({
      keepAlive: true,
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
      pfx: opts.pfx,
      passphrase: opts.passphrase,
      servername: opts.servername,
      rejectUnauthorized: cluster?.skipTLSVerify ? false : opts.rejectUnauthorized,
    });
  }
}
