/** Loading environment files: schema errors name file, line, field, what was given and expected. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { listEnvironmentFiles, loadEnvironment, loadEnvironments, MAX_ENVIRONMENT_FILE_BYTES, parseEnvironment } from '../lib/config/load';
import { ConfigError } from '../lib/config/problems';
import { synthesizeAll } from '../lib/synth';

const GPU = fs.readFileSync(path.join(__dirname, '..', 'environments', 'gpu.yaml'), 'utf8');

function thrown(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

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

describe('YAML errors carry line and column', () => {
  it('reports a syntax error at its line and column', () => {
    const [p] = problems('namespace: argo\nsteps: {a: 1\n');
    expect(p.message).toMatch(/^invalid YAML/);
    expect(p.line).toBeGreaterThanOrEqual(2);
    expect(p.column).toBeGreaterThanOrEqual(1);
  });

  it('reports a duplicate key at the second occurrence', () => {
    const ps = problems('namespace: argo\ndescription: a\nsteps:\n  predictor: {}\n  predictor: {}\ndescription: b\n');
    expect(ps).toEqual([
      expect.objectContaining({ line: 5, column: 3, message: expect.stringContaining('duplicate key "predictor"') }),
      expect.objectContaining({ line: 6, column: 1, message: expect.stringContaining('duplicate key "description"') }),
    ]);
  });

  it('reports an unresolved alias instead of throwing', () => {
    const ps = problems('namespace: argo\ndescription: *typo\n');
    expect(ps).toEqual([{ file: 'environments/x.yaml', path: '', line: 2, column: 14, message: expect.stringContaining('unresolved alias *typo') }]);
  });

  it('reports a circular alias', () => {
    const ps = problems('namespace: argo\nlabels: &l\n  x: *l\n');
    expect(ps).toEqual([expect.objectContaining({ line: 3, column: 6, message: expect.stringContaining('circular alias *l') })]);
  });

  it('refuses an alias bomb (billion laughs) through yaml maxAliasCount, at an alias', () => {
    const layers = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      layers.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const ps = problems(`namespace: argo\n${layers.join('\n')}\n`);
    expect(ps).toHaveLength(1);
    expect(ps[0].message).toContain('alias bomb');
    expect(ps[0].line).toBeGreaterThan(2);
    expect(ps[0].column).toBeGreaterThan(1);
    // the format users see
    expect(thrown(() => parseEnvironment('environments/x.yaml', `namespace: argo\n${layers.join('\n')}\n`)).message).toMatch(/^environments\/x\.yaml:\d+:\d+: invalid YAML: aliases expand too far/);
  });

  it('still accepts ordinary anchors and aliases', () => {
    const env = parseEnvironment('environments/x.yaml', 'namespace: argo\nlabels: &l {team: roots}\nsteps:\n  predictor: {podLabels: *l}\n');
    expect(env.config.steps?.predictor.podLabels).toEqual({ team: 'roots' });
  });
});

describe('environment file names and kinds', () => {
  function dir(): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), 'envs-'));
  }

  it('refuses a .yml file, naming it and saying to rename it (also beside its .yaml)', () => {
    const d = dir();
    fs.writeFileSync(path.join(d, 'gpu.yaml'), GPU);
    fs.writeFileSync(path.join(d, 'gpu.yml'), GPU);
    fs.writeFileSync(path.join(d, 'lab.yml'), GPU);
    fs.writeFileSync(path.join(d, 'notes.txt'), 'x');
    const e = thrown(() => listEnvironmentFiles(d));
    expect(e.problems.map((p) => path.basename(p.file))).toEqual(['gpu.yml', 'lab.yml']);
    expect(e.problems[0].message).toContain('rename it to gpu.yaml (gpu.yaml exists too');
    expect(e.problems[1].message).toContain('rename it to lab.yaml');
    fs.rmSync(path.join(d, 'gpu.yml'));
    fs.rmSync(path.join(d, 'lab.yml'));
    expect(listEnvironmentFiles(d)).toEqual([path.join(d, 'gpu.yaml')]);
  });

  it('refuses environment names that are not DNS labels of at most 63 characters', () => {
    for (const name of ['a'.repeat(64), 'toString', '__proto__', 'gpu.v2', '-x']) {
      const ps = problems('namespace: argo\n', `environments/${name}.yaml`);
      expect(ps[0].message, name).toContain('expected a DNS-1123 label (at most 63');
      expect(ps[0].message).toContain(JSON.stringify(name));
    }
    expect(parseEnvironment(`environments/${'a'.repeat(63)}.yaml`, 'namespace: argo\n').name).toHaveLength(63);
  });

  it('synthesizes an environment named constructor like any other name', () => {
    const envs = ['constructor', 'hasownproperty'].map((n) => parseEnvironment(`environments/${n}.yaml`, GPU.replace('namespace: sleap-roots', `namespace: ns-${n}`)));
    const files = synthesizeAll(envs);
    const folders = [...new Set(files.map((f) => f.path.split('/')[0]))];
    expect(folders).toEqual(['constructor', 'hasownproperty']);
    const a = files.filter((f) => f.path.startsWith('constructor/')).map((f) => f.path.replace(/^constructor\//, ''));
    const b = files.filter((f) => f.path.startsWith('hasownproperty/')).map((f) => f.path.replace(/^hasownproperty\//, ''));
    expect(a).toEqual(b);
  });

  it('refuses a FIFO without blocking, and reads a symbolic link to a regular file', () => {
    const d = dir();
    const fifo = path.join(d, 'x.yaml');
    execFileSync('mkfifo', [fifo]);
    const e = thrown(() => loadEnvironment(fifo)); // would hang here if it opened the FIFO
    expect(e.problems).toEqual([{ file: fifo, path: '', message: expect.stringContaining('not a regular file (a FIFO)') }]);
    fs.mkdirSync(path.join(d, 'folder.yaml'));
    expect(thrown(() => loadEnvironment(path.join(d, 'folder.yaml'))).problems[0].message).toContain('not a regular file (a folder)');
    fs.writeFileSync(path.join(d, 'real.txt'), 'namespace: argo\n');
    fs.symlinkSync(path.join(d, 'real.txt'), path.join(d, 'linked.yaml'));
    expect(loadEnvironment(path.join(d, 'linked.yaml'))).toMatchObject({ name: 'linked', config: { namespace: 'argo' } });
  });

  it('refuses a file over 1 MiB with a clear message', () => {
    const d = dir();
    const big = path.join(d, 'big.yaml');
    fs.writeFileSync(big, `namespace: argo\ndescription: "${'x'.repeat(MAX_ENVIRONMENT_FILE_BYTES)}"\n`);
    expect(thrown(() => loadEnvironment(big)).problems).toEqual([{ file: big, path: '', message: expect.stringMatching(/too large \(\d+ bytes; the limit is 1048576 bytes, 1 MiB\)/) }]);
    expect(thrown(() => parseEnvironment('environments/big.yaml', fs.readFileSync(big, 'utf8'), { maxBytes: MAX_ENVIRONMENT_FILE_BYTES })).problems[0].message).toContain('too large');
  });
});

describe('many problems', () => {
  it('rejects 50,000 unknown keys, listing the first 50 and counting the rest', () => {
    const text = `namespace: argo\n${Array.from({ length: 50_000 }, (_, i) => `k${i}: 1\n`).join('')}`;
    const e = thrown(() => parseEnvironment('environments/x.yaml', text));
    expect(e.problems).toHaveLength(50_000);
    expect(e.problems[49_999]).toMatchObject({ path: 'k49999', line: 50_001 });
    const lines = e.message.split('\n');
    expect(lines).toHaveLength(51);
    expect(lines[0]).toBe('environments/x.yaml:2: k0: unknown field; check its spelling and level (see the environment schema in lib/config/schema.ts)');
    expect(lines[50]).toBe('... and 49950 more problems (the first 50 are shown)');
  });
});

describe('names that become object names', () => {
  it('refuses a DNS label longer than 63 characters (concurrency.configMapName and the others)', () => {
    const ps = problems(`namespace: argo\nconcurrency:\n  configMapName: ${'a'.repeat(250)}\n  semaphores: {gpu: 1}\nvolumes:\n  ${'v'.repeat(64)}: {hostPath: /x}\n`);
    expect(ps.find((p) => p.path === 'concurrency.configMapName')).toMatchObject({ line: 3, message: expect.stringContaining('expected a DNS-1123 label of at most 63 characters') });
    expect(ps.find((p) => p.path === `volumes.${'v'.repeat(64)}`)).toMatchObject({ line: 6, message: expect.stringContaining('Invalid key in record') });
    expect(ps).toHaveLength(2);
    expect(parseEnvironment('environments/x.yaml', `namespace: ${'n'.repeat(63)}\nconcurrency: {configMapName: ${'a'.repeat(63)}, semaphores: {gpu: 1}}\n`).config.namespace).toHaveLength(63);
  });
});

describe('environments sharing a namespace', () => {
  it('refuses two environments that emit the same object, naming both files, the namespace and the object', () => {
    const a = parseEnvironment('environments/gpu.yaml', GPU);
    const b = parseEnvironment('environments/gpu-copy.yaml', `# a copy\n${GPU}`);
    const e = thrown(() => synthesizeAll([a, b]));
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0]).toMatchObject({ file: 'environments/gpu-copy.yaml', path: 'namespace', line: 4 });
    expect(e.problems[0].message).toMatch(/^environments\/gpu\.yaml and environments\/gpu-copy\.yaml both emit .*ConfigMap\/sleap-roots-semaphores.* in namespace sleap-roots/);
    expect(synthesizeAll([a, parseEnvironment('environments/other.yaml', GPU.replace('namespace: sleap-roots', 'namespace: other'))]).length).toBeGreaterThan(0);
  });
});
