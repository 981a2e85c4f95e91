/**
 * `sleap-roots diff`: against the stand-in API server over real HTTP, and side by side with the
 * real `kubectl diff --server-side` (the referee) on the same stand-in state.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { stripAnsi } from '../../lib/cli/style';
import { cli, ENV, NS, startCluster, type CliRun, type TestCluster } from './support/harness';
import { KUBECTL, kubectlPath } from '../support/kubectl';

const WT = { apiVersion: 'argoproj.io/v1alpha1', kind: 'WorkflowTemplate' };
const PIPELINE = { ...WT, namespace: NS, name: 'sleap-roots-pipeline' };
const PIPELINE_FILE = `argoproj.io.v1alpha1.WorkflowTemplate.${NS}.sleap-roots-pipeline`;

/** The object files a unified diff of ours or kubectl's names (`diff -u -N <from>/<name> <to>/<name>`). */
function differing(stdout: string): string[] {
  return [...stdout.matchAll(/^diff -u -N (\S+) \S+$/gm)].map((m) => path.basename(m[1]));
}

/** The changed lines of a diff, without file headers. */
function changedLines(diff: string): string[] {
  return diff.split('\n').filter((l) => /^[-+]/.test(l) && !/^(---|\+\+\+) /.test(l));
}

/** The changed lines of each object's diff, by object file name; quotes as double quotes (kubectl's YAML single-quotes some strings). */
function changesByObject(stdout: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const part of stdout.split(/^(?=diff -u -N )/m).filter((p) => p.startsWith('diff '))) {
    out[differing(part)[0]] = changedLines(part).map((l) => l.replace(/'/g, '"'));
  }
  return out;
}

/** dist/<env>/'s objects, by file. */
function distObjects(c: TestCluster, env = ENV): any[] {
  const dir = path.join(c.dist, env);
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => parseYaml(fs.readFileSync(path.join(dir, f), 'utf8')));
}

function fileNameOf(o: any): string {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  return `${group ? `${group}.` : ''}${version}.${o.kind}.${o.metadata.namespace}.${o.metadata.name}`;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('diff', () => {
  let c: TestCluster;
  beforeEach(async () => {
    c = await startCluster();
  });
  afterEach(async () => {
    await c.close();
  });

  it('on an empty cluster shows every object as created, in deploy order, stores nothing and exits 1', async () => {
    const r = await cli(['diff', '--env', ENV], { cluster: c });
    expect(r.code).toBe(1);
    const objects = distObjects(c);
    const names = differing(r.stdout);
    expect([...names].sort()).toEqual(objects.map(fileNameOf).sort());
    expect(names[0]).toBe(`v1.ServiceAccount.${NS}.sleap-roots-step`);
    expect(names[names.length - 1]).toBe(PIPELINE_FILE);
    expect(r.stdout.match(/^@@ -0,0 \+1,\d+ @@$/gm)).toHaveLength(objects.length);
    expect(r.stdout).toContain(`--- LIVE/${PIPELINE_FILE}\n+++ MERGED/${PIPELINE_FILE}\n`);
    // Server-maintained fields are on neither side.
    for (const noise of ['resourceVersion:', 'uid:', 'creationTimestamp:', 'generation:', 'managedFields:', 'status:']) expect(r.stdout).not.toMatch(new RegExp(`^[-+ ]\\s*${noise}`, 'm'));
    expect(r.stderr).toMatch(/^11 to create, 0 to update, 0 unchanged \(/m);

    const applies = c.server.requests.filter((q) => q.method === 'PATCH');
    expect(applies).toHaveLength(objects.length);
    for (const q of applies) {
      expect(q.contentType).toBe('application/apply-patch+yaml');
      expect(q.query.fieldManager).toBe('sleap-roots');
      expect(q.query.dryRun).toBe('All');
      // The validation deploy's applies ask for, so the dry run refuses what deploy would.
      expect(q.query.fieldValidation).toBe('Strict');
    }
    expect(c.server.get(PIPELINE)).toBeUndefined();
  });

  it('after a deploy finds no differences and exits 0 with nothing on stdout', async () => {
    expect((await cli(['deploy', '--env', ENV], { cluster: c })).code).toBe(0);
    const r = await cli(['diff', '--env', ENV], { cluster: c });
    expect(r.stdout).toBe('');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^no differences: 11 objects unchanged \(/);
  });

  it('after a live change of one field exits 1 and shows exactly that field of that object', async () => {
    await cli(['deploy', '--env', ENV], { cluster: c });
    const want = c.server.get(PIPELINE)!.spec.ttlStrategy.secondsAfterSuccess;
    c.server.modify(PIPELINE, (d) => {
      d.spec.ttlStrategy.secondsAfterSuccess = 1;
    });
    const r = await cli(['diff', '--env', ENV], { cluster: c });
    expect(r.code).toBe(1);
    expect(differing(r.stdout)).toEqual([PIPELINE_FILE]);
    expect(changedLines(r.stdout)).toEqual(['-    secondsAfterSuccess: 1', `+    secondsAfterSuccess: ${want}`]);
    expect(r.stdout).toMatch(/^@@ -\d+,7 \+\d+,7 @@\n(?: .*\n){1,3}-    secondsAfterSuccess: 1\n/m);
    expect(r.stderr).toMatch(/^0 to create, 1 to update, 10 unchanged/);
    // A dry run: the live change is still there.
    expect(c.server.get(PIPELINE)!.spec.ttlStrategy.secondsAfterSuccess).toBe(1);
  });

  it('colours the diff on a terminal, and only there', async () => {
    await cli(['deploy', '--env', ENV], { cluster: c });
    c.server.modify(PIPELINE, (d) => {
      d.spec.ttlStrategy.secondsAfterSuccess = 1;
    });
    const plain = await cli(['diff', '--env', ENV], { cluster: c });
    const tty = await cli(['diff', '--env', ENV], { cluster: c, isTTY: true });
    expect(tty.code).toBe(1);
    expect(tty.stdout).toContain('\x1b[31m-    secondsAfterSuccess: 1\x1b[39m\n\x1b[32m+    secondsAfterSuccess: ');
    expect(stripAnsi(tty.stdout)).toBe(plain.stdout);
    expect(plain.stdout).not.toContain('\x1b[');
    expect((await cli(['diff', '--env', ENV, '--no-color'], { cluster: c, isTTY: true })).stdout).toBe(plain.stdout);
  });

  it('-o json lists every object with kind, name, namespace, change and diff', async () => {
    const empty = JSON.parse((await cli(['diff', '--env', ENV, '-o', 'json'], { cluster: c })).stdout) as any[];
    expect(empty.map((d) => d.change)).toEqual(distObjects(c).map(() => 'create'));

    await cli(['deploy', '--env', ENV], { cluster: c });
    c.server.modify(PIPELINE, (d) => {
      d.metadata.labels = { ...d.metadata.labels, 'sleap-roots.io/environment': 'tampered' };
    });
    const r = await cli(['diff', '--env', ENV, '-o', 'json'], { cluster: c });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const list = JSON.parse(r.stdout) as any[];
    expect(list).toHaveLength(distObjects(c).length);
    for (const d of list) {
      expect(Object.keys(d).sort()).toEqual(['change', 'diff', 'kind', 'name', 'namespace']);
      expect(d.namespace).toBe(NS);
    }
    const changed = list.filter((d) => d.change !== 'none');
    expect(changed).toEqual([{ kind: 'WorkflowTemplate', name: 'sleap-roots-pipeline', namespace: NS, change: 'update', diff: expect.stringContaining('+    sleap-roots.io/environment: runai\n') }]);
    expect(changedLines(changed[0].diff)).toEqual(['-    sleap-roots.io/environment: tampered', '+    sleap-roots.io/environment: runai']);
    expect(list.filter((d) => d.change === 'none').every((d) => d.diff === '')).toBe(true);
  });

  it('ignores fields another manager added (deploy would keep them)', async () => {
    await cli(['deploy', '--env', ENV], { cluster: c });
    const wt = c.server.get(PIPELINE)!;
    wt.metadata.labels = { ...wt.metadata.labels, team: 'roots' };
    wt.metadata.annotations = { ...wt.metadata.annotations, note: 'added by hand' };
    c.server.update(wt, { manager: 'kubectl-label' });
    const r = await cli(['diff', '--env', ENV], { cluster: c });
    expect(r.stdout).toBe('');
    expect(r.code).toBe(0);
  });

  it('exits 2 on an API error, naming the object, with nothing on stdout', async () => {
    c.server.inject({ method: 'GET', path: /\/roles\/sleap-roots-step$/, times: Infinity, action: { type: 'status', code: 403, reason: 'Forbidden', message: 'roles.rbac.authorization.k8s.io "sleap-roots-step" is forbidden: User "test-user" cannot get resource "roles"' } });
    for (const output of ['text', 'json']) {
      const r = await cli(['diff', '--env', ENV, '-o', output], { cluster: c });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^error: Role\/sleap-roots-step \(.*20-role-sleap-roots-step\.yaml\): Error from server \(Forbidden\): roles\.rbac/);
    }
  });

  it('exits 2 on a field conflict, naming --force-conflicts; with it, shows the takeover', async () => {
    await cli(['deploy', '--env', ENV], { cluster: c });
    const wt = c.server.get(PIPELINE)!;
    wt.spec.ttlStrategy = { secondsAfterSuccess: 1 };
    c.server.update(wt, { manager: 'kubectl-edit' });
    const r = await cli(['diff', '--env', ENV], { cluster: c });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/WorkflowTemplate\/sleap-roots-pipeline .*Apply failed with 1 conflict: conflict with "kubectl-edit".*--force-conflicts/);
    const forced = await cli(['diff', '--env', ENV, '--force-conflicts'], { cluster: c });
    expect(forced.code).toBe(1);
    expect(differing(forced.stdout)).toEqual([PIPELINE_FILE]);
    expect(c.server.requests.filter((q) => q.method === 'PATCH').slice(-1)[0].query.force).toBe('true');
  });

  it('exits 2 for usage errors: unknown environment, missing --env, unknown flag, bad output', async () => {
    const unknown = await cli(['diff', '--env', 'nope'], { cluster: c });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/nope\/ does not exist\n {2}environments synthesized in .*: .*runai/);
    expect((await cli(['diff'], { cluster: c })).code).toBe(2);
    expect((await cli(['diff', '--env', ENV, '--frobnicate'], { cluster: c })).code).toBe(2);
    expect((await cli(['diff', '--env', ENV, '-o', 'name'], { cluster: c })).code).toBe(2);
    expect(c.server.requests.filter((q) => q.method === 'PATCH')).toHaveLength(0);
  });

  it('is listed after deploy in the help', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}deploy .*\n(?: {10,}.*\n)* {2}diff /m);
  });
});

describe('diff of Secrets', () => {
  let c: TestCluster;
  let dist: string;
  const ENV_S = 'secrets';
  beforeEach(async () => {
    c = await startCluster();
    dist = fs.mkdtempSync(path.join(os.tmpdir(), 'sleap-roots-diff-dist-'));
    fs.mkdirSync(path.join(dist, ENV_S));
    const secret = (name: string, body: object) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NS }, type: 'Opaque', ...body });
    fs.writeFileSync(path.join(dist, ENV_S, '15-secret-creds.yaml'), JSON.stringify(secret('creds', { data: { password: b64('new-password-value'), user: b64('same-user-value') } })));
    fs.writeFileSync(path.join(dist, ENV_S, '15-secret-token.yaml'), JSON.stringify(secret('token', { stringData: { token: 'plain-token-value' } })));
  });
  afterEach(async () => {
    await c.close();
    fs.rmSync(dist, { recursive: true, force: true });
  });

  const SECRET_VALUES = ['new-password-value', 'old-password-value', 'same-user-value', 'plain-token-value', 'extra-value'];
  const leaks = (text: string) => SECRET_VALUES.filter((v) => text.includes(v) || text.includes(b64(v)));

  it('masks data values like kubectl: *** for a value, *** (before) / *** (after) for a changed one', async () => {
    const created = await cli(['diff', '--env', ENV_S, '--dist', dist], { cluster: c, connect: false, env: { KUBECONFIG: c.kubeconfig } });
    expect(created.code).toBe(1);
    expect(leaks(created.stdout + created.stderr)).toEqual([]);
    expect(created.stdout).toContain('+  password: "***"\n+  user: "***"\n');
    expect(created.stdout).toContain('+  token: "***"\n');

    c.server.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: NS }, type: 'Opaque', data: { password: b64('old-password-value'), user: b64('same-user-value'), extra: b64('extra-value') } });
    for (const output of ['text', 'json']) {
      const r = await cli(['diff', '--env', ENV_S, '--dist', dist, '-o', output], { cluster: c, connect: false, env: { KUBECONFIG: c.kubeconfig } });
      expect(r.code).toBe(1);
      expect(leaks(r.stdout + r.stderr)).toEqual([]);
      const text = output === 'json' ? (JSON.parse(r.stdout) as { diff: string }[]).map((d) => d.diff).join('') : r.stdout;
      expect(changedLines(text.slice(0, text.indexOf('diff -u -N LIVE/v1.Secret.runai-talmo-lab.token')))).toEqual(['-  password: "*** (before)"', '+  password: "*** (after)"']);
      expect(text).toContain('   extra: "***"\n');
    }
  });
});

describe.skipIf(!KUBECTL)('diff side by side with kubectl diff --server-side', () => {
  let home: string;
  let c: TestCluster;
  beforeAll(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'kubectl-diff-'));
  });
  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));
  beforeEach(async () => {
    c = await startCluster();
  });
  afterEach(async () => {
    await c.close();
  });

  /** The real kubectl diff, as field manager sleap-roots (deploy's), on dist/<env>/. */
  const kubectl = (args: string[], dir = path.join(c.dist, ENV)) =>
    new Promise<CliRun>((resolve) => {
      execFile(
        kubectlPath(),
        ['--kubeconfig', c.kubeconfig, '--cache-dir', path.join(home, 'cache'), 'diff', '--server-side', '--field-manager', 'sleap-roots', '-f', `${dir}/`, ...args],
        { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home }, timeout: 30_000, maxBuffer: 64 << 20 },
        (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
      );
    });

  /** Both tools on the current state: same exit code, same objects differing. */
  async function agree(args: string[] = []): Promise<{ ours: CliRun; theirs: CliRun }> {
    const theirs = await kubectl(args);
    const ours = await cli(['diff', '--env', ENV, ...args], { cluster: c });
    expect(ours.code, `kubectl: ${theirs.stderr}\nours: ${ours.stderr}`).toBe(theirs.code);
    expect([...differing(ours.stdout)].sort()).toEqual([...differing(theirs.stdout)].sort());
    return { ours, theirs };
  }

  it('agree on an empty cluster (every object), after a deploy (none) and after a live change (that object)', async () => {
    const empty = await agree();
    expect(empty.theirs.code).toBe(1);
    expect(differing(empty.theirs.stdout)).toHaveLength(distObjects(c).length);

    await cli(['deploy', '--env', ENV], { cluster: c });
    const deployed = await agree();
    expect(deployed.theirs.code).toBe(0);
    expect(deployed.theirs.stdout).toBe('');

    c.server.modify(PIPELINE, (d) => {
      d.spec.ttlStrategy.secondsAfterSuccess = 1;
    });
    c.server.modify({ apiVersion: 'v1', kind: 'ServiceAccount', namespace: NS, name: 'sleap-roots-step' }, (d) => {
      d.metadata.labels = { ...d.metadata.labels, 'app.kubernetes.io/version': '0.0.9' };
    });
    const changed = await agree();
    expect(changed.theirs.code).toBe(1);
    expect(differing(changed.theirs.stdout)).toHaveLength(2);
    // The same changed lines, kubectl's generation bump aside (diff leaves server-maintained metadata out).
    const theirs = changesByObject(changed.theirs.stdout);
    theirs[PIPELINE_FILE] = theirs[PIPELINE_FILE].filter((l) => !/^[-+]\s+generation:/.test(l));
    expect(changesByObject(changed.ours.stdout)).toEqual(theirs);
    expect(theirs[PIPELINE_FILE]).toEqual(['-    secondsAfterSuccess: 1', '+    secondsAfterSuccess: 86400']);
  });

  it('agree that fields another manager added are no difference', async () => {
    await cli(['deploy', '--env', ENV], { cluster: c });
    const wt = c.server.get(PIPELINE)!;
    wt.metadata.labels = { ...wt.metadata.labels, team: 'roots' };
    c.server.update(wt, { manager: 'kubectl-label' });
    expect((await agree()).theirs.code).toBe(0);
  });

  it('agree on errors: exit 2 for a forbidden read and for a field conflict (and on --force-conflicts)', async () => {
    await cli(['deploy', '--env', ENV], { cluster: c });
    const wt = c.server.get(PIPELINE)!;
    wt.spec.ttlStrategy = { secondsAfterSuccess: 1 };
    c.server.update(wt, { manager: 'kubectl-edit' });
    const conflict = await agree();
    expect(conflict.theirs.code).toBe(2);
    expect(conflict.theirs.stderr).toMatch(/conflict with "kubectl-edit"/);
    expect((await agree(['--force-conflicts'])).theirs.code).toBe(1);

    c.server.inject({ method: 'GET', path: /\/roles\/sleap-roots-step$/, times: Infinity, action: { type: 'status', code: 403, reason: 'Forbidden', message: 'roles.rbac.authorization.k8s.io "sleap-roots-step" is forbidden: User "test-user" cannot get resource "roles"' } });
    const forbidden = await agree();
    expect(forbidden.theirs.code).toBe(2);
    expect(forbidden.theirs.stdout).toBe('');
  });

  it('agree on Secrets and neither shows a value (the stand-in folds stringData into data as the apiserver does)', async () => {
    const dist = fs.mkdtempSync(path.join(os.tmpdir(), 'sleap-roots-diff-dist-'));
    try {
      const dir = path.join(dist, 'secrets');
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, '15-secret-token.yaml'), JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'token', namespace: NS }, type: 'Opaque', stringData: { token: 'plain-token-value' } }));
      c.server.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'token', namespace: NS }, type: 'Opaque', data: { token: b64('older-token-value') } });
      const theirs = await kubectl([], dir);
      const ours = await cli(['diff', '--env', 'secrets', '--dist', dist], { cluster: c, connect: false, env: { KUBECONFIG: c.kubeconfig } });
      expect(theirs.code).toBe(1);
      expect(ours.code).toBe(1);
      for (const out of [theirs.stdout, ours.stdout]) {
        expect(out).not.toMatch(/plain-token-value|older-token-value|stringData/);
        expect(out).not.toContain(b64('plain-token-value'));
        expect(Object.values(changesByObject(out))).toEqual([['-  token: "*** (before)"', '+  token: "*** (after)"']]);
      }
    } finally {
      fs.rmSync(dist, { recursive: true, force: true });
    }
  });
});
