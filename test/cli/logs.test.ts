import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli, ENV, FakeArgo, filesMatching, putWorkflow, startCluster, until, type TestCluster } from './support/harness';

/** The lines of a log file that start with a prefix, prefix removed. */
function linesOf(file: string, prefix: string): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith(`${prefix}: `))
    .map((l) => l.slice(prefix.length + 2));
}

const numbered = (tag: string, from: number, to: number) => Array.from({ length: to - from }, (_, i) => `${tag} line ${from + i}`);

describe('logs', () => {
  let c: TestCluster;
  beforeEach(async () => {
    c = await startCluster();
  });
  afterEach(async () => {
    await c.close();
  });

  it('writes every step pod of a finished workflow, prefixed by step and attempt, to the terminal and workflow_logs_<stamp>.txt', async () => {
    putWorkflow(c.server, 'wf-done');
    const argo = new FakeArgo(c.server, 'wf-done');
    argo.start();
    const a = argo.startPod('models-downloader');
    argo.log(a, ['downloading model', 'done']);
    argo.finishPod(a);
    const p0 = argo.startPod('predictor', 0);
    argo.log(p0, ['predicting', 'CUDA out of memory']);
    argo.finishPod(p0, { exitCode: 1 });
    const p1 = argo.startPod('predictor', 1);
    argo.log(p1, ['predicting again', 'ok']);
    argo.finishPod(p1);
    argo.complete('Succeeded');

    const now = new Date(2025, 0, 2, 3, 4, 5).getTime();
    const r = await cli(['logs', 'wf-done'], { cluster: c, now: () => now });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'models-downloader: downloading model',
        'models-downloader: done',
        'predictor(0): predicting',
        'predictor(0): CUDA out of memory',
        'predictor(1): predicting again',
        'predictor(1): ok',
        '',
      ].join('\n'),
    );
    const file = path.join(c.dir, 'workflow_logs_20250102_030405.txt');
    expect(fs.readFileSync(file, 'utf8')).toBe(r.stdout);
    expect(r.stderr).toMatch(/6 lines from 3 pods written to .*workflow_logs_20250102_030405\.txt/);
  });

  it('follows pods as they appear (retries included) until the workflow finishes, each line exactly once, across dropped log streams', async () => {
    putWorkflow(c.server, 'wf-live');
    const argo = new FakeArgo(c.server, 'wf-live');
    argo.start();
    // Every log stream of the run is cut a few times mid-way.
    c.server.inject({ path: /\/log$/, action: { type: 'dropLog', afterLines: 700 }, times: 6 });
    const logFile = path.join(c.dir, 'run.log');
    const driver = (async () => {
      await until(() => c.server.openWatches >= 2, 5000, 'the watches');
      const a = argo.startPod('models-downloader');
      argo.log(a, numbered('dl', 0, 1500));
      await until(() => fs.existsSync(logFile) && linesOf(logFile, 'models-downloader').length > 100, 5000, 'downloader lines');
      argo.log(a, numbered('dl', 1500, 3000));
      argo.finishPod(a);
      const p0 = argo.startPod('predictor', 0);
      argo.log(p0, numbered('p0', 0, 2000));
      argo.finishPod(p0, { exitCode: 143, message: 'pod deleted (preempted)' });
      const p1 = argo.startPod('predictor', 1);
      for (let i = 0; i < 4; i++) {
        argo.log(p1, numbered('p1', i * 500, (i + 1) * 500));
        await new Promise((r) => setTimeout(r, 20));
      }
      argo.finishPod(p1);
      argo.complete('Succeeded');
    })();
    const r = await cli(['logs', 'wf-live', '--follow', '--log-file', logFile], { cluster: c, timeoutMs: 30_000 });
    await driver;
    expect(r.code, r.stderr).toBe(0);
    expect(linesOf(logFile, 'models-downloader')).toEqual(numbered('dl', 0, 3000));
    expect(linesOf(logFile, 'predictor(0)')).toEqual(numbered('p0', 0, 2000));
    expect(linesOf(logFile, 'predictor(1)')).toEqual(numbered('p1', 0, 2000));
    expect(fs.readFileSync(logFile, 'utf8').split('\n').filter(Boolean)).toHaveLength(7000);
    // The terminal got the same lines.
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(7000);
    // Resumes asked for the second of the last line read.
    const resumes = c.server.requests.filter((q) => q.path.endsWith('/log') && q.query.sinceTime);
    expect(resumes.length).toBeGreaterThanOrEqual(3);
    for (const q of resumes) expect(q.query.sinceTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('keeps identical lines with the same timestamp apart when a stream drops between them', async () => {
    putWorkflow(c.server, 'wf-same');
    const argo = new FakeArgo(c.server, 'wf-same');
    argo.start();
    const pod = argo.startPod('predictor');
    const t = '2025-01-02T03:04:05.123456789Z';
    argo.log(pod, [
      { text: 'tick', time: t },
      { text: 'tick', time: t },
      { text: 'tock', time: t },
      { text: 'tick', time: t },
      { text: 'after', time: '2025-01-02T03:04:05.5Z' },
    ] as unknown as string[]);
    argo.finishPod(pod);
    argo.complete('Succeeded');
    for (const cut of [1, 2, 3, 4]) {
      c.server.inject({ path: /\/log$/, action: { type: 'dropLog', afterLines: cut } });
      const file = path.join(c.dir, `same-${cut}.log`);
      const r = await cli(['logs', 'wf-same', '--log-file', file], { cluster: c });
      expect(r.code).toBe(0);
      expect(linesOf(file, 'predictor'), `cut after ${cut}`).toEqual(['tick', 'tick', 'tock', 'tick', 'after']);
    }
  });

  it('follows the replacement when a pod is replaced by its retry, and says when a pod vanished', async () => {
    putWorkflow(c.server, 'wf-retry');
    const argo = new FakeArgo(c.server, 'wf-retry');
    argo.start();
    const p0 = argo.startPod('predictor', 0);
    const logFile = path.join(c.dir, 'retry.log');
    const driver = (async () => {
      await until(() => c.server.openWatches >= 2, 5000, 'the watches');
      argo.log(p0, numbered('first', 0, 50));
      await until(() => fs.existsSync(logFile) && linesOf(logFile, 'predictor(0)').length === 50, 5000, 'first attempt lines');
      const { created } = c.server.replacePodWithRetry('runai-talmo-lab', p0, {
        newName: `${p0}-1`,
        mutate: (pod) => {
          pod.metadata.annotations = { ...pod.metadata.annotations, 'workflows.argoproj.io/node-name': 'wf-retry.predictor(1)', 'workflows.argoproj.io/node-id': 'wf-retry-9999' };
        },
      });
      const name = created.metadata.name as string;
      await new Promise((r) => setTimeout(r, 50));
      c.server.modify({ apiVersion: 'v1', kind: 'Pod', namespace: 'runai-talmo-lab', name }, (d) => {
        d.status = { phase: 'Running', containerStatuses: [{ name: 'main', state: { running: { startedAt: new Date().toISOString() } } }] };
      });
      argo.log(name, numbered('second', 0, 50));
      c.server.terminateContainer('runai-talmo-lab', name, 'main', { exitCode: 0 });
      argo.complete('Succeeded');
    })();
    const r = await cli(['logs', 'wf-retry', '-f', '--log-file', logFile], { cluster: c });
    await driver;
    expect(r.code, r.stderr).toBe(0);
    expect(linesOf(logFile, 'predictor(0)')).toEqual(numbered('first', 0, 50));
    expect(linesOf(logFile, 'predictor(1)')).toEqual(numbered('second', 0, 50));
  });

  it('survives dropped and expired pod watches while following', async () => {
    putWorkflow(c.server, 'wf-watch');
    const argo = new FakeArgo(c.server, 'wf-watch');
    argo.start();
    c.server.inject({ path: (q) => q.watch && q.path.endsWith('/pods'), action: { type: 'dropWatch', afterEvents: 1 } });
    c.server.inject({ path: (q) => q.watch && q.path.endsWith('/pods'), action: { type: 'expireWatch', afterEvents: 1 } });
    const logFile = path.join(c.dir, 'w.log');
    const driver = (async () => {
      await until(() => c.server.openWatches >= 2, 5000, 'the watches');
      for (let i = 0; i < 3; i++) {
        const pod = argo.startPod(`step-${i}`);
        argo.log(pod, numbered(`s${i}`, 0, 100));
        argo.finishPod(pod);
        await new Promise((r) => setTimeout(r, 30));
      }
      argo.complete('Succeeded');
    })();
    const r = await cli(['logs', 'wf-watch', '-f', '--log-file', logFile], { cluster: c });
    await driver;
    expect(r.code, r.stderr).toBe(0);
    for (let i = 0; i < 3; i++) expect(linesOf(logFile, `step-${i}`)).toEqual(numbered(`s${i}`, 0, 100));
  });

  it('says which pods are gone (podGC) instead of failing', async () => {
    putWorkflow(c.server, 'wf-gc');
    const argo = new FakeArgo(c.server, 'wf-gc');
    argo.start();
    const a = argo.startPod('models-downloader');
    argo.finishPod(a);
    c.server.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'runai-talmo-lab', name: a });
    const b = argo.startPod('predictor');
    argo.log(b, 'still here');
    argo.finishPod(b);
    argo.complete('Succeeded');
    const r = await cli(['logs', 'wf-gc', '--no-log-file'], { cluster: c });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('predictor: still here\n');
    expect(r.stderr).toMatch(/note: models-downloader: its pod is gone \(deleted by podGC or by hand\)/);
    expect(filesMatching(c.dir, /^workflow_logs_/)).toHaveLength(0);
  });

  it('detaches on Ctrl-C with the lines so far in the file', async () => {
    putWorkflow(c.server, 'wf-cc');
    const argo = new FakeArgo(c.server, 'wf-cc');
    argo.start();
    const pod = argo.startPod('predictor');
    argo.log(pod, numbered('x', 0, 10));
    const ctrlC = new AbortController();
    const r = await cli(['logs', 'wf-cc', '-f'], {
      cluster: c,
      signal: ctrlC.signal,
      onStdout: (_t, all) => {
        if (all.includes('x line 9')) ctrlC.abort();
      },
    });
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/Detached from wf-cc; it keeps running\.\n\s+re-attach: npx sleap-roots logs wf-cc -n runai-talmo-lab .*--follow\n\s+logs so far: .*workflow_logs_\d{8}_\d{6}\.txt/);
    const [file] = filesMatching(c.dir, /^workflow_logs_/);
    expect(linesOf(file, 'predictor')).toEqual(numbered('x', 0, 10));
    await until(() => c.server.openWatches === 0, 3000, 'watches closed');
  });

  it('fails clearly for a workflow that does not exist', async () => {
    const r = await cli(['logs', 'nope', '-f'], { cluster: c });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: workflow "nope" is not in namespace "runai-talmo-lab"\n\s+list recent ones: npx sleap-roots list\n$/);
  });
});

describe('submit --watch --logs', () => {
  let c: TestCluster;
  beforeEach(async () => {
    c = await startCluster();
    expect((await cli(['deploy', '--env', ENV], { cluster: c })).code).toBe(0);
  });
  afterEach(async () => {
    await c.close();
  });

  it('shows the DAG and the step logs together, writes the log file, and exits by the final phase', async () => {
    const wfs = () => c.server.list('argoproj.io/v1alpha1', 'Workflow', 'runai-talmo-lab');
    const driver = (async () => {
      await until(() => wfs().length === 1 && c.server.openWatches >= 2, 5000, 'the workflow and watches');
      const argo = new FakeArgo(c.server, wfs()[0].metadata.name as string);
      argo.start();
      const a = argo.startPod('models-downloader');
      argo.log(a, numbered('dl', 0, 1000));
      argo.finishPod(a);
      const p = argo.startPod('predictor', 0);
      argo.log(p, numbered('pr', 0, 1000));
      argo.finishPod(p, { exitCode: 3, message: 'Error (exit code 3)', finalAttempt: true });
      argo.complete('Failed', "child 'predictor' failed");
    })();
    const r = await cli(['submit', '--env', ENV, '--watch', '--logs'], { cluster: c, isTTY: true, env: { NO_COLOR: '1' } });
    await driver;
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/sleap-roots-pipeline-\w+ Failed after \d+s: step predictor failed: Error \(exit code 3\)/);
    const [file] = filesMatching(c.dir, /^workflow_logs_\d{8}_\d{6}\.txt$/);
    expect(linesOf(file, 'models-downloader')).toEqual(numbered('dl', 0, 1000));
    expect(linesOf(file, 'predictor(0)')).toEqual(numbered('pr', 0, 1000));
    expect(r.stdout).toContain('predictor(0): pr line 999');
  });
});
