/**
 * Inputs the schema accepts but the cluster (Kubernetes, Argo, the container runtime) would refuse
 * or break on: each fails at synth, at the field to change.
 */
import { describe, expect, it } from 'vitest';
import { baseConfig, envFrom, problemsOf, stepTemplate, synth } from './support/envs';

/** What every custom step needs besides its image. */
const RUNNABLE = { image: 'ghcr.io/example/extra:1.0.0', timeout: '1h', resources: { requests: { cpu: '100m', memory: '128Mi' } } };

function only(config: unknown) {
  const problems = problemsOf(config);
  expect(problems, JSON.stringify(problems, null, 2)).toHaveLength(1);
  return problems[0];
}

describe('prototype names are ordinary names', () => {
  it('synthesizes a step named constructor as an ordinary step', () => {
    const c = baseConfig();
    c.steps.constructor = { ...RUNNABLE, dependencies: ['trait-extractor'] };
    const { manifests } = synth(envFrom(c));
    const t = stepTemplate(manifests, 'constructor');
    expect(t.container.image).toBe(RUNNABLE.image);
  });

  it('synthesizes a volume named constructor that a step mounts', () => {
    const c = baseConfig();
    c.volumes.constructor = { hostPath: '/nfs/constructor' };
    c.steps.extra = { ...RUNNABLE, mounts: [{ volume: 'constructor', path: '/data' }] };
    expect(() => synth(envFrom(c))).not.toThrow();
  });

  it('reports a mount of an undeclared volume named constructor', () => {
    const c = baseConfig();
    c.steps.extra = { ...RUNNABLE, mounts: [{ volume: 'constructor', path: '/data' }] };
    const p = only(c);
    expect(p.path).toBe('steps.extra.mounts[0].volume');
    expect(p.message).toContain('no volume "constructor"');
  });

  it('reports an undeclared workflow parameter named toString', () => {
    const c = baseConfig();
    c.steps['models-downloader'].args = ['{{workflow.parameters.toString}}'];
    const p = only(c);
    expect(p.path).toBe('steps.models-downloader.args[0]');
    expect(p.message).toContain('"toString", which is not declared');
  });
});

describe('GPU only through gpu:', () => {
  for (const key of ['gpu-fraction', 'gpu-memory', 'gpu-fraction-container-name']) {
    it(`refuses podAnnotations ${key}`, () => {
      const c = baseConfig();
      c.steps['trait-extractor'].podAnnotations = { [key]: '0.5' };
      const p = only(c);
      expect(p.path).toBe(`steps.trait-extractor.podAnnotations.${key}`);
      expect(p.message).toContain('gpu:');
    });
  }

  for (const name of ['memory', 'cpu', 'ephemeral-storage', 'pods', 'storage', 'hugepages-2Mi', 'gpu', 'kubernetes.io/gpu']) {
    it(`refuses gpu.resourceName ${name}`, () => {
      const c = baseConfig();
      c.gpu = { resourceName: name };
      const p = only(c);
      expect(p.path).toBe('gpu.resourceName');
      expect(p.message).toContain(`given "${name}"`);
      expect(p.message).toContain('expected an extended resource such as nvidia.com/gpu');
    });
  }

  it('accepts a domain-prefixed resource name', () => {
    const c = baseConfig();
    c.gpu = { resourceName: 'amd.com/gpu' };
    expect(() => synth(envFrom(c))).not.toThrow();
  });
});

describe('reserved labels', () => {
  for (const key of ['app.kubernetes.io/part-of', 'sleap-roots.io/environment', 'app.kubernetes.io/version']) {
    it(`refuses labels.${key}`, () => {
      const c = baseConfig();
      c.labels = { [key]: 'mine' };
      const p = only(c);
      expect(p.path).toBe(`labels.${key}`);
      expect(p.message).toContain('given "mine"');
    });

    it(`refuses steps.*.podLabels.${key}`, () => {
      const c = baseConfig();
      c.steps.predictor.podLabels = { [key]: 'mine' };
      const p = only(c);
      expect(p.path).toBe(`steps.predictor.podLabels.${key}`);
    });
  }
});

describe('Kubernetes and Argo validation at synth', () => {
  it('refuses an image that is not a reference', () => {
    const c = baseConfig();
    c.steps['models-downloader'].image = 'Bad Image:1.0';
    const p = only(c);
    expect(p.path).toBe('steps.models-downloader.image');
    expect(p.message).toContain('given "Bad Image:1.0", not an image reference');
  });

  for (const image of ['ghcr.io/Org/image:1.0', 'image:-bad', 'ghcr.io//image:1.0', `registry.example.com/${'a'.repeat(256)}:1.0`]) {
    it(`refuses image ${image.slice(0, 40)}`, () => {
      const c = baseConfig();
      c.steps['models-downloader'].image = image;
      expect(only(c).path).toBe('steps.models-downloader.image');
    });
  }

  it('accepts registry ports, nested paths and digests', () => {
    const c = baseConfig();
    c.steps['models-downloader'].image = 'localhost:5000/a/b_c/d-e:1.0.0';
    c.steps.predictor.image = `ghcr.io/example/x@sha256:${'0'.repeat(64)}`;
    c.steps['trait-extractor'].image = `[::1]:5000/x:v1@sha256:${'a'.repeat(64)}`;
    expect(() => synth(envFrom(c))).not.toThrow();
  });

  it('refuses a toleration with operator Exists and a value', () => {
    const c = baseConfig();
    c.steps.predictor.tolerations = [{ key: 'dedicated', operator: 'Exists', value: 'gpu', effect: 'NoSchedule' }];
    const p = only(c);
    expect(p.path).toBe('steps.predictor.tolerations[0].value');
    expect(p.message).toContain('given "gpu" with operator Exists');
  });

  it('refuses a GPU toleration with operator Exists and a value', () => {
    const c = baseConfig();
    c.gpu = { tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', value: 'present' }] };
    expect(only(c).path).toBe('gpu.tolerations[0].value');
  });

  for (const subPath of ['../other', 'a/../../b', '/abs']) {
    it(`refuses subPath ${subPath}`, () => {
      const c = baseConfig();
      c.steps.extra = { ...RUNNABLE, mounts: [{ volume: 'images-input', path: '/in', subPath, readOnly: true }] };
      const p = only(c);
      expect(p.path).toBe('steps.extra.mounts[0].subPath');
      expect(p.message).toContain(`given "${subPath}"`);
    });
  }

  it('accepts a descending subPath', () => {
    const c = baseConfig();
    c.steps.extra = { ...RUNNABLE, mounts: [{ volume: 'images-input', path: '/in', subPath: 'scans/..2024', readOnly: true }] };
    expect(() => synth(envFrom(c))).not.toThrow();
  });

  it('refuses pod annotations over 256 KiB in total', () => {
    const c = baseConfig();
    c.steps['trait-extractor'].podAnnotations = { 'example.com/a': 'x'.repeat(200 * 1024), 'example.com/b': 'y'.repeat(60 * 1024) };
    const p = only(c);
    expect(p.path).toBe('steps.trait-extractor.podAnnotations');
    expect(p.message).toContain('at most 262144');
  });

  it('refuses a step whose rendered template is over 1 MiB, naming the step', () => {
    const c = baseConfig();
    c.steps.big = { ...RUNNABLE, args: ['x'.repeat(1100 * 1024)] };
    const p = only(c);
    expect(p.path).toBe('steps.big');
    expect(p.message).toContain("step big's WorkflowTemplate is");
    expect(p.message).toContain('1 MiB');
  });

  it('refuses a project whose Run:AI namespace would be over 63 characters', () => {
    const c = baseConfig();
    c.scheduling.project = 'p'.repeat(58);
    const p = only(c);
    expect(p.path).toBe('scheduling.project');
    expect(p.message).toContain('64 characters');
  });

  it('refuses a project over 63 characters', () => {
    const c = baseConfig();
    c.scheduling = { scheduler: 'kai-scheduler', project: 'p'.repeat(64), priorityClasses: c.scheduling.priorityClasses };
    c.namespace = 'kai-lab';
    const paths = problemsOf(c).map((p) => p.path);
    expect(paths).toContain('scheduling.project');
  });

  it('refuses a duration beyond int64 nanoseconds, and accepts the largest', () => {
    const c = baseConfig();
    c.steps.predictor.timeout = '2562048h';
    const p = only(c);
    expect(p.path).toBe('steps.predictor.timeout');
    expect(p.message).toContain('2562047h47m16.854775807s');
    c.steps.predictor.timeout = '2562047h47m16.854775807s';
    expect(() => synth(envFrom(c))).not.toThrow();
    c.steps.predictor.timeout = '2562047h47m16.854775808s';
    expect(only(c).path).toBe('steps.predictor.timeout');
  });

  it('range-checks every duration field', () => {
    const c = baseConfig();
    c.retry = { preemptible: { backoff: { duration: '9223372037', cap: '2562048h' } } };
    c.workflow = { podGC: { strategy: 'OnPodCompletion', deleteDelayDuration: '2562048h' } };
    c.fanOut = { steps: ['predictor'], source: { subdirectoriesOf: 'images-input' }, scanTimeout: '2562048h', lister: { timeout: '2562048h' } };
    c.partialSuccess = { gate: { timeout: '2562048h' } };
    const paths = problemsOf(c).map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining([
      'retry.preemptible.backoff.duration', 'retry.preemptible.backoff.cap', 'workflow.podGC.deleteDelayDuration',
      'fanOut.scanTimeout', 'fanOut.lister.timeout', 'partialSuccess.gate.timeout',
    ]));
  });

  it('refuses an input parameter the step does not declare', () => {
    const c = baseConfig();
    c.steps['models-downloader'].args = ['--x={{inputs.parameters.nope}}'];
    const p = only(c);
    expect(p.path).toBe('steps.models-downloader.args[0]');
    expect(p.message).toContain('{{inputs.parameters.nope}}');
  });

  it('refuses {{item}} in a step', () => {
    const c = baseConfig();
    c.steps['models-downloader'].env = [{ name: 'ITEM', value: '{{item}}' }];
    const p = only(c);
    expect(p.path).toBe('steps.models-downloader.env[0].value');
    expect(p.message).toContain('{{item}}');
  });

  it('accepts the chunk input in a fanned-out step, refuses {{item}} there', () => {
    const c = baseConfig();
    c.fanOut = { steps: ['predictor'], source: { subdirectoriesOf: 'images-input' } };
    c.steps.predictor.args = ['--chunk={{inputs.parameters.chunk}}'];
    expect(() => synth(envFrom(c))).not.toThrow();
    c.steps.predictor.args = ['--chunk={{item}}'];
    const p = only(c);
    expect(p.path).toBe('steps.predictor.args[0]');
    expect(p.message).toContain('{{inputs.parameters.chunk}}');
  });
});

describe('resume outputs', () => {
  it('refuses an output on a read-only mount', () => {
    const c = baseConfig();
    c.resume = { enabled: true };
    c.steps['trait-extractor'].output = '/workspace/input';
    const p = only(c);
    expect(p.path).toBe('steps.trait-extractor.output');
    expect(p.message).toContain('given "/workspace/input"');
    expect(p.message).toContain('readOnly');
  });

  it('refuses an output on a read-only claim', () => {
    const c = baseConfig();
    c.resume = { enabled: true };
    c.volumes['traits-output'] = { persistentVolumeClaim: 'traits', readOnly: true };
    const p = only(c);
    expect(p.path).toBe('steps.trait-extractor.output');
  });

  it('accepts the default outputs', () => {
    const c = baseConfig();
    c.resume = { enabled: true };
    expect(() => synth(envFrom(c))).not.toThrow();
  });
});

describe('custom steps', () => {
  it('reports a custom step without an image at steps.<name>.image', () => {
    const c = baseConfig();
    c.steps.extra = {};
    const problems = problemsOf(c);
    expect(problems).toContainEqual(expect.objectContaining({ path: 'steps.extra.image', message: 'a step needs a container image; given nothing' }));
    expect(problems.every((p) => p.path.startsWith('steps.extra.'))).toBe(true);
  });
});
