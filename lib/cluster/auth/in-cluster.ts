/**
 * In-cluster configuration: inside a pod (a Run:AI workspace, a CI runner) with no kubeconfig, the API server
 * is at KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT and the pod's service account token, CA and
 * namespace are files in the service account directory.
 *
 * Follows client-go:
 * - rest/config.go, InClusterConfig: both variables must be set; the server is
 *   `https://` + net.JoinHostPort(host, port); the token file must be readable; the CA is used when ca.crt is.
 * - tools/clientcmd/client_config.go, inClusterClientConfig.Namespace: POD_NAMESPACE, then the `namespace`
 *   file, then `default`.
 * - transport/token_source.go, NewCachedFileTokenSource / cachingTokenSource / fileTokenSource: the token
 *   file is read again after a period of one minute (the kubelet rotates projected tokens well before
 *   they expire), and tokenSourceTransport.RoundTrip drops the cached token on a 401
 *   (ResetTokenOlderThan the request's start) so the next request reads the file; a read that fails after
 *   a good one keeps the old token.
 *
 * client-node's loadFromCluster reads process.env and a fixed path, and its FileAuth (dist/file_auth.js)
 * re-reads the token every 60 s but not after a 401, and does not trim the file's trailing newline; this
 * file takes the environment and the folder from its options and does both.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { UserError } from '../errors';

/** Where a pod's service account files are mounted. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The environment variables in-cluster configuration reads. */
export interface InClusterEnvironment {
  readonly KUBERNETES_SERVICE_HOST?: string;
  readonly KUBERNETES_SERVICE_PORT?: string;
  readonly POD_NAMESPACE?: string;
}

/** The API server URL inside a pod, or undefined when the variables are not both set. */
export function inClusterServer(env: InClusterEnvironment): string | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) return undefined;
  return `https://${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
}

/** What the service account directory gives. */
export interface InClusterFiles {
  readonly tokenFile: string;
  /** PEM, when ca.crt is readable. */
  readonly ca?: string;
  readonly namespace: string;
}

/** Reads the service account directory. @throws UserError when the token cannot be read */
export function readServiceAccount(dir: string, env: InClusterEnvironment): InClusterFiles {
  const tokenFile = path.join(dir, 'token');
  try {
    fs.accessSync(tokenFile, fs.constants.R_OK);
  } catch (e) {
    throw new UserError(
      `in-cluster configuration: cannot read the service account token ${tokenFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      'KUBERNETES_SERVICE_HOST is set, so this looks like a pod: mount a service account token, or pass --kubeconfig FILE',
    );
  }
  let ca: string | undefined;
  try {
    ca = fs.readFileSync(path.join(dir, 'ca.crt'), 'utf8');
  } catch {
    ca = undefined;
  }
  let namespace = env.POD_NAMESPACE || '';
  if (!namespace) {
    try {
      namespace = fs.readFileSync(path.join(dir, 'namespace'), 'utf8').trim();
    } catch {
      namespace = '';
    }
  }
  return { tokenFile, ca, namespace: namespace || 'default' };
}

/** A token read from a file, cached for a period, dropped on a 401. */
export class FileTokenSource {
  private cached?: { token: string; readAt: number };
  private readonly now: () => number;

  /**
   * @param file the token file
   * @param periodMs how long a read token is reused @default 60000 (client-go's period)
   * @param now @default Date.now
   */
  public constructor(
    private readonly file: string,
    private readonly periodMs = 60_000,
    now?: () => number,
  ) {
    this.now = now ?? Date.now;
  }

  /** The current token. @throws UserError when the file cannot be read and no token was read before */
  public token(): string {
    const t = this.now();
    if (this.cached && t - this.cached.readAt < this.periodMs) return this.cached.token;
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8').trim();
      if (!text) throw new Error('the file is empty');
    } catch (e) {
      if (this.cached) return this.cached.token;
      throw new UserError(`cannot read the token file ${this.file}: ${(e as Error).message}`);
    }
    this.cached = { token: text, readAt: t };
    return text;
  }

  /** A request sent at `sentAt` got 401: a token read before then is read again next time. */
  public resetOlderThan(sentAt: number): void {
    // Strictly older, as cachingTokenSource.ResetTokenOlderThan: a token read during this request stays.
    if (this.cached && this.cached.readAt < sentAt) this.cached = undefined;
  }
}
