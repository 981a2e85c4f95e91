/**
 * `import`: hand-written Argo YAML in the seed's layout -> environment file -> synthesized
 * manifests equivalent in what matters (images, args, command, mounts onto the same hostPaths,
 * resources, GPU on the pod, retries covering Error, DAG edges, namespace), with every pitfall
 * explained, what cannot be expressed listed, and broken input refused with file:line.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadEnvironment } from '../lib/config/load';
import { importSeed, type ImportResult, type SourceFile } from '../lib/import/import';
import { ImportError } from '../lib/import/findings';
import { KUSTOMIZATION_FILE } from '../lib/names';
import { synthesizeAll, writeTreeAtomically } from '../lib/synth';
import { cli } from './cli/support/harness';

const SEED = path.join(__dirname, 'fixtures', 'seed');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sleap-roots-import-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The fixture files of a variant, named relative to the repository (as a user would give them). */
function fixture(variant: string): SourceFile[] {
  const dir = path.join(SEED, variant);
  return fs.readdirSync(dir).sort().map((f) => ({ file: `test/fixtures/seed/${variant}/${f}`, text: fs.readFileSync(path.join(dir, f), 'utf8') }));
}

/** Every object of the fixture, parsed independently of the importer. */
function seedObjects(files: readonly SourceFile[]): any[] {
  return files.flatMap((f) => parseAllDocuments(f.text).map((d) => d.toJS()).filter(Boolean));
}

/** Writes the imported text as environments/<name>.yaml in a temp folder, loads it from there, synthesizes it into <tmp>/dist and reads the objects back. */
function roundTrip(name: string, text: string): any[] {
  const root = fs.mkdtempSync(path.join(tmp, `${name}-`));
  fs.mkdirSync(path.join(root, 'environments'));
  const file = path.join(root, 'environments', `${name}.yaml`);
  fs.writeFileSync(file, text);
  const dist = path.join(root, 'dist');
  writeTreeAtomically(dist, synthesizeAll([loadEnvironment(file)]));
  const dir = path.join(dist, name);
  return fs.readdirSync(dir).filter((f) => f !== KUSTOMIZATION_FILE && f.endsWith('.yaml')).sort().map((f) => parse(fs.readFileSync(path.join(dir, f), 'utf8')));
}

/** The synthesized step template (spec.templates[0]) of a step. */
function stepOf(objects: readonly any[], step: string): any {
  const t = objects.find((o) => o.kind === 'WorkflowTemplate' && o.metadata.name !== 'sleap-roots-pipeline' && o.spec.templates[0].name === step);
  if (!t) throw new Error(`no synthesized template for ${step}`);
  return t.spec.templates[0];
}

function pipelineOf(objects: readonly any[]): any {
  return objects.find((o) => o.kind === 'WorkflowTemplate' && o.metadata.name === 'sleap-roots-pipeline');
}

/** The seed's step templates by DAG task name, with the seed's volumes. */
function seedSteps(files: readonly SourceFile[]): { tasks: any[]; steps: Map<string, any>; volumes: Map<string, any> } {
  const objs = seedObjects(files);
  const wf = objs.find((o) => o.kind === 'Workflow');
  const tasks = wf.spec.templates.find((t: any) => t.dag).dag.tasks;
  const steps = new Map<string, any>();
  for (const task of tasks) {
    const wt = objs.find((o) => o.kind === 'WorkflowTemplate' && o.metadata.name === task.templateRef.name);
    steps.set(task.name, { object: wt, template: wt.spec.templates.find((t: any) => t.name === task.templateRef.template) });
  }
  const volumes = new Map<string, any>(wf.spec.volumes.map((v: any) => [v.name, v]));
  return { tasks, steps, volumes };
}

/** Quantities compared as Kubernetes would: "4" and 4 are the same. */
const q = (v: unknown) => String(v);

/** Asserts the synthesized step runs the seed's container: image, command, args, mounts onto the same host folders. */
function expectSameContainer(objects: readonly any[], seed: ReturnType<typeof seedSteps>, step: string): void {
  const want = seed.steps.get(step).template.container;
  const got = stepOf(objects, step).container;
  expect(got.image, step).toBe(want.image);
  expect(got.args, step).toEqual(want.args);
  if (want.command) expect(got.command, step).toEqual(want.command);
  else expect(got.command, step).toBeUndefined();
  const volumes = new Map<string, any>(pipelineOf(objects).spec.volumes.map((v: any) => [v.name, v]));
  for (const m of want.volumeMounts) {
    const mount = got.volumeMounts.find((x: any) => x.mountPath === m.mountPath);
    expect(mount, `${step} ${m.mountPath}`).toBeDefined();
    const vol = volumes.get(mount.name);
    expect(vol.hostPath.path, `${step} ${m.mountPath}`).toBe(seed.volumes.get(m.name).hostPath.path);
    expect(vol.hostPath.type, `${step} ${m.mountPath}`).toBe('Directory');
  }
}

/** The DAG edges among the given steps, as [task, sorted dependencies]. */
function edges(objects: readonly any[], steps: readonly string[]): [string, string[]][] {
  const tasks = pipelineOf(objects).spec.templates.flatMap((t: any) => t.dag?.tasks ?? []);
  return steps.map((s) => [s, (tasks.find((t: any) => t.name === s).dependencies ?? []).filter((d: string) => steps.includes(d)).sort()]);
}

function messages(r: ImportResult): string {
  return r.corrections.map((c) => `${c.field}: ${c.message}`).join('\n');
}

describe('import of the Run:AI seed', () => {
  const files = fixture('runai');
  const seed = seedSteps(files);
  const result = importSeed(files);
  const objects = roundTrip('runai-imported', result.text);
  const STEPS = ['models-downloader', 'predictor', 'trait-extractor'];

  it('synthesizes the same containers onto the same host folders', () => {
    for (const s of STEPS) expectSameContainer(objects, seed, s);
  });

  it('keeps the DAG edges', () => {
    expect(edges(objects, STEPS)).toEqual(seed.tasks.map((t: any) => [t.name, [...(t.dependencies ?? [])].sort()]));
  });

  it('keeps the limits, states the requests Kubernetes took from them, and drops nvidia.com/gpu beside the fraction', () => {
    for (const s of STEPS) {
      const want = seed.steps.get(s).template.container.resources.limits;
      const got = stepOf(objects, s).container.resources;
      for (const key of ['cpu', 'memory']) {
        expect(q(got.limits[key]), `${s} limits.${key}`).toBe(q(want[key]));
        expect(q(got.requests[key]), `${s} requests.${key}`).toBe(q(want[key]));
      }
      expect(got.limits, s).not.toHaveProperty(['nvidia.com/gpu']);
      expect(got.requests, s).not.toHaveProperty(['nvidia.com/gpu']);
    }
  });

  it('puts the GPU fraction on the predictor pod, and no GPU annotation on any object', () => {
    const p = stepOf(objects, 'predictor');
    expect(p.metadata.annotations['gpu-fraction']).toBe('0.5');
    expect(p.metadata.annotations['gpu-fraction-container-name']).toBe('main');
    expect(p.schedulerName).toBe('runai-scheduler');
    for (const o of objects) expect(Object.keys(o.metadata.annotations ?? {}).filter((k) => k.startsWith('gpu-')), o.metadata.name).toEqual([]);
    for (const s of ['models-downloader', 'trait-extractor']) expect(stepOf(objects, s).metadata?.annotations?.['gpu-fraction']).toBeUndefined();
  });

  it('retries Error attempts now, with the seed\'s limits, and makes the annotated steps preemptible by class', () => {
    for (const s of STEPS) {
      const r = stepOf(objects, s).retryStrategy;
      expect(r.retryPolicy, s).toBe('Always');
      expect(r.expression, s).toContain('Error');
      expect(Number(r.limit), s).toBe(Number(seed.steps.get(s).template.retryStrategy.limit));
    }
    expect(stepOf(objects, 'predictor').priorityClassName).toBe('interactive-preemptible');
    expect(stepOf(objects, 'trait-extractor').priorityClassName).toBe('interactive-preemptible');
    expect(stepOf(objects, 'models-downloader').priorityClassName).toBe('high');
    expect(stepOf(objects, 'predictor').retryStrategy.backoff).toMatchObject({ duration: '1m', factor: 2 });
  });

  it('runs unprivileged, in one namespace with one project name', () => {
    for (const s of STEPS) expect(stepOf(objects, s).container.securityContext.privileged).toBe(false);
    for (const o of objects) expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe('runai-talmo-lab');
    for (const s of STEPS) expect(stepOf(objects, s).metadata.labels.project, s).toBe('talmo-lab');
    expect(JSON.stringify(parse(result.text))).not.toMatch(/busch-lab|tye-lab/); // named only in the explanations
    // the seed runs as an account its files do not create: used as it is, never created over it
    expect(parse(result.text).identity).toEqual({ serviceAccountName: 'argo-workflow', create: false });
    expect(objects.some((o) => o.kind === 'ServiceAccount' || o.kind === 'Role' || o.kind === 'RoleBinding')).toBe(false);
    for (const s of STEPS) expect(stepOf(objects, s).executor?.serviceAccountName, s).toBe('argo-workflow');
    expect(pipelineOf(objects).spec.serviceAccountName).toBe('argo-workflow');
  });

  it('explains every pitfall it corrected, at the seed\'s file, line and field', () => {
    const m = messages(result);
    const at = (field: string, file: string) => result.corrections.find((c) => c.field === field && c.file.endsWith(file));
    const fraction = at('metadata.annotations.gpu-fraction', 'predictor-template.yaml');
    expect(fraction?.line).toBe(10);
    expect(fraction?.message).toMatch(/never copies to a pod.*addMetadata/);
    expect(at('spec.templates[0].container.resources.limits.nvidia.com/gpu', 'predictor-template.yaml')?.message).toMatch(/whole GPU.*dropped, the fraction kept/);
    expect(at('metadata.annotations.preemptible', 'predictor-template.yaml')?.message).toMatch(/priorityClassName/);
    expect(at('spec.templates[0].retryStrategy.retryPolicy', 'predictor-template.yaml')?.message).toMatch(/OnFailure retries Failed attempts only, not Error/);
    expect(at('spec.templates[0].container.securityContext.privileged', 'predictor-template.yaml')?.message).toMatch(/admission/);
    expect(at('spec.volumes[0].hostPath.type', 'sleap-roots-workflow.yaml')?.message).toMatch(/DirectoryOrCreate.*local disk.*Directory/);
    expect(at('spec.templates[0].container.image', 'predictor-template.yaml')?.message).toMatch(/not pinned.*Always.*allowUnpinnedImages/);
    expect(at('metadata.labels.project', 'sleap-roots-workflow.yaml')?.message).toMatch(/tye-lab.*scheduling\.project: talmo-lab/);
    expect(at('metadata.labels.project', 'predictor-template.yaml')?.message).toMatch(/busch-lab/);
    expect(m).toMatch(/first container/);
    // ... and in the written file, as comments beside the fields
    expect(result.text).toMatch(/# corrected: gpu-fraction moved onto the pod \(it never reached one\) \(test\/fixtures\/seed\/runai\/predictor-template\.yaml:10\)\n(\s+# [^\n]*\n)*\s+gpu: \{ fraction: 0\.5 \}/);
    expect(at('spec.serviceAccountName', 'sleap-roots-workflow.yaml')?.message).toMatch(/does not create it; identity: \{serviceAccountName: argo-workflow, create: false\}/);
    // nothing left out: every field of the seed has a place
    expect(result.unexpressed).toEqual([]);
  });

  it('is deterministic', () => {
    expect(importSeed(fixture('runai')).text).toBe(result.text);
  });
});

describe('import of the local WSL2 seed', () => {
  const files = fixture('local');
  const seed = seedSteps(files);
  const result = importSeed(files);
  const objects = roundTrip('local-imported', result.text);
  const STEPS = ['models-downloader', 'predictor', 'trait-extractor'];

  it('synthesizes the same containers onto the same WSL folders, in namespace argo', () => {
    for (const s of STEPS) expectSameContainer(objects, seed, s);
    for (const o of objects) expect(o.metadata.namespace).toBe('argo');
    expect(pipelineOf(objects).spec.volumes.map((v: any) => v.hostPath.path)).toEqual(expect.arrayContaining([expect.stringMatching(/^\/run\/desktop\/mnt\/host\/wsl\/alice\/sleap-roots\//)]));
  });

  it('drops the GPU request, saying why, and keeps the memory limit', () => {
    const p = stepOf(objects, 'predictor');
    expect(p.container.resources.limits).toEqual({ memory: '8Gi' });
    expect(p.metadata?.annotations ?? {}).not.toHaveProperty(['gpu-fraction']);
    expect(p.tolerations ?? []).toEqual([]);
    expect(parse(result.text).gpu).toEqual({ available: false });
    const drop = result.corrections.find((c) => c.field.endsWith('limits.nvidia.com/gpu'));
    expect(drop?.line).toBe(34);
    expect(drop?.message).toMatch(/Docker Desktop.*WSL2 sees no GPU.*Pending forever.*gpu: none/);
  });

  it('reads depends as DAG edges', () => {
    expect(edges(objects, STEPS)).toEqual([['models-downloader', []], ['predictor', ['models-downloader']], ['trait-extractor', ['predictor']]]);
  });

  it('gives steps that had no retryStrategy retries covering Error', () => {
    for (const s of STEPS) expect(stepOf(objects, s).retryStrategy.expression, s).toContain('Error');
    expect(messages(result)).toMatch(/no retryStrategy: a deleted, preempted or evicted pod/);
  });
});

describe('import of a seed with fields the environment file cannot express', () => {
  const files = fixture('unknown');
  const result = importSeed(files);

  it('lists each of them with file, line and field, and still writes a file that synthesizes', () => {
    const listed = result.unexpressed.map((f) => `${f.line}: ${f.field}`);
    expect(listed).toEqual(expect.arrayContaining([
      '3: kind',
      '46: spec.hostNetwork',
      '51: spec.volumes[3]',
      '57: spec.templates[0].dag.tasks[0].when',
      '21: spec.templates[0].podSpecPatch',
      '25: spec.templates[0].container.ports',
      '28: spec.templates[0].container.volumeMounts[0].mountPropagation',
      '16: metadata.annotations.workflows.argoproj.io/description',
      '36: spec.templates[0].retryStrategy.expression',
    ]));
    expect(result.unexpressed).toHaveLength(9);
    expect(result.text).toMatch(/^# Not expressed, left out \(9\):$/m);
    expect(result.text).toMatch(/pipeline\.yaml:46: spec\.hostNetwork: this workflow field has no\s+#\s+counterpart/);
    const objects = roundTrip('unknown-imported', result.text);
    expect(stepOf(objects, 'predictor').metadata.annotations['gpu-memory']).toBe('8192');
    // models-downloader and trait-extractor are not in the seed's DAG: disabled, not built in
    expect(objects.filter((o) => o.kind === 'WorkflowTemplate' && o.metadata.name !== 'sleap-roots-pipeline').map((o) => o.spec.templates[0].name)).toEqual(['predictor']);
  });
});

describe('import of labels that have no place', () => {
  it('lists a project label without a Run:AI scheduler and a label of one template object only', () => {
    const local = fixture('local')[0];
    const text = local.text.replace('  name: predictor-template\n  namespace: argo\n', '  name: predictor-template\n  namespace: argo\n  labels: {project: busch-lab, team: roots}\n');
    const result = importSeed([{ file: local.file, text }]);
    const line = text.split('\n').findIndex((l) => l.includes('team: roots')) + 1;
    expect(result.unexpressed.map((f) => [f.line, f.field, f.message.split(' (')[0].split(';')[0]])).toEqual([
      [line, 'metadata.labels.team', 'a label of this WorkflowTemplate object only'],
      [line, 'metadata.labels.project', 'a project label without a Run:AI or KAI schedulerName does nothing'],
    ]);
    expect(parse(result.text).labels).toBeUndefined();
    expect(parse(result.text).scheduling).toBeUndefined();
  });
});

describe('import refuses broken input', () => {
  const problemsOf = (files: SourceFile[]) => {
    try {
      importSeed(files);
    } catch (e) {
      if (e instanceof ImportError) return e.problems.map((p) => `${p.file}:${p.line ?? ''}: ${p.field}: ${p.message}`);
      throw e;
    }
    throw new Error('expected the import to fail');
  };
  const runai = () => fixture('runai');

  it('fails without a DAG, naming the files', () => {
    const [p] = problemsOf(runai().filter((f) => !f.file.endsWith('workflow.yaml')));
    expect(p).toMatch(/predictor-template\.yaml.*no DAG: expected a Workflow/);
  });

  it('fails on a templateRef to no WorkflowTemplate, at its line in a multi-document file', () => {
    const local = fixture('local')[0];
    const text = local.text.replace('{name: predictor-template, template: predictor}', '{name: predictr-template, template: predictor}');
    const line = text.split('\n').findIndex((l) => l.includes('predictr-template')) + 1;
    expect(line).toBeGreaterThan(60);
    const problems = problemsOf([{ file: local.file, text }]);
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^test/fixtures/seed/local/sleap-roots-local\\.yaml:${line}: spec\\.templates\\[0\\]\\.dag\\.tasks\\[1\\]\\.templateRef\\.name: no WorkflowTemplate "predictr-template" in the input; expected one of: models-downloader-template, predictor-template, trait-extractor-template$`))]);
  });

  it('fails on broken YAML with file and line', () => {
    const problems = problemsOf([{ file: 'seed/bad.yaml', text: 'kind: WorkflowTemplate\nmetadata:\n  name: [unclosed\n' }]);
    expect(problems[0]).toMatch(/^seed\/bad\.yaml:\d+: : invalid YAML/);
  });

  it('fails on a mount of an undeclared volume and on a depends it cannot read, every problem at once', () => {
    const files = runai().map((f) => ({
      ...f,
      text: f.text.replace('name: traits-output\n            mountPath', 'name: trait-output\n            mountPath').replace('dependencies: [predictor]', 'depends: "predictor.Failed || models-downloader"'),
    }));
    const problems = problemsOf(files);
    expect(problems).toHaveLength(2);
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/trait-extractor-template\.yaml:21: spec\.templates\[0\]\.container\.volumeMounts\[1\]\.name: mounts volume "trait-output", which no spec\.volumes/),
      expect.stringMatching(/sleap-roots-workflow\.yaml:\d+: spec\.templates\[0\]\.dag\.tasks\[2\]\.depends: expected task names joined by &&/),
    ]));
  });
});

describe('sleap-roots import', () => {
  const args = () => fixture('runai').map((f) => path.join(SEED, 'runai', path.basename(f.file)));

  it('prints the environment file on stdout and the corrections on stderr', async () => {
    const r = await cli(['import', ...args()], { cwd: tmp });
    expect(r.code).toBe(0);
    expect(parse(r.stdout).namespace).toBe('runai-talmo-lab');
    expect(r.stderr).toMatch(/^corrected: .*predictor-template\.yaml:10: metadata\.annotations\.gpu-fraction: /m);
    expect(r.stderr).toMatch(/^corrected: .*sleap-roots-workflow\.yaml:12: spec\.serviceAccountName: /m);
    expect(r.stderr).not.toMatch(/^warning: not expressed/m);
    expect(r.stderr).toMatch(/imported: \d+ corrections, 0 things not expressed/);
    // a folder reads its YAML files, as kubectl apply -f DIR does: the same result
    const dir = await cli(['import', path.join(SEED, 'runai')], { cwd: tmp });
    expect(dir.code).toBe(0);
    expect(dir.stdout.replace(/^#.*\n/gm, '')).toBe(r.stdout.replace(/^#.*\n/gm, '').replace(/description: .*/, dir.stdout.match(/description: .*/)![0]));
  });

  it('writes -o atomically, refuses to overwrite it without --force, and takes --namespace', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'cli-'));
    const first = await cli(['import', ...args(), '-o', 'environments-lab.yaml'], { cwd: dir });
    expect(first.code).toBe(0);
    expect(first.stdout).toBe('');
    const written = fs.readFileSync(path.join(dir, 'environments-lab.yaml'), 'utf8');
    expect(written).toBe(importSeed(fixture('runai').map((f) => ({ ...f, file: path.join(SEED, 'runai', path.basename(f.file)) })), { target: 'environments-lab.yaml' }).text);
    const again = await cli(['import', ...args(), '-o', 'environments-lab.yaml', '-n', 'runai-other'], { cwd: dir });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/environments-lab\.yaml exists; not overwritten/);
    expect(fs.readFileSync(path.join(dir, 'environments-lab.yaml'), 'utf8')).toBe(written);
    const forced = await cli(['import', ...args(), '-o', 'environments-lab.yaml', '--namespace', 'runai-other', '--force'], { cwd: dir });
    expect(forced.code).toBe(0);
    const config = parse(fs.readFileSync(path.join(dir, 'environments-lab.yaml'), 'utf8'));
    expect([config.namespace, config.scheduling.project]).toEqual(['runai-other', 'other']);
    expect(fs.readdirSync(dir).sort()).toEqual(['environments-lab.yaml']);
  });

  it('refuses an output beside an environment in the same namespace, which the synth would refuse', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'cli-'));
    fs.mkdirSync(path.join(dir, 'environments'));
    fs.copyFileSync(path.join(__dirname, '..', 'environments', 'runai.yaml'), path.join(dir, 'environments', 'runai.yaml'));
    const r = await cli(['import', ...args(), '-o', 'environments/seed.yaml'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: environments\/seed\.yaml: namespace: environments\/runai\.yaml deploys to namespace runai-talmo-lab too/m);
    expect(fs.readdirSync(path.join(dir, 'environments'))).toEqual(['runai.yaml']);
    const other = await cli(['import', ...args(), '-o', 'environments/seed.yaml', '-n', 'runai-seed-lab'], { cwd: dir });
    expect(other.code, other.stderr).toBe(0);
    const replace = await cli(['import', ...args(), '-o', 'environments/runai.yaml', '--force'], { cwd: dir });
    // replacing the environment of that namespace is no clash: the file it replaces is not a sibling
    expect(replace.code, replace.stderr).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'environments', 'runai.yaml'), 'utf8')).toMatch(/^# Written by `sleap-roots import`/);
  });

  it('exits 1 on broken input, naming file and line, and writes nothing', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'cli-'));
    fs.writeFileSync(path.join(dir, 'steps.yaml'), fixture('runai')[1].text);
    const r = await cli(['import', 'steps.yaml', '-o', 'out.yaml'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: steps\.yaml: no DAG/m);
    expect(r.stderr).toMatch(/nothing was written/);
    expect(fs.existsSync(path.join(dir, 'out.yaml'))).toBe(false);
  });

  it('drops every GPU request with --no-gpu', async () => {
    const r = await cli(['import', ...args(), '--no-gpu'], { cwd: tmp });
    expect(r.code).toBe(0);
    const config = parse(r.stdout);
    expect(config.gpu).toEqual({ available: false });
    expect(config.steps.predictor.gpu).toBe('none');
    expect(r.stderr).toMatch(/the cluster has no GPU \(--no-gpu\)/);
  });
});
