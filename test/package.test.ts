/**
 * The package as a user gets it: `npm pack`, the tarball unpacked into an empty folder's
 * node_modules, and the app in examples/lab-app (its own cdk8s.yaml, main.ts and environment file)
 * type-checked and synthesized from there by the package's public name, with cdk8s-cli. The
 * README's "Use as a library" samples are compiled and run the same way.
 *
 * No network: the package's dependencies are linked from this repository's node_modules (what
 * `npm install` would put there), the tarball itself is unpacked as npm would.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { validateManifest } from '../lib/validation/manifests';
import { dependencies } from '../package.json';
import { ROOT } from './support/envs';

const EXAMPLE = path.join(ROOT, 'examples', 'lab-app');
/** What the app needs besides the package: its own runtime and tools. */
const APP_TOOLS = ['typescript', '@types/node', 'tsx', 'cdk8s-cli'];

let tmp: string;
let app: string;
let tarball: string;

function run(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, CDK8S_CHECK_UPGRADE: 'false' }, timeout: 180_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

function link(dir: string, dep: string): void {
  const target = path.join(dir, 'node_modules', dep);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules', dep), target, 'dir');
}

/** The readme's library samples: the ```ts blocks of its "Use as a library" section. */
export function librarySamples(readme: string): string[] {
  const section = readme.split(/^## /m).find((s) => s.startsWith('Use as a library'));
  if (!section) throw new Error('README has no "## Use as a library" section');
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sleap-roots-pack-'));
  run('npm', ['pack', '--silent', '--pack-destination', tmp], ROOT);
  const packed = fs.readdirSync(tmp).find((f) => f.endsWith('.tgz'));
  if (!packed) throw new Error(`npm pack wrote no tarball in ${tmp}`);
  tarball = path.join(tmp, packed);
  app = path.join(tmp, 'app');
  fs.cpSync(EXAMPLE, app, { recursive: true });
  const installed = path.join(app, 'node_modules', 'sleap-roots-pipeline');
  fs.mkdirSync(installed, { recursive: true });
  run('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1'], tmp);
  for (const dep of [...Object.keys(dependencies), ...APP_TOOLS]) link(app, dep);
  fs.mkdirSync(path.join(app, 'node_modules', '.bin'));
  for (const bin of ['tsx', 'cdk8s']) fs.symlinkSync(path.join(ROOT, 'node_modules', '.bin', bin), path.join(app, 'node_modules', '.bin', bin));
  librarySamples(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')).forEach((code, i) => fs.writeFileSync(path.join(app, `readme-${i + 1}.ts`), code));
}, 240_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the packed package, installed into an empty folder', () => {
  it('ships the compiled library, its declarations, the pod scripts and the schemas, and no sources or tests', () => {
    const files = run('tar', ['-tzf', tarball], ROOT).stdout.split('\n');
    expect(files).toContain('package/build/package/lib/index.js');
    expect(files).toContain('package/build/package/lib/index.d.ts');
    expect(files).toContain('package/lib/steps/scripts/step.sh');
    expect(files).toContain('package/imports/schemas/argoproj.io_workflowtemplates.json');
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => f.includes('/test/'))).toEqual([]);
  });

  it('type-checks the example app and the README samples against the published declarations', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('synthesizes the example app with cdk8s synth: the custom step before the predictor, both pipelines valid', () => {
    run(path.join(app, 'node_modules', '.bin', 'cdk8s'), ['synth'], app);
    const production = parseAllDocuments(fs.readFileSync(path.join(app, 'dist', 'production.k8s.yaml'), 'utf8')).map((d) => d.toJS());
    const staging = parseAllDocuments(fs.readFileSync(path.join(app, 'dist', 'staging.k8s.yaml'), 'utf8')).map((d) => d.toJS());
    for (const obj of [...production, ...staging]) expect(validateManifest(obj), `${obj.kind} ${obj.metadata.name}`).toEqual([]);

    const dag = production.find((o) => o.metadata.name === 'sleap-roots-pipeline').spec.templates[0].dag.tasks;
    const predictor = dag.find((t: { name: string }) => t.name === 'predictor');
    expect(predictor.dependencies).toEqual(['models-downloader', 'images-downloader']);
    const images = production.find((o) => o.metadata.name === 'sleap-roots-images-downloader');
    expect(images.metadata.namespace).toBe('runai-greenhouse');
    expect(images.spec.templates[0].retryStrategy.limit).toBe(5);
    expect(images.spec.templates[0].priorityClassName).toBe('train');
    const predict = production.find((o) => o.metadata.name === 'sleap-roots-predictor').spec.templates[0];
    expect(predict.metadata.annotations['gpu-fraction']).toBe('0.5');

    expect(staging.every((o) => o.metadata.namespace === 'plants-staging')).toBe(true);
    const stagingPredict = staging.find((o) => o.metadata.name === 'sleap-roots-predictor').spec.templates[0];
    expect(stagingPredict.container.resources.limits['nvidia.com/gpu']).toBe('1');
  });

  it('runs every README library sample', () => {
    const samples = fs.readdirSync(app).filter((f) => /^readme-\d+\.ts$/.test(f));
    expect(samples.length).toBeGreaterThan(0);
    for (const s of samples) run(path.join(app, 'node_modules', '.bin', 'tsx'), [s], app);
  });
});
