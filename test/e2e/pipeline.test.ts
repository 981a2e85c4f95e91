/**
 * Opt-in end-to-end run of the SYNTHESIZED pipeline (not a miniature) on a real cluster with
 * Argo Workflows: an environment built with the same library as dist/, with busybox standing in
 * for the lab images, exercising what only a real Argo can confirm: the wrapper and resume, the
 * chunked fan-out, the semaphore, retries on preemption, the exit-handler gate and the outcome it
 * reports for a crashed, partial, poison, lost or preempted scan and for zero scans, the executor
 * token and the hardened pods.
 *
 *   SLEAP_ROOTS_E2E_KUBECONFIG=~/.kube/config npm run test:e2e
 *
 * Needs a single-node cluster (kind or k3d default): the shared directories are hostPaths under
 * /tmp/<namespace>/ on that node (DirectoryOrCreate, opted in for this test environment only).
 * Optional: SLEAP_ROOTS_E2E_CONTEXT, SLEAP_ROOTS_E2E_IMAGE (default busybox:1.36.1).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseEnvironment } from '../../lib/config/load';
import { synthesizeEnvironment } from '../../lib/synth';
import { E2eSession, KUBECONFIG } from './support';

const IMAGE = process.env.SLEAP_ROOTS_E2E_IMAGE ?? 'busybox:1.36.1';
const ENV = 'e2e-pipeline';
const session = new E2eSession();
const NS = session.namespace;
const HOST = `/tmp/${NS}`;

/**
 * The stand-in lab command: `$1` its output folder. What it does for a scan is chosen by the
 * workflow parameters (each names one scan, or none).
 */
const STAND_IN = (step: string) => [
  `echo "${step} $SLEAP_ROOTS_SCAN"`,
  '[ "$SLEAP_ROOTS_SCAN" = "{{workflow.parameters.crash-scan}}" ] && exit 1',
  '[ "$SLEAP_ROOTS_SCAN" = "{{workflow.parameters.partial-scan}}" ] && exit 3',
  '[ "$SLEAP_ROOTS_SCAN" = "{{workflow.parameters.poison-scan}}" ] && sleep 3600',
  // Kills its pod (the wrapper) on every attempt: the chunk never records this scan.
  '[ "$SLEAP_ROOTS_SCAN" = "{{workflow.parameters.lost-scan}}" ] && kill -9 $PPID',
  // Waits to be preempted once (the test deletes the pod), then succeeds on the retry.
  `if [ "$SLEAP_ROOTS_SCAN" = "{{workflow.parameters.preempted-scan}}" ] && [ ! -f "$1/.preempted" ]; then : > "$1/.preempted"; echo "waiting to be preempted"; sleep 3600; fi`,
  `echo "${step} of $SLEAP_ROOTS_SCAN" > "$1/${step}.txt"`,
].join('\n');

/** An environment file for this run, as a user would write it. */
function environment(): Record<string, unknown> {
  const volume = (name: string) => ({ hostPath: `${HOST}/${name}`, type: 'DirectoryOrCreate' });
  const small = { requests: { cpu: '10m', memory: '16Mi' } };
  const quick = { limit: 1, backoff: { duration: '5s', factor: 1, cap: '5s' } };
  return {
    namespace: NS,
    policy: { allowDirectoryOrCreate: true },
    volumes: Object.fromEntries(['models-input', 'models-output', 'images-input', 'predictions-output', 'traits-output'].map((v) => [v, volume(v)])),
    parameters: {
      'image-sets': { value: 'scan-a,scan-b,scan-c', description: 'comma-separated scans' },
      'partial-scan': { value: 'none', description: 'this scan exits 3 (some of it failed)' },
      'crash-scan': { value: 'none', description: 'this scan exits 1' },
      'poison-scan': { value: 'none', description: 'this scan never ends' },
      'lost-scan': { value: 'none', description: 'this scan kills its pod on every attempt' },
      'preempted-scan': { value: 'none', description: 'this scan waits until its pod is deleted once' },
    },
    workflow: { activeDeadlineSeconds: 1800 },
    resume: { enabled: true },
    fanOut: { steps: ['predictor', 'trait-extractor'], source: { parameter: 'image-sets' }, parallelism: 4, scansPerPod: 2, scanTimeout: '20s' },
    concurrency: { semaphores: { 'pipeline-gpu': 1 } },
    provenance: { imageDigestEnv: 'IMAGE_DIGEST' },
    versionedTemplates: true,
    steps: {
      'models-downloader': {
        image: IMAGE,
        timeout: '5m',
        resources: small,
        retry: quick,
        args: ['sh', '-c', 'echo model > /workspace/output/model.txt && echo "models ready for $ARGO_WORKFLOW_NAME"'],
      },
      predictor: {
        image: IMAGE,
        gpu: 'none',
        semaphore: 'pipeline-gpu',
        partialExitCodes: [3],
        timeout: '10m',
        resources: small,
        retry: quick,
        args: ['sh', '-c', STAND_IN('predictor'), 'predictor', '/workspace/output'],
      },
      'trait-extractor': {
        image: IMAGE,
        partialExitCodes: [3],
        timeout: '10m',
        resources: small,
        retry: quick,
        args: ['sh', '-c', 'cat /workspace/input/predictor.txt > /workspace/output/traits.txt && echo "traits of $SLEAP_ROOTS_SCAN"'],
      },
    },
  };
}

describe.skipIf(!KUBECONFIG)('the synthesized pipeline on a real cluster (SLEAP_ROOTS_E2E_KUBECONFIG)', () => {
  const sleapRoots = (...args: string[]) => session.sleapRoots(...args);
  const nameIn = (text: string) => /(sleap-roots-pipeline-[a-z0-9]{5})/.exec(text)?.[1] as string;
  const read = (file: string) => fs.readFileSync(path.join(session.dir, file), 'utf8');
  const workflow = (name: string) => session.client!.json<{ status?: { phase?: string; message?: string; nodes?: Record<string, { name?: string; outputs?: { parameters?: { name: string; value?: string }[] } }> } }>({ method: 'GET', path: `/apis/argoproj.io/v1alpha1/namespaces/${NS}/workflows/${name}` });
  /** The gate's summary: the workflow's message when it failed, its `outcome` output when it passed. */
  const outcome = async (name: string) => {
    const wf = await workflow(name);
    const gate = Object.values(wf.status?.nodes ?? {}).find((n) => n.name === `${name}.onExit`); // the exit handler (its Retry node carries the last attempt's outputs)
    return `${wf.status?.message ?? ''} ${gate?.outputs?.parameters?.find((p) => p.name === 'outcome')?.value ?? ''}`;
  };
  const podLog = async (pod: string) => {
    const res = await session.client!.stream({ method: 'GET', path: `/api/v1/namespaces/${NS}/pods/${pod}/log?container=main` }).catch(() => undefined);
    if (!res) return '';
    let text = '';
    for await (const chunk of res) text += chunk;
    return text;
  };
  const submit = async (...params: string[]) => {
    const r = await sleapRoots('submit', '--env', ENV, '--force-rerun', ...params.flatMap((p) => ['-p', p]), '--watch');
    return { ...r, name: nameIn(r.stdout) };
  };

  beforeAll(async () => {
    const env = parseEnvironment(`environments/${ENV}.yaml`, stringify(environment()));
    await session.open(Object.fromEntries(synthesizeEnvironment(env).map((f) => [f.path, f.content])));
  }, 60_000);
  afterAll(() => session.close(), 60_000);

  it('deploys the synthesized objects (semaphore ConfigMap, executor token, versioned templates)', async () => {
    const r = await sleapRoots('deploy', '--env', ENV);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/^created\s+ConfigMap\/sleap-roots-semaphores$/m);
    expect(r.stdout).toMatch(/^created\s+WorkflowTemplate\/sleap-roots-predictor-[0-9a-f]{8}$/m);
    const doctor = await sleapRoots('doctor', '--env', ENV);
    expect(doctor.stdout).toMatch(/^PASS\s+config maps and semaphores/m);
  }, 120_000);

  it('runs every scan through predictor and traits, then resubmission skips all finished work', async () => {
    const first = await sleapRoots('submit', '--env', ENV, '--watch', '--logs', '--log-file', 'first.log');
    expect(first.code, `${first.stdout}\n${first.stderr}`).toBe(0);
    const log = read('first.log');
    for (const scan of ['scan-a', 'scan-b', 'scan-c']) {
      expect(log).toContain(`predictor ${scan}`);
      expect(log).toContain(`traits of ${scan}`);
    }
    expect(await outcome(nameIn(first.stdout))).toContain('3 scans: 3 succeeded, 0 partial, 0 failed');

    const again = await sleapRoots('resubmit', nameIn(first.stdout), '--watch', '--logs', '--log-file', 'again.log');
    expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
    const againLog = read('again.log');
    expect(againLog.match(/already done, skipping/g)?.length).toBe(7); // models-downloader + 3 predictor + 3 traits
    expect(againLog).not.toMatch(/^predictor\(.*\): predictor scan-/m);

    const forced = await sleapRoots('resubmit', nameIn(first.stdout), '--force-rerun', '--watch', '--logs', '--log-file', 'forced.log');
    expect(forced.code).toBe(0);
    expect(read('forced.log')).toContain('predictor scan-a');
  }, 900_000);

  it('exit 3 is partial and passes; a crash fails the batch and names the scan', async () => {
    const partial = await submit('partial-scan=scan-b');
    expect(partial.code, `${partial.stdout}\n${partial.stderr}`).toBe(0);
    expect(await outcome(partial.name)).toContain('3 scans: 2 succeeded, 1 partial, 0 failed');
    const crash = await submit('crash-scan=scan-b');
    expect(crash.code).toBe(1);
    expect((await workflow(crash.name)).status?.message).toMatch(/3 scans: 2 succeeded, 0 partial, 1 failed: scan-b \(predictor exited 1\)/);
  }, 900_000);

  it('zero scans end the workflow within a minute, naming why', async () => {
    const started = Date.now();
    const none = await submit('image-sets=');
    expect(none.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(60_000 + 30_000); // a minute, plus pod start-up on a cold node
    expect(none.stdout).toMatch(/list-image-sets failed: .*no image sets in parameter image-sets/);
  }, 300_000);

  it('a pod deleted mid-run (preemption) is retried and the batch still succeeds', async () => {
    const submitted = await sleapRoots('submit', '--env', ENV, '--force-rerun', '-p', 'preempted-scan=scan-a');
    expect(submitted.code, submitted.stderr).toBe(0);
    const name = nameIn(submitted.stdout);
    const podsPath = `/api/v1/namespaces/${NS}/pods?labelSelector=workflows.argoproj.io/workflow=${name}`;
    let deleted = 0;
    for (let i = 0; i < 300 && deleted === 0; i++) {
      const pods = await session.client!.json<{ items: { metadata: { name: string; annotations?: Record<string, string> }; status?: { phase?: string } }[] }>({ method: 'GET', path: podsPath });
      for (const p of pods.items) {
        if (p.status?.phase === 'Running' && (p.metadata.annotations?.['workflows.argoproj.io/node-name'] ?? '').includes('.predictor(0')) {
          const logs = await podLog(p.metadata.name);
          if (!logs.includes('waiting to be preempted')) continue;
          await session.client!.json({ method: 'DELETE', path: `/api/v1/namespaces/${NS}/pods/${p.metadata.name}` });
          deleted++;
        }
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(deleted).toBe(1);
    const watched = await sleapRoots('watch', name);
    expect(watched.code, `${watched.stdout}\n${watched.stderr}`).toBe(0);
    expect(await outcome(name)).toContain('3 scans: 3 succeeded');
  }, 900_000);

  it('a poison scan is stopped by the scan timeout and fails alone', async () => {
    const poison = await submit('poison-scan=scan-a');
    expect(poison.code).toBe(1);
    const message = (await workflow(poison.name)).status?.message ?? '';
    expect(message).toMatch(/3 scans: 2 succeeded, 0 partial, 1 failed: scan-a \(predictor exited 124 \(scan timeout\)\)/);
  }, 900_000);

  it('a scan whose pod is lost on every attempt has no outcome, and fails the batch', async () => {
    const lost = await submit('lost-scan=scan-c');
    expect(lost.code).toBe(1);
    // scan-c is alone in chunk 1 (2 scans per pod): its pod died on both attempts.
    expect((await workflow(lost.name)).status?.message).toMatch(/1 failed: scan-c \(predictor: no outcome recorded\)/);
  }, 900_000);
});

// Runs everywhere: the environment the real-cluster run uses passes synth and policy, so a
// broken e2e setup shows up here and not only on a cluster.
describe('the end-to-end environment', () => {
  it('synthesizes: lister, fanned steps, gate, semaphore ConfigMap', () => {
    const files = synthesizeEnvironment(parseEnvironment(`environments/${ENV}.yaml`, stringify(environment())));
    const names = files.map((f) => path.basename(f.path));
    expect(names).toContain('40-configmap-sleap-roots-semaphores.yaml');
    for (const step of ['list-image-sets', 'models-downloader', 'predictor', 'trait-extractor', 'gate']) {
      expect(names.some((n) => new RegExp(`^50-workflowtemplate-sleap-roots-${step}-[0-9a-f]{8}\\.yaml$`).test(n)), step).toBe(true);
    }
  });
});
