/**
 * Property: any environment file, sensible or not, either synthesizes into schema-valid
 * manifests or is rejected with located messages. Never a crash.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { parseEnvironment } from '../lib/config/load';
import { ConfigError } from '../lib/config/problems';
import { KUSTOMIZATION_FILE, RUN_FOLDER } from '../lib/names';
import { synthesizeEnvironment } from '../lib/synth';
import { validateManifest } from '../lib/validation/manifests';

const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const image = fc.constantFrom('ghcr.io/x/predict:1.2.3', 'ghcr.io/x/predict:latest', 'predict', `ghcr.io/x/p@sha256:${'b'.repeat(64)}`, '');
const quantity = fc.oneof(fc.constantFrom('500m', '1', '2', '8Gi', '2048Mi', '1.5G', 'lots'), fc.integer({ min: -1, max: 64 }));
const gpu = fc.oneof(
  fc.constant('none'),
  fc.record({ count: fc.integer({ min: -1, max: 4 }) }),
  fc.record({ fraction: fc.double({ min: -0.5, max: 1.5, noNaN: true }) }),
  fc.record({ memoryMB: fc.integer({ min: 0, max: 80000 }) }),
  fc.record({ fraction: fc.double({ min: 0.1, max: 0.9, noNaN: true }), count: fc.integer({ min: 1, max: 2 }) }),
);
const stepNames = ['models-downloader', 'predictor', 'trait-extractor', 'write-back', 'ghost'];
const step = fc.record({
  enabled: optional(fc.boolean()),
  image: optional(image),
  gpu: optional(gpu),
  preemptible: optional(fc.boolean()),
  privileged: optional(fc.boolean()),
  retry: optional(fc.record({ limit: optional(fc.integer({ min: -1, max: 5 })), policy: optional(fc.constantFrom('Always', 'OnFailure', 'Sometimes')) })),
  resources: optional(fc.record({ requests: optional(fc.record({ cpu: optional(quantity), memory: optional(quantity) })), limits: optional(fc.record({ cpu: optional(quantity), memory: optional(quantity) })) })),
  dependencies: optional(fc.subarray(stepNames)),
  timeout: optional(fc.constantFrom('1h', '90s', 'forever')),
  args: optional(fc.array(fc.constantFrom('--x', '{{workflow.parameters.scan-ids}}', '{{workflow.parameters.nope}}'), { maxLength: 3 })),
  env: optional(fc.array(fc.oneof(fc.record({ name: fc.constantFrom('A', 'B_2', '1bad'), value: fc.string({ maxLength: 5 }) }), fc.record({ name: fc.constant('KEY'), secretKeyRef: fc.record({ name: fc.constantFrom('api', 'Bad'), key: fc.constantFrom('k', '') }) })), { maxLength: 2 })),
}, { requiredKeys: [] });
const volume = fc.oneof(
  fc.record({ hostPath: fc.constantFrom('/nfs/a', 'relative/a'), type: optional(fc.constantFrom('Directory', 'DirectoryOrCreate', 'Socket')) }, { requiredKeys: ['hostPath'] }),
  fc.record({ persistentVolumeClaim: fc.constantFrom('claim', 'Bad Claim') }),
);
const config = fc.record({
  namespace: fc.constantFrom('runai-talmo-lab', 'argo', 'busch-lab', 'Bad_NS'),
  labels: optional(fc.dictionary(fc.constantFrom('project', 'team'), fc.constantFrom('talmo-lab', 'tye-lab'))),
  policy: optional(fc.record({ allowUnpinnedImages: optional(fc.boolean()), allowPrivileged: optional(fc.boolean()), allowDirectoryOrCreate: optional(fc.boolean()) }, { requiredKeys: [] })),
  scheduling: optional(fc.record({
    scheduler: optional(fc.constantFrom('default-scheduler', 'runai-scheduler', 'kai-scheduler')),
    project: optional(fc.constantFrom('talmo-lab', 'tye-lab')),
    queueLabels: optional(fc.subarray(['project', 'runai/queue', 'kai.scheduler/queue'])),
    priorityClasses: optional(fc.record({ preemptible: fc.constant('low'), nonPreemptible: fc.constant('high') })),
  }, { requiredKeys: [] })),
  gpu: optional(fc.record({ available: optional(fc.boolean()), targetMainContainer: optional(fc.boolean()) }, { requiredKeys: [] })),
  parameters: optional(fc.dictionary(fc.constantFrom('scan-ids', 'batch'), fc.record({ value: optional(fc.string({ maxLength: 4 })) }, { requiredKeys: [] }))),
  volumes: optional(fc.dictionary(fc.constantFrom('models-input', 'models-output', 'images-input', 'predictions-output', 'traits-output'), volume)),
  steps: optional(fc.dictionary(fc.constantFrom(...stepNames), step)),
  junk: optional(fc.anything({ maxDepth: 1 })),
}, { requiredKeys: ['namespace'] });

/** Mostly-sensible environments: valid values, random combinations (many synthesize). */
const volumesAll = Object.fromEntries(['models-input', 'models-output', 'images-input', 'predictions-output', 'traits-output'].map((v) => [v, { hostPath: `/nfs/${v}` }]));
const saneStep = fc.record({
  image: fc.constantFrom('ghcr.io/x/s:1.0', `ghcr.io/x/s@sha256:${'c'.repeat(64)}`),
  gpu: fc.constantFrom('none', { count: 1 }, { fraction: 0.25 }, { memoryMB: 8000 }),
  preemptible: fc.boolean(),
  resources: optional(fc.record({ requests: fc.record({ cpu: fc.constantFrom('500m', '1'), memory: fc.constantFrom('1Gi', '2Gi') }), limits: fc.record({ memory: fc.constantFrom('2Gi', '8Gi') }) })),
  timeout: optional(fc.constantFrom('1h', '30m')),
}, { requiredKeys: ['image'] });
const saneConfig = fc.record({
  scheduler: fc.constantFrom('runai-scheduler', 'kai-scheduler', 'default-scheduler'),
  steps: fc.record({ 'models-downloader': saneStep, predictor: saneStep, 'trait-extractor': saneStep }),
  targetMainContainer: fc.boolean(),
  writeBack: fc.boolean(),
  options: fc.record({
    resume: optional(fc.record({ enabled: fc.boolean() })),
    fanOut: optional(fc.record({ steps: fc.subarray(['predictor', 'trait-extractor', 'models-downloader'], { minLength: 1 }), source: fc.constant({ subdirectoriesOf: 'images-input' }), parallelism: optional(fc.integer({ min: 1, max: 64 })) }, { requiredKeys: ['steps', 'source'] })),
    concurrency: optional(fc.record({ semaphores: fc.constant({ 'pipeline-gpu': 4 }), gpuSemaphore: optional(fc.constantFrom('pipeline-gpu', 'missing')) }, { requiredKeys: ['semaphores'] })),
    versionedTemplates: optional(fc.boolean()),
    provenance: optional(fc.record({ imageDigestEnv: fc.constant('IMAGE_DIGEST') })),
  }, { requiredKeys: [] }),
  partial: fc.boolean(),
}).map(({ scheduler, steps, targetMainContainer, writeBack, options, partial }) => ({
  ...options,
  namespace: scheduler === 'runai-scheduler' ? 'runai-talmo-lab' : 'sleap-roots',
  scheduling: { scheduler, project: 'talmo-lab', priorityClasses: { preemptible: 'low', nonPreemptible: 'high' } },
  gpu: { targetMainContainer },
  volumes: volumesAll,
  steps: {
    ...steps,
    predictor: partial ? { ...steps.predictor, partialExitCodes: [3] } : steps.predictor,
    ...(writeBack ? { 'write-back': { image: 'ghcr.io/x/wb:2', dependencies: ['trait-extractor'] } } : {}),
  },
}));

describe('any environment', () => {
  it('synthesizes schema-valid manifests or is rejected with located messages', () => {
    let accepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(fc.oneof(config, saneConfig), (cfg) => {
        const text = stringify(cfg);
        try {
          const files = synthesizeEnvironment(parseEnvironment('environments/prop.yaml', text));
          const objects = files.filter((f) => f.path !== `prop/${KUSTOMIZATION_FILE}`);
          for (const f of objects) expect(validateManifest(parseYaml(f.content)), f.path).toEqual([]);
          // The kustomization lists exactly the objects kubectl apply -f reads, never run/.
          const kustomization = parseYaml(files.find((f) => f.path === `prop/${KUSTOMIZATION_FILE}`)!.content);
          expect(kustomization.resources).toEqual(objects.filter((f) => !f.path.startsWith(`prop/${RUN_FOLDER}/`)).map((f) => f.path.slice('prop/'.length)));
          accepted++;
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
          expect(e.problems.length).toBeGreaterThan(0);
          for (const p of e.problems) {
            expect(p.file).toBe('environments/prop.yaml');
            expect(p.message.length).toBeGreaterThan(10);
          }
          rejected++;
        }
      }),
      { numRuns: 400, seed: 20261125 },
    );
    // Both outcomes must actually be exercised, or the property says little.
    expect(accepted).toBeGreaterThan(10);
    expect(rejected).toBeGreaterThan(10);
  });
});
