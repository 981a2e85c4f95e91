/**
 * What the README promises of dist/: the real kubectl installs dist/<env>/ with apply (nothing in
 * it needs create), and creates a run from dist/<env>/run/ (which apply cannot take), here against
 * the stand-in API server.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startApiServer, type FakeApiServer } from './support/apiserver';
import { ROOT, SHIPPED } from './support/envs';

const KUBECTL = '/usr/bin/kubectl';

describe.skipIf(!existsSync(KUBECTL))('kubectl and dist/', () => {
  let home: string;
  let server: FakeApiServer | undefined;
  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'kubectl-dist-'));
    writeFileSync(join(home, 'empty-kubeconfig'), 'apiVersion: v1\nkind: Config\n');
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const kubectl = (s: FakeApiServer, args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        KUBECTL,
        ['--server', s.url, '--insecure-skip-tls-verify=false', '--cache-dir', join(home, 'cache'), ...args],
        { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, KUBECONFIG: join(home, 'empty-kubeconfig') }, timeout: 20_000 },
        (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
      );
    });

  it.each(SHIPPED)('installs dist/%s/ with apply --server-side, idempotently, and runs it with create', async (env) => {
    const dir = join(ROOT, 'dist', env);
    const namespace = (parseYaml(readFileSync(join(dir, '60-workflowtemplate-sleap-roots-pipeline.yaml'), 'utf8')) as { metadata: { namespace: string } }).metadata.namespace;
    server = await startApiServer({ namespaces: [namespace] });

    const first = await kubectl(server, ['apply', '--server-side', '--field-manager', 'kubectl-test', '-f', `${dir}/`]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const applied = first.stdout.trim().split('\n');
    expect(applied.every((l) => l.endsWith(' serverside-applied'))).toBe(true);
    expect(applied.some((l) => l.startsWith('workflowtemplate.argoproj.io/sleap-roots-pipeline '))).toBe(true);
    const templates = server.list('argoproj.io/v1alpha1', 'WorkflowTemplate', namespace);
    const rv = templates.map((t) => t.metadata.resourceVersion);

    const second = await kubectl(server, ['apply', '--server-side', '--field-manager', 'kubectl-test', '-f', `${dir}/`]);
    expect(second.code).toBe(0);
    expect(server.list('argoproj.io/v1alpha1', 'WorkflowTemplate', namespace).map((t) => t.metadata.resourceVersion)).toEqual(rv);

    // apply cannot create a generateName-only Workflow; create can, and each create is a new run.
    const applyRun = await kubectl(server, ['apply', '-f', `${dir}/run/`]);
    expect(applyRun.code).not.toBe(0);
    for (let i = 0; i < 2; i++) {
      const created = await kubectl(server, ['create', '-f', `${dir}/run/`]);
      expect(created.code, created.stderr).toBe(0);
      expect(created.stdout).toMatch(/^workflow\.argoproj\.io\/sleap-roots-pipeline-[a-z0-9]{5} created$/m);
    }
    const runs = server.list('argoproj.io/v1alpha1', 'Workflow', namespace);
    expect(runs).toHaveLength(2);
    expect(runs[0].spec.workflowTemplateRef).toEqual({ name: 'sleap-roots-pipeline' });
  });
});
