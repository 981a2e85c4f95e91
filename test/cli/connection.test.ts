import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli, ENV, FakeArgo, NS, putWorkflow, startCluster, type CliRun, type TestCluster } from './support/harness';

const TOKEN = 'sk-test-7f3a9c2e1b8d4f60-TOKEN';

describe('connection', () => {
  let c: TestCluster;
  beforeEach(async () => {
    c = await startCluster({ token: TOKEN });
  });
  afterEach(async () => {
    await c.close();
  });

  const tokenFlow = (extra: string[] = []) => ['--server', c.server.url, '--dist', c.dist, ...extra];

  it('works with --server and --token alone (no kubeconfig), the seed token flow', async () => {
    const r = await cli(['deploy', '--env', ENV, ...tokenFlow(['--token', TOKEN])], { cwd: c.dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`on ${c.server.url.replace(/[.]/g, '\\.')}$`, 'm'));
  });

  it('takes the token from SLEAP_ROOTS_TOKEN, with or without a Bearer prefix', async () => {
    for (const value of [TOKEN, `Bearer ${TOKEN}`]) {
      const r = await cli(['list', '-n', NS, ...tokenFlow()], { cwd: c.dir, env: { SLEAP_ROOTS_TOKEN: value } });
      expect(r.code, r.stderr).toBe(0);
    }
  });

  it('uses KUBECONFIG, its context namespace, and --context', async () => {
    await cli(['deploy', '--env', ENV], { cluster: c });
    putWorkflow(c.server, 'wf-1');
    const r = await cli(['list', '--dist', c.dist], { cwd: c.dir, env: { KUBECONFIG: `/nonexistent/config:${c.kubeconfig}` } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^wf-1\s/m);
    const bad = await cli(['list', '--context', 'nope', '--kubeconfig', c.kubeconfig, '--dist', c.dist], { cwd: c.dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(`error: context "nope" is not in the kubeconfig (${c.kubeconfig})\n  contexts there: stand-in\n`);
  });

  it('says what to pass when there is no kubeconfig and no server', async () => {
    const r = await cli(['list'], { cwd: c.dir, env: {} });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: no kubeconfig found\n  pass --kubeconfig FILE, set KUBECONFIG, or use --server URL with --token TOKEN (inside a pod, the service account is used when KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are set)\n');
  });

  it('exits 2 with usage for a missing required option or an unknown command', async () => {
    expect((await cli(['deploy'], { cwd: c.dir })).code).toBe(2);
    const r = await cli(['deplyo'], { cwd: c.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'deplyo'/);
  });
});

describe('the token never appears in output, logs or errors', () => {
  let c: TestCluster;
  beforeEach(async () => {
    c = await startCluster({ token: TOKEN });
  });
  afterEach(async () => {
    await c.close();
  });

  const all = (runs: CliRun[], dir: string) => {
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.txt') || f.endsWith('.log')).map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
    return [...runs.flatMap((r) => [r.stdout, r.stderr]), ...files].join('\n');
  };

  it('in errors from the API, retries, refused connections and echoing servers, and in log lines', async () => {
    const runs: CliRun[] = [];
    const flow = (...extra: string[]) => ['--server', c.server.url, '--dist', c.dist, ...extra];
    const env = { SLEAP_ROOTS_TOKEN: `Bearer ${TOKEN}` };
    // A wrong token, then the right one with a server that echoes it back in errors.
    runs.push(await cli(['deploy', '--env', ENV, ...flow('--token', `${TOKEN}-wrong`)], { cwd: c.dir }));
    expect(runs[0].code).toBe(1);
    expect(runs[0].stderr).toBe('Error from server (Unauthorized): Unauthorized\n');
    c.server.inject({ method: 'PATCH', action: { type: 'status', code: 400, reason: 'BadRequest', message: `bad header Authorization: Bearer ${TOKEN}` } });
    runs.push(await cli(['deploy', '--env', ENV, ...flow('-v')], { cwd: c.dir, env }));
    expect(runs[1].stdout + runs[1].stderr).toContain('bad header Authorization: Bearer <redacted>');
    c.server.inject({ action: { type: 'tooManyRequests', retryAfterSeconds: 0 }, times: 2 });
    runs.push(await cli(['deploy', '--env', ENV, ...flow('-v')], { cwd: c.dir, env }));
    expect(runs[2].code).toBe(0);
    // A step that prints the token: the terminal and the log file show it redacted.
    putWorkflow(c.server, 'wf-leak');
    const argo = new FakeArgo(c.server, 'wf-leak');
    argo.start();
    const pod = argo.startPod('predictor');
    argo.log(pod, [`using token ${TOKEN}`, 'done']);
    argo.finishPod(pod);
    argo.complete('Succeeded');
    runs.push(await cli(['logs', 'wf-leak', '-n', NS, ...flow()], { cwd: c.dir, env }));
    expect(runs[3].stdout).toContain('predictor: using token <redacted>');
    runs.push(await cli(['logs', 'wf-leak', '-n', NS, '-o', 'json', ...flow()], { cwd: c.dir, env }));
    // Nothing listening.
    const url = c.server.url;
    await c.server.close();
    runs.push(await cli(['doctor', '--env', ENV, '--server', url, '--token', TOKEN, '--dist', c.dist, '-v'], { cwd: c.dir }));
    runs.push(await cli(['submit', '--env', ENV, '--server', url, '--dist', c.dist, '-v'], { cwd: c.dir, env }));
    expect(runs[6].code).toBe(1);

    const text = all(runs, c.dir);
    expect(text).toContain('<redacted>');
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(TOKEN.slice(0, 20));
  });

  it('in errors when the token comes from a kubeconfig', async () => {
    const kc = path.join(c.dir, 'kc');
    fs.writeFileSync(kc, c.server.kubeconfig({ namespace: NS }));
    c.server.inject({ action: { type: 'internalError', message: `token ${TOKEN} expired` }, times: Infinity });
    const r = await cli(['status', 'x', '--kubeconfig', kc, '--dist', c.dist, '-v'], { cwd: c.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('token <redacted> expired');
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
  });
});
