/**
 * `doctor`: one small check per fact the pipeline needs from a cluster, each answering
 * {name, ok, detail, fix}. What the pipeline needs is read from the manifests in dist/<env>/
 * (what would run), not re-derived from the environment file.
 *
 * Checks that a namespaced user may not be allowed to make (read namespaces, nodes, priority
 * classes) report a warning naming what could not be verified, never a false pass or fail.
 */
import * as fs from 'node:fs';
import { ApiError, formatError, isAbortError, isStatus } from './errors';
import type { KubeClient } from './http';
import type { DistTree, Manifest } from './manifests';
import { KINDS, resourcePath, type KubeList, type KubeObject } from './resources';
import { semaphoreDrift } from './apply';
import { describeNeed, requiredPermissions } from './access';
import { distStaleness } from './staleness';
import { EXISTING_IDENTITY_GRANTS } from '../scheduling/cluster';

/** pass / fail; warn: could not be fully verified; info: cannot be checked through the API at all. */
export type CheckLevel = 'pass' | 'warn' | 'fail' | 'info';

/** The result of one check. */
export interface CheckResult {
  readonly name: string;
  /** False only for `fail`. */
  readonly ok: boolean;
  readonly level: CheckLevel;
  readonly detail: string;
  /** What to do about it (fail and warn). */
  readonly fix?: string;
}

/** Options of {@link runDoctor}. */
export interface DoctorOptions {
  readonly namespace: string;
  readonly dist: DistTree;
  /** The environment file, to tell whether dist/ is what it synthesizes. @default - not checked */
  readonly environmentFile?: string;
  /** The pipeline version dist/ was synthesized with (its version label). @default - none */
  readonly version?: string;
  /** Extended resource of a whole GPU, for Run:AI fraction/memory requests. @default 'nvidia.com/gpu' */
  readonly gpuResourceName?: string;
  /** How this connection was given, for fixes (`--server ...` / `context "x"`). */
  readonly target?: string;
  readonly signal?: AbortSignal;
  /** Each result as soon as it is known (for progressive output). */
  readonly onResult?: (result: CheckResult) => void;
}

/** What the manifests ask of the cluster. */
export interface Requirements {
  readonly templates: readonly Manifest[];
  readonly identity: readonly Manifest[];
  readonly priorityClasses: ReadonlyMap<string, string[]>;
  /** Secret name -> keys needed ('' when the whole Secret is mounted). */
  readonly secrets: ReadonlyMap<string, Set<string>>;
  readonly configMaps: ReadonlyMap<string, Set<string>>;
  /** ConfigMap name -> semaphore keys (values must be integers). */
  readonly semaphores: ReadonlyMap<string, Set<string>>;
  readonly hostPaths: readonly { readonly path: string; readonly type?: string; readonly volume: string }[];
  readonly wholeGpus: readonly { readonly step: string; readonly resource: string; readonly count: number }[];
  readonly sharedGpus: readonly { readonly step: string; readonly kind: 'fraction' | 'memory'; readonly value: string }[];
}

const STANDARD_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage', 'hugepages-1Gi', 'hugepages-2Mi']);

function add<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(v);
}

/** Reads what the manifests need from the cluster. */
export function requirementsOf(dist: DistTree): Requirements {
  const templates = dist.objects.filter((m) => m.object.kind === 'WorkflowTemplate');
  const ownSecrets = new Set(dist.objects.filter((m) => m.object.kind === 'Secret').map((m) => m.object.metadata.name));
  const ownConfigMaps = new Map(dist.objects.filter((m) => m.object.kind === 'ConfigMap').map((m) => [m.object.metadata.name, m.object]));
  const priorityClasses = new Map<string, string[]>();
  const secrets = new Map<string, Set<string>>();
  const configMaps = new Map<string, Set<string>>();
  const semaphores = new Map<string, Set<string>>();
  const hostPaths: { path: string; type?: string; volume: string }[] = [];
  const wholeGpus: { step: string; resource: string; count: number }[] = [];
  const sharedGpus: { step: string; kind: 'fraction' | 'memory'; value: string }[] = [];

  for (const m of templates) {
    const spec = (m.object.spec ?? {}) as Record<string, unknown>;
    const who = m.object.metadata.name ?? '';
    const walk = (v: unknown, path: string[], step: string): void => {
      if (Array.isArray(v)) {
        v.forEach((x) => walk(x, path, step));
        return;
      }
      if (!v || typeof v !== 'object') return;
      const o = v as Record<string, unknown>;
      const here = typeof o.name === 'string' && (o.container || o.script || o.dag || o.steps) ? o.name : step;
      for (const [k, x] of Object.entries(o)) {
        if (k === 'priorityClassName' && typeof x === 'string') {
          const users = priorityClasses.get(x) ?? [];
          users.push(here);
          priorityClasses.set(x, users);
        } else if (k === 'secretKeyRef' && x && typeof x === 'object') {
          const r = x as { name?: string; key?: string; optional?: boolean };
          if (r.name && !r.optional) add(secrets, r.name, r.key ?? '');
        } else if (k === 'configMapKeyRef' && x && typeof x === 'object') {
          const r = x as { name?: string; key?: string; optional?: boolean };
          if (r.name && !r.optional) add(path.includes('semaphores') ? semaphores : configMaps, r.name, r.key ?? '');
        } else if (k === 'secret' && path[path.length - 1] === 'volumes' && x && typeof x === 'object') {
          const r = x as { secretName?: string; optional?: boolean };
          if (r.secretName && !r.optional) add(secrets, r.secretName, '');
        } else if (k === 'hostPath' && x && typeof x === 'object') {
          const r = x as { path?: string; type?: string };
          if (r.path && !hostPaths.some((h) => h.path === r.path)) hostPaths.push({ path: r.path, type: r.type, volume: String(o.name ?? '') });
        } else if (k === 'limits' && path[path.length - 1] === 'resources' && x && typeof x === 'object') {
          for (const [res, q] of Object.entries(x as Record<string, unknown>)) {
            if (!STANDARD_RESOURCES.has(res)) wholeGpus.push({ step: here, resource: res, count: Number(q) });
          }
        } else if (k === 'annotations' && path[path.length - 1] === 'metadata' && x && typeof x === 'object') {
          const a = x as Record<string, string>;
          if (a['gpu-fraction']) sharedGpus.push({ step: here, kind: 'fraction', value: a['gpu-fraction'] });
          if (a['gpu-memory']) sharedGpus.push({ step: here, kind: 'memory', value: a['gpu-memory'] });
        }
        if (x && typeof x === 'object') walk(x, [...path, k], here);
      }
    };
    walk(spec, [], who);
  }
  for (const s of ownSecrets) if (s) secrets.delete(s);
  for (const [name, cm] of ownConfigMaps) {
    // Our own ConfigMaps are checked as identity objects; a missing key in them is still a problem.
    const data = (cm.data ?? {}) as Record<string, string>;
    const needed = configMaps.get(name ?? '');
    if (needed && [...needed].every((k) => k === '' || k in data)) configMaps.delete(name ?? '');
  }
  // Semaphore ConfigMaps (those the templates' synchronization names) are the lab's to retune
  // (deploy keeps live limits): checked under "config maps and semaphores", where a retuned limit
  // is a warning, not a difference.
  const identity = dist.objects.filter((m) => ['ServiceAccount', 'Secret', 'Role', 'RoleBinding', 'ConfigMap'].includes(m.object.kind) && !(m.object.kind === 'ConfigMap' && semaphores.has(m.object.metadata.name ?? '')));
  return { templates, identity, priorityClasses, secrets, configMaps, semaphores, hostPaths, wholeGpus, sharedGpus };
}

/** Runs every check; later checks are skipped when the API cannot be reached or refuses the credentials. */
export async function runDoctor(client: KubeClient, options: DoctorOptions): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const report = (r: CheckResult) => {
    results.push(r);
    options.onResult?.(r);
  };
  const req = requirementsOf(options.dist);
  const ns = options.namespace;
  const signal = options.signal;
  const guard = async (name: string, check: () => Promise<CheckResult | CheckResult[]>) => {
    try {
      const r = await check();
      for (const x of Array.isArray(r) ? r : [r]) report(x);
    } catch (e) {
      if (isAbortError(e) || signal?.aborted) throw e;
      report(fail(name, formatError(e, client.connection.redactor), 'see the message; rerun with the same flags once fixed'));
    }
  };

  if (options.environmentFile) await guard('dist up to date', async () => distFreshness(options.dist, options.environmentFile as string, options.version));
  const api = await checkApi(client, options.target, signal);
  report(api);
  if (!api.ok) return results;
  const creds = await checkCredentials(client, ns, signal);
  report(creds);
  if (!creds.ok) return results;
  await guard('namespace', () => checkNamespace(client, ns, signal));
  await guard('Argo CRDs', () => checkArgo(client, signal));
  await guard('templates', () => checkTemplates(client, req, ns, options.dist, signal));
  await guard('service account and RBAC', () => checkIdentity(client, req, ns, options.dist, signal));
  await guard('permissions', () => checkPermissions(client, ns, options.dist, signal));
  await guard('GPU capacity', () => checkGpus(client, req, options.gpuResourceName ?? 'nvidia.com/gpu', signal));
  await guard('priority classes', () => checkPriorityClasses(client, req, signal));
  await guard('secrets', () => checkSecrets(client, req, ns, signal));
  await guard('config maps', () => checkConfigMaps(client, req, ns, options.dist, signal));
  report(hostPathNotice(req));
  return results;
}

function pass(name: string, detail: string): CheckResult {
  return { name, ok: true, level: 'pass', detail };
}
function fail(name: string, detail: string, fix: string): CheckResult {
  return { name, ok: false, level: 'fail', detail, fix };
}
function warn(name: string, detail: string, fix?: string): CheckResult {
  return { name, ok: true, level: 'warn', detail, fix };
}

async function distFreshness(dist: DistTree, envFile: string, version: string | undefined): Promise<CheckResult> {
  const name = 'dist up to date';
  if (!fs.existsSync(envFile)) return warn(name, `${envFile} not found; cannot tell whether ${dist.dir}/ is current`);
  const s = await distStaleness(dist, envFile, version);
  if (s.problems) return warn(name, `${envFile} does not synthesize (${s.problems}); ${dist.dir}/ is from an earlier version of it`, "fix the environment file and run 'npx cdk8s synth'");
  if (s.differences.length > 0) {
    const shown = s.differences.slice(0, 3).join(', ') + (s.differences.length > 3 ? `, and ${s.differences.length - 3} more` : '');
    return warn(name, `${dist.dir}/ is not what ${envFile} synthesizes: ${shown}`, "run 'npx cdk8s synth' (and commit dist/), then deploy again");
  }
  return pass(name, `${dist.dir}/ is what ${envFile} synthesizes (as 'npm run synth:check' compares)`);
}

async function checkApi(client: KubeClient, target: string | undefined, signal?: AbortSignal): Promise<CheckResult> {
  const name = 'API reachable';
  try {
    const v = await client.json<{ gitVersion?: string }>({ path: '/version', maxAttempts: 2, timeoutMs: 10_000, signal });
    return pass(name, `${client.connection.server} answers (Kubernetes ${v?.gitVersion ?? 'version unknown'})`);
  } catch (e) {
    if (isAbortError(e)) throw e;
    if (e instanceof ApiError && e.statusCode !== 404 && e.statusCode < 500) return pass(name, `${client.connection.server} answers (/version: ${e.statusCode} ${e.reason})`);
    return fail(name, formatError(e, client.connection.redactor), `check the server address (${target ?? client.connection.describe()}), your network or VPN, and that the cluster is up`);
  }
}

async function checkCredentials(client: KubeClient, ns: string, signal?: AbortSignal): Promise<CheckResult> {
  const name = 'credentials accepted';
  const fix = 'get fresh credentials: a new token (e.g. kubectl create token <service-account> -n <namespace>, or your Run:AI login), or a current kubeconfig';
  for (const version of ['v1', 'v1beta1']) {
    try {
      const review = await client.json<{ status?: { userInfo?: { username?: string; groups?: string[] } } }>({
        method: 'POST',
        path: `/apis/authentication.k8s.io/${version}/selfsubjectreviews`,
        body: { apiVersion: `authentication.k8s.io/${version}`, kind: 'SelfSubjectReview' },
        signal,
      });
      const user = review?.status?.userInfo;
      return pass(name, `authenticated as ${user?.username ?? 'an unnamed user'}${user?.groups?.length ? ` (groups: ${user.groups.join(', ')})` : ''}`);
    } catch (e) {
      if (isAbortError(e)) throw e;
      if (isStatus(e, 401)) return fail(name, formatError(e, client.connection.redactor), fix);
      if (!isStatus(e, 404)) break;
    }
  }
  // No SelfSubjectReview (Kubernetes < 1.27) or not allowed: any authenticated read tells.
  try {
    await client.json({ path: resourcePath(KINDS.WorkflowTemplate, ns), query: { limit: 1 }, signal });
    return pass(name, 'accepted (SelfSubjectReview not available; a list succeeded)');
  } catch (e) {
    if (isStatus(e, 401)) return fail(name, formatError(e, client.connection.redactor), fix);
    return warn(name, `SelfSubjectReview not available, and a test read answered: ${formatError(e, client.connection.redactor)}`);
  }
}

async function checkNamespace(client: KubeClient, ns: string, signal?: AbortSignal): Promise<CheckResult> {
  const name = 'namespace exists';
  try {
    const obj = await client.json<KubeObject>({ path: resourcePath(KINDS.Namespace, undefined, ns), signal });
    const phase = (obj.status as { phase?: string } | undefined)?.phase;
    if (phase === 'Terminating') return fail(name, `namespace "${ns}" is being deleted`, 'wait for it to go, recreate it, or deploy elsewhere (-n)');
    return pass(name, `namespace "${ns}"`);
  } catch (e) {
    if (isStatus(e, 404)) return fail(name, `namespace "${ns}" does not exist`, `create it (kubectl create namespace ${ns}) or ask the cluster admin; or set namespace: in the environment file`);
    if (isStatus(e, 403)) return warn(name, `not allowed to read namespace "${ns}"; its existence is not verified (normal for namespace-scoped users)`, 'the permission checks below show what you can do there');
    throw e;
  }
}

async function checkArgo(client: KubeClient, signal?: AbortSignal): Promise<CheckResult> {
  const name = 'Argo CRDs installed';
  const fix = 'install Argo Workflows v4 (its CRDs and controller): see https://argo-workflows.readthedocs.io/en/latest/installation/';
  try {
    const list = await client.json<{ resources?: { name: string }[] }>({ path: '/apis/argoproj.io/v1alpha1', signal });
    const have = new Set((list?.resources ?? []).map((r) => r.name));
    const missing = ['workflows', 'workflowtemplates', 'workflowtaskresults'].filter((r) => !have.has(r));
    if (missing.length > 0) return fail(name, `argoproj.io/v1alpha1 lacks ${missing.join(', ')}`, fix);
    return pass(name, 'argoproj.io/v1alpha1 serves workflows, workflowtemplates, workflowtaskresults');
  } catch (e) {
    if (isStatus(e, 404)) return fail(name, 'the API group argoproj.io/v1alpha1 is not served', fix);
    throw e;
  }
}

/** The first place where `want` is not matched by `have` (empty objects and lists in `want` match absence). */
export function firstDifference(want: unknown, have: unknown, path = ''): string | undefined {
  if (isEmpty(want) && (have === undefined || isEmpty(have))) return undefined;
  if (Array.isArray(want)) {
    if (!Array.isArray(have) || have.length !== want.length) return `${path || '.'} (dist has ${Array.isArray(want) ? want.length : 0} items, the cluster ${Array.isArray(have) ? have.length : 'none'})`;
    for (let i = 0; i < want.length; i++) {
      const d = firstDifference(want[i], have[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (want && typeof want === 'object') {
    if (!have || typeof have !== 'object' || Array.isArray(have)) return `${path || '.'} (missing in the cluster)`;
    for (const [k, v] of Object.entries(want)) {
      const d = firstDifference(v, (have as Record<string, unknown>)[k], `${path}.${k}`);
      if (d) return d;
    }
    return undefined;
  }
  if (want === have || (have !== undefined && String(want) === String(have))) return undefined;
  // Built-in types drop zero values (omitempty): an empty string, false or 0 matches absence.
  if (have === undefined && (want === '' || want === false || want === 0 || want === null)) return undefined;
  return `${path} (dist ${JSON.stringify(want)}, cluster ${JSON.stringify(have)})`;
}

function isEmpty(v: unknown): boolean {
  return (Array.isArray(v) && v.length === 0) || (!!v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0);
}

async function compareDeployed(client: KubeClient, m: Manifest, ns: string, signal?: AbortSignal): Promise<{ missing: true } | { missing: false; difference?: string }> {
  try {
    const have = await client.json<KubeObject>({ path: resourcePath(KINDS[m.object.kind], ns, m.object.metadata.name), signal });
    const { metadata, apiVersion: _a, kind: _k, ...rest } = m.object;
    const wantMeta = { labels: metadata.labels ?? {}, annotations: metadata.annotations ?? {} };
    const skip = m.object.kind === 'Secret' ? ['stringData', 'data'] : [];
    const want = Object.fromEntries(Object.entries(rest).filter(([k]) => !skip.includes(k)));
    const difference = firstDifference({ metadata: wantMeta, ...want }, { ...have, metadata: { labels: have.metadata.labels ?? {}, annotations: have.metadata.annotations ?? {} } });
    return { missing: false, difference };
  } catch (e) {
    if (isStatus(e, 404)) return { missing: true };
    throw e;
  }
}

async function checkTemplates(client: KubeClient, req: Requirements, ns: string, dist: DistTree, signal?: AbortSignal): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const fix = `deploy: npx sleap-roots deploy --env ${dist.environment}`;
  for (const m of req.templates) {
    const name = `template ${m.object.metadata.name}`;
    const r = await compareDeployed(client, m, ns, signal);
    if (r.missing) out.push(fail(name, `not in namespace "${ns}"`, fix));
    else if (r.difference) out.push(fail(name, `differs from ${m.file} at ${r.difference}`, `${fix} (someone changed it, or dist/ is newer)`));
    else out.push(pass(name, `identical to ${m.file}`));
  }
  return out;
}

async function checkIdentity(client: KubeClient, req: Requirements, ns: string, dist: DistTree, signal?: AbortSignal): Promise<CheckResult> {
  const name = 'service account and RBAC';
  const missing: string[] = [];
  const differing: string[] = [];
  for (const m of req.identity) {
    const r = await compareDeployed(client, m, ns, signal);
    if (r.missing) missing.push(`${m.object.kind}/${m.object.metadata.name}`);
    else if (r.difference) differing.push(`${m.object.kind}/${m.object.metadata.name} at ${r.difference}`);
  }
  const fix = `deploy: npx sleap-roots deploy --env ${dist.environment}`;
  if (missing.length > 0) return fail(name, `missing: ${missing.join(', ')}`, fix);
  const existing = existingServiceAccounts(req);
  if (existing.length > 0) return checkExistingAccounts(client, existing, ns, signal);
  if (differing.length > 0) return fail(name, `differs from dist/: ${differing.join('; ')}`, fix);
  return pass(name, req.identity.map((m) => `${m.object.kind}/${m.object.metadata.name}`).join(', ') || 'none needed');
}

/**
 * Service accounts the templates run as that dist/ does not create (`identity.create: false`):
 * the names in `spec.serviceAccountName`, `spec.templates[].serviceAccountName` and
 * `spec.executor.serviceAccountName` without a ServiceAccount object beside them.
 */
function existingServiceAccounts(req: Requirements): string[] {
  const created = new Set(req.identity.filter((m) => m.object.kind === 'ServiceAccount').map((m) => m.object.metadata.name));
  const names = new Set<string>();
  for (const m of req.templates) {
    const spec = (m.object as { spec?: { serviceAccountName?: string; executor?: { serviceAccountName?: string }; templates?: Array<{ serviceAccountName?: string }> } }).spec;
    for (const n of [spec?.serviceAccountName, spec?.executor?.serviceAccountName, ...(spec?.templates ?? []).map((t) => t.serviceAccountName)]) {
      if (n && !created.has(n)) names.add(n);
    }
  }
  return [...names].sort();
}

/** The admin-made accounts exist (what they may do is the admin's: the fix lists it). */
async function checkExistingAccounts(client: KubeClient, names: readonly string[], ns: string, signal?: AbortSignal): Promise<CheckResult> {
  const name = 'service account and RBAC';
  const grants = `the cluster admin provides, for ${names.join(', ')} in "${ns}": ${EXISTING_IDENTITY_GRANTS.join('; ')}`;
  const missing: string[] = [];
  for (const sa of names) {
    try {
      await client.json({ path: `/api/v1/namespaces/${encodeURIComponent(ns)}/serviceaccounts/${encodeURIComponent(sa)}`, signal });
    } catch (e) {
      if (isStatus(e, 404)) missing.push(sa);
      else if (isStatus(e, 403)) return warn(name, `cannot read ServiceAccount/${sa} to check it exists (identity.create: false)`, grants);
      else throw e;
    }
  }
  if (missing.length > 0) return fail(name, `missing: ${missing.map((n) => `ServiceAccount/${n}`).join(', ')} (identity.create: false: the admin creates it)`, grants);
  return pass(name, `${names.map((n) => `ServiceAccount/${n}`).join(', ')} exists (made by the admin; its RBAC is theirs: ${EXISTING_IDENTITY_GRANTS[1]})`);
}

/**
 * One SelfSubjectAccessReview per verb and resource that deploy, deploy --prune, submit, watch and
 * logs use (lib/cluster/access.ts, read from the modules making the calls), for the kinds dist/ holds.
 */
async function checkPermissions(client: KubeClient, ns: string, dist: DistTree, signal?: AbortSignal): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const p of requiredPermissions(dist.objects.map((m) => m.object.kind))) {
    const name = `may ${describeNeed(p)}`;
    const why = p.neededBy.join(', ');
    const review = await client.json<{ status?: { allowed?: boolean; reason?: string } }>({
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { namespace: ns, verb: p.verb, group: p.group, resource: p.resource, subresource: p.subresource } },
      },
      signal,
    });
    if (review?.status?.allowed) out.push(pass(name, `allowed in "${ns}" (needed by ${why})`));
    else {
      out.push(
        fail(
          name,
          `not allowed in "${ns}" (needed by ${why})${review?.status?.reason ? `: ${review.status.reason}` : ''}`,
          `ask the cluster admin for a Role in "${ns}" with verbs [${p.verb}] on ${p.group ? `${p.resource}.${p.group}` : p.resource}${p.subresource ? `/${p.subresource}` : ''}, bound to your user`,
        ),
      );
    }
  }
  return out;
}

/** A whole number of GPUs from a quantity string like "2". */
function quantityCount(q: unknown): number {
  const n = Number(q);
  return Number.isFinite(n) ? n : 0;
}

async function checkGpus(client: KubeClient, req: Requirements, resourceName: string, signal?: AbortSignal): Promise<CheckResult> {
  const name = 'GPU capacity';
  if (req.wholeGpus.length === 0 && req.sharedGpus.length === 0) return pass(name, 'no step asks for a GPU');
  let nodes: KubeObject[];
  try {
    nodes = (await client.json<KubeList>({ path: resourcePath(KINDS.Node), signal })).items ?? [];
  } catch (e) {
    if (isStatus(e, 403)) {
      return warn(name, `not allowed to list nodes; GPU capacity is not verified (${describeGpuNeeds(req)})`, 'ask the cluster admin whether nodes offer it, or use an account that may list nodes');
    }
    throw e;
  }
  const problems: string[] = [];
  const found: string[] = [];
  const allocatable = (n: KubeObject, res: string) => quantityCount(((n.status as { allocatable?: Record<string, string> } | undefined)?.allocatable ?? {})[res]);
  const schedulable = nodes.filter((n) => !(n.spec as { unschedulable?: boolean } | undefined)?.unschedulable);
  for (const g of req.wholeGpus) {
    const best = Math.max(0, ...schedulable.map((n) => allocatable(n, g.resource)));
    const total = schedulable.reduce((s, n) => s + allocatable(n, g.resource), 0);
    if (best >= g.count) found.push(`${g.step} needs ${g.count} ${g.resource}: up to ${best} on one node, ${total} in all`);
    else problems.push(`${g.step} needs ${g.count} ${g.resource} on one node; the most any schedulable node offers is ${best}`);
  }
  for (const g of req.sharedGpus) {
    const gpuNodes = schedulable.filter((n) => allocatable(n, resourceName) >= 1);
    if (gpuNodes.length === 0) problems.push(`${g.step} asks for a GPU ${g.kind} (${g.value}); no schedulable node has ${resourceName}`);
    else if (g.kind === 'memory') {
      // gpu-memory is MB of 10^6 bytes; GPU feature discovery labels memory in MiB.
      const needMiB = (Number(g.value) * 1e6) / 2 ** 20;
      const mem = gpuNodes.map((n) => Number(n.metadata.labels?.['nvidia.com/gpu.memory'] ?? NaN)).filter((x) => !Number.isNaN(x));
      if (mem.length > 0 && Math.max(...mem) < needMiB) problems.push(`${g.step} asks for ${g.value} MB of GPU memory; the largest GPU has ${Math.max(...mem)} MiB`);
      else found.push(`${g.step} asks for ${g.value} MB GPU memory: ${gpuNodes.length} GPU node(s)`);
    } else found.push(`${g.step} asks for GPU fraction ${g.value}: ${gpuNodes.length} GPU node(s) with ${resourceName}`);
  }
  if (problems.length > 0) return fail(name, problems.join('; '), 'run on a cluster with such nodes, or lower the request in the environment file (steps.<step>.gpu)');
  return pass(name, found.join('; '));
}

function describeGpuNeeds(req: Requirements): string {
  return [...req.wholeGpus.map((g) => `${g.step}: ${g.count} ${g.resource}`), ...req.sharedGpus.map((g) => `${g.step}: GPU ${g.kind} ${g.value}`)].join(', ');
}

async function checkPriorityClasses(client: KubeClient, req: Requirements, signal?: AbortSignal): Promise<CheckResult> {
  const name = 'priority classes';
  if (req.priorityClasses.size === 0) return pass(name, 'no step names a priority class');
  const missing: string[] = [];
  const present: string[] = [];
  for (const [cls, steps] of req.priorityClasses) {
    try {
      const pc = await client.json<{ value?: number }>({ path: resourcePath(KINDS.PriorityClass, undefined, cls), signal });
      present.push(`${cls} (${pc?.value ?? '?'})`);
    } catch (e) {
      if (isStatus(e, 404)) missing.push(`${cls} (used by ${[...new Set(steps)].join(', ')})`);
      else if (isStatus(e, 403)) return warn(name, `not allowed to read priority classes; not verified: ${[...req.priorityClasses.keys()].join(', ')}`, 'kubectl get priorityclasses (or ask the admin) shows what exists');
      else throw e;
    }
  }
  if (missing.length > 0) return fail(name, `missing: ${missing.join(', ')}`, 'use classes that exist (kubectl get priorityclasses) in scheduling.priorityClasses of the environment file, then synth and deploy');
  return pass(name, present.join(', '));
}

async function checkSecrets(client: KubeClient, req: Requirements, ns: string, signal?: AbortSignal): Promise<CheckResult> {
  const name = 'referenced secrets';
  if (req.secrets.size === 0) return pass(name, 'no step reads a Secret');
  const problems: string[] = [];
  const ok: string[] = [];
  for (const [secret, keys] of req.secrets) {
    try {
      // Only the key names are looked at; values never leave this function.
      const s = await client.json<{ data?: Record<string, string> }>({ path: resourcePath(KINDS.Secret, ns, secret), signal });
      const missingKeys = [...keys].filter((k) => k && !(k in (s?.data ?? {})));
      if (missingKeys.length > 0) problems.push(`Secret ${secret} lacks key(s) ${missingKeys.join(', ')}`);
      else ok.push(secret);
    } catch (e) {
      if (isStatus(e, 404)) problems.push(`Secret ${secret} does not exist`);
      else if (isStatus(e, 403)) problems.push(`Secret ${secret}: not allowed to read it (not verified)`);
      else throw e;
    }
  }
  if (problems.length > 0) {
    const first = [...req.secrets.entries()][0];
    return fail(name, problems.join('; '), `create it in "${ns}", e.g. kubectl create secret generic ${first[0]} -n ${ns} ${[...first[1]].filter(Boolean).map((k) => `--from-literal=${k}=...`).join(' ')}`.trim());
  }
  return pass(name, ok.join(', '));
}

async function checkConfigMaps(client: KubeClient, req: Requirements, ns: string, dist: DistTree, signal?: AbortSignal): Promise<CheckResult> {
  const name = 'config maps and semaphores';
  if (req.configMaps.size === 0 && req.semaphores.size === 0) return pass(name, 'no step reads a ConfigMap or uses a semaphore');
  const problems: string[] = [];
  const ok: string[] = [];
  const drift: string[] = [];
  const names = new Set([...req.configMaps.keys(), ...req.semaphores.keys()]);
  for (const cm of names) {
    let data: Record<string, string>;
    try {
      data = (await client.json<{ data?: Record<string, string> }>({ path: resourcePath(KINDS.ConfigMap, ns, cm), signal }))?.data ?? {};
    } catch (e) {
      if (isStatus(e, 404)) {
        problems.push(`ConfigMap ${cm} does not exist`);
        continue;
      }
      throw e;
    }
    for (const k of req.configMaps.get(cm) ?? []) if (k && !(k in data)) problems.push(`ConfigMap ${cm} lacks key ${k}`);
    for (const k of req.semaphores.get(cm) ?? []) {
      if (!(k in data)) problems.push(`semaphore ConfigMap ${cm} lacks key ${k}`);
      else if (!/^[1-9]\d*$/.test(String(data[k]).trim())) problems.push(`semaphore ${cm}.${k} is ${JSON.stringify(data[k])}, not a positive whole number`);
      else ok.push(`semaphore ${cm}.${k}=${data[k]}`);
    }
    const desired = dist.objects.find((m) => m.object.kind === 'ConfigMap' && m.object.metadata.name === cm)?.object;
    if (desired && req.semaphores.has(cm)) {
      for (const d of semaphoreDrift(desired, { apiVersion: 'v1', kind: 'ConfigMap', metadata: {}, data }).differ) drift.push(`${cm}.${d.key} is ${d.live} live, ${d.desired} in dist/`);
    }
    if (!req.semaphores.has(cm)) ok.push(cm);
  }
  if (problems.length > 0) return fail(name, problems.join('; '), `create or fix them in "${ns}" before the templates (a missing semaphore turns gated steps to Error), e.g. kubectl create configmap NAME -n ${ns} --from-literal=KEY=8`);
  if (drift.length > 0) {
    return warn(name, `${ok.join(', ')}; retuned on the cluster: ${drift.join('; ')}`, "deploy keeps live limits; 'sleap-roots deploy --reset-semaphores' applies dist/'s, or change the environment file to match");
  }
  return pass(name, ok.join(', '));
}

function hostPathNotice(req: Requirements): CheckResult {
  const name = 'host paths';
  if (req.hostPaths.length === 0) return pass(name, 'no hostPath volumes');
  const list = req.hostPaths.map((h) => `${h.path}${h.type ? ` (${h.type})` : ''}`).join(', ');
  return {
    name,
    ok: true,
    level: 'info',
    detail: `cannot be checked through the API; these must exist on every node that may run a step: ${list}`,
    fix: 'a missing one leaves the step Pending until its timeout: check the NFS mounts on the nodes (ls -d <path> on each)',
  };
}
