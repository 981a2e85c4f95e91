/** Loading environment files: schema errors name file, line, field, what was given and expected. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEnvironments, parseEnvironment } from '../lib/config/load';
import { ConfigError } from '../lib/config/problems';

function problems(text: string, file = 'environments/x.yaml') {
  try {
    parseEnvironment(file, text);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('environment files', () => {
  it('fails when a field is misspelled, naming file, line and field', () => {
    const [p] = problems('namespace: argo\nsteps:\n  predictor:\n    gpus: {count: 1}\n');
    expect(p).toMatchObject({ file: 'environments/x.yaml', line: 4, path: 'steps.predictor.gpus' });
    expect(p.message).toContain('unknown field');
  });

  it('fails when a GPU fraction is out of range, saying what was given and expected', () => {
    const [p] = problems('namespace: argo\nsteps:\n  predictor:\n    gpu: {fraction: 1.5}\n');
    expect(p.path).toBe('steps.predictor.gpu.fraction');
    expect(p.line).toBe(4);
    expect(p.message).toBe('Too big: expected number to be <1; given 1.5');
  });

  it('fails when a GPU request combines a fraction with whole GPUs', () => {
    const [p] = problems('namespace: argo\nsteps:\n  predictor:\n    gpu: {fraction: 0.5, count: 1}\n');
    expect(p.path).toBe('steps.predictor.gpu');
    expect(p.message).toContain('{count: <whole GPUs>}, {fraction: <0..1 exclusive>} or {memoryMB: <MB>}');
    expect(p.message).toContain('given {"fraction":0.5,"count":1}');
  });

  it('fails when the namespace is missing or not a DNS label', () => {
    expect(problems('steps: {}\n')[0]).toMatchObject({ path: 'namespace', message: expect.stringContaining('required') });
    const [p] = problems('namespace: Runai_Talmo\n');
    expect(p.message).toContain('DNS-1123');
    expect(p.message).toContain('given "Runai_Talmo"');
  });

  it('fails when a quantity or a duration is malformed', () => {
    const ps = problems('namespace: argo\nsteps:\n  predictor:\n    timeout: 12 hours\n    resources: {limits: {memory: 8 GB}}\n');
    expect(ps.map((p) => p.path).sort()).toEqual(['steps.predictor.resources.limits.memory', 'steps.predictor.timeout']);
  });

  it('fails when a secret would be inlined instead of referenced', () => {
    const [p] = problems('namespace: argo\nsteps:\n  predictor:\n    env: [{name: API_KEY, secretKeyRef: {name: api}}]\n');
    expect(p.path).toBe('steps.predictor.env[0]');
  });

  it('fails on invalid YAML with its line', () => {
    const [p] = problems('namespace: argo\nsteps: [\n');
    expect(p.message).toMatch(/^invalid YAML/);
  });

  it('fails when the file name is not a valid environment name', () => {
    const [p] = problems('namespace: argo\n', 'environments/Run_AI.yaml');
    expect(p.message).toContain('"Run_AI"');
  });

  it('collects the problems of every file before failing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envs-'));
    fs.writeFileSync(path.join(dir, 'a.yaml'), 'namespace: A\n');
    fs.writeFileSync(path.join(dir, 'b.yaml'), 'namespace: b\nbogus: 1\n');
    try {
      loadEnvironments([path.join(dir, 'a.yaml'), path.join(dir, 'b.yaml')]);
      expect.unreachable();
    } catch (e) {
      const files = (e as ConfigError).problems.map((p) => path.basename(p.file));
      expect(files).toEqual(['a.yaml', 'b.yaml']);
      expect((e as ConfigError).message).toMatch(/b\.yaml:2: bogus: unknown field/);
    }
  });

  it('takes the environment name from the file name', () => {
    expect(parseEnvironment('environments/my-lab.yaml', 'namespace: argo\n').name).toBe('my-lab');
  });
});

describe('labels and annotations', () => {
  it('fails when a label key or value is not valid Kubernetes syntax, at the field', () => {
    const ps = problems('namespace: argo\nlabels:\n  "bad key!": x\n  team: "way too long"\nsteps:\n  predictor:\n    podAnnotations: {"example.com/ok": "any text", "/x": y}\n');
    expect(ps.map((p) => p.path).sort()).toEqual(['labels.bad key!', 'labels.team', 'steps.predictor.podAnnotations./x']);
    expect(ps.find((p) => p.path === 'labels.team')!.message).toContain('given "way too long"');
  });
});
