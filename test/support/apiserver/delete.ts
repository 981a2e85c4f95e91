/**
 * Delete verbs: delete (preconditions, finalizers, namespace cascade) and deletecollection.
 */
import { conflict } from './errors';
import { decodeBody, readBody, sendJson } from './http';
import { rfc3339 } from './ids';
import { groupVersion, type ResourceType } from './resources';
import type { RequestContext, ServerState } from './state';
import type { KObject } from './types';
import { JSON_BODY_TYPES, dryRunOf, listItem, mustGet, removeObject, selectFor, type ResourceRoute } from './common';

async function readDeleteOptions(ctx: RequestContext): Promise<Record<string, any>> {
  const raw = await readBody(ctx.req);
  if (!raw.length || !raw.toString('utf8').trim()) return {};
  const parsed = decodeBody(raw, ctx.req.headers['content-type'] ?? 'application/json', JSON_BODY_TYPES);
  return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, any>) : {};
}

function deleteOne(state: ServerState, rt: ResourceType, old: KObject, opts: Record<string, any>, dryRun: boolean): KObject {
  const pre = opts.preconditions ?? {};
  const name = old.metadata.name!;
  if (pre.uid && pre.uid !== old.metadata.uid) {
    throw conflict(rt, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`);
  }
  if (pre.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
    throw conflict(rt, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`);
  }
  if ((old.metadata.finalizers ?? []).length > 0) {
    if (old.metadata.deletionTimestamp) return old;
    const next = structuredClone(old);
    next.metadata.deletionTimestamp = rfc3339(state.now());
    next.metadata.deletionGracePeriodSeconds = 0;
    if (rt.group === '' && rt.resource === 'namespaces') next.status = { ...(next.status ?? {}), phase: 'Terminating' };
    return dryRun ? next : state.store.update(rt, next);
  }
  if (dryRun) return old;
  const deleted = removeObject(state, rt, old);
  if (rt.group === '' && rt.resource === 'namespaces') {
    deleted.metadata.deletionTimestamp = rfc3339(state.now());
    deleted.status = { ...(deleted.status ?? {}), phase: 'Terminating' };
  }
  return deleted;
}

export async function handleDelete(state: ServerState, ctx: RequestContext, route: ResourceRoute): Promise<void> {
  const { rt } = route;
  const opts = await readDeleteOptions(ctx);
  const dryRun = dryRunOf(ctx, 'DeleteOptions') || (Array.isArray(opts.dryRun) && opts.dryRun.includes('All'));
  const old = mustGet(state, route);
  const result = deleteOne(state, rt, old, opts, dryRun);
  if (rt.returnDeletedObject || result.metadata.deletionTimestamp) {
    sendJson(ctx.res, 200, result);
    return;
  }
  sendJson(ctx.res, 200, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name: old.metadata.name, ...(rt.group ? { group: rt.group } : {}), kind: rt.resource, uid: old.metadata.uid },
  });
}

export async function handleDeleteCollection(state: ServerState, ctx: RequestContext, route: ResourceRoute): Promise<void> {
  const { rt } = route;
  const opts = await readDeleteOptions(ctx);
  const dryRun = dryRunOf(ctx, 'DeleteOptions');
  const select = selectFor(route, ctx);
  const deleted = state.store
    .list(rt, route.namespace)
    .filter(select)
    .map((o) => deleteOne(state, rt, o, opts, dryRun));
  sendJson(ctx.res, 200, {
    kind: `${rt.kind}List`,
    apiVersion: groupVersion(rt),
    metadata: { resourceVersion: String(state.store.resourceVersion) },
    items: deleted.map((o) => listItem(rt, o)),
  });
}
