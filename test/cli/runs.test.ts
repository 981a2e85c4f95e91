import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli, FakeArgo, startCluster, until, NS, type TestCluster } from './support/harness';
import type { FaultHandle } from '../support/apiserver/index';
import { runCli as runCliDirect } from '../../lib/cli/program';
import { batchDist, runCli, scansFile, simulateBatches, summary, workflows, RUN_ENV, SCAN_PARAMETER } from './support/runs';
import { scanDigest } from '../../lib/cluster/run/scans';

const WORKFLOWS = `/apis/argoproj.io/v1alpha1/namespaces/${NS}/workflows`;
const byName = (c: TestCluster) => workflows(c.server).map((w) => w.metadata.name as string).sort();
const creates = (c: TestCluster) => c.server.requests.filter((r) => r.method === 'POST' && r.path === WORKFLOWS);
const unfinished = (c: TestCluster) => workflows(c.server).filter((w) => w.metadata.labels?.['workflows.argoproj.io/completed'] !== 'true').length;
const lastProgress = (stdout: string, run: string) => stdout.split('\n').filter((l) => l.startsWith(`run ${run}:`)).pop();

/** Every batch 0..n-1 has exactly one workflow (attempt 0), and nothing else is there. */
function expectOnePerBatch(c: TestCluster, run: string, n: number): void {
  const names = byName(c);
  expect(names).toEqual(Array.from({ length: n }, (_, i) => `${run}-b${String(i).padStart(4, '0')}`));
  const batches = workflows(c.server).map((w) => w.metadata.labels?.['sleap-roots.io/batch']);
  expect(new Set(batches).size).toBe(n);
}

describe('submit --scans: a run of batches', () => {
  let c: TestCluster;
  beforeEach(async () => {
    c = await startCluster();
    const r = await runCli(c, ['deploy', '--env', RUN_ENV]);
    expect(r.code, r.stderr).toBe(0);
    c.server.clearRequests();
  });
  afterEach(async () => {
    await c.close();
  });

  it('creates one Workflow per batch, named and labelled by run and batch, with its scans in the scan-list parameter', async () => {
    const sim = simulateBatches(c.server);
    const r = await runCli(c, ['submit', '--env', RUN_ENV, '--scans', scansFile(c, 60), '--batch-size', '25', '--run', 'r1']);
    sim.stop();
    expect(r.code, r.stderr).toBe(0);
    expectOnePerBatch(c, 'r1', 3);
    const wf = workflows(c.server).find((w) => w.metadata.name === 'r1-b0002')!;
    expect(wf.metadata.labels).toMatchObject({ 'sleap-roots.io/run': 'r1', 'sleap-roots.io/batch': '2', 'sleap-roots.io/environment': RUN_ENV, 'app.kubernetes.io/part-of': 'sleap-roots-pipeline' });
    const scans = Array.from({ length: 10 }, (_, i) => `scan-${String(50 + i).padStart(5, '0')}`);
    expect(wf.spec.arguments.parameters).toContainEqual({ name: SCAN_PARAMETER, value: scans.join(',') });
    expect(wf.spec.workflowTemplateRef).toEqual({ name: 'sleap-roots-pipeline' });
    expect(wf.metadata.annotations).toMatchObject({ 'sleap-roots.io/batch-digest': scanDigest(scans), 'sleap-roots.io/batch-scans': '10', 'sleap-roots.io/run-batches': '3', 'sleap-roots.io/run-scans': '60' });
    expect(r.stdout).toMatch(/^Run r1: 60 scans in 3 batches of 25, namespace "runai-talmo-lab"$/m);
    expect(r.stdout).toMatch(/All 3 batches of run r1 are submitted\. Follow: npx sleap-roots watch --run r1/);
    // The template is read once, not once per batch.
    expect(c.server.requests.filter((x) => x.method === 'GET' && x.path.endsWith('/workflowtemplates/sleap-roots-pipeline'))).toHaveLength(1);
  });

  it('keeps at most --max-in-flight batches unfinished, submits the rest as earlier ones finish (watched, not polled), and with --watch ends when all have', async () => {
    let peak = 0;
    const off = c.server.onChange(() => void (peak = Math.max(peak, unfinished(c))));
    const sim = simulateBatches(c.server, { runMs: 15 });
    const r = await runCli(c, ['submit', '--env', RUN_ENV, '--scans', scansFile(c, 100), '--batch-size', '10', '--max-in-flight', '3', '--run', 'r2', '--watch']);
    sim.stop();
    off();
    expect(r.code, r.stderr).toBe(0);
    expectOnePerBatch(c, 'r2', 10);
    expect(peak).toBe(3);
    expect(creates(c)).toHaveLength(10);
    const lists = c.server.requests.filter((x) => x.method === 'GET' && x.path === WORKFLOWS && x.query.watch === undefined);
    expect(lists).toHaveLength(1);
    expect(lastProgress(r.stdout, 'r2')).toMatch(/^run r2: 10 batches \(100 scans\): 10 succeeded, 0 failed \| scans: 100 succeeded, 0 partial, 0 failed \| \d+s so far$/);
  });

  it('continues a stopped run with the same --run and scans: batches that exist are not submitted again', async () => {
    let hold = true;
    const sim = simulateBatches(c.server, { runMs: 5, proceed: () => !hold });
    const file = scansFile(c, 50);
    const argv = ['submit', '--env', RUN_ENV, '--scans', file, '--batch-size', '5', '--max-in-flight', '4', '--run', 'r3'];
    const stop = new AbortController();
    const first = runCli(c, argv, { signal: stop.signal });
    await until(() => workflows(c.server).length === 4, 10_000, '4 batches submitted');
    stop.abort();
    const r1 = await first;
    expect(r1.code).toBe(130);
    expect(r1.stderr).toMatch(/Detached; the run goes on/);
    hold = false;
    const r2 = await runCli(c, [...argv, '--watch']);
    sim.stop();
    expect(r2.code, r2.stderr).toBe(0);
    expectOnePerBatch(c, 'r3', 10);
    expect(creates(c)).toHaveLength(10);
    expect(creates(c).filter((x) => x.status === 409)).toHaveLength(0);
  });

  it('fails, naming the batch, when a restart brings other scans under the same --run', async () => {
    const sim = simulateBatches(c.server);
    expect((await runCli(c, ['submit', '--env', RUN_ENV, '--scans', scansFile(c, 20), '--batch-size', '10', '--run', 'r4'])).code).toBe(0);
    const other = path.join(c.dir, 'other.txt');
    fs.writeFileSync(other, ['scan-x', ...Array.from({ length: 19 }, (_, i) => `scan-${String(i + 1).padStart(5, '0')}`)].join('\n'));
    const r = await runCli(c, ['submit', '--env', RUN_ENV, '--scans', other, '--batch-size', '10', '--run', 'r4']);
    sim.stop();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/batch 0 of run "r4" on the cluster was submitted with other scans \(sha256:[0-9a-f]{64}, these give sha256:[0-9a-f]{64}\)/);
    expect(r.stderr).toMatch(/use the same --scans and --batch-size to continue run r4, or another --run id/);
    expect(byName(c)).toEqual(['r4-b0000', 'r4-b0001']);
  });

  it('reads the scans from standard input with --scans -', async () => {
    let out = '';
    const io = {
      stdout: { write: (t: string) => void (out += t) },
      stderr: { write: (t: string) => void (out += t) },
      isTTY: false,
      env: {},
      cwd: c.dir,
      now: () => Date.now(),
      version: '0.1.0',
      readStdin: () => Promise.resolve('# from a pipe\nscan-a\nscan-b\nscan-c\n'),
    };
    const code = await runCliDirect(['submit', '--env', RUN_ENV, '--scans', '-', '--batch-size', '2', '--run', 'st1', '--kubeconfig', c.kubeconfig, '--dist', batchDist()], io);
    expect(code, out).toBe(0);
    expect(byName(c)).toEqual(['st1-b0000', 'st1-b0001']);
    expect(workflows(c.server).find((w) => w.metadata.name === 'st1-b0001')!.spec.arguments.parameters).toContainEqual({ name: SCAN_PARAMETER, value: 'scan-c' });
  });

  it('fails when a batch name is taken by a workflow of something else', async () => {
    c.server.put({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: 'r5-b0001', namespace: NS }, spec: {} });
    const sim = simulateBatches(c.server);
    const r = await runCli(c, ['submit', '--env', RUN_ENV, '--scans', scansFile(c, 20), '--batch-size', '10', '--run', 'r5']);
    sim.stop();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/workflow "r5-b0001" already exists in namespace "runai-talmo-lab" and is not batch 1 of run "r5" with these scans/);
  });

  describe('faults while a run is being submitted end with exactly one Workflow per batch', () => {
    const cases: [string, (c: TestCluster) => FaultHandle][] = [
      ['429 Too Many Requests on creates', (c) => c.server.inject({ method: 'POST', path: WORKFLOWS, times: 3, action: { type: 'tooManyRequests', retryAfterSeconds: 0 } })],
      ['500 on creates', (c) => c.server.inject({ method: 'POST', path: WORKFLOWS, times: 3, action: { type: 'internalError' } })],
      ['connection resets on creates', (c) => c.server.inject({ method: 'POST', path: WORKFLOWS, times: 3, action: { type: 'reset' } })],
      ['a lost create response', (c) => c.server.inject({ method: 'POST', path: WORKFLOWS, times: 2, action: { type: 'loseResponse' } })],
      ['watch drops', (c) => c.server.inject({ path: WORKFLOWS, times: 3, action: { type: 'dropWatch', afterEvents: 2 } })],
      ['an expired watch (410 Gone)', (c) => c.server.inject({ path: WORKFLOWS, times: 2, action: { type: 'expireWatch', afterEvents: 3 } })],
      ['503 on the list', (c) => c.server.inject({ method: 'GET', path: (r) => r.path === WORKFLOWS && !r.watch, times: 2, action: { type: 'status', code: 503, reason: 'ServiceUnavailable', message: 'etcd leader changed' } })],
    ];
    for (const [what, inject] of cases) {
      it(what, async () => {
        const sim = simulateBatches(c.server, { runMs: 10 });
        const fault = inject(c);
        const r = await runCli(c, ['submit', '--env', RUN_ENV, '--scans', scansFile(c, 40), '--batch-size', '5', '--max-in-flight', '3', '--run', 'f1', '--watch']);
        sim.stop();
        expect(r.code, r.stderr).toBe(0);
        expect(fault.hits).toBeGreaterThan(0);
        expectOnePerBatch(c, 'f1', 8);
        expect(lastProgress(r.stdout, 'f1')).toMatch(/8 succeeded, 0 failed \| scans: 40 succeeded/);
      });
    }

    it('a lost create response is answered 409 AlreadyExists on the retry, and the batch counts as submitted once', async () => {
      const sim = simulateBatches(c.server, { runMs: 10 });
      c.server.inject({ method: 'POST', path: WORKFLOWS, times: 1, action: { type: 'loseResponse' } });
      const r = await runCli(c, ['submit', '--env', RUN_ENV, '--scans', scansFile(c, 10), '--batch-size', '5', '--run', 'f2', '-v']);
      sim.stop();
      expect(r.code, r.stderr).toBe(0);
      expectOnePerBatch(c, 'f2', 2);
      expect(creates(c).filter((x) => x.status === 409)).toHaveLength(1);
      expect(r.stderr).toMatch(/already there \(an earlier answer was lost\): f2-b0000/);
    });

    it('a restart of the CLI mid-run, under faults', async () => {
      let hold = true;
      const sim = simulateBatches(c.server, { runMs: 5, proceed: () => !hold });
      c.server.inject({ method: 'POST', path: WORKFLOWS, times: 2, action: { type: 'reset' } });
      const argv = ['submit', '--env', RUN_ENV, '--scans', scansFile(c, 30), '--batch-size', '3', '--max-in-flight', '4', '--run', 'f3'];
      const stop = new AbortController();
      const first = runCli(c, argv, { signal: stop.signal });
      await until(() => workflows(c.server).length === 4, 10_000, '4 batches');
      stop.abort();
      expect((await first).code).toBe(130);
      c.server.inject({ method: 'POST', path: WORKFLOWS, times: 1, action: { type: 'loseResponse' } });
      c.server.inject({ path: WORKFLOWS, times: 1, action: { type: 'dropWatch', afterEvents: 1 } });
      hold = false;
      const r = await runCli(c, [...argv, '--watch']);
      sim.stop();
      expect(r.code, r.stderr).toBe(0);
      expectOnePerBatch(c, 'f3', 10);
    });
  });

  describe('watch --run, resubmit --run --failed, list', () => {
    /** Batch 1 fails (its gate: 2 scans failed), batch 2 is partial. */
    const ends = (wf: { metadata: { labels?: Record<string, string> } }, scans: string[]) => {
      const b = wf.metadata.labels?.['sleap-roots.io/batch'];
      const attempt = (wf as { metadata: { annotations?: Record<string, string> } }).metadata.annotations?.['sleap-roots.io/batch-attempt'];
      if (b === '1' && attempt === '0') return { phase: 'Failed' as const, message: `${summary(scans.length, scans.length - 2, 0, 2)}: scan-00005 (predictor exited 1), scan-00006 (predictor exited 1)` };
      if (b === '2') return { phase: 'Succeeded' as const, message: summary(scans.length, scans.length - 1, 1, 0) };
      return { phase: 'Succeeded' as const, message: summary(scans.length, scans.length, 0, 0) };
    };

    it('watch --run shows batches and scans of the run as a whole and exits 1 naming the failed batches', async () => {
      const sim = simulateBatches(c.server, { runMs: 10, end: ends });
      expect((await runCli(c, ['submit', '--env', RUN_ENV, '--scans', scansFile(c, 20), '--batch-size', '5', '--run', 'w1'])).code).toBe(0);
      const r = await runCli(c, ['watch', '--run', 'w1']);
      sim.stop();
      expect(r.code).toBe(1);
      expect(lastProgress(r.stdout, 'w1')).toMatch(/^run w1: 4 batches \(20 scans\): 3 succeeded, 1 failed \| scans: 17 succeeded, 1 partial, 2 failed \| \d+s so far$/);
      expect(r.stdout).toMatch(/^failed batches: w1-b0001$/m);
      expect(r.stdout).toMatch(/rerun them: npx sleap-roots resubmit --run w1 --failed/);
    });

    it('watch --run -o json prints progress events; a run that does not exist is an error', async () => {
      const none = await runCli(c, ['watch', '--run', 'nope']);
      expect(none.code).toBe(1);
      expect(none.stderr).toMatch(/no workflows of run "nope" in namespace "runai-talmo-lab"/);
      const sim = simulateBatches(c.server, { runMs: 5 });
      expect((await runCli(c, ['submit', '--env', RUN_ENV, '--scans', scansFile(c, 10), '--batch-size', '5', '--run', 'w2', '--watch'])).code).toBe(0);
      const r = await runCli(c, ['watch', '--run', 'w2', '-o', 'json']);
      sim.stop();
      expect(r.code).toBe(0);
      const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(events.at(-1)).toMatchObject({ type: 'progress', run: 'w2', batches: 2, scans: 10, succeeded: 2, failed: 0, scansSucceeded: 10, remainingMs: 0 });
    });

    it('resubmit --run --failed reruns only the failed batches as new workflows of the same run and batch, keeping the old ones; again, nothing', async () => {
      const sim = simulateBatches(c.server, { runMs: 5, end: ends });
      expect((await runCli(c, ['submit', '--env', RUN_ENV, '--scans', scansFile(c, 20), '--batch-size', '5', '--run', 'w3', '--watch'])).code).toBe(1);
      const r = await runCli(c, ['resubmit', '--run', 'w3', '--failed', '--watch']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^Resubmitting 1 failed batch of run w3: w3-b0001-r1$/m);
      expect(byName(c)).toEqual(['w3-b0000', 'w3-b0001', 'w3-b0001-r1', 'w3-b0002', 'w3-b0003']);
      const again = workflows(c.server).find((w) => w.metadata.name === 'w3-b0001-r1')!;
      const old = workflows(c.server).find((w) => w.metadata.name === 'w3-b0001')!;
      expect(again.metadata.labels).toMatchObject({ 'sleap-roots.io/run': 'w3', 'sleap-roots.io/batch': '1', 'sleap-roots.io/resubmitted-from': 'w3-b0001' });
      expect(again.metadata.annotations).toMatchObject({ 'sleap-roots.io/batch-attempt': '1', 'sleap-roots.io/batch-digest': old.metadata.annotations?.['sleap-roots.io/batch-digest'] });
      expect(again.spec.arguments).toEqual(old.spec.arguments);
      expect(lastProgress(r.stdout, 'w3')).toMatch(/4 succeeded, 0 failed \| scans: 19 succeeded, 1 partial, 0 failed/);
      const none = await runCli(c, ['resubmit', '--run', 'w3', '--failed']);
      sim.stop();
      expect(none.code).toBe(0);
      expect(none.stdout).toMatch(/^No failed batches in run w3\.$/m);
      expect(workflows(c.server)).toHaveLength(5);
    });

    it('watch --run --logs follows the logs of every unfinished batch, each line prefixed by its batch and step', async () => {
      expect((await runCli(c, ['submit', '--env', RUN_ENV, '--scans', scansFile(c, 10), '--batch-size', '5', '--run', 'g1'])).code).toBe(0);
      const argos = ['g1-b0000', 'g1-b0001'].map((n) => new FakeArgo(c.server, n));
      const pods = argos.map((a, i) => {
        a.start();
        const pod = a.startPod('predictor', 0);
        a.log(pod, [`predicting batch ${i}`]);
        return pod;
      });
      const watching = runCli(c, ['watch', '--run', 'g1', '--logs', '--no-log-file']);
      await until(() => c.server.openWatches >= 5, 10_000, 'the run and both batches followed');
      argos.forEach((a, i) => {
        a.log(pods[i], [`done ${i}`]);
        a.finishPod(pods[i]);
        a.complete('Succeeded');
      });
      const r = await watching;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^b0000 predictor\(0\): predicting batch 0$/m);
      expect(r.stdout).toMatch(/^b0001 predictor\(0\): done 1$/m);
      expect(lastProgress(r.stdout, 'g1')).toMatch(/2 succeeded, 0 failed \| scans: 0 succeeded, 0 partial, 10 failed \(10 without an outcome\)/);
    });

    it('a restarted submit does not bring back a first attempt deleted after its batch was resubmitted', async () => {
      const sim = simulateBatches(c.server, { runMs: 5, end: ends });
      const argv = ['submit', '--env', RUN_ENV, '--scans', scansFile(c, 20), '--batch-size', '5', '--run', 'w4', '--watch'];
      expect((await runCli(c, argv)).code).toBe(1);
      expect((await runCli(c, ['resubmit', '--run', 'w4', '--failed', '--watch'])).code).toBe(0);
      c.server.delete({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', namespace: NS, name: 'w4-b0001' });
      const r = await runCli(c, argv);
      sim.stop();
      expect(r.code, r.stderr).toBe(0);
      expect(byName(c)).toEqual(['w4-b0000', 'w4-b0001-r1', 'w4-b0002', 'w4-b0003']);
    });

    it('watch --run shows a change that came right after a line once its second is over, with no further event', async () => {
      expect((await runCli(c, ['submit', '--env', RUN_ENV, '--scans', scansFile(c, 10), '--batch-size', '5', '--run', 't1'])).code).toBe(0);
      const [a0, a1] = ['t1-b0000', 't1-b0001'].map((n) => new FakeArgo(c.server, n));
      let out = '';
      const watching = runCli(c, ['watch', '--run', 't1'], { onStdout: (_t, all) => void (out = all) });
      await until(() => out.includes('2 pending'), 10_000, 'the first line');
      a0.start();
      a0.complete('Succeeded', summary(5, 5, 0, 0));
      // Within the second after the first line: held back, then shown by itself.
      await until(() => /1 pending, 1 succeeded/.test(out), 5_000, 'the held-back line');
      a1.start();
      a1.complete('Succeeded', summary(5, 5, 0, 0));
      expect((await watching).code).toBe(0);
    });

    it('list shows a run as one row, beside workflows of no run', async () => {
      const sim = simulateBatches(c.server, { runMs: 5, end: ends });
      await runCli(c, ['submit', '--env', RUN_ENV, '--scans', scansFile(c, 20), '--batch-size', '5', '--run', 'l1', '--watch']);
      sim.stop();
      c.server.put({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: 'sleap-roots-pipeline-abcde', namespace: NS, labels: { 'app.kubernetes.io/part-of': 'sleap-roots-pipeline' } }, spec: {} });
      const r = await runCli(c, ['list']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^RUN\s+BATCHES\s+STATE\s+SCANS\s+AGE$/m);
      expect(r.stdout).toMatch(/^l1\s+4 batches\s+3 succeeded, 1 failed\s+scans 17\/1\/2 ok\/partial\/failed/m);
      expect(r.stdout).toMatch(/sleap-roots-pipeline-abcde/);
      expect(r.stdout).not.toMatch(/l1-b0000/);
      const j = JSON.parse((await runCli(c, ['list', '-o', 'json'])).stdout) as { items: { name: string }[]; runs: { run: string; batches: number }[] };
      expect(j.runs).toEqual([expect.objectContaining({ run: 'l1', batches: 4, failed: 1 })]);
      expect(j.items.map((i) => i.name)).toEqual(['sleap-roots-pipeline-abcde']);
    });
  });
});

describe('submit --scans: refusals before anything is created', () => {
  let c: TestCluster;
  beforeEach(async () => {
    c = await startCluster();
  });
  afterEach(async () => {
    await c.close();
  });

  it('fails naming the lines of duplicate and unusable scan ids', async () => {
    const f = path.join(c.dir, 'bad.txt');
    fs.writeFileSync(f, '# request 7\nscan-a\n\nscan-b\nscan-a\n.hidden\na/b\nscan-b\n');
    const r = await runCli(c, ['submit', '--env', RUN_ENV, '--scans', f, '--batch-size', '2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${f}: 4 bad scan ids:\n  line 5: "scan-a" repeats line 2\n  line 6: ".hidden" starts with a dot\n  line 7: "a/b" holds a /\n  line 8: "scan-b" repeats line 4`);
    expect(c.server.requests.filter((x) => x.method === 'POST')).toHaveLength(0);
  });

  it('fails for an environment that lists its scans from a folder (every batch would run every scan)', async () => {
    fs.writeFileSync(path.join(c.dir, 's.txt'), 'a\nb\n');
    const r = await cli(['submit', '--env', 'runai', '--scans', 's.txt', '--batch-size', '1'], { cluster: c });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/environment "runai" lists its scans from a folder, not from a workflow parameter: every batch would run every scan/);
    expect(r.stderr).toMatch(/fanOut\.source: \{parameter: scan-ids\}/);
  });

  it('refuses --force-rerun for a run: every batch would rewrite the models folder while others read it', async () => {
    const r = await runCli(c, ['submit', '--env', RUN_ENV, '--scans', scansFile(c, 3), '--batch-size', '1', '--force-rerun']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--force-rerun cannot be given to a run of batches: models-downloader writes a folder every batch reads/);
    expect(r.stderr).toMatch(/rerun models-downloader once first/);
    expect(c.server.requests.filter((x) => x.method === 'POST' && x.path.endsWith('/workflows'))).toHaveLength(0);
    const again = await runCli(c, ['resubmit', '--run', 'x', '--failed', '--force-rerun']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/--force-rerun cannot be given with --run/);
  });

  it('fails for an environment without a fan-out', async () => {
    fs.writeFileSync(path.join(c.dir, 's.txt'), 'a\n');
    const r = await cli(['submit', '--env', 'local', '--scans', 's.txt', '--batch-size', '1'], { cluster: c });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/environment "local" has no fan-out/);
  });

  it('fails on a bad --batch-size, a batch above fanOut.maxScans, a bad --run, --batch-size without --scans, and a scan-list -p', async () => {
    const f = scansFile(c, 3);
    const run = (args: string[]) => runCli(c, ['submit', '--env', RUN_ENV, ...args]);
    expect((await run(['--scans', f])).stderr).toMatch(/--batch-size is required with --scans/);
    expect((await run(['--scans', f, '--batch-size', '0'])).stderr).toMatch(/--batch-size 0: expected a whole number >= 1/);
    expect((await run(['--scans', f, '--batch-size', '1001'])).stderr).toMatch(/--batch-size 1001 is above the environment's largest batch \(fanOut\.maxScans 1000\)/);
    expect((await run(['--scans', f, '--batch-size', '2', '--run', 'Bad_Run'])).stderr).toMatch(/--run "Bad_Run": expected lowercase letters/);
    expect((await run(['--batch-size', '2'])).stderr).toMatch(/--batch-size needs --scans/);
    expect((await run(['--scans', f, '--batch-size', '2', '-p', `${SCAN_PARAMETER}=x`])).stderr).toMatch(/the scans come from --scans; leave this parameter out/);
    expect(c.server.requests.filter((x) => x.method === 'POST')).toHaveLength(0);
  });
});

describe('submit --scans --scan-parameter: a pipeline without a fan-out that reads the ids itself (the production shape)', () => {
  const PROD_NS = 'runai-talmo-lab-prod';
  let c: TestCluster;
  beforeEach(async () => {
    c = await startCluster({ namespaces: [PROD_NS] });
    const d = await cli(['deploy', '--env', 'production'], { cluster: c });
    expect(d.code, d.stderr).toBe(0);
    fs.writeFileSync(path.join(c.dir, 's.txt'), 's1\ns2\ns3\ns4\ns5\n');
  });
  afterEach(async () => {
    await c.close();
  });

  it('passes each batch its ids comma-separated in the named parameter, one Workflow per batch', async () => {
    const r = await cli(['submit', '--env', 'production', '--scans', 's.txt', '--batch-size', '2', '--scan-parameter', 'scan-ids', '--run', 'p1'], { cluster: c });
    expect(r.code, r.stderr).toBe(0);
    const wfs = c.server.list('argoproj.io/v1alpha1', 'Workflow', PROD_NS).sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)));
    const ids = wfs.map((w) => (w.spec as { arguments: { parameters: { name: string; value: string }[] } }).arguments.parameters.find((p) => p.name === 'scan-ids')?.value);
    expect(ids).toEqual(['s1,s2', 's3,s4', 's5']);
    expect(wfs.map((w) => w.metadata.labels?.['sleap-roots.io/run'])).toEqual(['p1', 'p1', 'p1']);
  });

  it('without it, says how to name the parameter; a name the pipeline does not declare is refused', async () => {
    const none = await cli(['submit', '--env', 'production', '--scans', 's.txt', '--batch-size', '2'], { cluster: c });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/environment "production" has no fan-out[\s\S]*--scan-parameter scan-ids/);
    const wrong = await cli(['submit', '--env', 'production', '--scans', 's.txt', '--batch-size', '2', '--scan-parameter', 'scans'], { cluster: c });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/--scan-parameter scans: the pipeline template of environment "production" declares no such parameter\n\s+its parameters: scan-ids/);
    expect(c.server.list('argoproj.io/v1alpha1', 'Workflow', PROD_NS)).toHaveLength(0);
  });
});
