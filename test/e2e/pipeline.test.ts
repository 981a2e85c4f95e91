/**
 * Opt-in end-to-end run of the SYNTHESIZED pipeline (not a miniature) on a real cluster with
 * Argo Workflows: an environment built with the same library as dist/, with busybox standing in
 * for the lab images, exercising what only a real Argo can confirm: the marker wrapper and resume,
 * the image-set fan-out, the semaphore, the partial-success gate, the executor token and the
 * hardened pods.
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

/** An environment file for this run, as a user would write it. */
function environment(): Record<string, unknown> {
  const volume = (name: string) => ({ hostPath: `${HOST}/${name}`, type: 'DirectoryOrCreate' });
  return {
    namespace: NS,
    policy: { allowDirectoryOrCreate: true },
    volumes: Object.fromEntries(['models-input', 'models-output', 'images-input', 'predictions-output', 'traits-output'].map((v) => [v, volume(v)])),
    parameters: {
      'image-sets': { value: 'scan-a,scan-b', description: 'comma-separated scans' },
      'partial-scan': { value: 'none', description: 'this scan exits 3 (some of it failed)' },
      'crash-scan': { value: 'none', description: 'this scan exits 1' },
    },
    resume: { enabled: true },
    fanOut: { steps: ['predictor', 'trait-extractor'], source: { parameter: 'image-sets' }, parallelism: 4 },
    concurrency: { semaphores: { 'pipeline-gpu': 1 } },
    provenance: { imageDigestEnv: 'IMAGE_DIGEST' },
    versionedTemplates: true,
    steps: {
      'models-downloader': {
        image: IMAGE,
        args: ['sh', '-c', 'echo model > /workspace/output/model.txt && echo "models ready for $ARGO_WORKFLOW_NAME"'],
      },
      predictor: {
        image: IMAGE,
        gpu: 'none',
        semaphore: 'pipeline-gpu',
        partialExitCodes: [3],
        env: [{ name: 'SCAN', value: '{{inputs.parameters.image-set}}' }],
        args: [
          'sh',
          '-c',
          [
            'test -f /workspace/models_input/model.txt || { echo "no model" >&2; exit 1; }',
            'echo "predicting $SCAN"',
            'echo "predictions of $SCAN" > /workspace/output/predictions.txt',
            '[ "$SCAN" = "{{workflow.parameters.crash-scan}}" ] && exit 1',
            '[ "$SCAN" = "{{workflow.parameters.partial-scan}}" ] && exit 3',
            'exit 0',
          ].join('\n'),
        ],
      },
      'trait-extractor': {
        image: IMAGE,
        partialExitCodes: [3],
        env: [{ name: 'SCAN', value: '{{inputs.parameters.image-set}}' }],
        args: ['sh', '-c', 'cat /workspace/input/predictions.txt > /workspace/output/traits.txt && echo "traits of $SCAN"'],
      },
    },
  };
}

describe.skipIf(!KUBECONFIG)('the synthesized pipeline on a real cluster (SLEAP_ROOTS_E2E_KUBECONFIG)', () => {
  const sleapRoots = (...args: string[]) => session.sleapRoots(...args);
  const nameIn = (text: string) => /(sleap-roots-pipeline-[a-z0-9]{5})/.exec(text)?.[1] as string;
  const read = (file: string) => fs.readFileSync(path.join(session.dir, file), 'utf8');

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
    for (const scan of ['scan-a', 'scan-b']) {
      expect(log).toContain(`predicting ${scan}`);
      expect(log).toContain(`traits of ${scan}`);
    }
    expect(log).not.toContain('skipping');

    const again = await sleapRoots('resubmit', nameIn(first.stdout), '--watch', '--logs', '--log-file', 'again.log');
    expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
    const againLog = read('again.log');
    expect(againLog.match(/step already done, skipping/g)?.length).toBe(5); // models-downloader + 2 predictor + 2 traits
    expect(againLog).not.toContain('predicting');

    const forced = await sleapRoots('resubmit', nameIn(first.stdout), '--force-rerun', '--watch', '--logs', '--log-file', 'forced.log');
    expect(forced.code).toBe(0);
    expect(read('forced.log')).toContain('predicting scan-a');
  }, 900_000);

  it('keeps the good scans when one exits 3, and fails the run when one crashes', async () => {
    const partial = await sleapRoots('submit', '--env', ENV, '--force-rerun', '-p', 'partial-scan=scan-b', '--watch');
    expect(partial.code, `${partial.stdout}\n${partial.stderr}`).toBe(0);
    const crash = await sleapRoots('submit', '--env', ENV, '--force-rerun', '-p', 'crash-scan=scan-b', '--watch');
    expect(crash.code).toBe(1);
    expect(crash.stdout).toMatch(/gate/);
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
