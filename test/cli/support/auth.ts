/**
 * Test support for authentication: the exec plugin fixture (test/fixtures/exec-plugin/plugin.sh) in a
 * scratch folder, kubeconfigs for a TLS stand-in, kubectl run asynchronously beside our CLI (the
 * stand-in is in this process: a synchronous child would deadlock it), and a CONNECT proxy that counts
 * its tunnels.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { stringify } from 'yaml';
import type { CertPair, FakeApiServer } from '../../support/apiserver/index';
import { kubectlPath } from '../../support/kubectl';

export const PLUGIN = path.join(__dirname, '../../fixtures/exec-plugin/plugin.sh');

/** One plugin's scratch folder: what it is told to print and what it recorded. */
export class PluginDir {
  public readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-plugin-'));

  /** The ExecCredential printed by run `n` (or every run without `n`). */
  public credential(status: { token?: string; cert?: CertPair; expiresAt?: Date }, n?: number, apiVersion = 'client.authentication.k8s.io/v1'): void {
    const body = {
      apiVersion,
      kind: 'ExecCredential',
      status: {
        ...(status.token ? { token: status.token } : {}),
        ...(status.cert ? { clientCertificateData: status.cert.cert, clientKeyData: status.cert.key } : {}),
        ...(status.expiresAt ? { expirationTimestamp: status.expiresAt.toISOString() } : {}),
      },
    };
    fs.writeFileSync(path.join(this.dir, n === undefined ? 'cred.json' : `cred-${n}.json`), JSON.stringify(body));
  }

  /** How many times the plugin ran. */
  public get runs(): number {
    try {
      return Number(fs.readFileSync(path.join(this.dir, 'count'), 'utf8').trim());
    } catch {
      return 0;
    }
  }

  /** KUBERNETES_EXEC_INFO of run `n`, parsed ('' when it was not set). */
  public info(n: number): unknown {
    const text = fs.readFileSync(path.join(this.dir, `info-${n}.json`), 'utf8');
    return text ? JSON.parse(text) : '';
  }

  public answer(n: number): string | undefined {
    const f = path.join(this.dir, `answer-${n}`);
    return fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : undefined;
  }
}

/** Options of {@link kubeconfigFor}. */
export interface KubeconfigOptions {
  readonly server?: string;
  readonly namespace?: string;
  readonly plugin?: PluginDir;
  readonly interactiveMode?: 'Never' | 'IfAvailable' | 'Always';
  readonly provideClusterInfo?: boolean;
  readonly proxyUrl?: string;
  readonly tokenFile?: string;
  /** A bearer token (without any credential kubectl would prompt for a password). */
  readonly token?: string;
}

/** A kubeconfig (YAML) for a TLS stand-in, with an exec plugin user or a token file. */
export function kubeconfigFor(server: FakeApiServer, o: KubeconfigOptions = {}): string {
  const ca = server.tls ? Buffer.from(server.tls.ca.cert).toString('base64') : undefined;
  const user: Record<string, unknown> = {};
  if (o.plugin) {
    user.exec = {
      apiVersion: 'client.authentication.k8s.io/v1',
      command: PLUGIN,
      args: [],
      env: [{ name: 'PLUGIN_DIR', value: o.plugin.dir }],
      interactiveMode: o.interactiveMode ?? 'IfAvailable',
      provideClusterInfo: o.provideClusterInfo ?? false,
    };
  }
  if (o.tokenFile) user.tokenFile = o.tokenFile;
  if (o.token) user.token = o.token;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'tls', cluster: { server: o.server ?? server.url, ...(ca ? { 'certificate-authority-data': ca } : {}), ...(o.proxyUrl ? { 'proxy-url': o.proxyUrl } : {}) } }],
    users: [{ name: 'tls-user', user }],
    contexts: [{ name: 'tls', context: { cluster: 'tls', user: 'tls-user', namespace: o.namespace ?? 'default' } }],
    'current-context': 'tls',
  });
}

/** Writes a kubeconfig into a scratch file and returns its path. */
export function writeKubeconfig(dir: string, name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

export interface KubectlRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs kubectl (asynchronously) with only the given environment, PATH and a scratch HOME. */
export function kubectl(args: readonly string[], env: Record<string, string> = {}, viaPty = false, input = ''): Promise<KubectlRun> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'kubectl-home-'));
  const fullEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ...env };
  // `script` gives kubectl a terminal for stdin (util-linux script -q -e -c CMD /dev/null).
  const quoted = [kubectlPath(), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const [file, argv] = viaPty ? ['script', ['-q', '-e', '-c', quoted, '/dev/null']] : [kubectlPath(), [...args]];
  return new Promise((resolve) => {
    const child = execFile(file as string, argv as string[], { env: fullEnv, timeout: 20_000 }, (err, stdout, stderr) => {
      fs.rmSync(home, { recursive: true, force: true });
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

/** A CONNECT proxy that sends every tunnel to 127.0.0.1 (whatever the host asked) and records the targets. */
export interface TestProxy {
  readonly url: string;
  /** `host:port` of each CONNECT, in order. */
  readonly tunnels: string[];
  /** Absolute-form requests (http:// servers). */
  readonly forwarded: string[];
  close(): Promise<void>;
}

export async function startProxy(): Promise<TestProxy> {
  const tunnels: string[] = [];
  const forwarded: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    forwarded.push(req.url ?? '');
    const target = new URL(req.url ?? '/');
    const upstream = http.request({ host: '127.0.0.1', port: target.port, path: target.pathname + target.search, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    tunnels.push(req.url ?? '');
    const port = Number((req.url ?? '').replace(/^.*:/, ''));
    const upstream = net.connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    forwarded,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
