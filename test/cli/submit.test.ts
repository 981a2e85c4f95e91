import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli, ENV, FakeArgo, NS, startCluster, until, type TestCluster } from './support/harness';

const WF = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow' };

function workflows(c: TestCluster) {
  return c.server.list(WF.apiVersion, WF.kind, NS);
}

/** Submitted workflow name from the CLI's output. */
function nameIn(stdout: string): string {
  const m = /(sleap-roots-pipeline-[a-z0-9]{5})/.exec(stdout);
  if (!m) throw new Error(`no workflow name in: ${stdout}`);
  return m[1];
}

describe('submit', () => {
  let c: TestCluster;
  beforeEach(async () => {
    c = await startCluster();
    const r = await cli(['deploy', '--env', ENV], { cluster: c });
    expect(r.code).toBe(0);
    c.server.clearRequests();
  });
  afterEach(async () => {
    await c.close();
  });

  it('creates a Workflow from the pipeline template with the parameters, labelled with who and what submitted it', async () => {
    const r = await cli(['submit', '--env', ENV, '-p', 'force-rerun=true'], { cluster: c });
    expect(r.code).toBe(0);
    const name = nameIn(r.stdout);
    expect(r.stdout).toMatch(new RegExp(`^Submitted ${name} to namespace "${NS}" with force-rerun=true$`, 'm'));
    const [wf] = workflows(c);
    expect(wf.metadata.name).toBe(name);
    expect(wf.spec.workflowTemplateRef).toEqual({ name: 'sleap-roots-pipeline' });
    expect(wf.spec.arguments.parameters).toEqual([{ name: 'force-rerun', value: 'true' }]);
    expect(wf.metadata.labels).toMatchObject({
      'app.kubernetes.io/part-of': 'sleap-roots-pipeline',
      'sleap-roots.io/environment': ENV,
      'sleap-roots.io/submitted-by': 'test-user',
      'sleap-roots.io/submitted-with': 'sleap-roots-cli',
    });
    expect(wf.metadata.annotations?.['sleap-roots.io/submitted-by']).toBe('test-user; local tester@lab-pc');
    expect(wf.metadata.annotations?.['sleap-roots.io/submitted-with']).toBe('sleap-roots-cli 0.1.0');
    // Created with strict field validation, as deploy applies: an unknown field is refused, not dropped.
    const create = c.server.requests.find((q) => q.method === 'POST' && q.path.endsWith('/workflows'));
    expect(create?.query.fieldValidation).toBe('Strict');
  });

  it('prints only the name with -o name', async () => {
    const r = await cli(['submit', '--env', ENV, '-o', 'name'], { cluster: c });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^sleap-roots-pipeline-[a-z0-9]{5}\n$/);
  });

  it('fails on an unknown parameter, listing the template parameters, and creates nothing', async () => {
    const r = await cli(['submit', '--env', ENV, '-p', 'scan-ids=1,2'], { cluster: c });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: unknown parameter "scan-ids"\n  parameters of "sleap-roots-pipeline": force-rerun (default "false")\n');
    expect(workflows(c)).toHaveLength(0);
  });

  it('fails with the deploy command when the pipeline template is not deployed', async () => {
    c.server.delete({ apiVersion: 'argoproj.io/v1alpha1', kind: 'WorkflowTemplate', namespace: NS, name: 'sleap-roots-pipeline' });
    const r = await cli(['submit', '--env', ENV], { cluster: c });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/WorkflowTemplate "sleap-roots-pipeline" is not in namespace "runai-talmo-lab"\n\s+deploy it first: npx sleap-roots deploy --env/);
  });

  it('retries a create whose connection was reset, creating one workflow', async () => {
    c.server.inject({ method: 'POST', path: /\/workflows$/, action: { type: 'reset' } });
    const r = await cli(['submit', '--env', ENV], { cluster: c });
    expect(r.code).toBe(0);
    expect(workflows(c)).toHaveLength(1);
    expect(c.server.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/workflows')).length).toBe(2);
  });

  it('retries a 429 after the time Retry-After asks for, and 500s, a bounded number of times', async () => {
    c.server.inject({ method: 'POST', path: /\/workflows$/, action: { type: 'tooManyRequests', retryAfterSeconds: 1 } });
    c.server.inject({ method: 'POST', path: /\/workflows$/, action: { type: 'internalError' } });
    const started = Date.now();
    const r = await cli(['submit', '--env', ENV, '-v'], { cluster: c });
    expect(r.code).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(r.stderr).toMatch(/429 TooManyRequests .* retrying in 1\.0s/);
    expect(r.stderr).toMatch(/500 InternalError/);
    expect(workflows(c)).toHaveLength(1);

    c.server.inject({ method: 'POST', path: /\/workflows$/, action: { type: 'internalError', message: 'etcd is down' }, times: Infinity });
    const failed = await cli(['submit', '--env', ENV], { cluster: c });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toBe('Error from server (InternalError): Internal error occurred: etcd is down (gave up after 5 attempts)\n');
    c.server.clearFaults();
  });

  it('watches a workflow to Succeeded: exit 0, each step with phase and duration', async () => {
    const done = (async () => {
      await until(() => workflows(c).length === 1 && c.server.openWatches > 0, 5000, 'the workflow and its watch');
      const argo = new FakeArgo(c.server, workflows(c)[0].metadata.name as string);
      argo.start();
      const a = argo.startPod('models-downloader');
      argo.finishPod(a);
      const b = argo.startPod('predictor', 0);
      argo.finishPod(b);
      argo.complete('Succeeded');
    })();
    const r = await cli(['submit', '--env', ENV, '--watch'], { cluster: c });
    await done;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d\s+models-downloader Running$/m);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d\s+models-downloader Succeeded \(\d+s\)$/m);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d\s+predictor Succeeded/m);
    expect(r.stdout).toMatch(/✔ sleap-roots-pipeline-\w+ Succeeded in \d+s$/m);
    // Driven by a watch stream, never by polling: one list, then watches.
    const gets = c.server.requests.filter((q) => q.method === 'GET' && q.path.endsWith('/workflows'));
    expect(gets.filter((q) => q.query.watch === undefined)).toHaveLength(1);
    expect(gets.some((q) => q.query.watch === '1' || q.query.watch === 'true')).toBe(true);
  });

  it('watches a workflow to Failed: non-zero exit naming the failing step, its message and its retries', async () => {
    const done = (async () => {
      await until(() => workflows(c).length === 1 && c.server.openWatches > 0, 5000, 'the workflow and its watch');
      const argo = new FakeArgo(c.server, workflows(c)[0].metadata.name as string);
      argo.start();
      argo.finishPod(argo.startPod('models-downloader'));
      argo.finishPod(argo.startPod('predictor', 0), { exitCode: 137, message: 'OOMKilled (exit code 137)' });
      argo.finishPod(argo.startPod('predictor', 1), { exitCode: 137, message: 'OOMKilled (exit code 137)', finalAttempt: true });
      argo.complete('Failed', "child 'predictor' failed");
    })();
    const r = await cli(['submit', '--env', ENV, '--watch'], { cluster: c });
    await done;
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d\s+predictor Failed \(retry 1, \d+s\): OOMKilled \(exit code 137\)$/m);
    expect(r.stdout).toMatch(/✘ sleap-roots-pipeline-\w+ Failed after \d+s: step predictor failed: OOMKilled \(exit code 137\)$/m);
    expect(r.stdout).toMatch(/^\s+logs:\s+npx sleap-roots logs sleap-roots-pipeline-\w+ -n runai-talmo-lab/m);
  });

  it('detaches on Ctrl-C, says how to re-attach, and leaves the workflow running', async () => {
    const ctrlC = new AbortController();
    const r = await cli(['submit', '--env', ENV, '--watch'], {
      cluster: c,
      signal: ctrlC.signal,
      onStdout: (_t, all) => {
        if (/Pending/.test(all)) ctrlC.abort();
      },
    });
    expect(r.code).toBe(130);
    const name = nameIn(r.stdout);
    expect(r.stderr).toMatch(new RegExp(`Detached from ${name}; it keeps running\\.\\n\\s+re-attach: npx sleap-roots watch ${name} -n runai-talmo-lab`));
    expect(workflows(c)[0].metadata.deletionTimestamp).toBeUndefined();
    await until(() => c.server.openWatches === 0, 3000, 'the watch to close');
  });

  it('re-attaches with watch, and shows a live DAG table on a terminal', async () => {
    const s = await cli(['submit', '--env', ENV, '-o', 'name'], { cluster: c });
    const name = s.stdout.trim();
    const argo = new FakeArgo(c.server, name);
    argo.start();
    const pod = argo.startPod('models-downloader');
    const done = (async () => {
      await until(() => c.server.openWatches > 0, 5000, 'the watch');
      argo.finishPod(pod);
      argo.complete('Succeeded');
    })();
    const r = await cli(['watch', name], { cluster: c, isTTY: true, env: { NO_COLOR: '1' } });
    await done;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\x1b\[2K\x1b\[1A/); // redrawn in place (log-update erases the previous frame)
    expect(r.stdout).toMatch(/✔\s+models-downloader\s+Succeeded/);
    expect(r.stdout).toMatch(/·\s+predictor\s+Waiting/); // tasks not started yet are listed
  });

  it('reconnects a dropped watch from the last resourceVersion without missing a change', async () => {
    const s = await cli(['submit', '--env', ENV, '-o', 'name'], { cluster: c });
    const name = s.stdout.trim();
    const argo = new FakeArgo(c.server, name);
    c.server.inject({ path: /\/workflows$/, action: { type: 'dropWatch', afterEvents: 1 }, times: 3 });
    const done = (async () => {
      await until(() => c.server.openWatches > 0, 5000, 'the watch');
      argo.start();
      argo.finishPod(argo.startPod('models-downloader'));
      argo.finishPod(argo.startPod('predictor'));
      argo.complete('Succeeded');
    })();
    const r = await cli(['watch', name, '-v'], { cluster: c });
    await done;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/models-downloader Succeeded/);
    expect(r.stdout).toMatch(/predictor Succeeded/);
    const watches = c.server.requests.filter((q) => q.path.endsWith('/workflows') && (q.query.watch === '1' || q.query.watch === 'true'));
    expect(watches.length).toBeGreaterThanOrEqual(2);
    // Each reconnect resumes from a later resourceVersion than the first watch.
    expect(Number(watches[1].query.resourceVersion)).toBeGreaterThan(Number(watches[0].query.resourceVersion));
  });

  it('re-lists after 410 Gone, as an ERROR event in the stream and as an HTTP status, and still sees the end', async () => {
    const isWatch = (q: { watch: boolean; path: string }) => q.watch && q.path.endsWith('/workflows');
    const faults = [
      { path: isWatch, action: { type: 'expireWatch' as const, afterEvents: 0 } },
      { path: isWatch, action: { type: 'status' as const, code: 410, reason: 'Expired', message: 'too old resource version: 1 (2)' } },
    ];
    for (const fault of faults) {
      const name = (await cli(['submit', '--env', ENV, '-o', 'name'], { cluster: c })).stdout.trim();
      const argo = new FakeArgo(c.server, name);
      c.server.clearRequests();
      c.server.inject(fault);
      const done = (async () => {
        await until(() => c.server.openWatches > 0, 5000, 'the watch');
        argo.start();
        argo.finishPod(argo.startPod('models-downloader'));
        argo.complete('Succeeded');
      })();
      const r = await cli(['watch', name], { cluster: c });
      await done;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/models-downloader Succeeded/);
      const lists = c.server.requests.filter((q) => q.method === 'GET' && q.path.endsWith('/workflows') && q.query.watch === undefined);
      expect(lists.length, fault.action.type).toBe(2);
    }
  });

  it('emits NDJSON events and a result with --output json', async () => {
    const done = (async () => {
      await until(() => workflows(c).length === 1 && c.server.openWatches > 0, 5000, 'the workflow and its watch');
      const argo = new FakeArgo(c.server, workflows(c)[0].metadata.name as string);
      argo.start();
      argo.finishPod(argo.startPod('models-downloader'), { exitCode: 1 });
      argo.complete('Failed');
    })();
    const r = await cli(['submit', '--env', ENV, '--watch', '-o', 'json'], { cluster: c });
    await done;
    expect(r.code).toBe(1);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; phase?: string; failing?: { step: string }[] });
    expect(events[0].type).toBe('submitted');
    expect(events.filter((e) => e.type === 'workflow').length).toBeGreaterThanOrEqual(2);
    const result = events[events.length - 1];
    expect(result).toMatchObject({ type: 'result', phase: 'Failed', failing: [{ step: 'models-downloader', message: 'Error (exit code 1)' }] });
  });
});

describe('resubmit, retry, status and list', () => {
  let c: TestCluster;
  let first: string;
  beforeEach(async () => {
    c = await startCluster();
    await cli(['deploy', '--env', ENV], { cluster: c });
    first = (await cli(['submit', '--env', ENV, '-p', 'force-rerun=true', '-o', 'name'], { cluster: c })).stdout.trim();
    const argo = new FakeArgo(c.server, first);
    argo.start();
    argo.finishPod(argo.startPod('models-downloader'));
    argo.finishPod(argo.startPod('predictor', 0), { exitCode: 1, message: 'Error (exit code 1)', finalAttempt: true });
    argo.complete('Failed', "child 'predictor' failed");
  });
  afterEach(async () => {
    await c.close();
  });

  it('resubmit creates a new workflow with the same template and parameters, reusing finished work', async () => {
    const r = await cli(['resubmit', first, '-o', 'name'], { cluster: c });
    expect(r.code).toBe(0);
    const second = r.stdout.trim();
    expect(second).not.toBe(first);
    const wf = c.server.get({ ...WF, namespace: NS, name: second });
    expect(wf?.spec.workflowTemplateRef).toEqual({ name: 'sleap-roots-pipeline' });
    // The first run forced a rerun; its repetition skips what that run finished.
    expect(wf?.spec.arguments.parameters).toEqual([{ name: 'force-rerun', value: 'false' }]);
    expect(wf?.metadata.labels?.['sleap-roots.io/resubmitted-from']).toBe(first);
    expect(wf?.metadata.labels?.['sleap-roots.io/environment']).toBe(ENV);
    expect(wf?.status).toBeUndefined();
  });

  it('resubmit can change a parameter, and --force-rerun runs every step again', async () => {
    const r = await cli(['resubmit', first, '-p', 'force-rerun=true', '-o', 'name'], { cluster: c });
    const wf = c.server.get({ ...WF, namespace: NS, name: r.stdout.trim() });
    expect(wf?.spec.arguments.parameters).toEqual([{ name: 'force-rerun', value: 'true' }]);
    const forced = await cli(['resubmit', first, '--force-rerun', '-o', 'name'], { cluster: c });
    expect(c.server.get({ ...WF, namespace: NS, name: forced.stdout.trim() })?.spec.arguments.parameters).toEqual([{ name: 'force-rerun', value: 'true' }]);
  });

  it('submit --force-rerun sets force-rerun=true', async () => {
    const r = await cli(['submit', '--env', ENV, '--force-rerun', '-o', 'name'], { cluster: c });
    expect(r.code).toBe(0);
    expect(c.server.get({ ...WF, namespace: NS, name: r.stdout.trim() })?.spec.arguments.parameters).toEqual([{ name: 'force-rerun', value: 'true' }]);
  });

  it('retry says exactly which argo retry command reruns the failed steps, changes nothing, and exits 3', async () => {
    const before = c.server.get({ ...WF, namespace: NS, name: first })?.metadata.resourceVersion;
    const r = await cli(['retry', first], { cluster: c });
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(`${first} is Failed; failed step: predictor.`);
    expect(r.stdout).toContain(`  argo retry ${first} -n ${NS} --kubeconfig ${c.kubeconfig}`);
    expect(r.stdout).toContain(`  npx sleap-roots resubmit ${first} -n ${NS}`);
    expect(c.server.get({ ...WF, namespace: NS, name: first })?.metadata.resourceVersion).toBe(before);
  });

  it('retry refuses a workflow that has not failed', async () => {
    const ok = (await cli(['submit', '--env', ENV, '-o', 'name'], { cluster: c })).stdout.trim();
    const r = await cli(['retry', ok], { cluster: c });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is Pending; only a Failed or Error workflow can be retried/);
  });

  it('status shows one workflow: phase, parameters, each step with its attempts and messages', async () => {
    const r = await cli(['status', first], { cluster: c });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Phase:\s+Failed$/m);
    expect(r.stdout).toMatch(/^Parameters:\s+force-rerun=true$/m);
    expect(r.stdout).toMatch(/^models-downloader\s+Succeeded\s+\d+s$/m);
    expect(r.stdout).toMatch(/^predictor\s+Failed\s+\d+s\s+Error \(exit code 1\)$/m);
    const json = JSON.parse((await cli(['status', first, '-o', 'json'], { cluster: c })).stdout) as { phase: string; steps: { name: string }[] };
    expect(json.phase).toBe('Failed');
    expect(json.steps.map((s) => s.name)).toEqual(expect.arrayContaining(['models-downloader', 'predictor', 'trait-extractor']));
  });

  it('status without a name shows the most recent workflow', async () => {
    const r = await cli(['status'], { cluster: c });
    expect(r.stdout).toMatch(new RegExp(`^Name:\\s+${first}$`, 'm'));
  });

  it('list shows recent workflows of the pipeline with phase, progress and duration', async () => {
    const r = await cli(['list', '--env', ENV], { cluster: c });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+ENV\s+PHASE\s+PROGRESS\s+AGE\s+DURATION\s+SUBMITTED BY$/);
    expect(lines[1]).toMatch(new RegExp(`^${first}\\s+${ENV}\\s+Failed\\s+1/2\\s+\\d+s\\s+\\d+s\\s+test-user$`));
  });
});
