/**
 * What the README promises of dist/: the real kubectl installs dist/<env>/ with apply (nothing in
 * it needs create), and creates a run from dist/<env>/run/ (which apply cannot take), here against
 * the stand-in API server. And what GitOps tools read: dist/<env>/ is a kustomize root (its
 * `Kustomization` file) that builds exactly the objects `apply -f` takes, never run/.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { KUSTOMIZATION_FILE } from '../lib/names';
import { startApiServer, type FakeApiServer } from './support/apiserver';
import { ROOT, SHIPPED } from './support/envs';
import { KUBECTL, kubectlPath } from './support/kubectl';


describe.skipIf(!KUBECTL)('kubectl and dist/', () => {
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

  /** Runs kubectl against the stand-in, or against no server at all (`kubectl kustomize`). */
  const kubectl = (s: FakeApiServer | undefined, args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        kubectlPath(),
        [...(s ? ['--server', s.url, '--insecure-skip-tls-verify=false'] : []), '--cache-dir', join(home, 'cache'), ...args],
        { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, KUBECONFIG: join(home, 'empty-kubeconfig') }, timeout: 20_000, maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
      );
    });
  /** The object files of dist/<env>/ (what `apply -f` reads), sorted, and their objects. */
  const objectFiles = (dir: string) => readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
  const objectsOf = (dir: string) => objectFiles(dir).map((f) => parseYaml(readFileSync(join(dir, f), 'utf8')) as { kind: string; metadata: { name: string; namespace: string } });
  const idOf = (o: { kind: string; metadata: { name: string } }) => `${o.kind}/${o.metadata.name}`;

  it.each(SHIPPED)('installs dist/%s/ with apply --server-side, idempotently, and runs it with create', async (env) => {
    const dir = join(ROOT, 'dist', env);
    const namespace = (parseYaml(readFileSync(join(dir, '60-workflowtemplate-sleap-roots-pipeline.yaml'), 'utf8')) as { metadata: { namespace: string } }).metadata.namespace;
    server = await startApiServer({ namespaces: [namespace] });

    expect(existsSync(join(dir, KUSTOMIZATION_FILE))).toBe(true); // present, and skipped by apply -f
    const first = await kubectl(server, ['apply', '--server-side', '--field-manager', 'kubectl-test', '-f', `${dir}/`]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const applied = first.stdout.trim().split('\n');
    expect(applied.every((l) => l.endsWith(' serverside-applied'))).toBe(true);
    expect(applied).toHaveLength(objectFiles(dir).length); // every object file, nothing else
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

  // dist/<env>/ as a kustomize root (its Kustomization file), as Argo CD and Flux build it.
  it.each(SHIPPED)('kubectl kustomize dist/%s builds exactly the objects of the folder, in apply order, and no run Workflow', async (env) => {
    const dir = join(ROOT, 'dist', env);
    const built = await kubectl(undefined, ['kustomize', dir]);
    expect(built.code, built.stderr).toBe(0);
    const objects = parseAllDocuments(built.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string; generateName?: string } });
    // Same objects, field for field (no namespace, prefix or label added), in the files' order.
    expect(objects).toEqual(objectsOf(dir));
    expect(objects.map(idOf)).toEqual(objectsOf(dir).map(idOf));
    expect(objects.some((o) => o.kind === 'Workflow' || o.metadata.generateName !== undefined)).toBe(false);
  });

  it.each(SHIPPED)('kubectl apply --server-side -k dist/%s installs what apply -f does', async (env) => {
    const dir = join(ROOT, 'dist', env);
    const namespace = objectsOf(dir)[0].metadata.namespace;
    server = await startApiServer({ namespaces: [namespace] });
    const r = await kubectl(server, ['apply', '--server-side', '--field-manager', 'kubectl-test', '-k', dir]);
    expect(r.code, r.stderr).toBe(0);
    const applied = r.stdout.trim().split('\n');
    expect(applied).toHaveLength(objectFiles(dir).length);
    expect(applied.every((l) => l.endsWith(' serverside-applied'))).toBe(true);
    const templates = server.list('argoproj.io/v1alpha1', 'WorkflowTemplate', namespace).map((t) => t.metadata.name).sort();
    expect(templates).toEqual(objectsOf(dir).filter((o) => o.kind === 'WorkflowTemplate').map((o) => o.metadata.name).sort());
    expect(server.list('argoproj.io/v1alpha1', 'Workflow', namespace)).toEqual([]);
  });

  // Why the file has no extension: with the usual name, apply -f reads the kustomization as an object.
  it('a kustomization.yaml instead would break kubectl apply -f dist/<env>/, which Kustomization does not', async () => {
    const dir = join(home, 'runai');
    cpSync(join(ROOT, 'dist', 'runai'), dir, { recursive: true });
    renameSync(join(dir, KUSTOMIZATION_FILE), join(dir, 'kustomization.yaml'));
    server = await startApiServer({ namespaces: [objectsOf(join(ROOT, 'dist', 'runai'))[0].metadata.namespace] });
    const r = await kubectl(server, ['apply', '--server-side', '--field-manager', 'kubectl-test', '-f', `${dir}/`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${dir}/kustomization.yaml`); // schema validation finds no such kind
    const unvalidated = await kubectl(server, ['apply', '--server-side', '--validate=false', '--field-manager', 'kubectl-test', '-f', `${dir}/`]);
    expect(unvalidated.code).not.toBe(0);
    expect(unvalidated.stderr).toMatch(/no matches for kind "Kustomization" in version "kustomize\.config\.k8s\.io\/v1beta1"/);
    // kustomize itself takes either name.
    const built = await kubectl(undefined, ['kustomize', dir]);
    expect(built.code, built.stderr).toBe(0);
  });
});
