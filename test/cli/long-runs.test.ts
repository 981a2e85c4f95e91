/**
 * Long runs: `watch` and `logs -f` stay attached through the server's normal ends of watches and
 * log follows (hundreds of them, time compressed), and still give up, clearly, on real errors.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../lib/cluster/connection';
import { KubeClient } from '../../lib/cluster/http';
import { captureLogs } from '../../lib/cluster/logs';
import { KINDS, resourcePath } from '../../lib/cluster/resources';
import { listWatch, type ReconnectNotice, type WatchEvent } from '../../lib/cluster/watch';
import type { KObject } from '../support/apiserver/index';
import { KUBECTL, kubectlPath } from '../support/kubectl';
import { cli, FakeArgo, NS, putWorkflow, startCluster, until, type TestCluster } from './support/harness';

const run = promisify(execFile);

const isWorkflowWatch = (q: { path: string; query: Record<string, string> }) => q.path.endsWith('/workflows') && (q.query.watch === '1' || q.query.watch === 'true');

let c: TestCluster | undefined;
afterEach(async () => {
  await c?.close();
  c = undefined;
});

describe('a quiet workflow through many clean server-side ends', () => {
  it('watch stays attached through 300 clean watch ends, then prints the outcome and exits by it', async () => {
    c = await startCluster({ endWatchesAfterMs: 20 });
    const cluster = c;
    putWorkflow(cluster.server, 'quiet-wf');
    const argo = new FakeArgo(cluster.server, 'quiet-wf');
    argo.start();
    const pod = argo.startPod('models-downloader');
    const done = (async () => {
      await until(() => cluster.server.requests.filter(isWorkflowWatch).length >= 300, 40_000, '300 watch requests');
      argo.finishPod(pod, { exitCode: 1, message: 'out of memory' });
      argo.complete('Failed', 'child failed');
    })();
    const r = await cli(['watch', 'quiet-wf'], { cluster, timeoutMs: 60_000 });
    await done;
    expect(r.stderr).not.toMatch(/gave up|kept failing/);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/models-downloader Failed/);
    expect(r.stdout).toMatch(/out of memory/);
    const watches = cluster.server.requests.filter(isWorkflowWatch);
    expect(watches.length).toBeGreaterThanOrEqual(300);
    // Resumed from the last resourceVersion each time (the bookmark's), never listed again.
    const lists = cluster.server.requests.filter((q) => q.method === 'GET' && q.path.endsWith('/workflows') && q.query.watch === undefined);
    expect(lists).toHaveLength(1);
    for (const w of watches) expect(w.query.resourceVersion).toMatch(/^\d+$/);
  }, 90_000);

  it('logs -f stays on a quiet pod through clean ends of its log follow and of every watch, and writes its later lines', async () => {
    c = await startCluster({ endWatchesAfterMs: 20, endLogFollowsAfterMs: 1100 });
    const cluster = c;
    putWorkflow(cluster.server, 'quiet-logs');
    const argo = new FakeArgo(cluster.server, 'quiet-logs');
    argo.start();
    const pod = argo.startPod('predictor');
    argo.log(pod, 'loading model');
    const logRequests = () => cluster.server.requests.filter((q) => q.path.endsWith(`/pods/${pod}/log`)).length;
    const done = (async () => {
      await until(() => logRequests() >= 13, 40_000, '13 log follows');
      argo.log(pod, 'predicted 5000 frames');
      argo.finishPod(pod);
      argo.complete('Succeeded');
    })();
    const r = await cli(['logs', 'quiet-logs', '-f'], { cluster, timeoutMs: 60_000 });
    await done;
    expect(r.stderr).not.toMatch(/gave up/);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/predictor.*loading model/);
    expect(r.stdout).toMatch(/predictor.*predicted 5000 frames/);
    expect(r.stdout.match(/loading model/g)).toHaveLength(1);
    expect(cluster.server.requests.filter(isWorkflowWatch).length).toBeGreaterThan(100);
  }, 90_000);
});

describe('real errors still end the command', () => {
  it('fails watch with a clear message after repeated 429s on every watch request, waiting what Retry-After asks', async () => {
    c = await startCluster();
    const cluster = c;
    putWorkflow(cluster.server, 'busy-wf');
    new FakeArgo(cluster.server, 'busy-wf').start();
    cluster.server.inject({ path: (q) => q.watch, action: { type: 'tooManyRequests', retryAfterSeconds: 0 }, times: Infinity });
    const r = await cli(['watch', 'busy-wf'], { cluster, timeoutMs: 15_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/the watch of \/apis\/argoproj\.io\/v1alpha1\/namespaces\/[^ ]+\/workflows failed 11 times in a row/);
    expect(r.stderr).toMatch(/Too many requests/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    // Each of the 11 attempts went through the client's own 5 attempts.
    expect(cluster.server.requests.filter(isWorkflowWatch)).toHaveLength(55);
  }, 30_000);
});

/** A client whose waits are recorded and skipped. */
async function recordingClient(cluster: TestCluster): Promise<{ client: KubeClient; waits: number[] }> {
  const waits: number[] = [];
  const client = new KubeClient(await connect({ kubeconfigFiles: [cluster.kubeconfig] }), {
    random: () => 1,
    sleep: async (ms) => {
      waits.push(ms);
      await new Promise((r) => setImmediate(r));
    },
  });
  return { client, waits };
}

const WF_PATH = resourcePath(KINDS.Workflow, NS);

describe('listWatch: what counts as a failure', () => {
  it('backs off a server that ends every watch at once with no event, and gives up naming it (the reflector guard)', async () => {
    c = await startCluster({ endWatchesAfterMs: 2, bookmarkIntervalMs: 0 });
    putWorkflow(c.server, 'wf');
    const { client, waits } = await recordingClient(c);
    const notices: ReconnectNotice[] = [];
    try {
      const events: WatchEvent<KObject>[] = [];
      await expect(
        (async () => {
          for await (const ev of listWatch<KObject>(client, { path: WF_PATH, onReconnect: (n) => notices.push(n) })) events.push(ev);
        })(),
      ).rejects.toThrow(/failed 11 times in a row .*the server ended the watch after \d+ ms without any event/);
      expect(events.map((e) => e.type)).toEqual(['SYNC']);
      expect(notices.map((n) => n.reason)).toEqual(Array(10).fill('short'));
      // Exponential backoff (random fixed at 1): 200, 400, ... capped at 5000.
      expect(waits).toEqual([200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000, 5000]);
    } finally {
      client.connection.close();
    }
  });

  it('reopens a cleanly ended watch at once and starts the failure count again after it', async () => {
    c = await startCluster({ endWatchesAfterMs: 20 });
    const cluster = c;
    putWorkflow(cluster.server, 'wf');
    const { client, waits } = await recordingClient(cluster);
    const notices: ReconnectNotice[] = [];
    const stop = new AbortController();
    const drops = () => cluster.server.inject({ path: (q) => q.watch, action: { type: 'dropWatch', afterEvents: 0 }, times: 8 });
    try {
      let first = drops();
      const seen: string[] = [];
      const watching = (async () => {
        for await (const ev of listWatch<KObject>(client, { path: WF_PATH, signal: stop.signal, onReconnect: (n) => notices.push(n) })) {
          if (ev.type === 'MODIFIED') {
            seen.push(String(ev.object.metadata.labels?.step));
            stop.abort();
          }
        }
      })();
      for (let round = 0; round < 3; round++) {
        await until(() => first.remaining === 0, 10_000, 'eight dropped watches');
        const ends = notices.filter((n) => n.reason === 'ended').length;
        await until(() => notices.filter((n) => n.reason === 'ended').length >= ends + 3, 10_000, 'three clean ends');
        first = drops();
      }
      await until(() => first.remaining === 0, 10_000, 'eight dropped watches');
      cluster.server.modify({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', namespace: NS, name: 'wf' }, (d) => {
        d.metadata.labels = { ...d.metadata.labels, step: 'late' };
      });
      await watching;
      expect(seen).toEqual(['late']);
      // 32 errors in all, never more than 8 in a row; clean ends are reopened without a wait.
      expect(notices.filter((n) => n.reason === 'dropped')).toHaveLength(32);
      expect(Math.max(...notices.map((n) => n.attempt))).toBe(8);
      expect(notices.filter((n) => n.reason === 'ended').every((n) => n.delayMs === 0 && n.attempt === 0)).toBe(true);
      expect(waits).toHaveLength(32);
    } finally {
      stop.abort();
      client.connection.close();
    }
  });
});

describe('captureLogs: what counts as a failure of a log follow', () => {
  /** Follows a workflow with one running pod until `until` notices, then finishes it; returns the notices. */
  async function followUntilNotice(cluster: TestCluster, inject: (pod: string) => void, noticed: RegExp): Promise<{ notices: string[]; waits: number[]; lines: string[] }> {
    putWorkflow(cluster.server, 'wf');
    const argo = new FakeArgo(cluster.server, 'wf');
    argo.start();
    const pod = argo.startPod('predictor');
    argo.log(pod, 'first');
    inject(pod);
    const { client, waits } = await recordingClient(cluster);
    const notices: string[] = [];
    const lines: string[] = [];
    try {
      const capture = captureLogs(client, { namespace: NS, workflow: 'wf', follow: true, sink: { write: (b) => lines.push(...b.lines) }, onNotice: (m) => notices.push(m) });
      await until(() => notices.some((n) => noticed.test(n)), 20_000, `a notice matching ${noticed}`);
      argo.finishPod(pod);
      argo.complete('Succeeded');
      await capture;
      return { notices, waits, lines };
    } finally {
      client.connection.close();
    }
  }

  it('gives up on a pod whose log stream keeps breaking, after backing off, naming the last error', async () => {
    c = await startCluster();
    const cluster = c;
    const r = await followUntilNotice(cluster, (pod) => cluster.server.inject({ path: (q) => q.log && q.path.includes(pod), action: { type: 'dropLog', afterLines: 0 }, times: Infinity }), /gave up/);
    expect(r.notices).toContainEqual(expect.stringMatching(/predictor: gave up reading pod wf-predictor-\d+: 11 failures in a row \(last: the log stream was cut off\)/));
    expect(r.waits.filter((w) => w >= 200)).toEqual(expect.arrayContaining([200, 400, 800, 1600, 3200, 5000]));
  });

  it('backs off and gives up on a log follow that ends at once, again and again, with no new line (the reflector guard)', async () => {
    c = await startCluster({ endLogFollowsAfterMs: 1 });
    const cluster = c;
    const r = await followUntilNotice(cluster, () => undefined, /gave up/);
    expect(r.lines).toEqual(['first']);
    expect(r.notices).toContainEqual(expect.stringMatching(/predictor: gave up reading pod wf-predictor-\d+: its log stream ended at once 11 times in a row without a new line/));
    expect(r.waits).toEqual(expect.arrayContaining([200, 400, 800, 1600, 3200, 5000]));
  });
});

describe.skipIf(!KUBECTL)('kubectl as the referee of the stand-in ends', () => {
  it('a watch ended at timeoutSeconds is a clean end to kubectl (exit 0, after the pre-timeout bookmark); a drop is an error', async () => {
    c = await startCluster();
    putWorkflow(c.server, 'wf');
    const raw = `/apis/argoproj.io/v1alpha1/namespaces/${NS}/workflows?watch=1&timeoutSeconds=3&allowWatchBookmarks=true`;
    const args = ['--kubeconfig', c.kubeconfig, 'get', '--raw', raw];
    const started = Date.now();
    const clean = await run(kubectlPath(), args, { timeout: 15_000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
    const events = clean.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'BOOKMARK']);
    c.server.inject({ path: (q) => q.watch, action: { type: 'dropWatch', afterEvents: 1 } });
    const dropped = await run(kubectlPath(), args, { timeout: 15_000 }).then(
      () => 'exit 0',
      (e: { stderr?: string }) => e.stderr ?? 'failed',
    );
    expect(dropped).toMatch(/unexpected EOF/);
  }, 40_000);

  it('kubectl get -w, which sets no timeoutSeconds, exits 0 at the random server default and when every watch ends after N ms', async () => {
    c = await startCluster({ minRequestTimeoutSeconds: 0.3 });
    putWorkflow(c.server, 'wf');
    const args = ['--kubeconfig', c.kubeconfig, 'get', 'workflows.argoproj.io', '-n', NS, '-w'];
    const started = Date.now();
    const r = await run(kubectlPath(), args, { timeout: 15_000 });
    expect(r.stdout).toMatch(/^wf\b/m);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    const watch = c.server.requests.find((q) => q.query.watch !== undefined);
    expect(watch?.query.timeoutSeconds).toBeUndefined();
    await c.close();
    c = await startCluster({ endWatchesAfterMs: 300 });
    putWorkflow(c.server, 'wf');
    const again = await run(kubectlPath(), ['--kubeconfig', c.kubeconfig, ...args.slice(2)], { timeout: 15_000 });
    expect(again.stdout).toMatch(/^wf\b/m);
  }, 40_000);
});
