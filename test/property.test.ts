/**
 * Property: any environment file, sensible or not, either synthesizes into schema-valid
 * manifests or is rejected with located messages. Never a crash.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { parseEnvironment } from '../lib/config/load';
import { ConfigError } from '../lib/config/problems';
import { KUSTOMIZATION_FILE, RUN_FOLDER } from '../lib/names';
import { synthesizeEnvironment } from '../lib/synth';
import { validateManifest } from '../lib/validation/manifests';
import { ROOT, SHIPPED } from './support/envs';

/** Cases per property: a few hundred in `npm test`; SLEAP_ROOTS_PROPERTY_RUNS=N for more. */
const RUNS = Number(process.env.SLEAP_ROOTS_PROPERTY_RUNS) || 0;

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
      { numRuns: RUNS || 400, seed: 20261125 },
    );
    // Both outcomes must actually be exercised, or the property says little.
    expect(accepted).toBeGreaterThan(10);
    expect(rejected).toBeGreaterThan(10);
  });

  it('any mutation of a shipped file (YAML features, types, names, sizes) is valid output or located problems', () => {
    const texts = SHIPPED.map((n) => fs.readFileSync(path.join(ROOT, 'environments', `${n}.yaml`), 'utf8'));
    const values = fc.constantFrom('*nope', '&a x', '[1, *a]', '{a: 1, a: 2}', 'constructor', '__proto__', 'toString', '"{{inputs.parameters.nope}}"', '"{{item}}"',
      '"Bad Image:1.0"', '2562048h', '-1', '1e309', '0x10', '"../x"', '"\\u0000"', '~', '[]', '{}', '"x".repeat', `"${'y'.repeat(70)}"`, "'a\tb'", '!!binary aGk=', '? [a]');
    const mutation = fc.oneof(
      // Replace the value of one line by something odd.
      fc.record({ kind: fc.constant('value' as const), line: fc.nat(), value: values }),
      // Duplicate a line (duplicate keys), drop one, or cut the file.
      fc.record({ kind: fc.constantFrom('duplicate' as const, 'drop' as const, 'cut' as const), line: fc.nat() }),
      // Insert a key at one indentation.
      fc.record({ kind: fc.constant('insert' as const), line: fc.nat(), key: fc.constantFrom('constructor', 'steps', 'x', 'toString', 'image', '<<'), value: values }),
    );
    const apply = (text: string, ms: readonly { kind: string; line: number; value?: string; key?: string }[]) => {
      let lines = text.split('\n');
      for (const m of ms) {
        if (lines.length === 0) lines = [''];
        const i = m.line % lines.length;
        const indent = /^\s*/.exec(lines[i])![0];
        if (m.kind === 'value') lines[i] = lines[i].replace(/:\s.*$|:$/, `: ${m.value}`);
        else if (m.kind === 'duplicate') lines.splice(i, 0, lines[i]);
        else if (m.kind === 'drop') lines.splice(i, 1);
        else if (m.kind === 'cut') lines = lines.slice(0, i);
        else lines.splice(i, 0, `${indent}${m.key}: ${m.value}`);
      }
      return lines.join('\n');
    };
    fc.assert(
      fc.property(fc.nat({ max: texts.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), (which, ms) => {
        const text = apply(texts[which], ms);
        try {
          for (const f of synthesizeEnvironment(parseEnvironment('environments/prop.yaml', text))) {
            if (f.path.endsWith('.yaml')) expect(validateManifest(parseYaml(f.content)), f.path).toEqual([]);
          }
        } catch (e) {
          // Never an exception from the code: only a ConfigError with located, readable problems.
          if (!(e instanceof ConfigError)) throw new Error(`mutated ${SHIPPED[which]}.yaml threw ${String(e)}:\n${text}`);
          expect(e.problems.length).toBeGreaterThan(0);
          for (const p of e.problems) {
            expect(p.file).toBe('environments/prop.yaml');
            expect(p.message.length).toBeGreaterThan(10);
            // A message, never an internal error or a stack trace passed through.
            expect(p.message).not.toMatch(/\n\s+at |TypeError|ReferenceError|RangeError|Cannot read prop|is not a function|is not iterable/);
          }
        }
      }),
      { numRuns: RUNS || 200, seed: 20261201 },
    );
  }, 120_000);
});
