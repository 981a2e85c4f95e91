import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV, NS, startCluster, type TestCluster } from './support/harness';

const run = promisify(execFile);
const BIN = path.join(__dirname, '../../bin/sleap-roots.cjs');

/** Runs the real bin as a child process (what `npx sleap-roots` runs). */
async function bin(args: string[], c: TestCluster, env: Record<string, string> = {}) {
  try {
    const r = await run(process.execPath, [BIN, ...args], {
      cwd: c.dir,
      timeout: 30_000,
      env: { PATH: process.env.PATH ?? '', HOME: c.dir, KUBECONFIG: c.kubeconfig, ...env },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: x.code ?? -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

describe('the sleap-roots bin', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ token: 'bin-test-token-0001' });
  });
  afterAll(async () => {
    await c.close();
  });

  it('deploys and submits against the stand-in as a child process (KUBECONFIG from the environment)', async () => {
    const deployed = await bin(['deploy', '--env', ENV, '--dist', c.dist], c);
    expect(deployed.stderr).toBe('');
    expect(deployed.code).toBe(0);
    expect(deployed.stdout).toMatch(/^created\s+WorkflowTemplate\/sleap-roots-pipeline$/m);

    const submitted = await bin(['submit', '--env', ENV, '--dist', c.dist, '-o', 'name'], c);
    expect(submitted.code).toBe(0);
    const name = submitted.stdout.trim();
    expect(name).toMatch(/^sleap-roots-pipeline-[a-z0-9]{5}$/);
    const wf = c.server.get({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', namespace: NS, name });
    expect(wf?.metadata.labels?.['sleap-roots.io/submitted-by']).toBe('test-user');
    expect(c.server.requests.some((q) => q.userAgent === 'sleap-roots/0.1.0')).toBe(true);
  });

  it('uses the token flow from SLEAP_ROOTS_TOKEN and exits non-zero with the API error, no stack trace', async () => {
    const ok = await bin(['list', '-n', NS, '--server', c.server.url, '--dist', c.dist], c, { KUBECONFIG: '', SLEAP_ROOTS_TOKEN: 'Bearer bin-test-token-0001' });
    expect(ok.code).toBe(0);
    const bad = await bin(['status', 'missing', '-n', NS, '--server', c.server.url], c, { KUBECONFIG: '', SLEAP_ROOTS_TOKEN: 'bin-test-token-0001' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('error: workflow "missing" is not in namespace "runai-talmo-lab"\n  list recent ones: npx sleap-roots list\n');
  });

  it('prints help and the version', async () => {
    const help = await bin(['--help'], c);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: sleap-roots/);
    expect((await bin(['--version'], c)).stdout.trim()).toBe('0.1.0');
  });
});

describe('npx sleap-roots', () => {
  it('is the package\'s bin, and npx runs it', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as { version: string; bin?: Record<string, string> };
    expect(pkg.bin).toEqual({ 'sleap-roots': 'bin/sleap-roots.cjs' });
    // A clean npm environment: when the tests themselves run under `npx` (CI's Node 24 run), the
    // outer npx's npm_config_* variables would otherwise make this npx run that package instead.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
    const r = await run('npx', ['--offline', 'sleap-roots', '--version'], { cwd: path.join(__dirname, '../..'), timeout: 60_000, env });
    expect(r.stdout.trim()).toBe(pkg.version);
  });
});
