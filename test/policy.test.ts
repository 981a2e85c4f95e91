/** Every synth-time policy rule: it fails, and its message names the field, the value and the fix. */
import { describe, expect, it } from 'vitest';
import { synthesizeEnvironment } from '../lib/synth';
import { baseConfig, envFrom, pipelineTemplate, problemsOf, stepTemplate, synth } from './support/envs';

/** What every custom step needs besides its image (a timeout and requests: test/runtime-rules.test.ts). */
const RUNNABLE = { timeout: '1h', resources: { requests: { cpu: '100m', memory: '128Mi' } } };

function only(config: unknown) {
  const problems = problemsOf(config);
  expect(problems).toHaveLength(1);
  expect(problems[0].file).toBe('environments/test.yaml');
  return problems[0];
}

describe('policy', () => {
  it('accepts the base configuration', () => {
    expect(() => synth(envFrom(baseConfig()))).not.toThrow();
  });

  it('fails when a Run:AI namespace is not runai-<project>', () => {
    const c = baseConfig();
    c.namespace = 'busch-lab';
    const p = only(c);
    expect(p.path).toBe('namespace');
    expect(p.message).toContain('"runai-talmo-lab"');
    expect(p.message).toContain('given "busch-lab"');
    expect(p.line).toBe(1);
  });

  it('fails when runai-scheduler has no project', () => {
    const c = baseConfig();
    delete c.scheduling.project;
    const p = only(c);
    expect(p.path).toBe('scheduling.project');
  });

  it('fails when a project label disagrees with the project', () => {
    const c = baseConfig();
    c.labels = { project: 'tye-lab' };
    const p = only(c);
    expect(p.path).toBe('labels.project');
    expect(p.message).toContain('"tye-lab"');
    expect(p.message).toContain('"talmo-lab"');
  });

  it('fails when a Run:AI step has no priority class', () => {
    const c = baseConfig();
    delete c.scheduling.priorityClasses;
    const paths = problemsOf(c).map((p) => p.path);
    expect(paths).toContain('steps.models-downloader.priorityClassName');
    expect(paths).toContain('steps.predictor.priorityClassName');
    expect(paths).toContain('steps.predictor.preemptible');
  });

  it('fails when a preemptible step would not retry every failure', () => {
    const c = baseConfig();
    c.steps.predictor.retry = { policy: 'OnFailure' };
    const p = only(c);
    expect(p.path).toBe('steps.predictor.retry.policy');
    expect(p.message).toContain('given policy OnFailure');
  });

  it('fails when a container is privileged without the opt-in, and allows it with it', () => {
    const c = baseConfig();
    c.steps.predictor.privileged = true;
    const p = only(c);
    expect(p.path).toBe('steps.predictor.privileged');
    c.policy = { allowPrivileged: true };
    const t = stepTemplate(synth(envFrom(c)).manifests, 'predictor');
    expect(t.container.securityContext).toEqual({ privileged: true });
  });

  it('fails when a hostPath is DirectoryOrCreate without the opt-in', () => {
    const c = baseConfig();
    c.volumes['traits-output'].type = 'DirectoryOrCreate';
    const p = only(c);
    expect(p.path).toBe('volumes.traits-output.type');
    expect(p.message).toContain('expected Directory');
    c.policy = { allowDirectoryOrCreate: true };
    expect(() => synth(envFrom(c))).not.toThrow();
  });

  it.each([
    ['registry.gitlab.com/salk-tm/sleap-roots-predict:latest'],
    ['registry.gitlab.com/salk-tm/sleap-roots-predict'],
    ['localhost:5000/predict'],
  ])('fails when the image %s is not pinned', (image) => {
    const c = baseConfig();
    c.steps.predictor.image = image;
    const p = only(c);
    expect(p.path).toBe('steps.predictor.image');
    expect(p.message).toContain(`"${image}" is not pinned`);
  });

  it('accepts images pinned by tag or digest, and unpinned ones with the opt-in', () => {
    const c = baseConfig();
    c.steps.predictor.image = `ghcr.io/talmolab/sleap-roots-predict@sha256:${'a'.repeat(64)}`;
    c.steps['trait-extractor'].image = 'localhost:5000/traits:2.1';
    expect(() => synth(envFrom(c))).not.toThrow();
    c.steps['models-downloader'].image = 'example/md:latest';
    c.policy = { allowUnpinnedImages: true };
    expect(() => synth(envFrom(c))).not.toThrow();
  });

  it('fails when a request is above its limit', () => {
    const c = baseConfig();
    c.steps['trait-extractor'].resources = { requests: { cpu: '1500m', memory: '2Gi' }, limits: { cpu: 1, memory: '2048Mi' } };
    const p = only(c);
    expect(p.path).toBe('steps.trait-extractor.resources.requests.cpu');
    expect(p.message).toBe('request 1500m is above the limit 1; expected a request at most the limit');
  });

  it('fails when a name is longer than 63 characters', () => {
    const c = baseConfig();
    const long = `write-back-${'x'.repeat(50)}`;
    c.steps[long] = { image: 'example/wb:1.0', dependencies: ['trait-extractor'], ...RUNNABLE };
    const p = only(c);
    expect(p.path).toBe(`steps.${long}`);
    expect(p.message).toContain('at most 63');
  });

  it('fails when a dependency names a step that does not exist', () => {
    const c = baseConfig();
    c.steps['trait-extractor'].dependencies = ['predicter'];
    const p = only(c);
    expect(p.path).toBe('steps.trait-extractor.dependencies[0]');
    expect(p.message).toContain('there is no step "predicter"');
    expect(p.message).toContain('models-downloader, predictor');
  });

  it('drops a disabled built-in step from the default links (the models are staged already)', () => {
    const c = baseConfig();
    c.steps['models-downloader'] = { enabled: false };
    const tasks = pipelineTemplate(synth(envFrom(c)).manifests).spec.templates[0].dag.tasks;
    expect(tasks.map((t: { name: string }) => t.name)).toEqual(['predictor', 'trait-extractor']);
    expect(tasks[0].dependencies).toBeUndefined();
  });

  it('fails when a dependency names a disabled step', () => {
    const c = baseConfig();
    c.steps['models-downloader'] = { enabled: false };
    c.steps.predictor.dependencies = ['models-downloader'];
    const p = only(c);
    expect(p.path).toBe('steps.predictor.dependencies[0]');
    expect(p.message).toContain('"models-downloader" is disabled');
  });

  it('fails when the dependencies form a cycle', () => {
    const c = baseConfig();
    c.steps['models-downloader'].dependencies = ['trait-extractor'];
    const p = only(c);
    expect(p.message).toMatch(/dependency cycle: (\S+ -> ){3}\S+/);
  });

  it('fails when a GPU is requested where Kubernetes has none', () => {
    const c = baseConfig();
    c.gpu = { available: false };
    const p = only(c);
    expect(p.path).toBe('steps.predictor.gpu');
    expect(p.message).toContain('given fraction 0.5, expected none');
  });

  it('fails when a GPU fraction would go to the default scheduler', () => {
    const c = baseConfig();
    c.namespace = 'sleap-roots';
    c.scheduling = { scheduler: 'default-scheduler' };
    c.steps.predictor.preemptible = false;
    c.steps['trait-extractor'].preemptible = false;
    const p = only(c);
    expect(p.path).toBe('steps.predictor.gpu');
    expect(p.message).toContain('Run:AI/KAI');
  });

  it('fails when a mount names an undeclared volume', () => {
    const c = baseConfig();
    delete c.volumes['images-input'];
    const p = only(c);
    expect(p.path).toBe('steps.predictor.mounts[0].volume');
    expect(p.message).toContain('no volume "images-input"');
  });

  it('fails when an argument uses an undeclared workflow parameter', () => {
    const c = baseConfig();
    c.steps['images-downloader'] = { image: 'example/img:1.0', args: ['--scans', '{{workflow.parameters.scan-ids}}'], ...RUNNABLE };
    c.steps.predictor.dependencies = ['models-downloader', 'images-downloader'];
    const p = only(c);
    expect(p.path).toBe('steps.images-downloader.args[1]');
    expect(p.message).toContain('"scan-ids"');
    c.parameters = { 'scan-ids': { value: '', description: 'comma-separated scan ids' } };
    expect(() => synth(envFrom(c))).not.toThrow();
  });

  it('reports every problem at once', () => {
    const c = baseConfig();
    c.namespace = 'busch-lab';
    c.steps.predictor.image = 'example/p:latest';
    c.volumes['traits-output'].type = 'DirectoryOrCreate';
    expect(problemsOf(c).map((p) => p.path).sort()).toEqual(['namespace', 'steps.predictor.image', 'volumes.traits-output.type']);
  });
});

describe('schema check of the synthesized objects', () => {
  it('fails once per problem, naming the files, when an object would not match its schema', () => {
    // A label value the config schema does not see: the pipeline version (set by the program).
    try {
      synthesizeEnvironment(envFrom(baseConfig()), { version: 'not a version!' });
      expect.unreachable();
    } catch (e) {
      const messages = (e as { problems: { message: string }[] }).problems.map((p) => p.message);
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatch(/^synthesized test\/10-serviceaccount-sleap-roots-step\.yaml \(and \d+ more\) do not match their schemas: metadata\.labels\[app\.kubernetes\.io\/version\]: Invalid value: "not a version!"/);
    }
  });
});
