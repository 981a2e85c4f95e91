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
import { kubeconfigFor, kubectl, PluginDir, startProxy, writeKubeconfig, type TestProxy } from './support/auth';
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
    const n = await ours(['list', '-n', NS], writeKubeconfig(dir, 'never', kubeconfigFor(server, { plugin: never, interactiveMode: 'Never' })), { io: { stdin: new PassThrough(), stdinIsTTY: true } });
    expect(n.code, n.stderr).toBe(0);
    expect(never.info(1)).toMatchObject({ spec: { interactive: false } });
  });
});
