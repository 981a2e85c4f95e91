/**
 * The stand-in Kubernetes API server (test/support/apiserver) over real HTTP, with the real kubectl and with
 * @kubernetes/client-node 1.4.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServerOptions, type FakeApiServer, type KObject } from './support/apiserver';
import { KUBECTL, kubectlPath } from './support/kubectl';

// ---- helpers -------------------------------------------------------------------------------------------------------

const ARGO = 'argoproj.io/v1alpha1';
const WF_PATH = '/apis/argoproj.io/v1alpha1/namespaces/argo/workflows';

const servers: FakeApiServer[] = [];
async function start(opts: ApiServerOptions = {}): Promise<FakeApiServer> {
  const s = await startApiServer({ namespaces: ['argo'], ...opts });
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

async function call(
  s: FakeApiServer,
  method: string,
  path: string,
  body?: unknown,
  opts: { contentType?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (s.token && !headers.Authorization) headers.Authorization = `Bearer ${s.token}`;
  let payload: string | undefined;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    headers['Content-Type'] = opts.contentType ?? 'application/json';
  }
  const r = await fetch(s.url + path, { method, headers, body: payload });
  const text = await r.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text, json };
}

function wf(name: string, spec: Record<string, unknown> = { entrypoint: 'main' }, extra: Partial<KObject['metadata']> = {}): KObject {
  return { apiVersion: ARGO, kind: 'Workflow', metadata: { name, namespace: 'argo', ...extra }, spec };
}

function pod(name: string, containers = ['main'], ns = 'argo'): KObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns }, spec: { containers: containers.map((c) => ({ name: c, image: 'busybox' })) } };
}

/** A streaming GET (watch or follow) read with node:http so partial bodies and abrupt ends are visible. */
class StreamReader {
  text = '';
  status?: number;
  headers: http.IncomingHttpHeaders = {};
  /** 'end' for a clean end of the response, 'aborted' when the connection died mid-response. */
  readonly ended: Promise<'end' | 'aborted'>;
  private waiters: Array<() => void> = [];
  private readonly req: http.ClientRequest;

  constructor(url: string, headers: Record<string, string> = {}) {
    let settle!: (v: 'end' | 'aborted') => void;
    this.ended = new Promise((resolve) => (settle = resolve));
    this.req = http.get(url, { headers, agent: false }, (res) => {
      this.status = res.statusCode;
      this.headers = res.headers;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        this.text += chunk;
        this.notify();
      });
      res.on('error', () => undefined);
      res.on('close', () => {
        settle(res.complete ? 'end' : 'aborted');
        this.notify();
      });
    });
    this.req.on('error', () => {
      settle('aborted');
      this.notify();
    });
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  lines(): string[] {
    return this.text.split('\n').filter((l) => l.length > 0);
  }

  events(): Array<{ type: string; object: any }> {
    return this.lines().map((l) => JSON.parse(l));
  }

  async waitFor(pred: (r: StreamReader) => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; received so far:\n${this.text}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 20));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.req.destroy();
  }
}

const readers: StreamReader[] = [];
function openStream(s: FakeApiServer, path: string, headers: Record<string, string> = {}): StreamReader {
  const r = new StreamReader(s.url + path, { ...(s.token ? { Authorization: `Bearer ${s.token}` } : {}), ...headers });
  readers.push(r);
  return r;
}
afterEach(() => {
  for (const r of readers.splice(0)) r.close();
});

// ---- discovery ---------------------------------------------------------------------------------------------------

describe('discovery', () => {
  it('serves /version, /api, /apis and resource lists', async () => {
    const s = await start();
    expect((await call(s, 'GET', '/version')).json).toMatchObject({ major: '1', minor: '32', gitVersion: 'v1.32.0' });
    expect((await call(s, 'GET', '/api')).json).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = (await call(s, 'GET', '/apis')).json;
    expect(groups.kind).toBe('APIGroupList');
    expect(groups.groups.map((g: any) => g.name)).toEqual(
      expect.arrayContaining(['argoproj.io', 'rbac.authorization.k8s.io', 'scheduling.k8s.io', 'apiextensions.k8s.io', 'authorization.k8s.io', 'authentication.k8s.io']),
    );
    const argo = (await call(s, 'GET', '/apis/argoproj.io/v1alpha1')).json;
    expect(argo).toMatchObject({ kind: 'APIResourceList', groupVersion: ARGO });
    expect(argo.resources.find((r: any) => r.name === 'workflows')).toMatchObject({ kind: 'Workflow', namespaced: true, shortNames: ['wf'], singularName: 'workflow' });
    // The Argo CRD declares no status subresource (subresources: {}).
    expect(argo.resources.map((r: any) => r.name)).toEqual(['workflows', 'workflowtemplates', 'workflowtaskresults']);
    const core = (await call(s, 'GET', '/api/v1')).json;
    expect(core.resources.find((r: any) => r.name === 'pods/log')).toMatchObject({ kind: 'Pod', verbs: ['get'] });
    expect(core.resources.find((r: any) => r.name === 'namespaces')).toMatchObject({ namespaced: false });
    expect((await call(s, 'GET', '/apis/nope.io/v1')).json).toMatchObject({ kind: 'Status', code: 404, reason: 'NotFound' });
  });

  it('answers aggregated discovery when asked for it', async () => {
    const s = await start();
    const accept = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';
    const r = await call(s, 'GET', '/apis', undefined, { headers: { Accept: accept } });
    expect(r.headers.get('content-type')).toBe('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    const argo = r.json.items.find((i: any) => i.metadata.name === 'argoproj.io');
    const workflows = argo.versions[0].resources.find((x: any) => x.resource === 'workflows');
    expect(workflows).toMatchObject({ responseKind: { group: 'argoproj.io', version: 'v1alpha1', kind: 'Workflow' }, scope: 'Namespaced' });
    expect(workflows.subresources ?? []).toEqual([]);
    const legacy = await startApiServer({ aggregatedDiscovery: false });
    servers.push(legacy);
    expect((await call(legacy, 'GET', '/apis', undefined, { headers: { Accept: accept } })).json.kind).toBe('APIGroupList');
  });
});

// ---- CRUD semantics ----------------------------------------------------------------------------------------------

describe('objects', () => {
  it('creates with server-set metadata and a single increasing resourceVersion', async () => {
    const s = await start({ seed: 7 });
    const before = Number(s.resourceVersion);
    const a = await call(s, 'POST', WF_PATH, wf('a'));
    expect(a.status).toBe(201);
    expect(a.json.metadata).toMatchObject({ name: 'a', namespace: 'argo', generation: 1 });
    expect(a.json.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.json.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Number(a.json.metadata.resourceVersion)).toBe(before + 1);
    const cm = await call(s, 'POST', '/api/v1/namespaces/argo/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { k: 'v' } });
    expect(Number(cm.json.metadata.resourceVersion)).toBe(before + 2);
    expect(cm.json.metadata.generation).toBeUndefined();

    const dup = await call(s, 'POST', WF_PATH, wf('a'));
    expect(dup.status).toBe(409);
    expect(dup.json).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'workflows.argoproj.io "a" already exists',
      reason: 'AlreadyExists',
      details: { name: 'a', group: 'argoproj.io', kind: 'workflows' },
      code: 409,
    });
    const missing = await call(s, 'GET', `${WF_PATH}/x`);
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ message: 'workflows.argoproj.io "x" not found', reason: 'NotFound', details: { name: 'x', group: 'argoproj.io', kind: 'workflows' } });
    expect((await call(s, 'GET', '/api/v1/namespaces/argo/pods/p')).json.message).toBe('pods "p" not found');
    const noNs = await call(s, 'POST', '/apis/argoproj.io/v1alpha1/namespaces/nope/workflows', { ...wf('a'), metadata: { name: 'a' } });
    expect(noNs.json).toMatchObject({ code: 404, message: 'namespaces "nope" not found' });
    const bad = await call(s, 'POST', WF_PATH, wf('Bad_Name'));
    expect(bad.status).toBe(422);
    expect(bad.json.reason).toBe('Invalid');
    expect(bad.json.message).toMatch(/^Workflow\.argoproj\.io "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
    expect(bad.json.details.causes[0]).toMatchObject({ reason: 'FieldValueInvalid', field: 'metadata.name' });
    const withRv = await call(s, 'POST', WF_PATH, wf('b', {}, { resourceVersion: '5' }));
    expect(withRv.json).toMatchObject({ code: 500, message: 'Internal error occurred: resourceVersion should not be set on objects to be created' });
  });

  it('generateName appends 5 characters, deterministic with a seed', async () => {
    const names: string[][] = [];
    for (let i = 0; i < 2; i++) {
      const s = await start({ seed: 42 });
      const got: string[] = [];
      for (let j = 0; j < 3; j++) got.push((await call(s, 'POST', WF_PATH, wf('', undefined, { name: undefined, generateName: 'run-' }))).json.metadata.name);
      names.push(got);
    }
    expect(names[0]).toEqual(names[1]);
    for (const n of names[0]) expect(n).toMatch(/^run-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(new Set(names[0]).size).toBe(3);
  });

  it('lists with kind, resourceVersion, selectors and paging', async () => {
    const s = await start();
    const labels: Array<Record<string, string>> = [{ app: 'a', tier: 'x' }, { app: 'b', tier: 'y' }, { app: 'c' }, {}];
    labels.forEach((l, i) => s.put(wf(`w${i}`, undefined, { labels: l })));
    const list = async (q: string) => (await call(s, 'GET', `${WF_PATH}?${q}`)).json;
    const names = async (q: string) => (await list(q)).items.map((i: any) => i.metadata.name);
    const all = await list('');
    expect(all).toMatchObject({ kind: 'WorkflowList', apiVersion: ARGO, metadata: { resourceVersion: s.resourceVersion } });
    expect(all.items[0]).toMatchObject({ apiVersion: ARGO, kind: 'Workflow' });
    const sel = (x: string) => `labelSelector=${encodeURIComponent(x)}`;
    expect(await names(sel('app=a'))).toEqual(['w0']);
    expect(await names(sel('app==b'))).toEqual(['w1']);
    expect(await names(sel('app!=a'))).toEqual(['w1', 'w2', 'w3']);
    expect(await names(sel('app in (a, c)'))).toEqual(['w0', 'w2']);
    expect(await names(sel('app notin (a,c)'))).toEqual(['w1', 'w3']);
    expect(await names(sel('tier'))).toEqual(['w0', 'w1']);
    expect(await names(sel('!tier'))).toEqual(['w2', 'w3']);
    expect(await names(sel('app,tier=y'))).toEqual(['w1']);
    expect(await names(`fieldSelector=${encodeURIComponent('metadata.name=w2')}`)).toEqual(['w2']);
    expect(await names(`fieldSelector=${encodeURIComponent('metadata.name!=w2')}`)).toEqual(['w0', 'w1', 'w3']);
    expect((await call(s, 'GET', `${WF_PATH}?${sel('a b c')}`)).status).toBe(400);
    expect((await call(s, 'GET', `${WF_PATH}?fieldSelector=spec.x%3D1`)).json.message).toBe('"spec.x" is not a known field selector: only "metadata.name", "metadata.namespace"');
    const page1 = await list('limit=3');
    expect(page1.items).toHaveLength(3);
    expect(page1.metadata.remainingItemCount).toBe(1);
    const page2 = await list(`limit=3&continue=${page1.metadata.continue}`);
    expect(page2.items.map((i: any) => i.metadata.name)).toEqual(['w3']);
    expect(page2.metadata.continue).toBeUndefined();
    // Built-in list items carry no kind/apiVersion on the wire, like the real server's.
    s.put(pod('p1'));
    const pods = (await call(s, 'GET', '/api/v1/pods')).json;
    expect(pods.kind).toBe('PodList');
    expect(pods.items[0].kind).toBeUndefined();
    expect((await call(s, 'GET', '/api/v1/pods?fieldSelector=status.phase%3DPending')).json.items).toHaveLength(1);
    expect((await call(s, 'GET', '/api/v1/namespaces')).json.items.map((n: any) => n.metadata.name)).toEqual(['argo', 'default', 'kube-node-lease', 'kube-public', 'kube-system']);
  });

  it('PUT enforces resourceVersion preconditions and bumps generation only on spec changes', async () => {
    const s = await start();
    const created = (await call(s, 'POST', WF_PATH, wf('a'))).json;
    const noRv = structuredClone(created);
    delete noRv.metadata.resourceVersion;
    const r0 = await call(s, 'PUT', `${WF_PATH}/a`, noRv);
    expect(r0.status).toBe(422);
    expect(r0.json.message).toBe('Workflow.argoproj.io "a" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update');
    const labelled = structuredClone(created);
    labelled.metadata.labels = { x: 'y' };
    const r1 = await call(s, 'PUT', `${WF_PATH}/a`, labelled);
    expect(r1.status).toBe(200);
    expect(r1.json.metadata.generation).toBe(1);
    const stale = await call(s, 'PUT', `${WF_PATH}/a`, { ...created, spec: { entrypoint: 'other' } });
    expect(stale.status).toBe(409);
    expect(stale.json).toMatchObject({
      reason: 'Conflict',
      message: 'Operation cannot be fulfilled on workflows.argoproj.io "a": the object has been modified; please apply your changes to the latest version and try again',
    });
    const r2 = await call(s, 'PUT', `${WF_PATH}/a`, { ...r1.json, spec: { entrypoint: 'other' } });
    expect(r2.json.metadata.generation).toBe(2);
    expect(Number(r2.json.metadata.resourceVersion)).toBeGreaterThan(Number(r1.json.metadata.resourceVersion));
    // A no-op write keeps the resourceVersion.
    const r3 = await call(s, 'PUT', `${WF_PATH}/a`, r2.json);
    expect(r3.json.metadata.resourceVersion).toBe(r2.json.metadata.resourceVersion);
    expect((await call(s, 'PUT', `${WF_PATH}/b`, { ...r2.json, metadata: { ...r2.json.metadata, name: 'b' } })).status).toBe(404);
    expect((await call(s, 'PUT', `${WF_PATH}/a`, { ...r2.json, metadata: { ...r2.json.metadata, name: 'b' } })).json.message).toBe(
      'the name of the object (b) does not match the name on the URL (a)',
    );
    // Core types allow unconditional updates.
    s.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'argo' }, data: { a: '1' } });
    const cm = await call(s, 'PUT', '/api/v1/namespaces/argo/configmaps/c', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '2' } });
    expect(cm.json.data).toEqual({ a: '2' });
  });

  it('keeps workflow status in the object, as the Argo CRD has no status subresource', async () => {
    const s = await start();
    const created = (await call(s, 'POST', WF_PATH, { ...wf('a'), status: { phase: 'Running' } })).json;
    expect(created.status).toEqual({ phase: 'Running' });
    const updated = await call(s, 'PUT', `${WF_PATH}/a`, { ...created, status: { phase: 'Succeeded' } });
    expect(updated.json.status).toEqual({ phase: 'Succeeded' });
    expect((await call(s, 'GET', `${WF_PATH}/a/status`)).status).toBe(404);
  });

  it('status is a subresource of pods, and of workflows when configured so', async () => {
    const s = await start({ workflowStatusSubresource: true });
    const created = (await call(s, 'POST', WF_PATH, { ...wf('a'), status: { phase: 'Running' } })).json;
    expect(created.status).toBeUndefined();
    const main = await call(s, 'PUT', `${WF_PATH}/a`, { ...created, status: { phase: 'Ignored' } });
    expect(main.json.status).toBeUndefined();
    const st = await call(s, 'PUT', `${WF_PATH}/a/status`, { ...main.json, spec: { entrypoint: 'ignored' }, status: { phase: 'Running' } });
    expect(st.status).toBe(200);
    expect(st.json.status).toEqual({ phase: 'Running' });
    expect(st.json.spec).toEqual({ entrypoint: 'main' });
    expect(st.json.metadata.generation).toBe(1);
    const patched = await call(s, 'PATCH', `${WF_PATH}/a/status`, { status: { phase: 'Succeeded' } }, { contentType: 'application/merge-patch+json' });
    expect(patched.json.status.phase).toBe('Succeeded');
    expect(s.get({ apiVersion: ARGO, kind: 'Workflow', namespace: 'argo', name: 'a' })!.status.phase).toBe('Succeeded');
    const p = await call(s, 'POST', '/api/v1/namespaces/argo/pods', pod('p'));
    expect(p.json.status).toEqual({ phase: 'Pending', qosClass: 'BestEffort' });
    const ps = await call(s, 'PATCH', '/api/v1/namespaces/argo/pods/p/status', { status: { phase: 'Running' } }, { contentType: 'application/strategic-merge-patch+json' });
    expect(ps.json.status.phase).toBe('Running');
    expect((await call(s, 'GET', '/api/v1/namespaces/argo/configmaps/x/status')).status).toBe(404);
  });

  it('patches: merge, JSON and strategic (not for custom resources)', async () => {
    const s = await start();
    s.put(wf('a', { entrypoint: 'main', arguments: { parameters: [{ name: 'p', value: '1' }] } }, { labels: { a: '1', b: '2' } }));
    const merge = await call(s, 'PATCH', `${WF_PATH}/a`, { metadata: { labels: { a: null, c: '3' } }, spec: { entrypoint: 'x' } }, { contentType: 'application/merge-patch+json' });
    expect(merge.json.metadata.labels).toEqual({ b: '2', c: '3' });
    expect(merge.json.spec).toEqual({ entrypoint: 'x', arguments: { parameters: [{ name: 'p', value: '1' }] } });
    expect(merge.json.metadata.generation).toBe(2);
    const ops = [
      { op: 'test', path: '/spec/entrypoint', value: 'x' },
      { op: 'replace', path: '/spec/entrypoint', value: 'y' },
      { op: 'add', path: '/spec/arguments/parameters/-', value: { name: 'q', value: '2' } },
      { op: 'remove', path: '/metadata/labels/b' },
      { op: 'copy', from: '/spec/entrypoint', path: '/spec/onExit' },
      { op: 'move', from: '/spec/onExit', path: '/spec/serviceAccountName' },
    ];
    const jp = await call(s, 'PATCH', `${WF_PATH}/a`, ops, { contentType: 'application/json-patch+json' });
    expect(jp.status).toBe(200);
    expect(jp.json.spec).toEqual({ entrypoint: 'y', serviceAccountName: 'y', arguments: { parameters: [{ name: 'p', value: '1' }, { name: 'q', value: '2' }] } });
    expect(jp.json.metadata.labels).toEqual({ c: '3' });
    const failedTest = await call(s, 'PATCH', `${WF_PATH}/a`, [{ op: 'test', path: '/spec/entrypoint', value: 'nope' }], { contentType: 'application/json-patch+json' });
    expect(failedTest.status).toBe(422);
    const smpCr = await call(s, 'PATCH', `${WF_PATH}/a`, { spec: {} }, { contentType: 'application/strategic-merge-patch+json' });
    expect(smpCr.status).toBe(415);
    expect(smpCr.json.reason).toBe('UnsupportedMediaType');
    s.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'argo' }, data: { a: '1' } });
    const smp = await call(s, 'PATCH', '/api/v1/namespaces/argo/configmaps/c', { data: { b: '2' }, $retainKeys: ['data'] }, { contentType: 'application/strategic-merge-patch+json' });
    expect(smp.json.data).toEqual({ a: '1', b: '2' });
    const stalePatch = await call(s, 'PATCH', `${WF_PATH}/a`, { metadata: { resourceVersion: '1' } }, { contentType: 'application/merge-patch+json' });
    expect(stalePatch.status).toBe(409);
    expect((await call(s, 'PATCH', `${WF_PATH}/zz`, {}, { contentType: 'application/merge-patch+json' })).status).toBe(404);
  });

  it('dryRun=All validates and answers without storing', async () => {
    const s = await start();
    const rv = s.resourceVersion;
    const c = await call(s, 'POST', `${WF_PATH}?dryRun=All`, wf('d'));
    expect(c.status).toBe(201);
    expect(c.json.metadata.uid).toBeDefined();
    expect(s.get({ apiVersion: ARGO, kind: 'Workflow', namespace: 'argo', name: 'd' })).toBeUndefined();
    expect((await call(s, 'POST', `${WF_PATH}?dryRun=All`, wf('Bad_')))).toMatchObject({ status: 422 });
    s.put(wf('e'));
    const rv2 = s.resourceVersion;
    const p = await call(s, 'PATCH', `${WF_PATH}/e?dryRun=All`, { spec: { entrypoint: 'z' } }, { contentType: 'application/merge-patch+json' });
    expect(p.json.spec.entrypoint).toBe('z');
    const apply = await call(s, 'PATCH', `${WF_PATH}/f?dryRun=All&fieldManager=m`, wf('f'), { contentType: 'application/apply-patch+yaml' });
    expect(apply.status).toBe(201);
    const d = await call(s, 'DELETE', `${WF_PATH}/e?dryRun=All`);
    expect(d.status).toBe(200);
    expect(s.get({ apiVersion: ARGO, kind: 'Workflow', namespace: 'argo', name: 'e' })!.spec.entrypoint).toBe('main');
    expect(s.resourceVersion).toBe(rv2);
    expect(Number(rv2)).toBe(Number(rv) + 1);
    expect((await call(s, 'POST', `${WF_PATH}?dryRun=Some`, wf('g'))).json.message).toBe(
      'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: "Some": supported values: "All"',
    );
  });

  it('folds a Secret\'s stringData into data on every write, never storing or answering it', async () => {
    const s = await start();
    const path = '/api/v1/namespaces/argo/secrets';
    const b64 = (v: string) => Buffer.from(v).toString('base64');
    const secret = (name: string, body: object) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'argo' }, type: 'Opaque', ...body });
    const created = await call(s, 'POST', path, secret('a', { data: { user: b64('me'), token: b64('old') }, stringData: { token: 'new' } }));
    expect(created.status).toBe(201);
    expect(created.json.stringData).toBeUndefined();
    expect(created.json.data).toEqual({ user: b64('me'), token: b64('new') });
    const patched = await call(s, 'PATCH', `${path}/a`, { stringData: { extra: 'x' } }, { contentType: 'application/merge-patch+json' });
    expect(patched.json.stringData).toBeUndefined();
    expect(patched.json.data.extra).toBe(b64('x'));
    const applyPath = (name: string, q = '') => `${path}/${name}?fieldManager=m${q}`;
    const dry = await call(s, 'PATCH', applyPath('b', '&dryRun=All'), secret('b', { stringData: { k: 'v' } }), { contentType: 'application/apply-patch+yaml' });
    expect(dry.json.stringData).toBeUndefined();
    expect(dry.json.data).toEqual({ k: b64('v') });
    const applied = await call(s, 'PATCH', applyPath('b'), secret('b', { stringData: { k: 'v' } }), { contentType: 'application/apply-patch+yaml' });
    expect(applied.json.data).toEqual({ k: b64('v') });
    expect(applied.json.metadata.managedFields[0].fieldsV1['f:stringData']).toEqual({ 'f:k': {} });
    expect(s.get({ apiVersion: 'v1', kind: 'Secret', namespace: 'argo', name: 'b' })!.stringData).toBeUndefined();
    const again = await call(s, 'PATCH', applyPath('b'), secret('b', { stringData: { k: 'v' } }), { contentType: 'application/apply-patch+yaml' });
    expect(again.json.metadata.resourceVersion).toBe(applied.json.metadata.resourceVersion);
  });

  it('DELETE answers with the object or a Status; finalizers defer deletion', async () => {
    const s = await start();
    s.put(wf('a'));
    const d = await call(s, 'DELETE', `${WF_PATH}/a`);
    expect(d.json).toMatchObject({ kind: 'Workflow', metadata: { name: 'a' } });
    const cm = s.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'argo' } });
    const dc = await call(s, 'DELETE', '/api/v1/namespaces/argo/configmaps/c');
    expect(dc.json).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: 'c', kind: 'configmaps', uid: cm.metadata.uid } });
    s.put(wf('f', undefined, { finalizers: ['x/y'] }));
    const df = await call(s, 'DELETE', `${WF_PATH}/f`);
    expect(df.json.metadata.deletionTimestamp).toBeDefined();
    const live = (await call(s, 'GET', `${WF_PATH}/f`)).json;
    const fin = await call(s, 'PATCH', `${WF_PATH}/f`, { metadata: { finalizers: null } }, { contentType: 'application/merge-patch+json' });
    expect(fin.status).toBe(200);
    expect(live.metadata.finalizers).toEqual(['x/y']);
    expect((await call(s, 'GET', `${WF_PATH}/f`)).status).toBe(404);
    // deletecollection by label
    s.put(wf('l1', undefined, { labels: { k: 'v' } }));
    s.put(wf('l2', undefined, { labels: { k: 'v' } }));
    s.put(wf('l3'));
    const coll = await call(s, 'DELETE', `${WF_PATH}?labelSelector=k%3Dv`);
    expect(coll.json.items.map((i: any) => i.metadata.name)).toEqual(['l1', 'l2']);
    expect(s.list(ARGO, 'Workflow', 'argo').map((o) => o.metadata.name)).toEqual(['l3']);
    // Deleting a namespace takes its contents with it.
    await call(s, 'DELETE', '/api/v1/namespaces/argo');
    expect(s.list(ARGO, 'Workflow', 'argo')).toEqual([]);
  });
});

describe('custom resource definitions', () => {
  it('storing a CRD serves its resource until the CRD is deleted', async () => {
    const s = await start();
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'cronworkflows.argoproj.io' },
      spec: {
        group: 'argoproj.io',
        names: { kind: 'CronWorkflow', listKind: 'CronWorkflowList', plural: 'cronworkflows', singular: 'cronworkflow', shortNames: ['cwf'] },
        scope: 'Namespaced',
        versions: [
          {
            name: 'v1alpha1',
            served: true,
            storage: true,
            subresources: {},
            additionalPrinterColumns: [{ name: 'Schedule', type: 'string', jsonPath: '.spec.schedule' }],
            schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        ],
      },
    };
    const path = '/apis/argoproj.io/v1alpha1/namespaces/argo/cronworkflows';
    expect((await call(s, 'GET', path)).status).toBe(404);
    expect((await call(s, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status).toBe(201);
    const discovery = (await call(s, 'GET', '/apis/argoproj.io/v1alpha1')).json;
    expect(discovery.resources.find((r: any) => r.name === 'cronworkflows')).toMatchObject({ kind: 'CronWorkflow', shortNames: ['cwf'] });
    const cwf = { apiVersion: ARGO, kind: 'CronWorkflow', metadata: { name: 'nightly' }, spec: { schedule: '0 0 * * *' } };
    expect((await call(s, 'POST', path, cwf)).status).toBe(201);
    const table = await call(s, 'GET', path, undefined, { headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } });
    expect(table.json.rows[0].cells).toEqual(['nightly', '0 0 * * *']);
    const w = openStream(s, `${path}?watch=true&resourceVersion=${s.resourceVersion}`);
    await w.waitFor((r) => r.status === 200);
    await call(s, 'DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/cronworkflows.argoproj.io');
    await w.waitFor((r) => r.lines().length >= 1);
    expect(w.events()[0]).toMatchObject({ type: 'DELETED', object: { metadata: { name: 'nightly' } } });
    expect((await call(s, 'GET', path)).status).toBe(404);
  });
});

// ---- server-side apply --------------------------------------------------------------------------------------------

describe('server-side apply', () => {
  const apply = (s: FakeApiServer, body: unknown, query: string, name = 'a') =>
    call(s, 'PATCH', `${WF_PATH}/${name}?${query}`, body, { contentType: 'application/apply-patch+yaml' });

  it('requires fieldManager, creates (201) then updates (200) and tracks managedFields', async () => {
    const s = await start();
    const noManager = await apply(s, wf('a'), '');
    expect(noManager.status).toBe(422);
    expect(noManager.json.message).toBe('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    const yaml = 'apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  name: a\n  labels: {app: roots}\nspec:\n  entrypoint: main\n  templates: [{name: main}]\n';
    const c = await apply(s, yaml, 'fieldManager=cli');
    expect(c.status).toBe(201);
    expect(c.json.metadata.managedFields).toEqual([
      {
        manager: 'cli',
        operation: 'Apply',
        apiVersion: ARGO,
        time: expect.any(String),
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:metadata': { 'f:labels': { 'f:app': {} } }, 'f:spec': { 'f:entrypoint': {}, 'f:templates': {} } },
      },
    ]);
    const again = await apply(s, yaml, 'fieldManager=cli');
    expect(again.status).toBe(200);
    expect(again.json.metadata.resourceVersion).toBe(c.json.metadata.resourceVersion);
    const changed = await apply(s, yaml.replace('entrypoint: main', 'entrypoint: other'), 'fieldManager=cli');
    expect(changed.json.spec.entrypoint).toBe('other');
    expect(changed.json.metadata.generation).toBe(2);
    expect(Number(changed.json.metadata.resourceVersion)).toBeGreaterThan(Number(c.json.metadata.resourceVersion));
  });

  it('conflicts with other managers unless forced; fields no longer applied are pruned', async () => {
    const s = await start();
    await apply(s, wf('a', { entrypoint: 'main', onExit: 'cleanup' }), 'fieldManager=first');
    const conflict = await apply(s, wf('a', { entrypoint: 'other' }), 'fieldManager=second');
    expect(conflict.status).toBe(409);
    expect(conflict.json).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Apply failed with 1 conflict: conflict with "first": .spec.entrypoint',
      reason: 'Conflict',
      details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "first"', field: '.spec.entrypoint' }] },
      code: 409,
    });
    // Same value: no conflict, shared ownership.
    const shared = await apply(s, wf('a', { entrypoint: 'main' }), 'fieldManager=second');
    expect(shared.status).toBe(200);
    const forced = await apply(s, wf('a', { entrypoint: 'forced' }), 'fieldManager=second&force=true');
    expect(forced.json.spec.entrypoint).toBe('forced');
    const owners = (mf: any[]) => Object.fromEntries(mf.map((e) => [e.manager, e.fieldsV1]));
    expect(owners(forced.json.metadata.managedFields)).toEqual({
      first: { 'f:spec': { 'f:onExit': {} } },
      second: { 'f:spec': { 'f:entrypoint': {} } },
    });
    // "first" stops applying onExit: it is removed (nobody else applies it).
    const pruned = await apply(s, wf('a', {}), 'fieldManager=first');
    expect(pruned.json.spec).toEqual({ entrypoint: 'forced' });
    expect(owners(pruned.json.metadata.managedFields)).toEqual({ second: { 'f:spec': { 'f:entrypoint': {} } } });
  });

  it('names Update managers the way the apiserver does', async () => {
    const s = await start();
    await call(s, 'POST', `/api/v1/namespaces/argo/configmaps?fieldManager=kubectl-create`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1', b: '2' } });
    const cm = (await call(s, 'GET', '/api/v1/namespaces/argo/configmaps/c')).json;
    expect(cm.metadata.managedFields).toEqual([
      { manager: 'kubectl-create', operation: 'Update', apiVersion: 'v1', time: expect.any(String), fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { '.': {}, 'f:a': {}, 'f:b': {} } } },
    ]);
    const r = await call(s, 'PATCH', '/api/v1/namespaces/argo/configmaps/c?fieldManager=mine', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'x', b: 'y' } }, { contentType: 'application/apply-patch+yaml' });
    expect(r.status).toBe(409);
    expect(r.json.message).toBe('Apply failed with 2 conflicts: conflicts with "kubectl-create" using v1:\n- .data.a\n- .data.b');
    expect(r.json.details.causes).toHaveLength(2);
    // Controller-style status writes are owned separately and never conflict with spec appliers.
    s.put(wf('w'));
    s.modify({ apiVersion: ARGO, kind: 'Workflow', namespace: 'argo', name: 'w' }, (o) => void (o.status = { phase: 'Running' }), { manager: 'workflow-controller', subresource: 'status' });
    const w = await apply(s, wf('w', { entrypoint: 'main' }), 'fieldManager=cli', 'w');
    expect(w.status).toBe(200);
    expect(w.json.status).toEqual({ phase: 'Running' });
  });
});

// ---- watch -------------------------------------------------------------------------------------------------------

describe('watch', () => {
  it('streams ADDED/MODIFIED/DELETED as newline-delimited JSON', async () => {
    const s = await start();
    s.put(wf('old'));
    const w = openStream(s, `${WF_PATH}?watch=true`);
    await w.waitFor((r) => r.lines().length >= 1);
    expect(w.status).toBe(200);
    expect(w.headers['content-type']).toBe('application/json');
    expect(w.headers['transfer-encoding']).toBe('chunked');
    s.put(wf('new'));
    s.modify({ apiVersion: ARGO, kind: 'Workflow', namespace: 'argo', name: 'new' }, (o) => void (o.spec.entrypoint = 'x'));
    const deleted = s.delete({ apiVersion: ARGO, kind: 'Workflow', namespace: 'argo', name: 'new' });
    await w.waitFor((r) => r.lines().length >= 4);
    expect(w.events().map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED old', 'ADDED new', 'MODIFIED new', 'DELETED new']);
    expect(w.events()[3].object.metadata.resourceVersion).toBe(deleted!.metadata.resourceVersion);
    const rvs = w.events().map((e) => Number(e.object.metadata.resourceVersion));
    expect(rvs.slice(1)).toEqual([...rvs.slice(1)].sort((a, b) => a - b));
  });

  it('replays from a resourceVersion and filters by selectors, including objects moving out of the selection', async () => {
    const s = await start();
    const a = s.put(wf('a', undefined, { labels: { sel: 'yes' } }));
    s.put(wf('b', undefined, { labels: { sel: 'no' } }));
    s.modify({ apiVersion: ARGO, kind: 'Workflow', namespace: 'argo', name: 'a' }, (o) => void (o.spec.entrypoint = 'v2'));
    const w = openStream(s, `${WF_PATH}?watch=1&resourceVersion=${a.metadata.resourceVersion}&labelSelector=sel%3Dyes`);
    await w.waitFor((r) => r.lines().length >= 1);
    s.modify({ apiVersion: ARGO, kind: 'Workflow', namespace: 'argo', name: 'b' }, (o) => void (o.metadata.labels!.sel = 'yes'));
    s.modify({ apiVersion: ARGO, kind: 'Workflow', namespace: 'argo', name: 'a' }, (o) => void (o.metadata.labels!.sel = 'no'));
    await w.waitFor((r) => r.lines().length >= 3);
    expect(w.events().map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['MODIFIED a', 'ADDED b', 'DELETED a']);
    const byName = openStream(s, `${WF_PATH}?watch=1&fieldSelector=metadata.name%3Db`);
    await byName.waitFor((r) => r.lines().length >= 1);
    expect(byName.events().map((e) => e.object.metadata.name)).toEqual(['b']);
  });

  it('a too-old resourceVersion gets one ERROR 410 Expired event (or HTTP 410 when configured)', async () => {
    const s = await start({ watchHistory: 2 });
    for (let i = 0; i < 5; i++) s.put(wf(`w${i}`));
    const w = openStream(s, `${WF_PATH}?watch=true&resourceVersion=1`);
    expect(await w.ended).toBe('end');
    expect(w.status).toBe(200);
    const [ev] = w.events();
    expect(w.events()).toHaveLength(1);
    expect(ev.type).toBe('ERROR');
    expect(ev.object).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410 });
    expect(ev.object.message).toMatch(/^too old resource version: 1 \(\d+\)$/);
    const recent = openStream(s, `${WF_PATH}?watch=true&resourceVersion=${Number(s.resourceVersion) - 1}`);
    await recent.waitFor((r) => r.lines().length >= 1);
    expect(recent.events()[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'w4' } } });
    s.compactHistory();
    const afterCompact = openStream(s, `${WF_PATH}?watch=true&resourceVersion=${Number(s.resourceVersion) - 1}`);
    await afterCompact.ended;
    expect(afterCompact.events()[0].type).toBe('ERROR');

    const strict = await start({ expiredWatchAsHttp410: true });
    strict.put(wf('x'));
    strict.compactHistory();
    const r = await call(strict, 'GET', `${WF_PATH}?watch=true&resourceVersion=1`);
    expect(r.status).toBe(410);
    expect(r.json).toMatchObject({ kind: 'Status', reason: 'Expired', code: 410 });
  });

  it('bookmarks, initial-events-end and timeoutSeconds', async () => {
    const s = await start({ bookmarkIntervalMs: 50 });
    s.put(wf('a'));
    const w = openStream(s, `${WF_PATH}?watch=true&allowWatchBookmarks=true&resourceVersion=${s.resourceVersion}`);
    await w.waitFor((r) => r.events().some((e) => e.type === 'BOOKMARK'));
    expect(w.events().find((e) => e.type === 'BOOKMARK')!.object).toEqual({ kind: 'Workflow', apiVersion: ARGO, metadata: { resourceVersion: s.resourceVersion } });
    const list = openStream(s, `${WF_PATH}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan`);
    await list.waitFor((r) => r.events().some((e) => e.object.metadata.annotations?.['k8s.io/initial-events-end'] === 'true'));
    expect(list.events()[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'a' } } });
    const started = Date.now();
    const t = openStream(s, `${WF_PATH}?watch=true&timeoutSeconds=1`);
    expect(await t.ended).toBe('end');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(s.openWatches).toBe(2);
  });

  it('serves Table watch events to kubectl-style clients', async () => {
    const s = await start();
    const w = openStream(s, `${WF_PATH}?watch=true`, { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
    s.put({ ...wf('t'), status: { phase: 'Running' } });
    await w.waitFor((r) => r.lines().length >= 1);
    const ev = w.events()[0];
    expect(ev.object.kind).toBe('Table');
    expect(ev.object.columnDefinitions.map((c: any) => c.name)).toEqual(['Name', 'Status', 'Age', 'Message']);
    expect(ev.object.rows[0].cells.slice(0, 2)).toEqual(['t', 'Running']);
    expect(ev.object.rows[0].object).toMatchObject({ kind: 'PartialObjectMetadata', metadata: { name: 't' } });
  });
});

// ---- logs --------------------------------------------------------------------------------------------------------

describe('pod logs', () => {
  const LOG = '/api/v1/namespaces/argo/pods';

  it('serves lines with timestamps, tailLines, limitBytes and the real error messages', async () => {
    const s = await start();
    s.put(pod('p', ['main', 'wait']));
    s.appendLog('argo', 'p', 'main', ['one', 'two', 'three']);
    const plain = await call(s, 'GET', `${LOG}/p/log?container=main`);
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toBe('text/plain');
    expect(plain.text).toBe('one\ntwo\nthree\n');
    const ts = await call(s, 'GET', `${LOG}/p/log?container=main&timestamps=true`);
    const lines = ts.text.trim().split('\n');
    for (const l of lines) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (one|two|three)$/);
    expect([...lines].sort()).toEqual(lines);
    expect((await call(s, 'GET', `${LOG}/p/log?container=main&tailLines=2`)).text).toBe('two\nthree\n');
    expect((await call(s, 'GET', `${LOG}/p/log?container=main&limitBytes=6`)).text).toBe('one\ntw');
    expect((await call(s, 'GET', `${LOG}/p/log?container=main&tailLines=-1`)).json.message).toBe('PodLogOptions "p" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0');
    const noContainer = await call(s, 'GET', `${LOG}/p/log`);
    expect(noContainer.json).toMatchObject({ code: 400, reason: 'BadRequest', message: 'a container name must be specified for pod p, choose one of: [main wait]' });
    expect((await call(s, 'GET', `${LOG}/p/log?container=nope`)).json.message).toBe('container nope is not valid for pod p');
    expect((await call(s, 'GET', `${LOG}/missing/log`)).json).toMatchObject({ code: 404, message: 'pods "missing" not found' });
    s.put(pod('single'));
    s.appendLog('argo', 'single', 'main', 'only\n');
    expect((await call(s, 'GET', `${LOG}/single/log`)).text).toBe('only\n');
    s.put({ ...pod('waiting'), status: { phase: 'Pending', containerStatuses: [{ name: 'main', state: { waiting: { reason: 'ContainerCreating' } } }] } });
    expect((await call(s, 'GET', `${LOG}/waiting/log`)).json.message).toBe('container "main" in pod "waiting" is waiting to start: ContainerCreating');
  });

  it('sinceTime resumes from a timestamp (whole seconds like a real cluster, or exact)', async () => {
    for (const precision of ['second', 'nanosecond'] as const) {
      const s = await start({ logSinceTimePrecision: precision });
      s.put(pod('p'));
      s.appendLog('argo', 'p', 'main', [
        { text: 'a', time: '2030-01-01T00:00:01.100000000Z' },
        { text: 'b', time: '2030-01-01T00:00:01.200000000Z' },
        { text: 'c', time: '2030-01-01T00:00:02.300000000Z' },
      ]);
      const r = await call(s, 'GET', `${LOG}/p/log?timestamps=true&sinceTime=${encodeURIComponent('2030-01-01T00:00:01.200000000Z')}`);
      const got = r.text.trim().split('\n').map((l) => l.split(' ')[1]);
      expect(got).toEqual(precision === 'second' ? ['a', 'b', 'c'] : ['b', 'c']);
      expect(r.text.split('\n')[0].split(' ')[0]).toBe(precision === 'second' ? '2030-01-01T00:00:01.100000000Z' : '2030-01-01T00:00:01.200000000Z');
    }
  });

  it('follow streams appended lines until the container terminates', async () => {
    const s = await start();
    s.put(pod('p'));
    s.appendLog('argo', 'p', 'main', 'first');
    const f = openStream(s, `${LOG}/p/log?follow=true`);
    await f.waitFor((r) => r.text === 'first\n');
    s.appendLog('argo', 'p', 'main', ['second', 'third']);
    await f.waitFor((r) => r.text === 'first\nsecond\nthird\n');
    s.terminateContainer('argo', 'p', 'main', { exitCode: 3 });
    expect(await f.ended).toBe('end');
    const status = s.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'argo', name: 'p' })!.status;
    expect(status.containerStatuses[0]).toMatchObject({ name: 'main', ready: false, state: { terminated: { exitCode: 3, reason: 'Error' } } });
    // Following a terminated container returns what is there and ends.
    expect((await call(s, 'GET', `${LOG}/p/log?follow=true`)).text).toBe('first\nsecond\nthird\n');
  });

  it('a follower that disconnects is forgotten', async () => {
    const s = await start();
    s.put(pod('p'));
    const f = openStream(s, `${LOG}/p/log?follow=1`);
    await f.waitFor((r) => r.status === 200);
    f.close();
    await f.ended;
    await new Promise((r) => setTimeout(r, 20));
    s.appendLog('argo', 'p', 'main', 'after');
    expect(s.logLines('argo', 'p', 'main')).toEqual(['after']);
  });
});

// ---- authentication and authorization ----------------------------------------------------------------------------

describe('auth', () => {
  it('requires the bearer token when configured', async () => {
    const s = await start({ token: 's3cret' });
    const r = await fetch(`${s.url}/api/v1/namespaces`);
    expect(r.status).toBe(401);
    expect(await r.json()).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    const wrong = await fetch(`${s.url}/api/v1/namespaces`, { headers: { Authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect((await call(s, 'GET', '/api/v1/namespaces')).status).toBe(200);
    expect(JSON.stringify(s.requests)).not.toContain('s3cret');
  });

  it('answers SelfSubjectReview and SelfSubjectAccessReview, and enforces the rules', async () => {
    const s = await start({ user: { username: 'alice', groups: ['devs', 'system:authenticated'] } });
    const who = await call(s, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    expect(who.status).toBe(201);
    expect(who.json.status.userInfo).toEqual({ username: 'alice', groups: ['devs', 'system:authenticated'] });
    const review = (verb: string, resource: string, namespace = 'argo', group = 'argoproj.io') =>
      call(s, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { verb, resource, namespace, group } },
      });
    expect((await review('create', 'workflows')).json.status).toEqual({ allowed: true });
    s.setAccess([
      { verbs: ['get', 'list', 'watch'], apiGroups: ['argoproj.io'], resources: ['workflows'], namespaces: ['argo'] },
      { verbs: ['get'], apiGroups: [''], resources: ['pods/log'] },
    ]);
    expect((await review('create', 'workflows')).json.status.allowed).toBe(false);
    expect((await review('list', 'workflows')).json.status.allowed).toBe(true);
    expect((await review('list', 'workflows', 'other')).json.status.allowed).toBe(false);
    const denied = await call(s, 'POST', WF_PATH, wf('a'));
    expect(denied.status).toBe(403);
    expect(denied.json).toMatchObject({
      reason: 'Forbidden',
      message: 'workflows.argoproj.io is forbidden: User "alice" cannot create resource "workflows" in API group "argoproj.io" in the namespace "argo"',
      details: { group: 'argoproj.io', kind: 'workflows' },
    });
    expect((await call(s, 'GET', '/api/v1/namespaces/argo/pods/x')).json.message).toBe(
      'pods "x" is forbidden: User "alice" cannot get resource "pods" in API group "" in the namespace "argo"',
    );
    expect((await call(s, 'GET', WF_PATH)).status).toBe(200);
    expect((await call(s, 'GET', '/apis')).status).toBe(200);
    s.setAccess(null);
    expect((await call(s, 'POST', WF_PATH, wf('a'))).status).toBe(201);
  });
});

// ---- faults, control API, request log ----------------------------------------------------------------------------

describe('fault injection', () => {
  it('one-shot and N-times status faults', async () => {
    const s = await start();
    s.put(wf('a'));
    const h = s.inject({ method: 'GET', path: `${WF_PATH}/a`, action: { type: 'tooManyRequests', retryAfterSeconds: 3 }, times: 2 });
    const r1 = await call(s, 'GET', `${WF_PATH}/a`);
    expect(r1.status).toBe(429);
    expect(r1.headers.get('retry-after')).toBe('3');
    expect(r1.json).toMatchObject({ reason: 'TooManyRequests', code: 429, details: { retryAfterSeconds: 3 } });
    expect((await call(s, 'GET', `${WF_PATH}/a`)).status).toBe(429);
    expect((await call(s, 'GET', `${WF_PATH}/a`)).status).toBe(200);
    expect(h.hits).toBe(2);
    s.inject({ method: 'POST', path: /\/workflows$/, action: { type: 'conflict' } });
    const c = await call(s, 'POST', WF_PATH, wf('b'));
    expect(c.json).toMatchObject({ code: 409, reason: 'Conflict' });
    expect((await call(s, 'POST', WF_PATH, wf('b'))).status).toBe(201);
    s.inject({ path: (req) => req.query.get('labelSelector') === 'boom', action: { type: 'internalError', message: 'etcd down' } });
    expect((await call(s, 'GET', `${WF_PATH}?labelSelector=boom`)).json).toMatchObject({ code: 500, reason: 'InternalError', message: 'Internal error occurred: etcd down' });
    s.inject({ action: { type: 'reset' } });
    await expect(fetch(`${s.url}/version`)).rejects.toThrow();
    expect((await call(s, 'GET', '/version')).status).toBe(200);
    s.inject({ action: { type: 'delay', ms: 150 } });
    const t0 = Date.now();
    await call(s, 'GET', '/version');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it('drops or expires watches after K events, and drops logs after K lines', async () => {
    const s = await start();
    for (let i = 0; i < 5; i++) s.put(wf(`w${i}`));
    s.inject({ path: WF_PATH, action: { type: 'dropWatch', afterEvents: 2 } });
    // Plain lists are not watches: the fault waits for the watch.
    expect((await call(s, 'GET', WF_PATH)).status).toBe(200);
    const dropped = openStream(s, `${WF_PATH}?watch=true`);
    expect(await dropped.ended).toBe('aborted');
    expect(dropped.events()).toHaveLength(2);
    s.inject({ path: WF_PATH, action: { type: 'expireWatch', afterEvents: 1 } });
    const expiredW = openStream(s, `${WF_PATH}?watch=true`);
    expect(await expiredW.ended).toBe('end');
    expect(expiredW.events().map((e) => e.type)).toEqual(['ADDED', 'ERROR']);
    expect(expiredW.events()[1].object).toMatchObject({ reason: 'Expired', code: 410 });
    const live = openStream(s, `${WF_PATH}?watch=true&resourceVersion=${s.resourceVersion}`);
    await live.waitFor((r) => r.status === 200);
    await new Promise((r) => setTimeout(r, 20));
    expect(s.expireWatches()).toBe(1);
    expect(await live.ended).toBe('end');
    expect(live.events()[0].type).toBe('ERROR');

    s.put(pod('p'));
    s.appendLog('argo', 'p', 'main', ['1', '2', '3', '4']);
    s.inject({ path: /\/log$/, action: { type: 'dropLog', afterLines: 2 } });
    const log = openStream(s, '/api/v1/namespaces/argo/pods/p/log?follow=true');
    expect(await log.ended).toBe('aborted');
    expect(log.text).toBe('1\n2\n');
  });

  it('replaces a step pod by its retry, emitting watch events', async () => {
    const s = await start();
    s.put({ ...pod('wf-step-1'), metadata: { name: 'wf-step-1', namespace: 'argo', labels: { 'workflows.argoproj.io/workflow': 'wf' } } });
    const w = openStream(s, `/api/v1/namespaces/argo/pods?watch=true&labelSelector=${encodeURIComponent('workflows.argoproj.io/workflow=wf')}`);
    await w.waitFor((r) => r.lines().length >= 1);
    const { created } = s.replacePodWithRetry('argo', 'wf-step-1');
    expect(created.metadata.name).toBe('wf-step-1-retry');
    await w.waitFor((r) => r.lines().length >= 3);
    expect(w.events().map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED wf-step-1', 'DELETED wf-step-1', 'ADDED wf-step-1-retry']);
    expect(w.events()[2].object.status).toEqual({ phase: 'Pending' });
  });

  it('records requests without credentials', async () => {
    const s = await start({ token: 't0k' });
    s.clearRequests();
    await call(s, 'PATCH', `${WF_PATH}/a?fieldManager=cli&force=true`, wf('a'), { contentType: 'application/apply-patch+yaml' });
    expect(s.requests).toEqual([
      expect.objectContaining({
        method: 'PATCH',
        path: `${WF_PATH}/a`,
        query: { fieldManager: 'cli', force: 'true' },
        contentType: 'application/apply-patch+yaml',
        status: 201,
      }),
    ]);
  });

  it('close() ends open watches and log follows', async () => {
    const s = await startApiServer({ namespaces: ['argo'] });
    s.put(pod('p'));
    const w = openStream(s, `${WF_PATH}?watch=true`);
    const f = openStream(s, '/api/v1/namespaces/argo/pods/p/log?follow=true');
    await w.waitFor((r) => r.status === 200);
    await f.waitFor((r) => r.status === 200);
    await s.close();
    await Promise.all([w.ended, f.ended]);
  });
});

// ---- the real kubectl ----------------------------------------------------------------------------------------------


// kubectl ships with the machine image (gcloud SDK); without it these checks cannot run at all.
describe.skipIf(!KUBECTL)('kubectl', () => {
  let home: string;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'kubectl-home-'));
    // An empty kubeconfig: everything comes from flags, nothing from ~/.kube.
    writeFileSync(join(home, 'empty-kubeconfig'), 'apiVersion: v1\nkind: Config\n');
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  });

  const env = (kubeconfig = join(home, 'empty-kubeconfig')) => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, KUBECONFIG: kubeconfig });
  const flags = (s: FakeApiServer) => ['--server', s.url, '--insecure-skip-tls-verify=false', '--cache-dir', join(home, 'cache')];

  function kubectl(s: FakeApiServer, args: string[], kubeconfig?: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(kubectlPath(), [...(kubeconfig ? [] : flags(s)), ...args], { env: env(kubeconfig), timeout: 15_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });
  }

  function kubectlStream(s: FakeApiServer, args: string[]) {
    const child = spawn(kubectlPath(), [...flags(s), ...args], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const out = { stdout: '', stderr: '' };
    child.stdout!.on('data', (d) => (out.stdout += d));
    child.stderr!.on('data', (d) => (out.stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('exit', () => clearTimeout(killer));
    const waitFor = async (pred: (text: string) => boolean, timeoutMs = 8000) => {
      const deadline = Date.now() + timeoutMs;
      while (!pred(out.stdout)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`kubectl output so far:\n${out.stdout}\n${out.stderr}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    return { child, out, exited, waitFor };
  }

  function manifest(spec: string): string {
    const file = join(home, `m-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, `apiVersion: argoproj.io/v1alpha1\nkind: WorkflowTemplate\nmetadata:\n  name: tmpl\n  namespace: argo\n  labels:\n    app: roots\nspec:\n${spec}`);
    return file;
  }

  it('apply --server-side twice leaves the resourceVersion unchanged, and reports conflicts', async () => {
    const s = await start();
    const file = manifest('  entrypoint: main\n  templates:\n  - name: main\n    container:\n      image: busybox\n');
    const first = await kubectl(s, ['apply', '--server-side', '-f', file, '--field-manager', 'x']);
    expect(first).toMatchObject({ code: 0, stdout: 'workflowtemplate.argoproj.io/tmpl serverside-applied\n' });
    const rv1 = s.get({ apiVersion: ARGO, kind: 'WorkflowTemplate', namespace: 'argo', name: 'tmpl' })!.metadata.resourceVersion;
    const second = await kubectl(s, ['apply', '--server-side', '-f', file, '--field-manager', 'x']);
    expect(second).toMatchObject({ code: 0, stdout: 'workflowtemplate.argoproj.io/tmpl serverside-applied\n' });
    expect(s.get({ apiVersion: ARGO, kind: 'WorkflowTemplate', namespace: 'argo', name: 'tmpl' })!.metadata.resourceVersion).toBe(rv1);
    const applies = s.requests.filter((r) => r.method === 'PATCH');
    expect(applies[0]).toMatchObject({ contentType: 'application/apply-patch+yaml', query: { fieldManager: 'x', force: 'false', fieldValidation: 'Strict' } });

    const other = manifest('  entrypoint: other\n');
    const clash = await kubectl(s, ['apply', '--server-side', '-f', other, '--field-manager', 'other-manager']);
    expect(clash.code).not.toBe(0);
    expect(clash.stderr).toContain('error: Apply failed with 1 conflict: conflict with "x": .spec.entrypoint');
    const forced = await kubectl(s, ['apply', '--server-side', '--force-conflicts', '-f', other, '--field-manager', 'other-manager']);
    expect(forced.code).toBe(0);
    const got = await kubectl(s, ['get', 'wftmpl', 'tmpl', '-n', 'argo', '-o', 'jsonpath={.spec.entrypoint}']);
    expect(got.stdout).toBe('other');
  });

  it('unknown fields: apply --server-side is refused whatever --validate says, as structured-merge-diff refuses them', async () => {
    const s = await start();
    const file = manifest('  entrypoint: main\n  bogus: 1\n  templates:\n  - name: main\n    container:\n      image: busybox\n      env:\n      - name: A\n        value: b\n        colour: red\n');
    for (const validate of ['strict', 'ignore']) {
      const r = await kubectl(s, ['apply', '--server-side', `--validate=${validate}`, '-f', file]);
      expect(r.code, validate).not.toBe(0);
      // kubectl prints a Status without a reason as "Error from server: <message>" (cmd/util/helpers.go StandardErrorMessage).
      expect(r.stderr, validate).toBe(
        'Error from server: failed to create typed patch object (argo/tmpl; argoproj.io/v1alpha1, Kind=WorkflowTemplate): errors:\n  .spec.bogus: field not declared in schema\n  .spec.templates[0].container.env[name="A"].colour: field not declared in schema\n',
      );
    }
    expect(s.get({ apiVersion: ARGO, kind: 'WorkflowTemplate', namespace: 'argo', name: 'tmpl' })).toBeUndefined();
    const cm = join(home, 'cm.yaml');
    writeFileSync(cm, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: argo\nspec:\n  x: 1\n');
    expect((await kubectl(s, ['apply', '--server-side', '-f', cm])).stderr).toBe('Error from server: failed to create typed patch object (argo/c; /v1, Kind=ConfigMap): .spec: field not declared in schema\n');
  });

  it('unknown fields on create: Strict is a 400 naming them, Warn a Warning header each, Ignore drops them silently', async () => {
    const s = await start();
    const file = manifest('  entrypoint: main\n  bogus: 1\n');
    const strict = await kubectl(s, ['create', '-f', file]);
    expect(strict.code).not.toBe(0);
    expect(strict.stderr).toBe(`Error from server (BadRequest): error when creating "${file}": WorkflowTemplate in version "v1alpha1" cannot be handled as a WorkflowTemplate: strict decoding error: unknown field "spec.bogus"\n`);
    expect(s.requests.filter((r) => r.method === 'POST').slice(-1)[0].query).toMatchObject({ fieldValidation: 'Strict' });

    const warned = await kubectl(s, ['create', '--validate=warn', '-f', file]);
    expect(warned).toMatchObject({ code: 0, stdout: 'workflowtemplate.argoproj.io/tmpl created\n', stderr: 'Warning: unknown field "spec.bogus"\n' });
    expect(s.get({ apiVersion: ARGO, kind: 'WorkflowTemplate', namespace: 'argo', name: 'tmpl' })!.spec).toEqual({ entrypoint: 'main' });

    // kubectl patch sends no fieldValidation (pkg/cmd/patch/patch.go has no --validate): the server's default is Warn.
    const patched = await kubectl(s, ['patch', 'wftmpl', 'tmpl', '-n', 'argo', '--type', 'merge', '-p', '{"spec":{"other":2,"entrypoint":"x"}}']);
    expect(patched).toMatchObject({ code: 0, stderr: 'Warning: unknown field "spec.other"\n' });
    expect(s.requests.filter((r) => r.method === 'PATCH').slice(-1)[0].query.fieldValidation).toBeUndefined();
    expect(s.get({ apiVersion: ARGO, kind: 'WorkflowTemplate', namespace: 'argo', name: 'tmpl' })!.spec).toEqual({ entrypoint: 'x' });

    const ignored = await kubectl(s, ['replace', '--validate=ignore', '-f', manifest('  entrypoint: second\n  bogus: 1\n')]);
    expect(ignored).toMatchObject({ code: 0, stderr: '' });
    expect(s.get({ apiVersion: ARGO, kind: 'WorkflowTemplate', namespace: 'argo', name: 'tmpl' })!.spec).toEqual({ entrypoint: 'second' });
  });

  it('moves a client-side-applied object to kubectl apply --server-side without conflicts, as the server and kubectl do', async () => {
    const s = await start();
    const file = manifest('  entrypoint: main\n');
    expect(await kubectl(s, ['apply', '-f', file])).toMatchObject({ code: 0, stdout: 'workflowtemplate.argoproj.io/tmpl created\n' });
    const ref = { apiVersion: ARGO, kind: 'WorkflowTemplate', namespace: 'argo', name: 'tmpl' };
    expect(s.get(ref)!.metadata.managedFields!.map((e) => `${e.manager}/${e.operation}`)).toEqual(['kubectl-client-side-apply/Update']);
    // A value the client-side apply set, changed: for manager "kubectl" the server allows it (lastappliedmanager.go).
    const changed = manifest('  entrypoint: other\n');
    const ssa = await kubectl(s, ['apply', '--server-side', '-f', changed]);
    expect(ssa).toMatchObject({ code: 0, stdout: 'workflowtemplate.argoproj.io/tmpl serverside-applied\n', stderr: '' });
    const after = s.get(ref)!;
    expect(after.spec).toEqual({ entrypoint: 'other' });
    // lastappliedupdater.go: the annotation now holds what was applied.
    expect(JSON.parse(after.metadata.annotations!['kubectl.kubernetes.io/last-applied-configuration'])).toMatchObject({ kind: 'WorkflowTemplate', spec: { entrypoint: 'other' } });
    // kubectl then applies the annotation as kubectl-last-applied, moves the client-side entry's fields to its own
    // (apply.go `saveLastApplyAnnotationIfNecessary`, `migrateToSSAIfNecessary`: client-go util/csaupgrade) and
    // applies again; the apply leaves the applier owning exactly its configuration, and keeps spec.
    expect(after.metadata.managedFields!.map((e) => `${e.manager}/${e.operation}`)).toEqual(['kubectl/Apply', 'kubectl-last-applied/Apply']);
    expect(after.metadata.managedFields![0].fieldsV1).toEqual({ 'f:metadata': { 'f:labels': { 'f:app': {} } }, 'f:spec': { 'f:entrypoint': {} } });
    // Another manager gets the conflict a real server reports.
    const third = await kubectl(s, ['apply', '--server-side', '--field-manager', 'sleap-roots', '-f', manifest('  entrypoint: third\n')]);
    expect(third.stderr).toContain('error: Apply failed with 1 conflict: conflict with "kubectl": .spec.entrypoint');
  });

  it('server-side apply merges list-maps by key: each manager owns its items, an updater\'s item stays', async () => {
    const s = await start();
    // spec.templateDefaults.container.env is `x-kubernetes-list-type: map` keyed by name in the pinned Argo CRD.
    const env = (...items: string[]) => manifest(`  entrypoint: main\n  templateDefaults:\n    container:\n      image: busybox\n${items.length ? '      env:\n' : ''}${items.map((i) => `      - name: ${i}\n        value: v${i}\n`).join('')}`);
    const ref = { apiVersion: ARGO, kind: 'WorkflowTemplate', namespace: 'argo', name: 'tmpl' };
    const names = () => (s.get(ref)!.spec.templateDefaults.container.env as { name: string }[]).map((e) => e.name);
    expect((await kubectl(s, ['apply', '--server-side', '--field-manager', 'a', '-f', env('A')])).code).toBe(0);
    const b = await kubectl(s, ['apply', '--server-side', '--field-manager', 'b', '-f', env('B')]);
    // b claims entrypoint and image too, with a's values: shared, no conflict; its env item is added beside a's.
    expect(b).toMatchObject({ code: 0, stderr: '' });
    expect(names()).toEqual(['A', 'B']);
    const fields = (m: string) => JSON.stringify(s.get(ref)!.metadata.managedFields!.find((e) => e.manager === m)!.fieldsV1);
    expect(fields('a')).toContain('"f:env":{"k:{\\"name\\":\\"A\\"}":{".":{},"f:name":{},"f:value":{}}}');
    expect(fields('b')).not.toContain('A\\"}');
    // An Update manager (kubectl patch) adds an item; a's next apply leaves it, and drops only a's own item.
    const patch = { spec: { templateDefaults: { container: { env: [{ name: 'A', value: 'vA' }, { name: 'B', value: 'vB' }, { name: 'C', value: 'vC' }] } } } };
    expect((await kubectl(s, ['patch', 'wftmpl', 'tmpl', '-n', 'argo', '--type', 'merge', '-p', JSON.stringify(patch)])).code).toBe(0);
    expect((await kubectl(s, ['apply', '--server-side', '--field-manager', 'a', '-f', env()])).code).toBe(0);
    expect(names()).toEqual(['B', 'C']);
    // Changing b's item is a conflict on that item's field, named by key as the server names it.
    const clash = await kubectl(s, ['apply', '--server-side', '--field-manager', 'a', '-f', manifest('  templateDefaults:\n    container:\n      env:\n      - name: B\n        value: changed\n')]);
    expect(clash.stderr).toContain('error: Apply failed with 1 conflict: conflict with "b": .spec.templateDefaults.container.env[name="B"].value');
  });

  it('an apply that creates needs create as well as patch; one that updates needs patch', async () => {
    const s = await start();
    s.setAccess([{ verbs: ['get', 'list', 'patch'], apiGroups: ['argoproj.io'], resources: ['workflowtemplates'] }]);
    const file = manifest('  entrypoint: main\n');
    const refused = await kubectl(s, ['apply', '--server-side', '-f', file]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/^Error from server \(Forbidden\): workflowtemplates\.argoproj\.io "tmpl" is forbidden/);
    s.put({ apiVersion: ARGO, kind: 'WorkflowTemplate', metadata: { name: 'tmpl', namespace: 'argo' }, spec: { entrypoint: 'old' } });
    expect(await kubectl(s, ['apply', '--server-side', '--force-conflicts', '-f', file])).toMatchObject({ code: 0, stdout: 'workflowtemplate.argoproj.io/tmpl serverside-applied\n' });
  });

  it('without the OpenAPI documents kubectl apply needs --validate=false', async () => {
    const s = await start({ openapi: false });
    const file = manifest('  entrypoint: main\n');
    const refused = await kubectl(s, ['apply', '--server-side', '-f', file]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('failed to download openapi');
    expect(await kubectl(s, ['apply', '--server-side', '--validate=false', '-f', file])).toMatchObject({ code: 0, stdout: 'workflowtemplate.argoproj.io/tmpl serverside-applied\n' });
  });

  it('get -w prints the initial table and then the events the test puts', async () => {
    const s = await start();
    s.put({ ...wf('first'), status: { phase: 'Running' } });
    const k = kubectlStream(s, ['get', 'workflows', '-n', 'argo', '-w']);
    await k.waitFor((t) => /first\s+Running/.test(t));
    expect(k.out.stdout.split('\n')[0]).toMatch(/^NAME\s+STATUS\s+AGE\s+MESSAGE$/);
    s.put({ ...wf('second'), status: { phase: 'Pending', message: 'waiting' } });
    await k.waitFor((t) => /second\s+Pending\s+waiting/.test(t));
    k.child.kill();
    await k.exited;
  });

  it('logs -f follows appended lines until the container terminates', async () => {
    const s = await start();
    s.put(pod('p'));
    s.appendLog('argo', 'p', 'main', 'hello');
    const k = kubectlStream(s, ['logs', '-f', 'p', '-n', 'argo']);
    await k.waitFor((t) => t === 'hello\n');
    s.appendLog('argo', 'p', 'main', ['world', 'bye']);
    await k.waitFor((t) => t === 'hello\nworld\nbye\n');
    s.terminateContainer('argo', 'p', 'main');
    expect(await k.exited).toBe(0);
    expect(k.out.stdout).toBe('hello\nworld\nbye\n');
  });

  it('auth can-i and auth whoami', async () => {
    const s = await start({ user: { username: 'ci-bot', groups: ['system:authenticated'] } });
    expect(await kubectl(s, ['auth', 'can-i', 'create', 'workflows.argoproj.io', '-n', 'argo'])).toMatchObject({ code: 0, stdout: 'yes\n' });
    s.setAccess([{ verbs: ['get', 'list'], apiGroups: ['argoproj.io'], resources: ['workflows'] }]);
    expect(await kubectl(s, ['auth', 'can-i', 'create', 'workflows.argoproj.io', '-n', 'argo'])).toMatchObject({ code: 1, stdout: 'no\n' });
    expect(await kubectl(s, ['auth', 'can-i', 'list', 'workflows.argoproj.io', '-n', 'argo'])).toMatchObject({ code: 0, stdout: 'yes\n' });
    const who = await kubectl(s, ['auth', 'whoami']);
    expect(who.code).toBe(0);
    expect(who.stdout).toMatch(/^ATTRIBUTE\s+VALUE\nUsername\s+ci-bot\nGroups\s+\[system:authenticated\]\n$/);
  });

  it('works through a kubeconfig; client-go never sends a bearer token over plain http', async () => {
    const open = await start();
    const cfg = join(home, 'kubeconfig');
    writeFileSync(cfg, open.kubeconfig({ namespace: 'argo' }));
    open.put(wf('w1'));
    expect(await kubectl(open, ['get', 'wf', '-o', 'name'], cfg)).toMatchObject({ code: 0, stdout: 'workflow.argoproj.io/w1\n' });

    // clientcmd only applies user credentials to TLS transports, so against http:// every request is anonymous.
    const guarded = await start({ token: 'kube-token' });
    writeFileSync(cfg, guarded.kubeconfig({ namespace: 'argo' }));
    const denied = await kubectl(guarded, ['get', 'wf', '-o', 'name'], cfg);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('You must be logged in to the server');
    expect(guarded.requests.length).toBeGreaterThan(0);
    expect(guarded.requests.every((r) => !r.bearer && r.status === 401)).toBe(true);
  });
});

// ---- @kubernetes/client-node 1.4 -----------------------------------------------------------------------------------

describe('@kubernetes/client-node', () => {
  async function client(s: FakeApiServer) {
    const k8s = await import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      // client-node 1.4 refuses http:// servers unless skipTLSVerify is true.
      clusters: [{ name: 'stand-in', server: s.url, skipTLSVerify: true }],
      users: [{ name: 'stand-in', token: s.token }],
      contexts: [{ name: 'stand-in', cluster: 'stand-in', user: 'stand-in', namespace: 'argo' }],
      currentContext: 'stand-in',
    });
    return { k8s, kc };
  }

  it('CustomObjectsApi list and Watch events', async () => {
    const s = await start({ token: 'node-token' });
    const { k8s, kc } = await client(s);
    s.put(wf('a'));
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const list = await custom.listNamespacedCustomObject({ group: 'argoproj.io', version: 'v1alpha1', namespace: 'argo', plural: 'workflows' });
    expect(list.items.map((i: any) => i.metadata.name)).toEqual(['a']);

    const events: string[] = [];
    let doneErr: unknown = 'not done';
    const watch = new k8s.Watch(kc);
    const controller = await watch.watch(
      WF_PATH,
      { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true },
      (type: string, obj: any) => events.push(`${type} ${obj.metadata.name}`),
      (err: unknown) => (doneErr = err),
    );
    await new Promise((r) => setTimeout(r, 30));
    s.put(wf('b'));
    s.modify({ apiVersion: ARGO, kind: 'Workflow', namespace: 'argo', name: 'a' }, (o) => void (o.spec.entrypoint = 'z'));
    for (let i = 0; i < 100 && events.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(events).toEqual(['ADDED b', 'MODIFIED a']);
    // A server-side drop surfaces through the done callback.
    s.dropWatches();
    for (let i = 0; i < 100 && doneErr === 'not done'; i++) await new Promise((r) => setTimeout(r, 20));
    expect(doneErr).not.toBe('not done');
    controller.abort();
  });

  it('CoreV1Api.readNamespacedPodLog and the Log helper', async () => {
    const s = await start();
    const { k8s, kc } = await client(s);
    s.put(pod('p', ['main', 'wait']));
    s.appendLog('argo', 'p', 'main', ['x', 'y']);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    expect(await core.readNamespacedPodLog({ name: 'p', namespace: 'argo', container: 'main' })).toBe('x\ny\n');
    await expect(core.readNamespacedPodLog({ name: 'p', namespace: 'argo' })).rejects.toMatchObject({ code: 400 });

    let text = '';
    const sink = new Writable({
      write(chunk, _enc, cb) {
        text += String(chunk);
        cb();
      },
    });
    const finished = new Promise<void>((resolve) => sink.on('finish', () => resolve()));
    await new k8s.Log(kc).log('argo', 'p', 'main', sink, { follow: true, timestamps: true });
    s.appendLog('argo', 'p', 'main', 'z');
    s.terminateContainer('argo', 'p', 'main');
    await finished;
    expect(text.trim().split('\n').map((l) => l.slice(31))).toEqual(['x', 'y', 'z']);
  });

  it('server-side apply through KubernetesObjectApi.patch and CustomObjectsApi with a Content-Type override', async () => {
    const s = await start();
    const { k8s, kc } = await client(s);
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    const spec = { apiVersion: ARGO, kind: 'WorkflowTemplate', metadata: { name: 't', namespace: 'argo' }, spec: { entrypoint: 'main' } };
    const created: any = await objects.patch(spec, undefined, undefined, 'sleap-roots-cli', true, k8s.PatchStrategy.ServerSideApply);
    expect(created.metadata.managedFields[0]).toMatchObject({ manager: 'sleap-roots-cli', operation: 'Apply' });
    const again: any = await objects.patch(spec, undefined, undefined, 'sleap-roots-cli', true, k8s.PatchStrategy.ServerSideApply);
    expect(again.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    const ssa = s.requests.filter((r) => r.method === 'PATCH');
    expect(ssa[0]).toMatchObject({ contentType: 'application/apply-patch+yaml', query: { fieldManager: 'sleap-roots-cli', force: 'true' } });
    // The default strategy (strategic merge) is refused for custom resources, as by a real apiserver.
    await expect(objects.patch({ ...spec, spec: { entrypoint: 'x' } })).rejects.toMatchObject({ code: 415 });
    await expect(
      objects.patch({ ...spec, spec: { entrypoint: 'x' } }, undefined, undefined, 'another', undefined, k8s.PatchStrategy.ServerSideApply),
    ).rejects.toMatchObject({ code: 409 });

    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const viaCustom: any = await custom.patchNamespacedCustomObject(
      { group: 'argoproj.io', version: 'v1alpha1', namespace: 'argo', plural: 'workflowtemplates', name: 'u', body: { ...spec, metadata: { name: 'u', namespace: 'argo' } }, fieldManager: 'sleap-roots-cli', force: true },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
    );
    expect(viaCustom.metadata.name).toBe('u');
    expect(s.requests.filter((r) => r.method === 'PATCH').at(-1)!.contentType).toBe('application/apply-patch+yaml');
  });
});
