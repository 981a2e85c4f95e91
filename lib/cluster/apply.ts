/**
 * `deploy`: server-side apply of dist/<env>/ in apply order, reporting per object whether it was
 * created, changed or left unchanged, and optionally pruning objects of ours that dist/ no
 * longer has.
 *
 * Outcome: the object is read before the apply; absent means created (the apply also answers 201
 * then), a different resourceVersion afterwards means changed, the same means unchanged (the API
 * server does not write a no-op apply). A dry run writes nothing, so there the object the server
 * would store is compared with the one it has, ignoring server-managed metadata.
 */
import { ApiError, NetworkError, isAbortError, isStatus } from './errors';
import type { KubeClient } from './http';
import { ARGO_COMPLETED_LABEL, ownedSelector } from './labels';
import { KIND_ORDER } from '../names';
import { KINDS, objectPath, resourcePath, type KubeList, type KubeObject } from './resources';

/** The field manager every apply of the CLI uses. */
export const FIELD_MANAGER = 'sleap-roots';

/**
 * `fieldValidation` of every write deploy and diff send: Strict, as kubectl's default
 * `--validate=strict` sends it (kubectl pkg/cmd/util/helpers.go `GetValidationDirective`, passed
 * by pkg/cmd/apply/apply.go through cli-runtime pkg/resource/helper.go `WithFieldValidation` into
 * PatchOptions.FieldValidation). Without it the server's default is Warn (apiserver
 * endpoints/handlers/rest.go `fieldValidation`): a merge patch or create with a field the cluster
 * does not know would be stored without it. A server-side apply refuses an undeclared field
 * whatever this says (see {@link failureDetail}); Strict also refuses duplicate fields there.
 */
export const FIELD_VALIDATION = 'Strict';

/**
 * The verbs deploy uses on each object's resource: `get` (read it first, {@link applyOne}),
 * `patch` (the server-side apply, and the merge patch that adds semaphore keys) and `create`: an
 * apply that creates the object is also authorized as a create (kubernetes
 * staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go `PatchResource`:
 * `createValidation: withAuthorization(..., createAuthorizerAttributes)` with Verb "create", run
 * when `patcher.applyPatch` finds no object; rest.go `withAuthorization` answers 403 otherwise).
 * lib/cluster/access.ts reads this list for doctor.
 */
export const APPLY_VERBS: readonly string[] = ['get', 'create', 'patch'];

/** The kinds `--prune` lists (by our labels) and deletes from: every kind deploy may own, but namespaces. */
export const PRUNE_KINDS: readonly string[] = Object.keys(KIND_ORDER)
  .filter((k) => k !== 'Namespace')
  .sort((a, b) => KIND_ORDER[b] - KIND_ORDER[a]);

/** `--prune` lists unfinished workflows ({@link templatesInUse}) before deleting templates. */
export const PRUNE_LIST_WORKFLOWS = { kind: 'Workflow', verb: 'list' } as const;

/** What happened to one object. */
/** `kept`: a WorkflowTemplate dist/ no longer has, kept by prune because an unfinished workflow uses it. */
export type ApplyOutcome = 'created' | 'changed' | 'unchanged' | 'configured' | 'pruned' | 'kept' | 'failed' | 'skipped';

/** The result for one object. */
export interface ObjectResult {
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  /** The dist/ file it came from (not for pruned objects). */
  readonly file?: string;
  readonly outcome: ApplyOutcome;
  /** Why it failed, or what was not known (`configured`: the object could not be read first). */
  readonly detail?: string;
  readonly error?: unknown;
}

/** Progress of a deploy, for live displays. */
export type DeployEvent =
  | { readonly type: 'plan'; readonly objects: readonly { readonly kind: string; readonly name: string }[] }
  | { readonly type: 'start'; readonly index: number; readonly kind: string; readonly name: string }
  | { readonly type: 'done'; readonly index: number; readonly result: ObjectResult }
  | { readonly type: 'prune'; readonly result: ObjectResult };

/** Options of {@link deploy}. */
export interface DeployOptions {
  /** The environment (the prune selector includes it). */
  readonly environment: string;
  /** Namespace of the objects (already set on them). */
  readonly namespace: string;
  /** @default 'sleap-roots' */
  readonly fieldManager?: string;
  /** Take over fields that another manager owns. @default false */
  readonly forceConflicts?: boolean;
  /** `dryRun=All`: the server checks everything and stores nothing. @default false */
  readonly dryRun?: boolean;
  /** Delete objects of ours (by label) that are not among `objects`. @default false */
  readonly prune?: boolean;
  /** Apply dist/'s semaphore limits over live ones (see {@link semaphoreConfigMaps}). @default false: live limits are kept */
  readonly resetSemaphores?: boolean;
  readonly signal?: AbortSignal;
  /** @default - no progress reports */
  readonly onEvent?: (event: DeployEvent) => void;
}

/** The result of a deploy. */
export interface DeployResult {
  readonly results: readonly ObjectResult[];
  /** True when nothing failed. */
  readonly ok: boolean;
}

/** An apply that another field manager's ownership refused. */
export function isFieldConflict(e: unknown): e is ApiError {
  return e instanceof ApiError && e.statusCode === 409;
}

/** Applies the objects in the order given, stopping at the first failure. */
export async function deploy(client: KubeClient, objects: readonly { readonly object: KubeObject; readonly file?: string }[], options: DeployOptions): Promise<DeployResult> {
  const results: ObjectResult[] = [];
  options.onEvent?.({ type: 'plan', objects: objects.map((m) => ({ kind: m.object.kind, name: m.object.metadata.name ?? '' })) });
  let failed = false;
  const semaphores = semaphoreConfigMaps(objects.map((m) => m.object));
  for (const [index, m] of objects.entries()) {
    const base = { kind: m.object.kind, name: m.object.metadata.name ?? '', namespace: m.object.metadata.namespace, file: m.file };
    if (failed) {
      const result: ObjectResult = { ...base, outcome: 'skipped', detail: 'not applied: an object before it failed' };
      results.push(result);
      options.onEvent?.({ type: 'done', index, result });
      continue;
    }
    options.onEvent?.({ type: 'start', index, kind: base.kind, name: base.name });
    let result: ObjectResult;
    try {
      result = { ...base, ...(await applyOne(client, m.object, options, semaphores)) };
    } catch (e) {
      // Not about this object: the whole deploy cannot go on.
      if (isAbortError(e) || isStatus(e, 401) || e instanceof NetworkError) throw e;
      result = { ...base, outcome: 'failed', detail: failureDetail(e), error: e };
      failed = true;
    }
    results.push(result);
    options.onEvent?.({ type: 'done', index, result });
  }
  if (options.prune && !failed) {
    for (const result of await prune(client, objects.map((m) => m.object), options)) {
      results.push(result);
      if (result.outcome === 'failed') failed = true;
    }
  }
  return { results, ok: !failed };
}

async function applyOne(client: KubeClient, obj: KubeObject, options: DeployOptions, semaphores: ReadonlySet<string>): Promise<Pick<ObjectResult, 'outcome' | 'detail'>> {
  const path = objectPath(obj);
  let before: KubeObject | undefined;
  let readable = true;
  try {
    before = await client.json<KubeObject>({ path, signal: options.signal });
  } catch (e) {
    if (isStatus(e, 404)) before = undefined;
    else if (isStatus(e, 403)) readable = false;
    else throw e;
  }
  const isSemaphores = obj.kind === 'ConfigMap' && semaphores.has(obj.metadata.name ?? '');
  if (before && isSemaphores && !options.resetSemaphores) return keepLiveLimits(client, obj, before, options);
  const after = await client.json<KubeObject>({
    method: 'PATCH',
    path,
    query: {
      fieldManager: options.fieldManager ?? FIELD_MANAGER,
      // A reset takes the limits back from whoever retuned them (`kubectl patch` owns them then).
      force: options.forceConflicts || (isSemaphores && options.resetSemaphores) ? true : undefined,
      dryRun: options.dryRun ? 'All' : undefined,
      fieldValidation: FIELD_VALIDATION,
    },
    // JSON is YAML: the apply-patch+yaml content type takes it as is.
    body: JSON.stringify(obj),
    contentType: 'application/apply-patch+yaml',
    signal: options.signal,
  });
  if (!readable) return { outcome: 'configured', detail: 'could not read it first (forbidden), so whether it changed is unknown' };
  if (!before) return { outcome: 'created' };
  if (options.dryRun) return { outcome: sameContent(before, after) ? 'unchanged' : 'changed' };
  return { outcome: before.metadata.resourceVersion === after?.metadata?.resourceVersion ? 'unchanged' : 'changed' };
}

/**
 * The ConfigMaps holding semaphore limits: those the WorkflowTemplates name in
 * `synchronization.semaphores[].configMapKeyRef`. Argo reads a limit from its ConfigMap while
 * workflows run, not once (workflow/sync/cached_limit.go `cachedLimit.get`, re-read after
 * `semaphoreLimitCacheSeconds`, 0 by default: at every check; semaphore.go `newInternalSemaphore`),
 * so a lab retunes a live limit with `kubectl patch` while batches run. Deploy therefore creates
 * such a ConfigMap when it is absent, adds the keys dist/ has and the cluster lacks, and keeps
 * every live limit unless told to reset them.
 */
export function semaphoreConfigMaps(objects: readonly KubeObject[]): Set<string> {
  const names = new Set<string>();
  const walk = (value: unknown, inSync: boolean): void => {
    if (Array.isArray(value)) for (const v of value) walk(v, inSync);
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (inSync && k === 'configMapKeyRef' && v && typeof v === 'object' && typeof (v as { name?: unknown }).name === 'string') names.add((v as { name: string }).name);
        walk(v, inSync || k === 'synchronization');
      }
    }
  };
  for (const o of objects) if (o.kind === 'WorkflowTemplate') walk(o.spec, false);
  return names;
}

/** The limits dist/ and the cluster disagree on, and the keys only dist/ has. */
export function semaphoreDrift(desired: KubeObject, live: KubeObject): { differ: { key: string; live: string; desired: string }[]; missing: Record<string, string> } {
  const want = (desired.data ?? {}) as Record<string, string>;
  const have = (live.data ?? {}) as Record<string, string>;
  const differ = Object.entries(want).filter(([k, v]) => Object.hasOwn(have, k) && have[k] !== v).map(([key, v]) => ({ key, live: have[key], desired: v }));
  const missing = Object.fromEntries(Object.entries(want).filter(([k]) => !Object.hasOwn(have, k)));
  return { differ, missing };
}

/** A live semaphore ConfigMap: its limits stay; keys it lacks are added by a merge patch (which leaves the others alone). */
async function keepLiveLimits(client: KubeClient, obj: KubeObject, live: KubeObject, options: DeployOptions): Promise<Pick<ObjectResult, 'outcome' | 'detail'>> {
  const { differ, missing } = semaphoreDrift(obj, live);
  const added = Object.entries(missing).map(([k, v]) => `${k}=${v}`);
  if (added.length > 0) {
    await client.json<KubeObject>({
      method: 'PATCH',
      path: objectPath(obj),
      query: { fieldManager: options.fieldManager ?? FIELD_MANAGER, dryRun: options.dryRun ? 'All' : undefined, fieldValidation: FIELD_VALIDATION },
      body: JSON.stringify({ data: missing }),
      contentType: 'application/merge-patch+json',
      signal: options.signal,
    });
  }
  const kept = differ.map((d) => `${d.key}: ${d.live} live, ${d.desired} in dist/`);
  const detail = [
    ...(added.length > 0 ? [`added ${added.join(', ')}`] : []),
    ...(kept.length > 0 ? [`live limits kept (${kept.join('; ')}); --reset-semaphores applies dist/'s`] : []),
  ].join('; ');
  if (added.length > 0) return { outcome: 'changed', detail };
  return kept.length > 0 ? { outcome: 'kept', detail } : { outcome: 'unchanged' };
}

/**
 * The WorkflowTemplates unfinished workflows of the namespace refer to (by `workflowTemplateRef`
 * or, in their spec or the template spec stored at their start, by `templateRef`), with one
 * workflow using each. Argo resolves `templateRef` live, so these must not be deleted.
 */
export async function templatesInUse(client: KubeClient, namespace: string, signal?: AbortSignal): Promise<Map<string, string>> {
  const list = await client.json<KubeList>({
    path: resourcePath(KINDS.Workflow, namespace),
    query: { labelSelector: `${ARGO_COMPLETED_LABEL}!=true` },
    signal,
  });
  const used = new Map<string, string>();
  const walk = (value: unknown, workflow: string): void => {
    if (Array.isArray(value)) {
      for (const v of value) walk(v, workflow);
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if ((k === 'templateRef' || k === 'workflowTemplateRef') && v && typeof v === 'object') {
          const ref = v as { name?: unknown; clusterScope?: unknown };
          if (typeof ref.name === 'string' && ref.clusterScope !== true && !used.has(ref.name)) used.set(ref.name, workflow);
        }
        walk(v, workflow);
      }
    }
  };
  for (const wf of list.items ?? []) {
    const status = (wf as { status?: { storedWorkflowTemplateSpec?: unknown } }).status;
    walk([(wf as { spec?: unknown }).spec, status?.storedWorkflowTemplateSpec], wf.metadata.name ?? '');
  }
  return used;
}

/**
 * Deletes objects of ours (by label) that are not in `desired`, templates first. A
 * WorkflowTemplate an unfinished workflow still uses (an older versioned step template, say) is
 * kept and reported, and goes on a later prune.
 */
async function prune(client: KubeClient, desired: readonly KubeObject[], options: DeployOptions): Promise<ObjectResult[]> {
  const keep = new Set(desired.map((o) => `${o.kind}/${o.metadata.name}`));
  const results: ObjectResult[] = [];
  const skipKinds: string[] = [];
  let inUse = new Map<string, string>();
  try {
    inUse = await templatesInUse(client, options.namespace, options.signal);
  } catch (e) {
    if (isAbortError(e)) throw e;
    // Not knowing which templates are in use, delete none of them.
    skipKinds.push('WorkflowTemplate');
    const result: ObjectResult = { kind: 'WorkflowTemplate', name: '*', namespace: options.namespace, outcome: 'failed', detail: `cannot list workflows to see which templates are in use, so no template is pruned: ${failureDetail(e)}`, error: e };
    results.push(result);
    options.onEvent?.({ type: 'prune', result });
  }
  const kinds = PRUNE_KINDS.filter((k) => !skipKinds.includes(k));
  for (const kindName of kinds) {
    const kind = KINDS[kindName];
    let list: KubeList;
    try {
      list = await client.json<KubeList>({ path: resourcePath(kind, options.namespace), query: { labelSelector: ownedSelector(options.environment) }, signal: options.signal });
    } catch (e) {
      if (isAbortError(e)) throw e;
      const result: ObjectResult = { kind: kindName, name: '*', namespace: options.namespace, outcome: 'failed', detail: `cannot list ${kind.plural} to prune: ${failureDetail(e)}`, error: e };
      results.push(result);
      options.onEvent?.({ type: 'prune', result });
      continue;
    }
    for (const item of list.items ?? []) {
      const name = item.metadata.name ?? '';
      if (keep.has(`${kindName}/${name}`)) continue;
      let result: ObjectResult;
      const user = kindName === 'WorkflowTemplate' ? inUse.get(name) : undefined;
      if (user !== undefined) {
        result = { kind: kindName, name, namespace: options.namespace, outcome: 'kept', detail: `still used by unfinished workflow ${user}; a later --prune removes it` };
        results.push(result);
        options.onEvent?.({ type: 'prune', result });
        continue;
      }
      try {
        await client.json({
          method: 'DELETE',
          path: resourcePath(kind, options.namespace, name),
          query: { dryRun: options.dryRun ? 'All' : undefined, propagationPolicy: 'Background' },
          signal: options.signal,
        });
        result = { kind: kindName, name, namespace: options.namespace, outcome: 'pruned' };
      } catch (e) {
        if (isAbortError(e)) throw e;
        result = isStatus(e, 404)
          ? { kind: kindName, name, namespace: options.namespace, outcome: 'pruned', detail: 'already gone' }
          : { kind: kindName, name, namespace: options.namespace, outcome: 'failed', detail: failureDetail(e), error: e };
      }
      results.push(result);
      options.onEvent?.({ type: 'prune', result });
    }
  }
  return results;
}

/**
 * The fields the cluster's schema does not know, from a refused write: `unknown field "spec.x"`
 * (fieldValidation=Strict on a create, update or patch: apimachinery runtime/error.go
 * `strictDecodingError`, converter.go `recordUnknownField`) or `.spec.x: field not declared in
 * schema` (any server-side apply: apimachinery util/managedfields/internal/structuredmerge.go
 * `Apply`, "failed to create typed patch object", answered as a 500 without a reason).
 */
export function unknownFieldsOf(e: unknown): string[] {
  if (!(e instanceof ApiError) || (e.statusCode !== 400 && e.statusCode !== 500)) return [];
  const strict = /strict decoding error: (.*)$/s.exec(e.message);
  if (strict) return [...strict[1].matchAll(/unknown field "([^"]+)"/g)].map((m) => m[1]);
  if (!e.message.includes('failed to create typed patch object')) return [];
  return [...e.message.matchAll(/(\.[^\s:]+): field not declared in schema/g)].map((m) => m[1].replace(/^\./, ''));
}

/** One line saying why an apply failed; field conflicts say how to resolve them. */
export function failureDetail(e: unknown): string {
  if (isFieldConflict(e)) {
    // kubectl's client-side apply records its writes as manager kubectl-client-side-apply
    // (kubectl pkg/cmd/apply/apply.go `FieldManagerClientSideApply`, an Update); only kubectl's own
    // `apply --server-side` takes those fields over without a conflict (lastappliedmanager.go).
    const csa = e.message.includes('"kubectl-client-side-apply"') ? " (set by a client-side 'kubectl apply' of dist/)" : '';
    return `${e.message}: another field manager owns these fields${csa}; rerun with --force-conflicts to take them over (its values are overwritten), or remove that manager's changes`;
  }
  const unknown = unknownFieldsOf(e);
  if (unknown.length > 0) {
    return `the cluster does not know field${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')} (its schema for this kind is older or different: for Argo kinds, install the CRDs of the Argo version dist/ is synthesized for; or remove the field from the environment file) [${(e as ApiError).message}]`;
  }
  if (e instanceof ApiError) return `Error from server (${e.reason}): ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

/** Metadata the server maintains; a dry run's answer differs there without any real change. */
const SERVER_METADATA = ['resourceVersion', 'managedFields', 'generation', 'creationTimestamp', 'uid', 'selfLink'];

function sameContent(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject) => {
    const { status: _status, metadata, ...rest } = o;
    const meta = Object.fromEntries(Object.entries(metadata ?? {}).filter(([k]) => !SERVER_METADATA.includes(k)));
    return { ...rest, metadata: meta };
  };
  return deepEqual(strip(a), strip(b));
}

/** Structural equality of JSON values (key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => deepEqual(ao[k], bo[k]));
}
