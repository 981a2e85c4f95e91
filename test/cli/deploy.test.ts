import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { KUBECTL, kubectlPath } from '../support/kubectl';
import { cli, ENV, NS, startCluster, type TestCluster } from './support/harness';
import { SHIPPED } from '../support/envs';

const WT = { apiVersion: 'argoproj.io/v1alpha1', kind: 'WorkflowTemplate' };

describe('deploy', () => {
  let c: TestCluster;
  beforeEach(async () => {
    c = await startCluster();
  });
  afterEach(async () => {
    await c.close();
  });

  it('creates every object of dist/<env>/ with server-side apply as field manager sleap-roots', async () => {
    const r = await cli(['deploy', '--env', ENV], { cluster: c });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const objects = fs.readdirSync(path.join(c.dist, ENV)).filter((f) => f.endsWith('.yaml'));
    expect(r.stdout.match(/^created /gm)).toHaveLength(objects.length);
    const applies = c.server.requests.filter((q) => q.method === 'PATCH');
    expect(applies).toHaveLength(objects.length);
    for (const q of applies) {
      expect(q.contentType).toBe('application/apply-patch+yaml');
      expect(q.query.fieldManager).toBe('sleap-roots');
      expect(q.query.force).toBeUndefined();
      expect(q.query.fieldValidation).toBe('Strict');
    }
    const pipeline = c.server.get({ ...WT, namespace: NS, name: 'sleap-roots-pipeline' });
    expect(pipeline?.metadata.managedFields?.[0]?.manager).toBe('sleap-roots');
  });

  it('applies identities and config maps first and the pipeline template after the step templates it calls', async () => {
    await cli(['deploy', '--env', ENV], { cluster: c });
    const order = c.server.requests.filter((q) => q.method === 'PATCH').map((q) => q.path.split('/').slice(-2).join('/'));
    const kinds = order.map((p) => p.split('/')[0]);
    const rank = (k: string) => ['serviceaccounts', 'secrets', 'roles', 'rolebindings', 'configmaps', 'workflowtemplates'].indexOf(k);
    expect(kinds.map(rank)).toEqual([...kinds.map(rank)].sort((a, b) => a - b));
    expect(order[order.length - 1]).toBe('workflowtemplates/sleap-roots-pipeline');
  });

  it('reports everything unchanged on a second identical deploy', async () => {
    await cli(['deploy', '--env', ENV], { cluster: c });
    const r = await cli(['deploy', '--env', ENV], { cluster: c });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/^(created|changed) /m);
    expect(r.stdout).toMatch(/done: \d+ unchanged$/m);
  });

  it('reports an object changed by someone else as changed, and the rest unchanged', async () => {
    await cli(['deploy', '--env', ENV], { cluster: c });
    c.server.modify({ ...WT, namespace: NS, name: 'sleap-roots-pipeline' }, (d) => {
      d.metadata.labels = { ...d.metadata.labels, 'sleap-roots.io/environment': 'tampered' };
    });
    const r = await cli(['deploy', '--env', ENV], { cluster: c });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^changed\s+WorkflowTemplate\/sleap-roots-pipeline$/m);
    expect(r.stdout.match(/^changed /gm)).toHaveLength(1);
  });

  it('sends dryRun=All with --dry-run and stores nothing', async () => {
    const r = await cli(['deploy', '--env', ENV, '--dry-run'], { cluster: c });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^would create\s+WorkflowTemplate\/sleap-roots-pipeline$/m);
    for (const q of c.server.requests.filter((x) => x.method === 'PATCH')) expect(q.query.dryRun).toBe('All');
    expect(c.server.get({ ...WT, namespace: NS, name: 'sleap-roots-pipeline' })).toBeUndefined();
  });

  it('fails on a field owned by another manager, naming the conflict and --force-conflicts', async () => {
    await cli(['deploy', '--env', ENV], { cluster: c });
    // Another manager takes the pipeline's ttlStrategy over with a different value.
    const wt = c.server.get({ ...WT, namespace: NS, name: 'sleap-roots-pipeline' });
    if (!wt) throw new Error('not deployed');
    wt.spec.ttlStrategy = { secondsAfterSuccess: 1 };
    c.server.update(wt, { manager: 'kubectl-edit' });
    const r = await cli(['deploy', '--env', ENV], { cluster: c });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAILED\s+WorkflowTemplate\/sleap-roots-pipeline: Apply failed with 1 conflict: conflict with "kubectl-edit"/m);
    expect(r.stderr).toMatch(/--force-conflicts/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace

    const forced = await cli(['deploy', '--env', ENV, '--force-conflicts'], { cluster: c });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/^changed\s+WorkflowTemplate\/sleap-roots-pipeline$/m);
    expect(c.server.requests.filter((q) => q.method === 'PATCH').slice(-1)[0].query.force).toBe('true');
  });

  it('fails clearly on a field the cluster does not know, naming the object, the field and what to do', async () => {
    const dist = path.join(c.dir, 'dist');
    fs.cpSync(c.dist, dist, { recursive: true });
    const file = path.join(dist, ENV, fs.readdirSync(path.join(dist, ENV)).find((f) => f.includes('workflowtemplate-sleap-roots-pipeline')) as string);
    const doc = parse(fs.readFileSync(file, 'utf8'));
    doc.spec.podPriority = 5; // removed from Argo's WorkflowSpec long ago: not in the pinned CRD
    fs.writeFileSync(file, stringify(doc));
    const r = await cli(['deploy', '--env', ENV, '--kubeconfig', c.kubeconfig, '--dist', dist], { cluster: c, connect: false });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAILED\s+WorkflowTemplate\/sleap-roots-pipeline: the cluster does not know field spec\.podPriority \(its schema for this kind is older or different: for Argo kinds, install the CRDs of the Argo version dist\/ is synthesized for; or remove the field from the environment file\) \[failed to create typed patch object \(runai-talmo-lab\/sleap-roots-pipeline; argoproj\.io\/v1alpha1, Kind=WorkflowTemplate\): \.spec\.podPriority: field not declared in schema[^\]]*\]$/m);
    expect(r.stderr).toMatch(/^error: WorkflowTemplate\/sleap-roots-pipeline \(.*60-workflowtemplate-sleap-roots-pipeline\.yaml\): the cluster does not know field spec\.podPriority/m);
    expect(c.server.get({ ...WT, namespace: NS, name: 'sleap-roots-pipeline' })).toBeUndefined();
    // The same answer on every attempt: sent once, not retried as a transient 500.
    expect(r.stdout).not.toContain('gave up after');
    expect(c.server.requests.filter((q) => q.method === 'PATCH' && q.path.endsWith('/workflowtemplates/sleap-roots-pipeline'))).toHaveLength(1);
  });

  it('stops at the first failure and reports the objects after it as skipped', async () => {
    c.server.inject({ method: 'PATCH', path: /\/roles\//, action: { type: 'status', code: 422, reason: 'Invalid', message: 'Role.rbac.authorization.k8s.io "sleap-roots-step" is invalid: rules: Required value' } });
    const r = await cli(['deploy', '--env', ENV], { cluster: c });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAILED\s+Role\/sleap-roots-step: Error from server \(Invalid\): Role.rbac.authorization.k8s.io "sleap-roots-step" is invalid/m);
    expect(r.stdout).toMatch(/^skipped\s+WorkflowTemplate\/sleap-roots-pipeline$/m);
    expect(c.server.get({ ...WT, namespace: NS, name: 'sleap-roots-pipeline' })).toBeUndefined();
  });

  it('prunes objects of this environment that dist/ no longer has, and nothing else', async () => {
    await cli(['deploy', '--env', ENV], { cluster: c });
    const labels = { 'app.kubernetes.io/part-of': 'sleap-roots-pipeline', 'sleap-roots.io/environment': ENV };
    c.server.put({ ...WT, metadata: { name: 'sleap-roots-old-step', namespace: NS, labels }, spec: { templates: [] } });
    c.server.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'old-config', namespace: NS, labels }, data: {} });
    c.server.put({ ...WT, metadata: { name: 'other-env-template', namespace: NS, labels: { ...labels, 'sleap-roots.io/environment': 'local' } }, spec: { templates: [] } });
    c.server.put({ ...WT, metadata: { name: 'not-ours', namespace: NS }, spec: { templates: [] } });

    const dry = await cli(['deploy', '--env', ENV, '--prune', '--dry-run'], { cluster: c });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^would prune\s+WorkflowTemplate\/sleap-roots-old-step$/m);
    expect(c.server.get({ ...WT, namespace: NS, name: 'sleap-roots-old-step' })).toBeDefined();

    const r = await cli(['deploy', '--env', ENV, '--prune'], { cluster: c });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^pruned\s+WorkflowTemplate\/sleap-roots-old-step$/m);
    expect(r.stdout).toMatch(/^pruned\s+ConfigMap\/old-config$/m);
    expect(c.server.get({ ...WT, namespace: NS, name: 'sleap-roots-old-step' })).toBeUndefined();
    expect(c.server.get({ ...WT, namespace: NS, name: 'other-env-template' })).toBeDefined();
    expect(c.server.get({ ...WT, namespace: NS, name: 'not-ours' })).toBeDefined();
    expect(c.server.get({ ...WT, namespace: NS, name: 'sleap-roots-pipeline' })).toBeDefined();
  });

  it('keeps an old versioned step template while an unfinished workflow uses it, and prunes it after', async () => {
    await cli(['deploy', '--env', ENV], { cluster: c });
    const labels = { 'app.kubernetes.io/part-of': 'sleap-roots-pipeline', 'sleap-roots.io/environment': ENV };
    c.server.put({ ...WT, metadata: { name: 'sleap-roots-predictor-0badc0de', namespace: NS, labels }, spec: { templates: [] } });
    c.server.put({ ...WT, metadata: { name: 'sleap-roots-trait-extractor-0badc0de', namespace: NS, labels }, spec: { templates: [] } });
    const wf = {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Workflow',
      metadata: { name: 'sleap-roots-pipeline-old', namespace: NS, labels: { 'workflows.argoproj.io/completed': 'false' } },
      spec: { workflowTemplateRef: { name: 'sleap-roots-pipeline' } },
      status: {
        phase: 'Running',
        storedWorkflowTemplateSpec: { templates: [{ name: 'pipeline', dag: { tasks: [{ name: 'predictor', templateRef: { name: 'sleap-roots-predictor-0badc0de', template: 'predictor' } }] } }] },
      },
    };
    c.server.put(wf);

    const r = await cli(['deploy', '--env', ENV, '--prune'], { cluster: c });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^kept\s+WorkflowTemplate\/sleap-roots-predictor-0badc0de: still used by unfinished workflow sleap-roots-pipeline-old/m);
    expect(r.stdout).toMatch(/^pruned\s+WorkflowTemplate\/sleap-roots-trait-extractor-0badc0de$/m);
    expect(c.server.get({ ...WT, namespace: NS, name: 'sleap-roots-predictor-0badc0de' })).toBeDefined();

    c.server.modify({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', namespace: NS, name: 'sleap-roots-pipeline-old' }, (o: any) => {
      o.metadata.labels['workflows.argoproj.io/completed'] = 'true';
      o.status.phase = 'Succeeded';
    });
    const later = await cli(['deploy', '--env', ENV, '--prune'], { cluster: c });
    expect(later.stdout).toMatch(/^pruned\s+WorkflowTemplate\/sleap-roots-predictor-0badc0de$/m);
    expect(c.server.get({ ...WT, namespace: NS, name: 'sleap-roots-predictor-0badc0de' })).toBeUndefined();
  });

  it('deploys into the namespace given with -n, moving the RoleBinding subject along', async () => {
    c.server.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'elsewhere' } });
    const r = await cli(['deploy', '--env', ENV, '-n', 'elsewhere'], { cluster: c });
    expect(r.code).toBe(0);
    const rb = c.server.get({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', namespace: 'elsewhere', name: 'sleap-roots-step' });
    expect(rb?.subjects?.[0]?.namespace).toBe('elsewhere');
    expect(c.server.get({ ...WT, namespace: NS, name: 'sleap-roots-pipeline' })).toBeUndefined();
  });

  it('prints one JSON document with --output json', async () => {
    const r = await cli(['deploy', '--env', ENV, '-o', 'json'], { cluster: c });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { ok: boolean; namespace: string; results: { outcome: string }[] };
    expect(doc.ok).toBe(true);
    expect(doc.namespace).toBe(NS);
    expect(new Set(doc.results.map((x) => x.outcome))).toEqual(new Set(['created']));
  });

  it('draws a live progress display on a terminal and leaves the per-object lines and summary', async () => {
    const r = await cli(['deploy', '--env', ENV], { cluster: c, isTTY: true });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('\x1b[?25l'); // cursor hidden while drawing
    expect(r.stdout).toContain('\x1b[?25h'); // and given back
    expect(r.stdout).toMatch(/\[█+░*\] \d+\/\d+/);
    expect(r.stdout).toContain('\x1b[32m'); // colour on a terminal
  });

  it('has no colours with NO_COLOR, even on a terminal', async () => {
    const r = await cli(['deploy', '--env', ENV], { cluster: c, isTTY: true, env: { NO_COLOR: '1' } });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/\x1b\[3\dm/);
  });

  it('retries connection resets, 503s and 429s while applying, and gives up after a bounded number of attempts', async () => {
    c.server.inject({ method: 'PATCH', action: { type: 'reset' } });
    c.server.inject({ method: 'GET', action: { type: 'status', code: 503, reason: 'ServiceUnavailable', message: 'the server is currently unable to handle the request' }, times: 2 });
    c.server.inject({ method: 'PATCH', action: { type: 'tooManyRequests', retryAfterSeconds: 0 } });
    const r = await cli(['deploy', '--env', ENV], { cluster: c });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/FAILED/);

    c.server.inject({ method: 'PATCH', action: { type: 'reset' }, times: Infinity });
    const started = Date.now();
    const failed = await cli(['deploy', '--env', ENV], { cluster: c });
    expect(failed.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(failed.stderr).toMatch(/^error: cannot reach the API server at http:\/\/127\.0\.0\.1:\d+: socket hang up \(gave up after 5 attempts\)$/m);
    c.server.clearFaults();
  });

  it('fails with the list of environments when dist/<env>/ does not exist', async () => {
    const r = await cli(['deploy', '--env', 'nope'], { cluster: c });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error: .*nope/ does not exist\\n\\s+environments synthesized in .*: ${[...SHIPPED].sort().join(', ')}`, 'm'));
  });
});

/** managedFields entries of an object, by manager and operation, with the fields each owns under metadata.labels. */
function owners(obj: { metadata: { managedFields?: unknown[] } } | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of (obj?.metadata.managedFields ?? []) as { manager: string; operation: string; fieldsV1?: { 'f:metadata'?: { 'f:labels'?: Record<string, unknown> } } }[]) {
    out[`${e.manager}/${e.operation}`] = Object.keys(e.fieldsV1?.['f:metadata']?.['f:labels'] ?? {}).filter((k) => k.startsWith('f:')).sort();
  }
  return out;
}

describe.skipIf(!KUBECTL)('deploy after kubectl apply (client-side)', () => {
  let c: TestCluster;
  let home: string;
  beforeEach(async () => {
    c = await startCluster();
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'kubectl-home-'));
  });
  afterEach(async () => {
    await c.close();
    fs.rmSync(home, { recursive: true, force: true });
  });
  const kubectl = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(kubectlPath(), ['--kubeconfig', c.kubeconfig, '--cache-dir', path.join(home, 'cache'), ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home }, timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
      );
    });
  const SA = { apiVersion: 'v1', kind: 'ServiceAccount', namespace: NS, name: 'sleap-roots-step' };
  /** A copy of dist/ with the ServiceAccount's labels changed. */
  function distWith(change: (labels: Record<string, string>) => void): string {
    const dist = path.join(c.dir, `dist-${Math.random().toString(36).slice(2)}`);
    fs.cpSync(c.dist, dist, { recursive: true });
    const file = path.join(dist, ENV, fs.readdirSync(path.join(dist, ENV)).find((f) => f.includes('serviceaccount')) as string);
    const doc = parse(fs.readFileSync(file, 'utf8'));
    change(doc.metadata.labels);
    fs.writeFileSync(file, stringify(doc));
    return dist;
  }

  it('shares the fields kubectl applied with the same values, and keeps those kubectl still owns when dist/ drops them', async () => {
    const applied = await kubectl(['apply', '-f', `${path.join(c.dist, ENV)}/`]);
    expect(applied.stderr).toBe('');
    expect((await cli(['deploy', '--env', ENV], { cluster: c })).code).toBe(0);
    // Same values: no conflict; both managers own the labels (structured-merge-diff shares unchanged fields).
    const labels = Object.keys(c.server.get(SA)?.metadata.labels ?? {}).map((k) => `f:${k}`).sort();
    expect(owners(c.server.get(SA))).toEqual({ 'kubectl-client-side-apply/Update': labels, 'sleap-roots/Apply': labels });

    const dist = distWith((l) => delete l['app.kubernetes.io/version']);
    const r = await cli(['deploy', '--env', ENV, '--kubeconfig', c.kubeconfig, '--dist', dist], { cluster: c, connect: false });
    expect(r.code).toBe(0);
    // deploy stops claiming the label; kubectl-client-side-apply still owns it, so the server keeps it.
    expect(c.server.get(SA)?.metadata.labels?.['app.kubernetes.io/version']).toBeDefined();
    expect(owners(c.server.get(SA))['sleap-roots/Apply']).not.toContain('f:app.kubernetes.io/version');
    expect(owners(c.server.get(SA))['kubectl-client-side-apply/Update']).toContain('f:app.kubernetes.io/version');
  });

  it('after kubectl patch: keeps a field only kubectl added, and stops on one dist/ sets, naming kubectl-patch', async () => {
    expect((await cli(['deploy', '--env', ENV], { cluster: c })).code).toBe(0);
    const patch = { metadata: { labels: { 'lab.example/owner': 'ana' } }, spec: { ttlStrategy: { secondsAfterSuccess: 60 } } };
    expect((await kubectl(['patch', 'wftmpl', 'sleap-roots-pipeline', '-n', NS, '--type', 'merge', '-p', JSON.stringify(patch)])).code).toBe(0);
    const r = await cli(['deploy', '--env', ENV], { cluster: c });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAILED\s+WorkflowTemplate\/sleap-roots-pipeline: Apply failed with 1 conflict: conflict with "kubectl-patch" using argoproj\.io\/v1alpha1: \.spec\.ttlStrategy\.secondsAfterSuccess: another field manager owns these fields; rerun with --force-conflicts/m);
    expect((await cli(['deploy', '--env', ENV, '--force-conflicts'], { cluster: c })).code).toBe(0);
    const wt = c.server.get({ ...WT, namespace: NS, name: 'sleap-roots-pipeline' });
    expect(wt?.spec.ttlStrategy.secondsAfterSuccess).toBe(86400);
    // The label is kubectl-patch's alone: deploy neither removes nor claims it.
    expect(wt?.metadata.labels?.['lab.example/owner']).toBe('ana');
    expect(owners(wt)['kubectl-patch/Update']).toEqual(['f:lab.example/owner']);
  });

  it('fails on a value kubectl apply set and dist/ now changes, saying so, and --force-conflicts takes it over', async () => {
    expect((await kubectl(['apply', '-f', `${path.join(c.dist, ENV)}/`])).code).toBe(0);
    const dist = distWith((l) => (l['app.kubernetes.io/version'] = 'renamed'));
    const args = ['deploy', '--env', ENV, '--kubeconfig', c.kubeconfig, '--dist', dist];
    const r = await cli(args, { cluster: c, connect: false });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAILED\s+ServiceAccount\/sleap-roots-step: Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: \.metadata\.labels\.app\.kubernetes\.io\/version: .*set by a client-side 'kubectl apply'/m);
    expect((await cli([...args, '--force-conflicts'], { cluster: c, connect: false })).code).toBe(0);
    expect(c.server.get(SA)?.metadata.labels?.['app.kubernetes.io/version']).toBe('renamed');
    expect(owners(c.server.get(SA))['kubectl-client-side-apply/Update']).not.toContain('f:app.kubernetes.io/version');
  });
});
