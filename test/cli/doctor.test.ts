import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { AccessRule } from '../support/apiserver/index';
import { cli, ENV, FakeArgo, NS, startCluster, type TestCluster } from './support/harness';

const GPU_NODE = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'gpu-1', labels: { 'nvidia.com/gpu.memory': '24576' } },
  status: { allocatable: { cpu: '32', memory: '256Gi', 'nvidia.com/gpu': '4' } },
};
const classes = ['high', 'interactive-preemptible'].map((name, i) => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value: 100 + i }));

/** doctor's lines, by check name. */
function checks(stdout: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const x = /^(PASS|FAIL|WARN|INFO)\s+([^:]+): (.*)$/.exec(line);
    if (x) m.set(x[2], `${x[1]} ${x[3]}`);
  }
  return m;
}

describe('doctor', () => {
  let c: TestCluster;
  beforeEach(async () => {
    c = await startCluster({ objects: [GPU_NODE, ...classes] });
    expect((await cli(['deploy', '--env', ENV], { cluster: c })).code).toBe(0);
  });
  afterEach(async () => {
    await c.close();
  });

  it('passes every check on a cluster with everything, and lists the host paths it cannot see', async () => {
    const r = await cli(['doctor', '--env', ENV], { cluster: c });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const m = checks(r.stdout);
    for (const name of ['API reachable', 'credentials accepted', 'namespace exists', 'Argo CRDs installed', 'template sleap-roots-pipeline', 'service account and RBAC', 'may create workflows.argoproj.io', 'GPU capacity', 'priority classes', 'config maps and semaphores']) {
      expect(m.get(name), name).toMatch(/^PASS /);
    }
    expect(m.get('credentials accepted')).toBe('PASS authenticated as test-user (groups: system:authenticated)');
    expect(m.get('GPU capacity')).toMatch(/predictor asks for GPU fraction 0\.5: 1 GPU node\(s\) with nvidia\.com\/gpu/);
    expect(m.get('priority classes')).toBe('PASS interactive-preemptible (101), high (100)');
    expect(m.get('host paths')).toMatch(/^INFO cannot be checked through the API; these must exist on every node that may run a step: \/hpi\/hpi_dev\/sleap-roots\/models_input \(Directory\)/);
    expect(r.stdout).toMatch(/^ok: checks: \d+ pass, 0 warn, 0 fail, 1 info$/m);
  });

  it('fails a template that differs from dist/, naming the field, and a missing one, with the deploy fix', async () => {
    c.server.modify({ apiVersion: 'argoproj.io/v1alpha1', kind: 'WorkflowTemplate', namespace: NS, name: 'sleap-roots-pipeline' }, (d) => {
      d.spec.ttlStrategy.secondsAfterSuccess = 1;
    });
    const step = c.server.list('argoproj.io/v1alpha1', 'WorkflowTemplate', NS).find((t) => String(t.metadata.name).startsWith('sleap-roots-trait-extractor'));
    c.server.delete({ apiVersion: 'argoproj.io/v1alpha1', kind: 'WorkflowTemplate', namespace: NS, name: step?.metadata.name as string });
    const r = await cli(['doctor', '--env', ENV], { cluster: c });
    expect(r.code).toBe(1);
    const m = checks(r.stdout);
    expect(m.get('template sleap-roots-pipeline')).toMatch(/^FAIL differs from .*60-workflowtemplate-sleap-roots-pipeline\.yaml at \.spec\.ttlStrategy\.secondsAfterSuccess \(dist 86400, cluster 1\) → fix: deploy: npx sleap-roots deploy --env runai/);
    expect(m.get(`template ${step?.metadata.name}`)).toMatch(/^FAIL not in namespace "runai-talmo-lab" → fix: deploy/);
  });

  it('fails what is missing: priority classes, GPU nodes, a permission, a semaphore value', async () => {
    for (const pc of classes) c.server.delete({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', name: pc.metadata.name });
    c.server.delete({ apiVersion: 'v1', kind: 'Node', name: 'gpu-1' });
    c.server.modify({ apiVersion: 'v1', kind: 'ConfigMap', namespace: NS, name: 'sleap-roots-semaphores' }, (d) => {
      d.data['pipeline-gpu'] = 'eight';
    });
    c.server.setAccess([
      { verbs: ['get', 'list', 'watch', 'patch', 'delete'], apiGroups: ['argoproj.io'], resources: ['*'] },
      { verbs: ['create'], apiGroups: ['argoproj.io'], resources: ['workflowtemplates'] },
      { verbs: ['*'], apiGroups: ['', 'rbac.authorization.k8s.io', 'scheduling.k8s.io', 'apiextensions.k8s.io'], resources: ['*'] },
    ]);
    const r = await cli(['doctor', '--env', ENV], { cluster: c });
    expect(r.code).toBe(1);
    const m = checks(r.stdout);
    expect(m.get('priority classes')).toMatch(/^FAIL missing: interactive-preemptible \(used by gate, list-image-sets, predictor, trait-extractor\), high \(used by models-downloader\) → fix: use classes that exist/);
    expect(m.get('GPU capacity')).toMatch(/^FAIL predictor asks for a GPU fraction \(0\.5\); no schedulable node has nvidia\.com\/gpu/);
    expect(m.get('may create workflows.argoproj.io')).toMatch(/^FAIL not allowed in "runai-talmo-lab" \(needed by submit\).*→ fix: ask the cluster admin for a Role in "runai-talmo-lab" with verbs \[create\] on workflows\.argoproj\.io/);
    expect(m.get('may watch workflows.argoproj.io')).toMatch(/^PASS/);
    expect(m.get('config maps and semaphores')).toMatch(/^FAIL semaphore sleap-roots-semaphores\.pipeline-gpu is "eight", not a positive whole number/);
    // The semaphore ConfigMap is the lab's to retune: its values are judged only under config maps.
    expect(m.get('service account and RBAC')).toMatch(/^PASS/);
    expect(r.stdout).toMatch(/^problems found: checks: \d+ pass, 0 warn, 4 fail, 1 info$/m);
  });

  it('warns, not fails, where a namespace-scoped user may not look (namespaces, nodes, priority classes)', async () => {
    c.server.setAccess([{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: [NS] }]);
    const r = await cli(['doctor', '--env', ENV], { cluster: c });
    expect(r.code).toBe(0);
    const m = checks(r.stdout);
    expect(m.get('namespace exists')).toMatch(/^WARN not allowed to read namespace "runai-talmo-lab"/);
    expect(m.get('GPU capacity')).toMatch(/^WARN not allowed to list nodes; GPU capacity is not verified \(predictor: GPU fraction 0\.5\)/);
    expect(m.get('priority classes')).toMatch(/^WARN not allowed to read priority classes/);
  });

  it('fails the namespace check for a namespace that does not exist', async () => {
    const r = await cli(['doctor', '--env', ENV, '-n', 'typo-lab'], { cluster: c });
    expect(r.code).toBe(1);
    expect(checks(r.stdout).get('namespace exists')).toMatch(/^FAIL namespace "typo-lab" does not exist → fix: create it \(kubectl create namespace typo-lab\)/);
  });

  it('checks Secrets a step reads, by key, without printing their values', async () => {
    const dist = path.join(c.dir, 'dist');
    fs.cpSync(c.dist, dist, { recursive: true });
    const file = fs.readdirSync(path.join(dist, ENV)).find((f) => f.includes('trait-extractor'));
    const full = path.join(dist, ENV, file as string);
    const doc = parse(fs.readFileSync(full, 'utf8'));
    doc.spec.templates[0].container.env = [{ name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'lab-api', key: 'token' } } }];
    fs.writeFileSync(full, stringify(doc));
    const run = () => cli(['doctor', '--env', ENV, '--kubeconfig', c.kubeconfig, '--dist', dist], { cluster: c, connect: false });

    let m = checks((await run()).stdout);
    expect(m.get('referenced secrets')).toMatch(/^FAIL Secret lab-api does not exist → fix: create it in "runai-talmo-lab", e\.g\. kubectl create secret generic lab-api -n runai-talmo-lab --from-literal=token=\.\.\./);

    c.server.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'lab-api', namespace: NS }, data: { other: Buffer.from('s3cr3t-value').toString('base64') } });
    const r = await run();
    m = checks(r.stdout);
    expect(m.get('referenced secrets')).toMatch(/^FAIL Secret lab-api lacks key\(s\) token/);
    expect(r.stdout).not.toContain(Buffer.from('s3cr3t-value').toString('base64'));
  });

  it('fails credentials with a rejected token and stops there', async () => {
    await c.close();
    c = await startCluster({ token: 'the-right-token-123' });
    const kc = path.join(c.dir, 'bad-kubeconfig');
    fs.writeFileSync(kc, c.server.kubeconfig({ namespace: NS, token: 'a-wrong-token-456' }));
    const r = await cli(['doctor', '--env', ENV, '--kubeconfig', kc, '--dist', c.dist], { cluster: c, connect: false });
    expect(r.code).toBe(1);
    const m = checks(r.stdout);
    expect(m.get('API reachable')).toMatch(/^PASS/);
    expect(m.get('credentials accepted')).toMatch(/^FAIL Error from server \(Unauthorized\): Unauthorized → fix: get fresh credentials/);
    expect(m.has('namespace exists')).toBe(false);
    expect(r.stdout + r.stderr).not.toContain('a-wrong-token-456');
  });

  it('fails reachability quickly when nothing listens, with the fix', async () => {
    const url = c.server.url;
    await c.server.close();
    const started = Date.now();
    const r = await cli(['doctor', '--env', ENV, '--server', url, '--token', 'tok-123456', '--dist', c.dist], { connect: false, cwd: c.dir });
    expect(r.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(checks(r.stdout).get('API reachable')).toMatch(/^FAIL error: cannot reach the API server at http:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED .*→ fix: check the server address/);
  });
});

/** doctor's permission checks (`may <verb> <resource>[/<sub>][.<group>]`), as Role rules in NS. */
function rulesOf(stdout: string): { name: string; rule: AccessRule }[] {
  const out: { name: string; rule: AccessRule }[] = [];
  for (const c of (JSON.parse(stdout) as { checks: { name: string }[] }).checks) {
    const m = /^may (\S+) ([a-z]+)(\/[a-z]+)?(?:\.(\S+))?$/.exec(c.name);
    if (m) out.push({ name: c.name, rule: { verbs: [m[1]], apiGroups: [m[4] ?? ''], resources: [m[2] + (m[3] ?? '')], namespaces: [NS] } });
  }
  return out;
}

describe('doctor permissions', () => {
  let c: TestCluster;
  beforeEach(async () => {
    c = await startCluster();
  });
  afterEach(async () => {
    await c.close();
  });

  it('a Role of exactly the permissions doctor checks lets deploy, deploy --prune, submit, watch and logs succeed; without any one of them doctor fails naming it', async () => {
    const listed = rulesOf((await cli(['doctor', '--env', ENV, '-o', 'json'], { cluster: c })).stdout);
    // Every verb deploy sends on the ServiceAccount, and prune's delete, are among them.
    expect(listed.map((l) => l.name)).toEqual(expect.arrayContaining(['may create serviceaccounts', 'may patch serviceaccounts', 'may delete configmaps', 'may list workflows.argoproj.io', 'may get pods/log']));
    c.server.setAccess(listed.map((l) => l.rule));

    const deploy = await cli(['deploy', '--env', ENV], { cluster: c });
    expect(deploy.stderr + deploy.stdout).not.toMatch(/forbidden/i);
    expect(deploy.code).toBe(0);
    c.server.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'left-over', namespace: NS, labels: { 'app.kubernetes.io/part-of': 'sleap-roots-pipeline', 'sleap-roots.io/environment': ENV } } });
    const prune = await cli(['deploy', '--env', ENV, '--prune'], { cluster: c });
    expect(prune.code).toBe(0);
    expect(c.server.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: NS, name: 'left-over' })).toBeUndefined();

    const submit = await cli(['submit', '--env', ENV, '-o', 'name'], { cluster: c });
    expect(submit.stderr).toBe('');
    expect(submit.code).toBe(0);
    const name = submit.stdout.trim();
    const argo = new FakeArgo(c.server, name);
    argo.start();
    const pod = argo.startPod('models-downloader');
    argo.log(pod, ['downloading model']);
    argo.finishPod(pod);
    argo.complete('Succeeded');
    for (const args of [['watch', name], ['logs', name], ['logs', name, '--follow']]) {
      const r = await cli(args, { cluster: c });
      expect(r.stderr, args.join(' ')).not.toMatch(/forbidden/i);
      expect(r.code, args.join(' ')).toBe(0);
    }

    for (const [i, gone] of listed.entries()) {
      c.server.setAccess(listed.filter((_, j) => j !== i).map((l) => l.rule));
      const r = await cli(['doctor', '--env', ENV], { cluster: c });
      expect(r.code, gone.name).toBe(1);
      expect(checks(r.stdout).get(gone.name), gone.name).toMatch(/^FAIL not allowed in "runai-talmo-lab" \(needed by /);
      // Only that permission fails (a missing read may also fail the check that needs it, e.g. templates).
      expect([...checks(r.stdout)].filter(([k, v]) => k.startsWith('may ') && v.startsWith('FAIL')).map(([k]) => k)).toEqual([gone.name]);
    }
  }, 60_000);
});

describe('doctor with an existing service account (identity.create: false)', () => {
  const PROD_NS = 'runai-talmo-lab-prod';
  let c: TestCluster;
  beforeEach(async () => {
    c = await startCluster({ namespaces: [PROD_NS], objects: [GPU_NODE, ...classes] });
    const d = await cli(['deploy', '--env', 'production'], { cluster: c });
    expect(d.code, d.stderr).toBe(0);
  });
  afterEach(async () => {
    await c.close();
  });

  it('fails while the admin has not made the account, naming it and what it needs, and passes once it exists', async () => {
    const before = checks((await cli(['doctor', '--env', 'production'], { cluster: c })).stdout).get('service account and RBAC');
    expect(before).toMatch(/^FAIL missing: ServiceAccount\/sleap-roots-runner \(identity\.create: false: the admin creates it\)/);
    expect(before).toContain('create and patch on workflowtaskresults');
    c.server.put({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sleap-roots-runner', namespace: PROD_NS } });
    const after = checks((await cli(['doctor', '--env', 'production'], { cluster: c })).stdout).get('service account and RBAC');
    expect(after).toMatch(/^PASS ServiceAccount\/sleap-roots-runner exists \(made by the admin/);
  });
});
