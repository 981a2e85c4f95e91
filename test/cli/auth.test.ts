/**
 * Authentication as kubectl does it, against the stand-in over TLS with a real exec plugin
 * (test/fixtures/exec-plugin/plugin.sh), and kubectl beside our CLI against the same server as referee.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect } from '../../lib/cluster/connection';
import { KubeClient } from '../../lib/cluster/http';
import { clientCertificate, startApiServer, type FakeApiServer } from '../support/apiserver/index';
import { KUBECTL } from '../support/kubectl';
import { kubeconfigFor, kubectl, PLUGIN, PluginDir, startProxy, writeKubeconfig, type TestProxy } from './support/auth';
import { cli, ENV, NS, synthesizedDist } from './support/harness';

const HOUR = 3600_000;
const inAnHour = () => new Date(Date.now() + HOUR);
const PATH_ONLY = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

let server: FakeApiServer;
let dir: string;
beforeEach(async () => {
  server = await startApiServer({ tls: true, namespaces: [NS] });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sleap-roots-auth-'));
});
afterEach(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Our CLI with a kubeconfig file, the plugins getting PATH. */
const ours = (argv: string[], kubeconfig: string, extra: Parameters<typeof cli>[1] = {}) =>
  cli([...argv, '--kubeconfig', kubeconfig, '--dist', synthesizedDist()], { cwd: dir, ...extra, io: { processEnv: PATH_ONLY, ...extra.io } });

describe.skipIf(!KUBECTL)('exec credential plugins, beside kubectl', () => {
  it('show the plugin\'s prompt on stderr and set KUBERNETES_EXEC_INFO with interactive false when stdin is not a terminal', async () => {
    server.addToken('tok-a', 'alice');
    const [mine, theirs] = [new PluginDir(), new PluginDir()];
    for (const p of [mine, theirs]) p.credential({ token: 'tok-a' });
    const r = await ours(['list', '-n', NS], writeKubeconfig(dir, 'mine', kubeconfigFor(server, { plugin: mine, provideClusterInfo: true })));
    const k = await kubectl(['--kubeconfig', writeKubeconfig(dir, 'theirs', kubeconfigFor(server, { plugin: theirs, provideClusterInfo: true })), 'get', 'namespaces', '-o', 'name']);
    expect(k.code, k.stderr).toBe(0);
    expect(r.code, r.stderr).toBe(0);
    const prompt = 'To sign in, open https://login.example/device and enter the code WXYZ-1\n';
    expect(k.stderr).toContain(prompt);
    expect(r.stderr).toContain(prompt);
    const ca = Buffer.from(server.tls!.ca.cert).toString('base64');
    expect(theirs.info(1)).toEqual({ kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1', spec: { interactive: false, cluster: { server: server.url, 'certificate-authority-data': ca, config: null } } });
    expect(mine.info(1)).toEqual(theirs.info(1));
    expect([mine.runs, theirs.runs]).toEqual([1, 1]);
  });

  it('pass stdin and set interactive true when stdin is a terminal (kubectl under a pty), and honour interactiveMode Never', async () => {
    server.addToken('tok-a', 'alice');
    const [mine, theirs, never] = [new PluginDir(), new PluginDir(), new PluginDir()];
    for (const p of [mine, theirs, never]) p.credential({ token: 'tok-a' });
    const stdin = new PassThrough();
    stdin.end('done\n');
    const r = await ours(['list', '-n', NS], writeKubeconfig(dir, 'mine', kubeconfigFor(server, { plugin: mine })), { io: { stdin, stdinIsTTY: true } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Press Enter when done: ');
    const k = await kubectl(['--kubeconfig', writeKubeconfig(dir, 'theirs', kubeconfigFor(server, { plugin: theirs })), 'get', 'namespaces', '-o', 'name'], {}, true, 'done\n');
    expect(k.code, k.stdout + k.stderr).toBe(0);
    expect(theirs.info(1)).toMatchObject({ spec: { interactive: true } });
    expect(mine.info(1)).toEqual(theirs.info(1));
    expect(theirs.answer(1)).toBe('done');
    expect(mine.answer(1)).toBe('done');
    // A command with a slash is relative to the kubeconfig's folder, as kubectl resolves it.
    fs.copyFileSync(PLUGIN, path.join(dir, 'login.sh'));
    fs.chmodSync(path.join(dir, 'login.sh'), 0o755);
    const relative = kubeconfigFor(server, { plugin: never, interactiveMode: 'Never' }).replace(`command: ${PLUGIN}`, 'command: ./login.sh');
    expect(relative).toContain('command: ./login.sh');
    const n = await ours(['list', '-n', NS], writeKubeconfig(dir, 'never', relative), { io: { stdin: new PassThrough(), stdinIsTTY: true } });
    expect(n.code, n.stderr).toBe(0);
    expect(never.info(1)).toMatchObject({ spec: { interactive: false } });
  });
});

describe.skipIf(!KUBECTL)('credential renewal, beside kubectl', () => {
  it('re-runs the plugin when a token is revoked mid-run (401), and the command succeeds', async () => {
    // Each client's first token is good for 3 requests, then answers 401 as a revoked token does.
    const [mine, theirs] = [new PluginDir(), new PluginDir()];
    server.addToken('mine-1', 'alice', 3);
    server.addToken('mine-2', 'alice');
    server.addToken('theirs-1', 'alice', 1);
    server.addToken('theirs-2', 'alice');
    mine.credential({ token: 'mine-1', expiresAt: inAnHour() }, 1);
    mine.credential({ token: 'mine-2', expiresAt: inAnHour() }, 2);
    theirs.credential({ token: 'theirs-1', expiresAt: inAnHour() }, 1);
    theirs.credential({ token: 'theirs-2', expiresAt: inAnHour() }, 2);
    const k = await kubectl(['--kubeconfig', writeKubeconfig(dir, 'theirs', kubeconfigFor(server, { plugin: theirs })), 'get', 'namespaces', '-o', 'name']);
    expect(k.code, k.stderr).toBe(0);
    expect(theirs.runs).toBe(2);
    const r = await ours(['deploy', '--env', ENV], writeKubeconfig(dir, 'mine', kubeconfigFor(server, { plugin: mine, namespace: NS })));
    expect(r.code, r.stderr).toBe(0);
    expect(mine.runs).toBe(2);
    expect(server.requests.filter((q) => q.status === 401).length).toBe(2);
  });

  it('renews a credential shortly before it expires, without a 401', async () => {
    const plugin = new PluginDir();
    server.addToken('tok-1', 'alice');
    server.addToken('tok-2', 'bob');
    // 10.6 s left: inside the 10 s renewal window after 0.6 s.
    plugin.credential({ token: 'tok-1', expiresAt: new Date(Date.now() + 10_600) }, 1);
    plugin.credential({ token: 'tok-2', expiresAt: inAnHour() }, 2);
    const kc = writeKubeconfig(dir, 'kc', kubeconfigFor(server, { plugin }));
    // kubectl reads the same ExecCredential (fractional expirationTimestamp included).
    const k = await kubectl(['--kubeconfig', kc, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { PLUGIN_DIR: plugin.dir });
    expect(k.stdout, k.stderr).toBe('alice');
    fs.rmSync(path.join(plugin.dir, 'count'));
    server.clearRequests();
    const client = new KubeClient(await connect({ kubeconfigFiles: [kc], execEnvironment: PATH_ONLY }));
    try {
      await client.json({ path: '/api/v1/namespaces' });
      expect(server.requests.at(-1)?.user).toBe('alice');
      await new Promise((r) => setTimeout(r, 800));
      await client.json({ path: '/api/v1/namespaces' });
      expect(server.requests.at(-1)?.user).toBe('bob');
      expect(plugin.runs).toBe(2);
      expect(server.requests.map((q) => q.status)).toEqual([200, 200]);
    } finally {
      client.connection.close();
    }
  });

  it('uses the new client certificate when the plugin returns a different one (the server sees the new CN)', async () => {
    const plugin = new PluginDir();
    const alice = clientCertificate('alice', ['lab']);
    const bob = clientCertificate('bob', ['lab']);
    plugin.credential({ cert: alice, expiresAt: new Date(Date.now() + 10_600) }, 1);
    plugin.credential({ cert: bob, expiresAt: inAnHour() }, 2);
    const kc = writeKubeconfig(dir, 'kc', kubeconfigFor(server, { plugin }));
    const k = await kubectl(['--kubeconfig', kc, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username} {.status.userInfo.groups}']);
    expect(k.stdout, k.stderr).toBe('alice ["lab","system:authenticated"]');
    fs.rmSync(path.join(plugin.dir, 'count'));
    server.clearRequests();
    const client = new KubeClient(await connect({ kubeconfigFiles: [kc], execEnvironment: PATH_ONLY }));
    try {
      await client.json({ path: '/api/v1/namespaces' });
      await new Promise((r) => setTimeout(r, 800));
      await client.json({ path: '/api/v1/namespaces' });
      expect(server.requests.map((q) => q.user)).toEqual(['alice', 'bob']);
      expect(plugin.runs).toBe(2);
    } finally {
      client.connection.close();
    }
  });
});

describe.skipIf(!KUBECTL)('in-cluster configuration', () => {
  const serviceAccount = (token: string) => {
    const sa = path.join(dir, 'serviceaccount');
    fs.mkdirSync(sa, { recursive: true });
    fs.writeFileSync(path.join(sa, 'token'), token);
    fs.writeFileSync(path.join(sa, 'ca.crt'), server.tls!.ca.cert);
    fs.writeFileSync(path.join(sa, 'namespace'), NS);
    return sa;
  };
  const podEnv = () => ({ KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(server.port) });

  it('is used with no kubeconfig: the service account token, CA and namespace', async () => {
    server.addToken('sa-1', 'system:serviceaccount:runai-talmo-lab:runner');
    const sa = serviceAccount('sa-1');
    const r = await cli(['list', '--dist', synthesizedDist()], { cwd: dir, env: podEnv(), io: { serviceAccountDir: sa } });
    expect(r.code, r.stderr).toBe(0);
    expect(server.requests.some((q) => q.path === `/apis/argoproj.io/v1alpha1/namespaces/${NS}/workflows` && q.user === 'system:serviceaccount:runai-talmo-lab:runner')).toBe(true);
  });

  it('reads the token file again after a 401 when the token rotates mid-run, as kubectl reads a tokenFile', async () => {
    server.addToken('sa-1', 'runner');
    server.addToken('sa-2', 'runner');
    const sa = serviceAccount('sa-1');
    const client = new KubeClient(await connect({ serviceAccountDir: sa, inClusterEnvironment: podEnv() }));
    try {
      await client.json({ path: '/api/v1/namespaces' });
      expect(client.connection.contextNamespace).toBe(NS);
      fs.writeFileSync(path.join(sa, 'token'), 'sa-2\n');
      server.revokeToken('sa-1');
      await new Promise((r) => setTimeout(r, 5));
      await client.json({ path: '/api/v1/namespaces' });
      expect(server.requests.map((q) => q.status)).toEqual([200, 401, 200]);
    } finally {
      client.connection.close();
    }
    // kubectl, with the same token file in a kubeconfig, gets the rotated token through.
    const k = await kubectl(['--kubeconfig', writeKubeconfig(dir, 'kc', kubeconfigFor(server, { tokenFile: path.join(sa, 'token') })), 'get', 'namespaces', '-o', 'name']);
    expect(k.code, k.stderr).toBe(0);
  });

  it("uses a kubeconfig user's tokenFile (relative to the kubeconfig), re-read after a 401, as kubectl does", async () => {
    server.addToken('file-1', 'carol');
    server.addToken('file-2', 'carol');
    fs.writeFileSync(path.join(dir, 'token'), 'file-1\n');
    const kubeconfig = writeKubeconfig(dir, 'kc-tokenfile', kubeconfigFor(server, { tokenFile: 'token' }));
    // kubectl resolves the path against the kubeconfig's folder and authenticates with the file's token.
    const k = await kubectl(['--kubeconfig', kubeconfig, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    expect(k.code, k.stderr).toBe(0);
    expect(k.stdout).toBe('carol');
    server.requests.length = 0;
    const client = new KubeClient(await connect({ kubeconfigFiles: [kubeconfig] }));
    try {
      await client.json({ path: '/api/v1/namespaces' });
      fs.writeFileSync(path.join(dir, 'token'), 'file-2\n');
      server.revokeToken('file-1');
      await new Promise((r) => setTimeout(r, 5));
      await client.json({ path: '/api/v1/namespaces' });
    } finally {
      client.connection.close();
    }
    expect(server.requests.map((q) => [q.status, q.user])).toEqual([[200, 'carol'], [401, undefined], [200, 'carol']]);
  });
});

describe.skipIf(!KUBECTL)('proxies, beside kubectl', () => {
  let proxy: TestProxy;
  beforeEach(async () => {
    proxy = await startProxy();
    server.addToken('tok-proxy', 'alice');
  });
  afterEach(async () => {
    await proxy.close();
  });

  // 0.0.0.0 reaches the local server but is not a loopback address, which Go (and so kubectl) never proxies.
  const viaAny = () => `https://0.0.0.0:${server.port}`;
  const both = async (kc: string, env: Record<string, string>) => {
    const k = await kubectl(['--kubeconfig', kc, 'get', 'namespaces', '-o', 'name'], env);
    const kubectlTunnels = proxy.tunnels.length;
    const r = await ours(['list', '-n', NS], kc, { env });
    return { k, r, kubectlTunnels, ourTunnels: proxy.tunnels.length - kubectlTunnels };
  };

  it('go through HTTPS_PROXY (or https_proxy) with CONNECT', async () => {
    const kc = writeKubeconfig(dir, 'kc', kubeconfigFor(server, { server: viaAny(), token: 'tok-proxy' }));
    for (const name of ['HTTPS_PROXY', 'https_proxy']) {
      proxy.tunnels.length = 0;
      const { k, r, kubectlTunnels, ourTunnels } = await both(kc, { [name]: proxy.url });
      expect(k.code, k.stderr).toBe(0);
      expect(r.code, r.stderr).toBe(0);
      expect(kubectlTunnels).toBeGreaterThan(0);
      expect(ourTunnels).toBeGreaterThan(0);
      expect(new Set(proxy.tunnels)).toEqual(new Set([`0.0.0.0:${server.port}`]));
    }
  });

  it('bypass the proxy for a NO_PROXY match (a CIDR, an IP with the port), but not for another port', async () => {
    const kc = writeKubeconfig(dir, 'kc', kubeconfigFor(server, { server: viaAny(), token: 'tok-proxy' }));
    for (const noProxy of ['0.0.0.0/8', `example.com,0.0.0.0:${server.port}`]) {
      proxy.tunnels.length = 0;
      const { k, r } = await both(kc, { HTTPS_PROXY: proxy.url, NO_PROXY: noProxy });
      expect(k.code, k.stderr).toBe(0);
      expect(r.code, r.stderr).toBe(0);
      expect(proxy.tunnels).toEqual([]);
    }
    const { kubectlTunnels, ourTunnels } = await both(kc, { HTTPS_PROXY: proxy.url, no_proxy: `0.0.0.0:${server.port + 1}` });
    expect([kubectlTunnels > 0, ourTunnels > 0]).toEqual([true, true]);
  });

  it('take the kubeconfig\'s proxy-url over the environment, NO_PROXY and loopback included', async () => {
    const kc = writeKubeconfig(dir, 'kc', kubeconfigFor(server, { proxyUrl: proxy.url, token: 'tok-proxy' }));
    const { k, r, kubectlTunnels, ourTunnels } = await both(kc, { HTTPS_PROXY: 'http://127.0.0.1:9', NO_PROXY: '*' });
    expect(k.code, k.stderr).toBe(0);
    expect(r.code, r.stderr).toBe(0);
    expect([kubectlTunnels > 0, ourTunnels > 0]).toEqual([true, true]);
    expect(new Set(proxy.tunnels)).toEqual(new Set([`127.0.0.1:${server.port}`]));
  });

  it('send an http:// server\'s requests to HTTP_PROXY in absolute form', async () => {
    // No token: kubectl sends no credentials to an http:// server (client-go tools/clientcmd/client_config.go,
    // ClientConfig reads the user's credentials only when restclient.IsConfigTransportTLS).
    const plain = await startApiServer({ namespaces: [NS] });
    try {
      const kc = writeKubeconfig(dir, 'kc', plain.kubeconfig({ namespace: NS }).replace(plain.url, `http://0.0.0.0:${plain.port}`));
      const { k, r } = await both(kc, { HTTP_PROXY: proxy.url, HTTPS_PROXY: 'http://127.0.0.1:9' });
      expect(k.code, k.stderr).toBe(0);
      expect(r.code, r.stderr).toBe(0);
      expect(proxy.tunnels).toEqual([]);
      expect(proxy.forwarded.some((u) => u.startsWith(`http://0.0.0.0:${plain.port}/apis/argoproj.io/v1alpha1/namespaces/${NS}/workflows`))).toBe(true);
      expect(proxy.forwarded.filter((u) => u.startsWith(`http://0.0.0.0:${plain.port}/api`)).length).toBeGreaterThan(1);
    } finally {
      await plain.close();
    }
  });

  it('fails clearly for a socks5 proxy-url', async () => {
    const kc = writeKubeconfig(dir, 'kc', kubeconfigFor(server, { proxyUrl: 'socks5://127.0.0.1:1080' }));
    const r = await ours(['list', '-n', NS], kc);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "error: the kubeconfig cluster's proxy-url: socks5:// proxies are not supported by sleap-roots (kubectl supports them)\n  use an http:// or https:// proxy (CONNECT), or run the command where the API server is reachable directly\n",
    );
  });
});

describe.skipIf(!KUBECTL)('API warnings', () => {
  it('prints each distinct Warning header once, as kubectl does', async () => {
    const every = 'argoproj.io/v1alpha1 Workflow is served by a test stand-in';
    const once = 'unknown field "spec.foo"';
    // The first matching fault applies: `once` on one request, `every` on all the others.
    server.inject({ method: 'GET', path: /\/namespaces\/[^/]+\/workflows$/, action: { type: 'warning', text: once } });
    server.inject({ action: { type: 'warning', text: every }, times: Infinity });
    server.addToken('tok-w', 'alice');
    const kc = writeKubeconfig(dir, 'kc', kubeconfigFor(server, { namespace: NS, token: 'tok-w' }));
    const k = await kubectl(['--kubeconfig', kc, 'get', 'workflows.argoproj.io', '-n', NS]);
    expect(k.code, k.stderr).toBe(0);
    expect(k.stderr.split('\n').filter((line) => line.startsWith('Warning')).sort()).toEqual([`Warning: ${every}`, `Warning: ${once}`]);
    server.clearRequests();
    const r = await ours(['deploy', '--env', ENV], kc);
    expect(r.code, r.stderr).toBe(0);
    expect(server.requests.length).toBeGreaterThan(3);
    expect(r.stderr).toBe(`Warning: ${every}\n`);
    server.clearFaults();
    server.inject({ method: 'GET', path: /\/namespaces\/[^/]+\/workflows$/, action: { type: 'warning', text: once } });
    server.inject({ action: { type: 'warning', text: every }, times: Infinity });
    const l = await ours(['list', '-n', NS], kc);
    expect(l.code, l.stderr).toBe(0);
    // `list` makes one request, which gets the first matching fault only.
    expect(l.stderr).toBe(`Warning: ${once}\n`);
  });
});
