/**
 * Where the API server is and how to authenticate to it, as kubectl decides: a kubeconfig (files,
 * context), the seed's token flow (`--server URL --token TOKEN [--insecure-skip-tls-verify]`), or, with
 * neither, in-cluster configuration (auth/in-cluster.ts).
 *
 * @kubernetes/client-node's KubeConfig loads and merges the kubeconfig and gives the TLS material and the
 * headers of ordinary users (tokens, basic auth, certificate files, auth providers) through
 * `applyToHTTPSOptions`. Exec plugins (auth/exec-credential.ts), service account token files
 * (auth/in-cluster.ts) and proxies (auth/proxy.ts, auth/tunnel.ts) are ours: each file says what client-node
 * does not do there. client-node takes about half a second to load, so it is imported here, lazily, and
 * nowhere else; in-cluster configuration does not load it.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UserError } from './errors';
import { Redactor } from './redact';
import { ExecCredentialPlugin, type ExecClusterInfo, type ExecConfig, type ExecTerminal } from './auth/exec-credential';
import { FileTokenSource, inClusterServer, readServiceAccount, type InClusterEnvironment } from './auth/in-cluster';
import { proxyFor, type ProxyEnvironment } from './auth/proxy';
import { ExecAuth, KubeconfigAuth, StaticAuth, TokenFileAuth, type AuthSource, type Credential } from './auth/sources';
import { TunnelingAgent } from './auth/tunnel';

export { SERVICE_ACCOUNT_DIR } from './auth/in-cluster';
export type { ExecTerminal } from './auth/exec-credential';
export type { InClusterEnvironment } from './auth/in-cluster';
export type { ProxyEnvironment } from './auth/proxy';

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
  /**
   * The service account directory for in-cluster configuration, used when no kubeconfig file is given and
   * `inClusterEnvironment` has KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT. The CLI passes
   * SERVICE_ACCOUNT_DIR (`/var/run/secrets/kubernetes.io/serviceaccount`); tests pass a folder of their own.
   * @default - in-cluster configuration is not tried
   */
  readonly serviceAccountDir?: string;
  /** KUBERNETES_SERVICE_HOST/PORT and POD_NAMESPACE. @default {} */
  readonly inClusterEnvironment?: InClusterEnvironment;
  /** How often a service account token file is read again. @default 60000 (client-go's period) */
  readonly tokenFilePeriodMs?: number;
  /** HTTPS_PROXY, HTTP_PROXY, NO_PROXY (either case). A cluster's proxy-url wins over them. @default {} (no proxy) */
  readonly proxyEnvironment?: ProxyEnvironment;
  /** The environment exec credential plugins inherit (kubectl passes its own). @default {} */
  readonly execEnvironment?: Readonly<Record<string, string | undefined>>;
  /** The terminal exec credential plugins may use. @default - none: not interactive, stderr dropped */
  readonly terminal?: ExecTerminal;
  /** Exec plugin credentials are renewed this long before they expire. @default 10000 */
  readonly execRefreshBeforeExpiryMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** What one request is sent with: headers and the agent carrying TLS (and the proxy). */
export interface RequestAuth {
  readonly headers: Readonly<Record<string, string>>;
  readonly agent: http.Agent;
  /** The proxy that an http:// server's requests are sent to in absolute form. */
  readonly httpProxy?: URL;
}

/** An authenticated route to one API server. */
export interface Connection {
  /** The API server's base URL, without a trailing slash. */
  readonly server: string;
  /** The kubeconfig context used, if any. */
  readonly contextName?: string;
  /** The context's default namespace, if it sets one. */
  readonly contextNamespace?: string;
  /** Registers every credential so that output can be scrubbed of it. */
  readonly redactor: Redactor;
  /** The exec plugin, when the user logs in with one (for tests and verbose output). */
  readonly execPlugin?: ExecCredentialPlugin;
  /** Headers and agent for the next request (an exec plugin may run; a token file may be read). */
  auth(): Promise<RequestAuth>;
  /**
   * A request sent at `sentAt` (ms) with `used` got 401: renew the credential as client-go does (an exec
   * plugin runs again unless already renewed since; a token file is read again; auth providers are asked
   * again). The caller then retries that request once.
   */
  unauthorized(used: RequestAuth, sentAt: number): Promise<void>;
  /** `context "x" (https://host:6443)` or `https://host:6443`: for messages. */
  describe(): string;
  /** Closes idle sockets. */
  close(): void;
}

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
  const files = options.kubeconfigFiles ?? [];
  const inCluster = options.serviceAccountDir !== undefined ? inClusterServer(options.inClusterEnvironment ?? {}) : undefined;
  if (!(options.server && token) && files.length === 0 && inCluster && options.serviceAccountDir !== undefined) {
    return connectInCluster(options, options.serviceAccountDir, inCluster, token, redactor);
  }
  const k8s: KubeConfigModule = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  let tokenFiles = new Map<string, string>();

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
    if (files.length === 0) {
      throw new UserError(
        options.server ? `--server ${options.server} needs a token (--token, or the SLEAP_ROOTS_TOKEN environment variable)` : 'no kubeconfig found',
        'pass --kubeconfig FILE, set KUBECONFIG, or use --server URL with --token TOKEN (inside a pod, the service account is used when KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are set)',
      );
    }
    tokenFiles = loadKubeconfigFiles(k8s, kc, files);
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
  return connectKubeconfig(kc, options, token, redactor, !(options.server && token), tokenFiles);
}

/** In-cluster configuration (auth/in-cluster.ts): the service account's token, CA and namespace. */
function connectInCluster(options: ConnectionOptions, dir: string, inClusterUrl: string, token: string | undefined, redactor: Redactor): Connection {
  // --server overrides the service's address, as kubectl's flag overrides in-cluster config.
  const server = options.server ? checkServerUrl(options.server) : inClusterUrl;
  const files = readServiceAccount(dir, options.inClusterEnvironment ?? {});
  const url = new URL(server);
  const tlsOptions: https.AgentOptions = { ca: options.certificateAuthority ? undefined : files.ca, rejectUnauthorized: !options.insecureSkipTlsVerify };
  const source: AuthSource = token ? new StaticAuth(token) : new TokenFileAuth(new FileTokenSource(files.tokenFile, options.tokenFilePeriodMs, options.now));
  return new KubeConnection({
    server,
    contextNamespace: files.namespace,
    redactor,
    tlsOptions,
    caFile: options.certificateAuthority,
    proxy: proxyFor(url, undefined, options.proxyEnvironment ?? {}),
    source,
    describe: `the in-cluster service account (${server})`,
  });
}

/** The kubeconfig's current context, with client-node for everything but exec plugins and proxies. */
async function connectKubeconfig(
  kc: KubeConfig,
  options: ConnectionOptions,
  token: string | undefined,
  redactor: Redactor,
  fromKubeconfig: boolean,
  tokenFiles: ReadonlyMap<string, string> = new Map(),
): Promise<Connection> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new UserError('the kubeconfig has no cluster for the current context');
  const ctx = kc.getContextObject(kc.getCurrentContext());
  const user = kc.getCurrentUser();
  const server = cluster.server.replace(/\/+$/, '');
  const contextName = fromKubeconfig ? ctx?.name : undefined;
  const describe = contextName ? `context "${contextName}" (${server})` : server;
  // client-node gets neither the exec plugin (ours runs it) nor the proxy (ours opens it); and it refuses an
  // http: server unless skipTLSVerify is set (there is no TLS to verify there, e.g. `kubectl proxy`).
  const exec = !token && user?.exec ? (user.exec as ExecConfig) : undefined;
  kc.clusters = kc.clusters.map((c) => (c.name === cluster.name ? { ...c, proxyUrl: undefined, skipTLSVerify: c.skipTLSVerify || server.startsWith('http:') } : c));
  if (exec && user) kc.users = kc.users.map((u) => (u.name === user.name ? { ...u, exec: undefined } : u));
  const fetch = async (): Promise<{ credential: Credential; tls: https.AgentOptions }> => {
    const opts: https.RequestOptions & { headers?: Record<string, string> } = { headers: {} };
    try {
      await kc.applyToHTTPSOptions(opts);
    } catch (e) {
      throw new UserError(`cannot get credentials for ${describe}: ${redactor.redact((e as Error).message)}`);
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === 'string') headers[k] = v;
    const secrets: string[] = [];
    if (opts.auth) {
      const [, password] = opts.auth.split(/:(.*)/s);
      secrets.push(password ?? '');
      headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    }
    const authorization = headers.Authorization ?? headers.authorization;
    if (authorization) secrets.push(authorization.replace(/^(Bearer|Basic)\s+/i, ''));
    const tls: https.AgentOptions = {
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
      pfx: opts.pfx,
      passphrase: opts.passphrase,
      servername: opts.servername,
      rejectUnauthorized: cluster.skipTLSVerify ? false : opts.rejectUnauthorized,
    };
    return { credential: { headers, secrets }, tls };
  };
  const first = await fetch();
  let source: AuthSource;
  let plugin: ExecCredentialPlugin | undefined;
  if (exec && user) {
    const info: ExecClusterInfo = {
      server,
      ...(cluster.tlsServerName ? { 'tls-server-name': cluster.tlsServerName } : {}),
      ...(cluster.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}),
      ...(first.tls.ca ? { 'certificate-authority-data': Buffer.from(String(first.tls.ca)).toString('base64') } : {}),
      ...(cluster.proxyUrl ? { 'proxy-url': cluster.proxyUrl } : {}),
      config: null,
    };
    plugin = new ExecCredentialPlugin({
      config: exec,
      userName: user.name,
      cluster: info,
      environment: options.execEnvironment,
      terminal: options.terminal,
      refreshBeforeExpiryMs: options.execRefreshBeforeExpiryMs,
      now: options.now,
    });
    source = new ExecAuth(plugin);
  } else if (token) {
    source = new StaticAuth(token);
  } else if (user && tokenFiles.has(user.name)) {
    // A kubeconfig user's `tokenFile`, re-read as it rotates: client-go's rest.Config.BearerTokenFile
    // ("the contents are periodically read; the last successfully read value takes precedence over
    // BearerToken": rest/config.go, transport.NewCachedFileTokenSource), which clientcmd fills from
    // AuthInfo.TokenFile (client_config.go getUserIdentificationPartialConfig).
    source = new TokenFileAuth(new FileTokenSource(tokenFiles.get(user.name) ?? '', options.tokenFilePeriodMs, options.now));
  } else {
    let pending: Credential | undefined = first.credential;
    source = new KubeconfigAuth(async () => {
      const c = pending ?? (await fetch()).credential;
      pending = undefined;
      return c;
    }, 60_000, options.now);
  }
  return new KubeConnection({
    server,
    contextName,
    contextNamespace: ctx?.namespace,
    redactor,
    tlsOptions: first.tls,
    proxy: proxyFor(new URL(server), cluster.proxyUrl, options.proxyEnvironment ?? {}),
    source,
    plugin,
    describe,
  });
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

/**
 * Loads and merges the kubeconfig files into `kc`; returns each user's `tokenFile` (resolved
 * against its kubeconfig's folder, as clientcmd's ResolvePaths does), which client-node drops: it
 * reads a `token-file` key that kubeconfigs never have (config_types.js findToken).
 */
function loadKubeconfigFiles(k8s: KubeConfigModule, kc: KubeConfig, files: readonly string[]): Map<string, string> {
  let loaded = 0;
  const tokenFiles = new Map<string, string>();
  // kubectl's merge rule: the first file to define a name (or the current context) wins.
  const has = <T extends { name: string }>(list: readonly T[], name: string) => list.some((x) => x.name === name);
  for (const file of files) {
    const one = new k8s.KubeConfig();
    try {
      one.loadFromFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && files.length > 1) continue; // KUBECONFIG may list absent files
      throw new UserError(`cannot load kubeconfig ${file}: ${(e as Error).message.split('\n')[0]}`);
    }
    loaded++;
    resolveExecCommands(one, file);
    for (const [name, tokenFile] of userTokenFiles(file)) if (!tokenFiles.has(name) && !has(kc.users ?? [], name)) tokenFiles.set(name, tokenFile);
    kc.clusters = [...(kc.clusters ?? []), ...one.clusters.filter((c) => !has(kc.clusters ?? [], c.name))];
    kc.users = [...(kc.users ?? []), ...one.users.filter((u) => !has(kc.users ?? [], u.name))];
    kc.contexts = [...(kc.contexts ?? []), ...one.contexts.filter((c) => !has(kc.contexts ?? [], c.name))];
    if (!kc.currentContext && one.currentContext) kc.currentContext = one.currentContext;
  }
  if (loaded === 0) throw new UserError(`no kubeconfig found at ${files.join(', ')}`, 'pass --kubeconfig FILE, set KUBECONFIG, or use --server URL with --token TOKEN');
  return tokenFiles;
}

/** `users[].user.tokenFile` of one kubeconfig file (already loaded once by client-node, so it parses). */
function userTokenFiles(file: string): Array<[string, string]> {
  const doc = parseYaml(fs.readFileSync(file, 'utf8')) as { users?: Array<{ name?: unknown; user?: { tokenFile?: unknown } }> } | null;
  const out: Array<[string, string]> = [];
  for (const u of doc?.users ?? []) {
    const tokenFile = u?.user?.tokenFile;
    if (typeof u?.name === 'string' && typeof tokenFile === 'string' && tokenFile) out.push([u.name, path.resolve(path.dirname(file), tokenFile)]);
  }
  return out;
}

interface KubeConnectionParams {
  readonly server: string;
  readonly contextName?: string;
  readonly contextNamespace?: string;
  readonly redactor: Redactor;
  /** CA, static client certificate, verification. */
  readonly tlsOptions: https.AgentOptions;
  /** A CA file from --certificate-authority, read when the agent is built. */
  readonly caFile?: string;
  readonly proxy?: URL;
  readonly source: AuthSource;
  readonly plugin?: ExecCredentialPlugin;
  readonly describe: string;
}

/**
 * An exec command with a path separator is relative to its kubeconfig's folder; a bare name is looked up on
 * PATH (client-go tools/clientcmd/loader.go, GetAuthInfoFileReferences / ResolveLocalPaths).
 */
function resolveExecCommands(kc: KubeConfig, file: string): void {
  kc.users = kc.users.map((u) => {
    const command = (u.exec as ExecConfig | undefined)?.command;
    if (!command || !command.includes(path.sep) || path.isAbsolute(command)) return u;
    return { ...u, exec: { ...(u.exec as ExecConfig), command: path.resolve(path.dirname(file), command) } };
  });
}

class KubeConnection implements Connection {
  public readonly server: string;
  public readonly contextName?: string;
  public readonly contextNamespace?: string;
  public readonly redactor: Redactor;
  public readonly execPlugin?: ExecCredentialPlugin;
  private agent?: { agent: http.Agent; cert?: string };
  private readonly byAuth = new WeakMap<RequestAuth, Credential>();

  public constructor(private readonly p: KubeConnectionParams) {
    this.server = p.server.replace(/\/+$/, '');
    this.contextName = p.contextName;
    this.contextNamespace = p.contextNamespace;
    this.redactor = p.redactor;
    this.execPlugin = p.plugin;
  }

  public describe(): string {
    return this.p.describe;
  }

  public async auth(): Promise<RequestAuth> {
    const credential = await this.p.source.get();
    for (const s of credential.secrets) this.redactor.add(s);
    const agent = this.agentFor(credential);
    const auth: RequestAuth = { headers: credential.headers, agent, httpProxy: this.server.startsWith('http:') ? this.p.proxy : undefined };
    this.byAuth.set(auth, credential);
    return auth;
  }

  public async unauthorized(used: RequestAuth, sentAt: number): Promise<void> {
    const credential = this.byAuth.get(used);
    if (credential) await this.p.source.unauthorized(credential, sentAt);
  }

  public close(): void {
    this.agent?.agent.destroy();
  }

  /**
   * The agent for a credential: built at the first request, and again when an exec plugin hands out a
   * different client certificate; the old agent's connections are closed, as client-go's exec
   * authenticator closes them on rotation (exec.go, refreshCredsLocked, `a.connTracker.CloseAll()`).
   */
  private agentFor(credential: Credential): http.Agent {
    const cert = credential.clientCertificate?.cert;
    if (this.agent && this.agent.cert === cert) return this.agent.agent;
    this.agent?.agent.destroy();
    const agent = this.buildAgent(credential);
    this.agent = { agent, cert };
    return agent;
  }

  private buildAgent(credential: Credential): http.Agent {
    if (this.server.startsWith('http:')) return new http.Agent({ keepAlive: true });
    let ca = this.p.tlsOptions.ca;
    if (this.p.caFile) ca = readCaFile(this.p.caFile);
    const options: https.AgentOptions = {
      ...this.p.tlsOptions,
      ca,
      keepAlive: true,
      ...(credential.clientCertificate ? { cert: credential.clientCertificate.cert, key: credential.clientCertificate.key } : {}),
    };
    return this.p.proxy ? new TunnelingAgent(this.p.proxy, options) : new https.Agent(options);
  }
}

function readCaFile(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new UserError(`cannot read the certificate authority file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
