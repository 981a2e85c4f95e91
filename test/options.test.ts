/**
 * Resume-and-scale options, each off and on, and the validation they bring. The shell scripts
 * they synthesize are run for real in test/outcomes.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { baseConfig, envFrom, pipelineTemplate, problemsOf, stepTemplate, synth } from './support/envs';

const STEP_TEMPLATES = (manifests: ReturnType<typeof synth>['manifests']) =>
  manifests.filter((m) => m.obj.kind === 'WorkflowTemplate' && m.obj.metadata.name !== 'sleap-roots-pipeline').map((m) => m.obj.metadata.name).sort();

describe('options off (the defaults)', () => {
  const { manifests, files } = synth(envFrom(baseConfig()));
  it('runs each command as given, without wrapper, lister, gate, semaphores or hashes', () => {
    expect(STEP_TEMPLATES(manifests)).toEqual(['sleap-roots-models-downloader', 'sleap-roots-predictor', 'sleap-roots-trait-extractor']);
    for (const step of ['models-downloader', 'predictor', 'trait-extractor']) {
      const t = stepTemplate(manifests, step);
      expect(t.container.command).toBeUndefined();
      expect(t.container.env).toEqual([{ name: 'ARGO_WORKFLOW_NAME', value: '{{workflow.name}}' }]);
      // Only the models downloader holds a lock: its mutex (it writes the folder every workflow reads).
      expect(t.synchronization).toEqual(step === 'models-downloader' ? { mutexes: [{ name: 'sleap-roots-models-downloader' }] } : undefined);
      expect(t.outputs).toBeUndefined();
    }
    expect(files.some((f) => f.path.includes('configmap'))).toBe(false);
    const tasks = pipelineTemplate(manifests).spec.templates[0].dag.tasks;
    expect(tasks.map((t: any) => t.name)).toEqual(['models-downloader', 'predictor', 'trait-extractor']);
    expect(tasks.every((t: any) => t.withParam === undefined && t.continueOn === undefined)).toBe(true);
    expect(pipelineTemplate(manifests).spec.arguments).toBeUndefined();
  });
});

describe('options on', () => {
  it('exclusive: a step that writes a folder every workflow shares holds a mutex beside its semaphore; false drops it', () => {
    const c = baseConfig();
    c.concurrency = { semaphores: { stage: 1 } };
    c.steps = { ...c.steps, predictor: { ...c.steps?.predictor, exclusive: true, semaphore: 'stage' }, 'models-downloader': { ...c.steps?.['models-downloader'], exclusive: false } };
    const { manifests } = synth(envFrom(c));
    expect(stepTemplate(manifests, 'predictor').synchronization).toEqual({
      semaphores: [{ configMapKeyRef: { name: 'sleap-roots-semaphores', key: 'stage' } }],
      mutexes: [{ name: 'sleap-roots-predictor' }],
    });
    expect(stepTemplate(manifests, 'models-downloader').synchronization).toBeUndefined();
  });

  it('fan-out from a parameter passes the list in an environment variable, never an argument', () => {
    const c = baseConfig();
    c.parameters = { 'image-sets': { value: '', description: 'comma-separated scan folders' } };
    c.fanOut = { steps: ['predictor'], source: { parameter: 'image-sets' } };
    const { manifests } = synth(envFrom(c));
    const lister = stepTemplate(manifests, 'list-image-sets');
    expect(lister.container.args).toEqual(['list']);
    expect(lister.container.env).toContainEqual({ name: 'SLEAP_ROOTS_SCANS', value: '{{workflow.parameters.image-sets}}' });
    expect(lister.container.volumeMounts.map((m: any) => m.mountPath)).toEqual(['/sleap-roots/state']);
    const tasks = Object.fromEntries(pipelineTemplate(manifests).spec.templates[0].dag.tasks.map((t: any) => [t.name, t]));
    expect(tasks.predictor.withSequence).toEqual({ count: '{{tasks.list-image-sets.outputs.result}}' });
    expect(tasks['trait-extractor'].withSequence).toBeUndefined();
  });

  it('the manifests do not grow with the number of image sets', () => {
    const c = baseConfig();
    c.parameters = { 'image-sets': { value: '' } };
    c.fanOut = { steps: ['predictor', 'trait-extractor'], source: { parameter: 'image-sets' } };
    const small = synth(envFrom({ ...c, parameters: { 'image-sets': { value: 'a,b' } } })).files;
    const big = synth(envFrom({ ...c, parameters: { 'image-sets': { value: '' } } })).files;
    const size = (fs: typeof small) => fs.filter((f) => !f.path.includes('pipeline')).reduce((n, f) => n + f.content.length, 0);
    expect(size(small)).toBe(size(big));
  });

  it('a semaphore on a named step, values as strings in the ConfigMap', () => {
    const c = baseConfig();
    c.concurrency = { semaphores: { 'pipeline-gpu': 2, 'traits-io': 10 }, configMapName: 'lab-semaphores' };
    c.steps['trait-extractor'].semaphore = 'traits-io';
    const { manifests } = synth(envFrom(c));
    expect(manifests.find((m) => m.obj.kind === 'ConfigMap')!.obj).toMatchObject({ metadata: { name: 'lab-semaphores' }, data: { 'pipeline-gpu': '2', 'traits-io': '10' } });
    expect(stepTemplate(manifests, 'trait-extractor').synchronization.semaphores).toEqual([{ configMapKeyRef: { name: 'lab-semaphores', key: 'traits-io' } }]);
    expect(stepTemplate(manifests, 'predictor').synchronization).toBeUndefined();
  });

  it('partial exit codes on an unfanned step: it records its outcome, the exit-handler gate judges it whole', () => {
    const c = baseConfig();
    c.steps['trait-extractor'].partialExitCodes = [3, 4];
    c.partialSuccess = { gate: { image: 'ghcr.io/x/gate:1.0', timeout: '5m' } };
    const { manifests } = synth(envFrom(c));
    const spec = pipelineTemplate(manifests).spec;
    expect(spec.templates[0].dag.tasks.map((t: any) => t.name)).toEqual(['models-downloader', 'predictor', 'trait-extractor']);
    expect(spec.hooks.exit.templateRef).toEqual({ name: 'sleap-roots-gate', template: 'gate' });
    const gate = stepTemplate(manifests, 'gate');
    expect(gate.container.image).toBe('ghcr.io/x/gate:1.0');
    expect(gate.timeout).toBe('5m');
    expect(gate.container.env).toEqual(expect.arrayContaining([
      { name: 'SLEAP_ROOTS_SCAN_STEPS', value: '' },
      { name: 'SLEAP_ROOTS_WHOLE_STEPS', value: 'trait-extractor=0,3,4' },
      { name: 'SLEAP_ROOTS_WORKFLOW_STATUS', value: '{{workflow.status}}' },
    ]));
    // Its failure is the workflow's message: retried on Error only, without an expression.
    expect(gate.retryStrategy).toMatchObject({ retryPolicy: 'OnError', limit: 3 });
    expect(gate.retryStrategy.expression).toBeUndefined();
    expect(stepTemplate(manifests, 'trait-extractor').container.env).toContainEqual({ name: 'SLEAP_ROOTS_ACCEPTED', value: '0 3 4' });
    expect(stepTemplate(manifests, 'predictor').container.command).toBeUndefined(); // not judged: plain
  });

  it('versioned template names change with content and only then; GitOps tools must not prune them', () => {
    const c = baseConfig();
    c.versionedTemplates = true;
    const { manifests } = synth(envFrom(c));
    for (const m of manifests.filter((x) => x.obj.kind === 'WorkflowTemplate')) {
      const keep = m.obj.metadata.name === 'sleap-roots-pipeline' ? undefined : { 'argocd.argoproj.io/sync-options': 'Prune=false', 'kustomize.toolkit.fluxcd.io/prune': 'disabled' };
      expect(m.obj.metadata.annotations, m.obj.metadata.name).toEqual(keep);
    }
    const a = STEP_TEMPLATES(manifests);
    expect(STEP_TEMPLATES(synth(envFrom(c)).manifests)).toEqual(a);
    c.steps.predictor.timeout = '2h';
    const b = STEP_TEMPLATES(synth(envFrom(c)).manifests);
    expect(b.filter((n) => n.includes('predictor'))).not.toEqual(a.filter((n) => n.includes('predictor')));
    expect(b.filter((n) => !n.includes('predictor'))).toEqual(a.filter((n) => !n.includes('predictor')));
  });

  it('a digest-pinned image gets its digest in the named env var', () => {
    const c = baseConfig();
    const digest = `sha256:${'d'.repeat(64)}`;
    c.steps.predictor.image = `ghcr.io/talmolab/sleap-roots-predict@${digest}`;
    c.provenance = { imageDigestEnv: 'IMAGE_DIGEST' };
    const { manifests } = synth(envFrom(c));
    expect(stepTemplate(manifests, 'predictor').container.env).toContainEqual({ name: 'IMAGE_DIGEST', value: digest });
    expect(stepTemplate(manifests, 'trait-extractor').container.env.map((e: any) => e.name)).not.toContain('IMAGE_DIGEST');
  });
});

describe('option validation', () => {
  it('fails when a semaphore limit is not a positive integer', () => {
    const c = baseConfig();
    c.concurrency = { semaphores: { 'pipeline-gpu': '8' } };
    const [p] = problemsOf(c);
    expect(p.path).toBe('concurrency.semaphores.pipeline-gpu');
    expect(p.message).toContain('given "8"');
    c.concurrency = { semaphores: { 'pipeline-gpu': 0 } };
    expect(problemsOf(c)[0].message).toContain('given 0');
  });

  it('fails when a step or gpuSemaphore names an undeclared semaphore', () => {
    const c = baseConfig();
    c.concurrency = { semaphores: { 'pipeline-gpu': 4 }, gpuSemaphore: 'gpus' };
    c.steps['trait-extractor'].semaphore = 'cpus';
    expect(problemsOf(c).map((p) => [p.path, p.message])).toEqual([
      ['concurrency.gpuSemaphore', 'no semaphore "gpus" in concurrency.semaphores; expected one of: pipeline-gpu'],
      ['steps.trait-extractor.semaphore', 'no semaphore "cpus" in concurrency.semaphores; expected one of: pipeline-gpu'],
    ]);
  });

  it('fails when fan-out names a missing step, volume or parameter', () => {
    const c = baseConfig();
    c.fanOut = { steps: ['predicter'], source: { subdirectoriesOf: 'scans' }, itemVolumes: ['images'] };
    expect(problemsOf(c).map((p) => p.path)).toEqual(['fanOut.steps[0]', 'fanOut.source.subdirectoriesOf', 'fanOut.itemVolumes[0]']);
    c.fanOut = { steps: ['predictor'], source: { parameter: 'image-sets' } };
    expect(problemsOf(c).map((p) => p.path)).toEqual(['fanOut.source.parameter']);
  });

  it('fails when resume is on for a step without a writable mount', () => {
    const c = baseConfig();
    c.resume = { enabled: true };
    c.steps['write-back'] = { image: 'ghcr.io/x/wb:1.0', dependencies: ['trait-extractor'], mounts: [{ volume: 'traits-output', path: '/in', readOnly: true }] };
    const [p] = problemsOf(c);
    expect(p.path).toBe('steps.write-back.output');
  });

  it('fails when the marker name does not contain {step}', () => {
    const c = baseConfig();
    c.resume = { enabled: true, markerName: 'done' };
    expect(problemsOf(c)[0]).toMatchObject({ path: 'resume.markerName', message: expect.stringContaining('{step}') });
  });
});
