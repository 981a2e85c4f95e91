/**
 * The app as users run it: exit codes, messages without stack traces, deterministic bytes, and
 * an output folder that is replaced whole or not touched.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROOT, SHIPPED } from './support/envs';

let work: string;
let envs: string;
let out: string;

function app(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'app.cjs'), '--environments', envs, '--outdir', out, ...args], { cwd: work, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, prefix: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name), `${prefix}${e.name}/`);
      else out[`${prefix}${e.name}`] = fs.readFileSync(path.join(d, e.name), 'utf8');
    }
  };
  walk(dir, '');
  return out;
}

beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sleap-main-'));
  envs = path.join(work, 'environments');
  out = path.join(work, 'dist');
  fs.cpSync(path.join(ROOT, 'environments'), envs, { recursive: true });
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

describe('main', () => {
  it('synthesizes every environment, byte-identical on a second run', () => {
    const first = app();
    expect(first.code, first.stderr).toBe(0);
    const a = snapshotTree(out);
    expect(Object.keys(a).map((p) => p.split('/')[0]).filter((v, i, s) => s.indexOf(v) === i)).toEqual([...SHIPPED].sort());
    const file = path.join(out, 'runai', '60-workflowtemplate-sleap-roots-pipeline.yaml');
    const past = new Date('2020-01-01T00:00:00Z');
    fs.utimesSync(file, past, past);
    const second = app();
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('unchanged: ');
    expect(snapshotTree(out)).toEqual(a);
    expect(fs.statSync(file).mtime.toISOString()).toBe(past.toISOString()); // an unchanged tree is not rewritten
    expect(JSON.stringify(a)).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/); // no timestamps
  });

  it('replaces the output folder whole: files of a removed environment disappear', () => {
    expect(app().code).toBe(0);
    fs.writeFileSync(path.join(out, 'stray.yaml'), 'kind: Stray\n');
    fs.rmSync(path.join(envs, 'gpu.yaml'));
    expect(app().code).toBe(0);
    expect(fs.existsSync(path.join(out, 'stray.yaml'))).toBe(false);
    expect(fs.existsSync(path.join(out, 'gpu'))).toBe(false);
    expect(fs.existsSync(path.join(out, 'runai'))).toBe(true);
  });

  it('prints policy warnings with file, line and field, and still writes the output', () => {
    const text = fs.readFileSync(path.join(envs, 'gpu.yaml'), 'utf8').replace('  predictor:\n', `  predictor:\n    env: [{name: OTHER_DIGEST, value: "sha256:${'c'.repeat(64)}"}]\n`);
    fs.writeFileSync(path.join(envs, 'gpu.yaml'), text);
    const r = app();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^warning: .*gpu\.yaml:\d+: steps\.predictor\.env\[0\]\.value: OTHER_DIGEST holds the digest sha256:c+, but its image .* is not pinned by digest/m);
    expect(fs.existsSync(path.join(out, 'gpu'))).toBe(true);
  });

  it('fails on bad configuration with every problem, no stack trace, and the output untouched', () => {
    expect(app().code).toBe(0);
    const before = snapshotTree(out);
    fs.writeFileSync(path.join(envs, 'runai.yaml'), fs.readFileSync(path.join(envs, 'runai.yaml'), 'utf8').replace('namespace: runai-talmo-lab', 'namespace: busch-lab'));
    fs.writeFileSync(path.join(envs, 'local.yaml'), fs.readFileSync(path.join(envs, 'local.yaml'), 'utf8').replace('gpu: none', 'gpu: {count: 1}'));
    const r = app();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: 2 problems;');
    expect(r.stderr).toMatch(/local\.yaml:\d+: steps\.predictor\.gpu: this environment has no GPUs/);
    expect(r.stderr).toMatch(/runai\.yaml:3: namespace: .*given "busch-lab"/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(snapshotTree(out)).toEqual(before);
    expect(fs.readdirSync(work).filter((f) => f.startsWith('.dist'))).toEqual([]); // no staging left behind
  });

  it('--check passes on a fresh folder and lists what is stale', () => {
    expect(app().code).toBe(0);
    expect(app('--check').code).toBe(0);
    fs.appendFileSync(path.join(out, 'runai', '60-workflowtemplate-sleap-roots-pipeline.yaml'), '# edited\n');
    fs.rmSync(path.join(out, 'gpu', 'run'), { recursive: true });
    const r = app('--check');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('differs runai/60-workflowtemplate-sleap-roots-pipeline.yaml');
    expect(r.stderr).toContain('missing gpu/run/sleap-roots-pipeline.yaml');
  });

  it('runs under cdk8s-cli, which empties only its scratch folder', () => {
    expect(app().code).toBe(0);
    const scratch = path.join(work, '.cdk8s.out');
    const cli = path.join(ROOT, 'node_modules', 'cdk8s-cli', 'bin', 'cdk8s');
    const appCmd = `node ${path.join(ROOT, 'scripts', 'app.cjs')} --environments ${envs} --outdir ${out}`;
    const ok = spawnSync(process.execPath, [cli, 'synth', '--check-upgrade=false', '--app', appCmd, '--output', scratch], { cwd: work, encoding: 'utf8', timeout: 60_000 });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('.cdk8s.out/runai/60-workflowtemplate-sleap-roots-pipeline.yaml');
    expect(snapshotTree(scratch)).toEqual(snapshotTree(out));

    const before = snapshotTree(out);
    fs.writeFileSync(path.join(envs, 'gpu.yaml'), 'namespace: gpu\nbogus: true\n');
    const bad = spawnSync(process.execPath, [cli, 'synth', '--check-upgrade=false', '--app', appCmd, '--output', scratch], { cwd: work, encoding: 'utf8', timeout: 60_000 });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('gpu.yaml:2: bogus: unknown field');
    expect(snapshotTree(out)).toEqual(before);
  });

  it('prints one line and exits 2 on a failure that is not a configuration problem', () => {
    fs.writeFileSync(path.join(work, 'a-file'), 'x');
    out = path.join(work, 'a-file', 'dist'); // its parent is a file: mkdir fails
    const r = app();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: \S*a-file\S*: E(EXIST|NOTDIR)\b[^\n]*\n$/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('refuses a 250-character configMapName with a message, not ENAMETOOLONG', () => {
    const gpu = fs.readFileSync(path.join(envs, 'gpu.yaml'), 'utf8');
    expect(gpu).toContain('\nconcurrency:\n');
    fs.writeFileSync(path.join(envs, 'gpu.yaml'), gpu.replace('\nconcurrency:\n', `\nconcurrency:\n  configMapName: ${'c'.repeat(250)}\n`));
    const r = app();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/gpu\.yaml:\d+: concurrency\.configMapName: expected a DNS-1123 label of at most 63 characters/);
    expect(r.stderr).not.toContain('ENAMETOOLONG');
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('refuses gpu.yml beside gpu.yaml, naming it', () => {
    fs.copyFileSync(path.join(envs, 'gpu.yaml'), path.join(envs, 'gpu.yml'));
    const r = app();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/gpu\.yml: environment files must end in \.yaml: rename it to gpu\.yaml/);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('recovers from a kill between the two renames: --check reports it, the next synth restores dist/', () => {
    expect(app().code).toBe(0);
    const before = snapshotTree(out);
    // The state a kill leaves after `dist -> .dist.old-*` and before `staging -> dist`.
    fs.renameSync(out, path.join(work, '.dist.old-abc123'));
    fs.mkdirSync(path.join(work, '.dist.new-def456', 'gpu'), { recursive: true });
    fs.writeFileSync(path.join(work, '.dist.new-def456', 'gpu', 'half.yaml'), 'kind: Half\n');
    const check = app('--check');
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('extra   .dist.old-abc123 (the previous dist/ of an interrupted synth; the next synth restores it');
    expect(check.stderr).toContain('extra   .dist.new-def456 (the unfinished staging folder');
    expect(fs.readdirSync(work).filter((f) => f.startsWith('.dist')).sort()).toEqual(['.dist.new-def456', '.dist.old-abc123']); // --check writes nothing
    const r = app();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('restored');
    expect(r.stderr).toContain('unchanged: '); // the restored tree was already up to date
    expect(snapshotTree(out)).toEqual(before);
    expect(fs.readdirSync(work).filter((f) => f.startsWith('.dist'))).toEqual([]);
    expect(app('--check').code).toBe(0);
  });

  it('removes leftovers of an interrupted run when dist/ is there, and restores dist/ even when the configuration is bad', () => {
    expect(app().code).toBe(0);
    const before = snapshotTree(out);
    fs.cpSync(out, path.join(work, '.dist.old-zzz'), { recursive: true });
    expect(app('--check').stderr).toContain('extra   .dist.old-zzz (the previous dist/ of an interrupted synth; the next synth removes it)');
    expect(app().code).toBe(0);
    expect(fs.readdirSync(work).filter((f) => f.startsWith('.dist'))).toEqual([]);

    fs.renameSync(out, path.join(work, '.dist.old-yyy'));
    fs.writeFileSync(path.join(envs, 'gpu.yaml'), 'namespace: gpu\nbogus: true\n');
    expect(app().code).toBe(1);
    expect(snapshotTree(out)).toEqual(before);
  });
});
