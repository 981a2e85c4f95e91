/**
 * Helpers shared by the resource verb handlers.
 */
import { ApiError, badRequest, invalidFor, namespaceNotFound, notFound, type FieldError } from './errors';
import { sameObjectIgnoringTimes } from './fieldmanager';
import { sendJson } from './http';
import type { ResourceType } from './resources';
import { parseFieldSelector, parseLabelSelector } from './selectors';
import type { RequestContext, ServerState } from './state';
import { parseIncludeObject, toTable } from './table';
import type { KObject } from './types';

export interface ResourceRoute {
  rt: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
  watch: boolean;
}

export const JSON_BODY_TYPES = ['application/json', 'application/yaml'];

// ---- helpers ---------------------------------------------------------------------------------------------------

export function optionsInvalid(kind: string, errs: FieldError[]): ApiError {
  return invalidFor({ group: 'meta.k8s.io', kind }, '', errs);
}

export function dryRunOf(ctx: RequestContext, optionsKind: string): boolean {
  const values = ctx.query.getAll('dryRun');
  for (const v of values) {
    if (v !== 'All') {
      throw optionsInvalid(optionsKind, [{ type: 'FieldValueNotSupported', field: 'dryRun', detail: `Unsupported value: ${JSON.stringify(v)}: supported values: "All"` }]);
    }
  }
  return values.length > 0;
}

/** The manager recorded for a non-apply write: `?fieldManager=`, else the User-Agent up to its first '/'. */
export function managerOf(ctx: RequestContext, optionsKind: string): string {
  const explicit = ctx.query.get('fieldManager');
  if (explicit !== null && explicit !== '') {
    if (explicit.length > 128) {
      throw optionsInvalid(optionsKind, [{ type: 'FieldValueTooLong', field: 'fieldManager', detail: `Too long: may not be more than 128 bytes` }]);
    }
    return explicit;
  }
  const ua = ctx.req.headers['user-agent'] ?? '';
  return ua.split('/')[0].slice(0, 128);
}

export function ensureNamespace(state: ServerState, rt: ResourceType, namespace: string | undefined): void {
  if (!rt.namespaced || namespace === undefined) return;
  const nsType = state.catalog.byResource('', 'v1', 'namespaces');
  if (nsType && !state.store.get(nsType, undefined, namespace)) throw namespaceNotFound(namespace);
}

export function checkNameAndNamespace(route: ResourceRoute, obj: KObject): void {
  const name = obj.metadata.name ?? '';
  if (name !== route.name) throw badRequest(`the name of the object (${name}) does not match the name on the URL (${route.name})`);
  if (route.rt.namespaced) {
    if (obj.metadata.namespace && obj.metadata.namespace !== route.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    obj.metadata.namespace = route.namespace;
  } else delete obj.metadata.namespace;
}

export function mustGet(state: ServerState, route: ResourceRoute): KObject {
  const obj = state.store.get(route.rt, route.namespace, route.name!);
  if (!obj) throw notFound(route.rt, route.name!);
  return obj;
}

/**
 * What field ownership is computed over: status is owned through the status subresource only, and a status
 * write owns nothing but status (the apiserver's reset-fields behaviour).
 */
export function ownershipView(rt: ResourceType, subresource: string | undefined, obj: KObject | undefined): KObject | undefined {
  if (!obj) return undefined;
  if (subresource === 'status') return { apiVersion: obj.apiVersion, kind: obj.kind, metadata: obj.metadata, status: obj.status };
  if (rt.subresources.includes('status')) {
    const { status: _s, ...rest } = obj;
    return rest as KObject;
  }
  return obj;
}

export function tidyManagedFields(obj: KObject): void {
  if (!obj.metadata.managedFields || obj.metadata.managedFields.length === 0) delete obj.metadata.managedFields;
}

/** Built-in list items carry no apiVersion/kind on the wire; custom resources' do. */
export function listItem(rt: ResourceType, obj: KObject): Record<string, unknown> {
  if (rt.custom) return obj;
  const { apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}

export function respondObject(state: ServerState, ctx: RequestContext, rt: ResourceType, code: number, obj: KObject): void {
  if (ctx.accept.table) {
    sendJson(ctx.res, code, toTable(rt, [obj], { include: parseIncludeObject(ctx.query.get('includeObject')), now: state.now(), resourceVersion: obj.metadata.resourceVersion }));
    return;
  }
  sendJson(ctx.res, code, obj);
}

/**
 * Commits an update-like write. Handles finalizer-driven deletion, skips no-op writes (same object, same
 * resourceVersion, no event) and dry runs.
 */
export function commitUpdate(state: ServerState, rt: ResourceType, old: KObject, next: KObject, dryRun: boolean): KObject {
  tidyManagedFields(next);
  if (old.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
    if (dryRun) return next;
    state.store.update(rt, next);
    return removeObject(state, rt, next);
  }
  if (sameObjectIgnoringTimes(old, next)) return old;
  if (dryRun) return next;
  return state.store.update(rt, next);
}

export function removeObject(state: ServerState, rt: ResourceType, obj: KObject): KObject {
  const { namespace, name } = obj.metadata;
  if (rt.group === '' && rt.resource === 'namespaces') {
    // The namespace controller's job, done at once: everything in the namespace goes first.
    for (const child of state.store.inNamespace(name!)) {
      if (child.rt.group === '' && child.rt.resource === 'pods') state.logs.dropPod(name!, child.obj.metadata.name!);
      state.store.remove(child.rt, name, child.obj.metadata.name!);
    }
  }
  if (rt.group === '' && rt.resource === 'pods') state.logs.dropPod(namespace!, name!);
  return state.store.remove(rt, namespace, name!) ?? obj;
}

export function selectFor(route: ResourceRoute, ctx: RequestContext) {
  const labels = parseLabelSelector(ctx.query.get('labelSelector'));
  const fields = parseFieldSelector(ctx.query.get('fieldSelector'), route.rt);
  return (o: KObject) => labels(o) && fields(o);
}
