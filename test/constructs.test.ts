/**
 * The constructs used directly, as a cdk8s user would (no environment file): the minimal
 * pipeline, several pipelines in one app, custom steps linked by reference, the value types.
 */
import { App, Testing } from 'cdk8s';
import { Chart } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import {
  ContainerStep,
  formatPolicyProblem,
  GpuRequest,
  ModelsDownloader,
  Predictor,
  RetryStrategy,
  Scheduler,
  SleapRootsPipeline,
  TraitExtractor,
  Volumes,
} from '../lib/index';
import { validateManifest } from '../lib/validation/manifests';

type Obj = { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: any };

const PINNED = {
  modelsDownloader: { image: 'ghcr.io/example/models-downloader:1.0.0' },
  predictor: { image: 'ghcr.io/example/sleap-roots-predict:1.0.0' },
  traitExtractor: { image: 'ghcr.io/example/sleap-roots-traits:1.0.0' },
};

const objects = (chart: Chart) => Testing.synth(chart) as Obj[];
const named = (objs: Obj[], name: string) => objs.find((o) => o.metadata.name === name)!;
const tasks = (objs: Obj[]) => named(objs, 'sleap-roots-pipeline').spec.templates[0].dag.tasks as { name: string; dependencies?: string[] }[];
const problems = (p: SleapRootsPipeline) => p.problems().map(formatPolicyProblem);

describe('SleapRootsPipeline on its own', () => {
  it('with only a namespace: the three seed steps in order, their only problems the unpinned seed images', () => {
    const pipeline = new SleapRootsPipeline(Testing.app(), 'lab', { namespace: 'plants' });
    // The seed's images are `:latest` and no immutable tag of them is known: pinning stays the user's call.
    expect(problems(pipeline)).toEqual([
      'steps.models-downloader.image: "registry.gitlab.com/salk-tm/models-downloader:latest" is not pinned; expected a tag other than latest or a @sha256 digest (or set policy.allowUnpinnedImages: true)',
      'steps.predictor.image: "registry.gitlab.com/salk-tm/sleap-roots-predict:latest" is not pinned; expected a tag other than latest or a @sha256 digest (or set policy.allowUnpinnedImages: true)',
      'steps.trait-extractor.image: "registry.gitlab.com/salk-tm/sleap-roots-traits:latest" is not pinned; expected a tag other than latest or a @sha256 digest (or set policy.allowUnpinnedImages: true)',
    ]);
    expect(() => Testing.synth(pipeline)).toThrow(/Validation failed[\s\S]*models-downloader:latest" is not pinned/);
  });

  it('with a namespace and pinned images: schema-valid, policy-clean, every default in place', () => {
    const pipeline = new SleapRootsPipeline(Testing.app(), 'lab', { namespace: 'plants', ...PINNED });
    expect(problems(pipeline)).toEqual([]);
    const objs = objects(pipeline);
    for (const o of objs) expect(validateManifest(o), `${o.kind} ${o.metadata.name}`).toEqual([]);
    expect(objs.every((o) => o.metadata.namespace === 'plants' && o.metadata.labels?.['sleap-roots.io/environment'] === 'lab')).toBe(true);
    expect(tasks(objs).map((t) => [t.name, t.dependencies])).toEqual([
      ['models-downloader', undefined],
      ['predictor', ['models-downloader']],
      ['trait-extractor', ['predictor']],
    ]);
    const predictor = named(objs, 'sleap-roots-predictor').spec.templates[0];
    expect(predictor.container.resources.limits['nvidia.com/gpu']).toBe('1');
    expect(predictor.timeout).toBe('12h');
    // The volumes default to a claim per shared folder.
    expect(named(objs, 'sleap-roots-pipeline').spec.volumes).toContainEqual({ name: Volumes.IMAGES_INPUT, persistentVolumeClaim: { claimName: Volumes.IMAGES_INPUT } });
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toMatchSnapshot();
  });

  it('two pipelines with different ids in one app synthesize side by side', () => {
    const app = Testing.app();
    const a = new SleapRootsPipeline(app, 'lab-a', { namespace: 'plants-a', ...PINNED });
    const b = new SleapRootsPipeline(app, 'lab-b', { namespace: 'plants-b', ...PINNED, predictor: { ...PINNED.predictor, gpu: GpuRequest.none() } });
    expect(() => app.synthYaml()).not.toThrow();
    expect(objects(a).every((o) => o.metadata.namespace === 'plants-a')).toBe(true);
    expect(named(objects(b), 'sleap-roots-predictor').spec.templates[0].container.resources.limits).toEqual({ memory: '24Gi' });
  });

  it('leaves a built-in step out when its prop is false, and links the rest without it', () => {
    const pipeline = new SleapRootsPipeline(Testing.app(), 'lab', { namespace: 'plants', ...PINNED, modelsDownloader: false });
    expect(pipeline.modelsDownloader).toBeUndefined();
    expect(tasks(objects(pipeline)).map((t) => [t.name, t.dependencies])).toEqual([['predictor', undefined], ['trait-extractor', ['predictor']]]);
  });

  it('takes the namespace from a Run:AI project, with the project label and fractions on its scheduler', () => {
    const pipeline = new SleapRootsPipeline(Testing.app(), 'lab', {
      scheduler: Scheduler.runai({ project: 'greenhouse', priorityClasses: { preemptible: 'train', nonPreemptible: 'build' } }),
      ...PINNED,
      predictor: { ...PINNED.predictor, gpu: GpuRequest.fraction(0.5), preemptible: true },
    });
    expect(pipeline.namespace).toBe('runai-greenhouse');
    expect(problems(pipeline)).toEqual([]);
    const t = named(objects(pipeline), 'sleap-roots-predictor').spec.templates[0];
    expect(t.schedulerName).toBe('runai-scheduler');
    expect(t.metadata.labels).toEqual({ project: 'greenhouse' });
    expect(t.metadata.annotations['gpu-fraction']).toBe('0.5');
    expect(t.priorityClassName).toBe('train');
  });

  it('needs a namespace unless the scheduler implies one', () => {
    expect(() => new SleapRootsPipeline(Testing.app(), 'lab')).toThrow('SleapRootsPipeline lab: set namespace');
  });
});

describe('steps', () => {
  it('a custom step before the predictor, linked by reference', () => {
    const pipeline = new SleapRootsPipeline(Testing.app(), 'lab', { namespace: 'plants', ...PINNED, parameters: { 'scan-ids': {} } });
    const images = new ContainerStep(pipeline, 'images-downloader', {
      image: 'ghcr.io/example/images-downloader:2.0.1',
      args: ['--scans', '{{workflow.parameters.scan-ids}}'],
      mounts: [{ volume: Volumes.IMAGES_INPUT, path: '/workspace/images' }],
      resources: { requests: { cpu: '500m', memory: '1Gi' } },
      timeout: '2h',
    });
    pipeline.predictor!.after(images);
    expect(problems(pipeline)).toEqual([]);
    const objs = objects(pipeline);
    expect(tasks(objs).find((t) => t.name === 'predictor')!.dependencies).toEqual(['models-downloader', 'images-downloader']);
    expect(named(objs, 'sleap-roots-images-downloader').spec.templates[0].container.args).toEqual(['--scans', '{{workflow.parameters.scan-ids}}']);
    expect(images.templateName).toBe('sleap-roots-images-downloader');
  });

  it('a second predictor with its own id, after the first', () => {
    const pipeline = new SleapRootsPipeline(Testing.app(), 'lab', { namespace: 'plants', ...PINNED });
    const laterals = new Predictor(pipeline, 'predict-laterals', { image: 'ghcr.io/example/sleap-roots-predict:1.0.0', dependencies: [pipeline.modelsDownloader!] });
    pipeline.traitExtractor!.after(laterals);
    expect(problems(pipeline)).toEqual([]);
    expect(tasks(objects(pipeline)).map((t) => t.name)).toEqual(['models-downloader', 'predictor', 'trait-extractor', 'predict-laterals']);
    expect(laterals.settings.gpu?.requestsGpu).toBe(true);
  });

  it('built-in step classes take (scope, id, props = {}) with their seed defaults', () => {
    const pipeline = new SleapRootsPipeline(Testing.app(), 'lab', { namespace: 'plants', modelsDownloader: false, predictor: false, traitExtractor: false });
    const md = new ModelsDownloader(pipeline, 'models');
    const tx = new TraitExtractor(pipeline, 'traits', { timeout: '1h' });
    expect(md.settings.image).toBe(ModelsDownloader.DEFAULT_IMAGE);
    expect(md.settings.timeout).toBe('1h');
    expect(tx.settings.timeout).toBe('1h');
    expect(tx.settings.resources?.requests?.memory).toBe('2Gi');
    expect(pipeline.steps.map((s) => s.name)).toEqual(['models', 'traits']);
  });

  it('a preemptible step gets the scheduler\'s preemptible class and a retry of every way a preempted pod ends', () => {
    const pipeline = new SleapRootsPipeline(Testing.app(), 'lab', {
      scheduler: Scheduler.kai({ project: 'roots', priorityClasses: { preemptible: 'low', nonPreemptible: 'high' } }),
      namespace: 'roots',
      ...PINNED,
      predictor: { ...PINNED.predictor, gpu: GpuRequest.memoryMB(8192), preemptible: true, retry: RetryStrategy.preemptible({ limit: 6 }) },
    });
    const plan = pipeline.plan.steps.find((s) => s.name === 'predictor')!;
    expect(plan.priorityClassName).toBe('low');
    expect(plan.retry.limit).toBe(6);
    expect(plan.retry.retriesEveryFailure).toBe(true);
    const t = named(objects(pipeline), 'sleap-roots-predictor').spec.templates[0];
    expect(t.metadata.labels).toEqual({ 'kai.scheduler/queue': 'roots' });
    expect(t.metadata.annotations['gpu-memory']).toBe('8192');
  });

  it('must be created inside a pipeline, never run after itself, and not be added after synthesis', () => {
    const chart = new Chart(new App(), 'plain');
    expect(() => new ContainerStep(chart, 'x', { image: 'a:1' })).toThrow('step "x" (plain/x) must be created inside a SleapRootsPipeline');
    const pipeline = new SleapRootsPipeline(Testing.app(), 'lab', { namespace: 'plants', ...PINNED });
    expect(() => pipeline.predictor!.after(pipeline.predictor!)).toThrow('step "predictor" cannot run after itself');
    Testing.synth(pipeline);
    expect(() => new ContainerStep(pipeline, 'late', { image: 'a:1' })).toThrow('step "late" was added to pipeline lab after the pipeline was synthesized');
  });

  it('reports a dependency cycle built by reference', () => {
    const pipeline = new SleapRootsPipeline(Testing.app(), 'lab', { namespace: 'plants', ...PINNED });
    pipeline.modelsDownloader!.after(pipeline.traitExtractor!);
    expect(problems(pipeline)).toEqual([expect.stringMatching(/dependencies: dependency cycle: (\S+ -> ){3}\S+; the steps must form a DAG/)]);
  });
});
