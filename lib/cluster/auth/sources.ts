/**
 * Where the credentials of each request come from: one {@link AuthSource} per connection.
 *
 * - {@link StaticAuth}: a bearer token from a flag: sent as is (client-go skips exec plugins then:
 *   exec.go, UpdateTransportConfig, `if c.HasTokenAuth() ... return nil`).
 * - {@link KubeconfigAuth}: client-node's KubeConfig.applyToHTTPSOptions (tokens, basic auth, client
 *   certificate files, auth-provider plugins), asked again every minute and after a 401.
 * - {@link ExecAuth}: an exec plugin (exec-credential.ts).
 * - {@link TokenFileAuth}: a service account token file (in-cluster.ts).
 */
import type { ExecCredential, ExecCredentialPlugin } from './exec-credential';
import type { FileTokenSource } from './in-cluster';

/** What one request is sent with. */
export interface Credential {
  /** Authentication headers (Authorization). */
  readonly headers: Readonly<Record<string, string>>;
  /** A client certificate and key (PEM), when the source supplies them per request. */
  readonly clientCertificate?: { readonly cert: string; readonly key: string };
  /** Secrets in it, for the redactor. */
  readonly secrets: readonly string[];
}

/** A source of credentials. */
export interface AuthSource {
  /** The credential for the next request. */
  get(): Promise<Credential>;
  /** A request sent at `sentAt` with `used` got 401: renew what can be renewed. */
  unauthorized(used: Credential, sentAt: number): Promise<void>;
}

const bearer = (token: string | undefined): Record<string, string> => (token ? { Authorization: `Bearer ${token}` } : {});

export class StaticAuth implements AuthSource {
  private readonly credential: Credential;
  public constructor(token: string) {
    this.credential = { headers: bearer(token), secrets: [token] };
  }
  public async get(): Promise<Credential> {
    return this.credential;
  }
  public async unauthorized(): Promise<void> {
    // nothing to renew
  }
}

/** Headers from client-node, reused for `ttlMs`. */
export class KubeconfigAuth implements AuthSource {
  private cached?: { credential: Credential; at: number };
  public constructor(
    private readonly fetch: () => Promise<Credential>,
    private readonly ttlMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}
  public async get(): Promise<Credential> {
    const t = this.now();
    if (this.cached && t - this.cached.at < this.ttlMs) return this.cached.credential;
    const credential = await this.fetch();
    this.cached = { credential, at: t };
    return credential;
  }
  public async unauthorized(used: Credential): Promise<void> {
    // Auth providers (oidc, ...) renew expired tokens when asked again.
    if (this.cached?.credential === used) this.cached = undefined;
  }
}

export class ExecAuth implements AuthSource {
  private readonly byCredential = new WeakMap<Credential, ExecCredential>();
  private last?: { exec: ExecCredential; credential: Credential };
  public constructor(public readonly plugin: ExecCredentialPlugin) {}
  public async get(): Promise<Credential> {
    const exec = await this.plugin.get();
    if (this.last?.exec === exec) return this.last.credential;
    const cert = exec.clientCertificateData && exec.clientKeyData ? { cert: exec.clientCertificateData, key: exec.clientKeyData } : undefined;
    const credential: Credential = { headers: bearer(exec.token), clientCertificate: cert, secrets: [exec.token ?? '', exec.clientKeyData ?? ''].filter(Boolean) };
    this.byCredential.set(credential, exec);
    this.last = { exec, credential };
    return credential;
  }
  public async unauthorized(used: Credential): Promise<void> {
    const exec = this.byCredential.get(used);
    if (exec) await this.plugin.unauthorized(exec);
  }
}

export class TokenFileAuth implements AuthSource {
  public constructor(private readonly source: FileTokenSource) {}
  public async get(): Promise<Credential> {
    const token = this.source.token();
    return { headers: bearer(token), secrets: [token] };
  }
  public async unauthorized(_used: Credential, sentAt: number): Promise<void> {
    this.source.resetOlderThan(sentAt);
  }
}
