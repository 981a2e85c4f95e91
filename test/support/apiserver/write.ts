/**
 * Write verbs: create, update (PUT), patch (merge / JSON / strategic) and server-side apply.
 */
import { alreadyExists, badRequest, conflict, forbidden, internalError, invalid, notFound, type FieldError } from './errors';
import { applyConfig, incomingManagedFields, recordUpdate } from './fieldmanager';
import { checkAppliedFields, checkUnknownFields, fieldValidationOf } from './field-validation';
import { schemaOf } from './schemas';
import { decodeBody, mediaType, queryBool, readBody, sendJson } from './http';
import { rfc3339 } from './ids';
import { assertTypeMatches, assertValidName, createTimeStatus, foldStringData, mergeForUpdate, scrubForCreate } from './objects';
import { APPLY_PATCH_YAML, JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, jsonPatch, mergePatch, strategicMergePatch } from './patch';
import { groupVersion, qualifiedResource, type ResourceType } from './resources';
import type { RequestContext, ServerState } from './state';
import type { KObject } from './types';
import {
  JSON_BODY_TYPES,
  checkNameAndNamespace,
  commitUpdate,
  dryRunOf,
  ensureNamespace,
  managerOf,
  mustGet,
  optionsInvalid,
  ownershipView,
  respondObject,
  tidyManagedFields,
  type ResourceRoute,
} from './common';

export async function handleCreate(state: ServerState, ctx: RequestContext, route: ResourceRoute): Promise<void> {
  const { rt } = route;
  const dryRun = dryRunOf(ctx, 'CreateOptions');
  const manager = managerOf(ctx, 'CreateOptions');
  const body = decodeBody(await readBody(ctx.req), ctx.req.headers['content-type'] ?? '', JSON_BODY_TYPES);
  assertTypeMatches(rt, body);
  checkUnknownFields(ctx, route, body, fieldValidationOf(ctx, 'CreateOptions'));
  const obj = body;
  const meta = obj.metadata;
  if (rt.namespaced) {
    if (meta.namespace && meta.namespace !== route.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    meta.namespace = route.namespace;
  } else delete meta.namespace;
  if (meta.resourceVersion) throw internalError('resourceVersion should not be set on objects to be created');
  ensureNamespace(state, rt, route.namespace);
  scrubForCreate(obj);
  foldStringData(rt, obj);
  if (!meta.name && meta.generateName) meta.name = generateName(state, rt, route.namespace, meta.generateName);
  assertValidName(rt, obj);
  if (state.store.get(rt, route.namespace, meta.name!)) throw alreadyExists(rt, meta.name!);
  createTimeStatus(rt, obj);
  const now = state.now();
  meta.uid = state.ids.uid();
  meta.creationTimestamp = rfc3339(now);
  if (rt.generation) meta.generation = 1;
  meta.managedFields = recordUpdate(undefined, ownershipView(rt, undefined, obj)!, incomingManagedFields(meta.managedFields, []), {
    manager,
    apiVersion: groupVersion(rt),
    now: rfc3339(now),
    schema: schemaOf(rt),
  });
  tidyManagedFields(obj);
  if (dryRun) {
    sendJson(ctx.res, 201, obj);
    return;
  }
  respondObject(state, ctx, rt, 201, state.store.create(rt, obj));
}

export function generateName(state: ServerState, rt: ResourceType, namespace: string | undefined, prefix: string): string {
  const base = prefix.length > 58 ? prefix.slice(0, 58) : prefix;
  for (let i = 0; i < 8; i++) {
    const candidate = base + state.ids.suffix(5);
    if (!state.store.get(rt, namespace, candidate)) return candidate;
  }
  throw alreadyExists(rt, base);
}

function checkPreconditions(route: ResourceRoute, old: KObject, incoming: KObject, requireRv: boolean): void {
  const rv = incoming.metadata.resourceVersion;
  if (!rv) {
    if (requireRv && !route.rt.allowUnconditionalUpdate) {
      throw invalid(route.rt, old.metadata.name!, [
        { type: 'FieldValueInvalid', field: 'metadata.resourceVersion', detail: 'Invalid value: 0x0: must be specified for an update' },
      ]);
    }
  } else if (rv !== old.metadata.resourceVersion) {
    throw conflict(route.rt, old.metadata.name!);
  }
  const uid = incoming.metadata.uid;
  if (uid && uid !== old.metadata.uid) {
    throw conflict(route.rt, old.metadata.name!, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${old.metadata.uid}`);
  }
}

export async function handleUpdate(state: ServerState, ctx: RequestContext, route: ResourceRoute): Promise<void> {
  const { rt } = route;
  const dryRun = dryRunOf(ctx, 'UpdateOptions');
  const manager = managerOf(ctx, 'UpdateOptions');
  const body = decodeBody(await readBody(ctx.req), ctx.req.headers['content-type'] ?? '', JSON_BODY_TYPES);
  assertTypeMatches(rt, body);
  checkUnknownFields(ctx, route, body, fieldValidationOf(ctx, 'UpdateOptions'));
  checkNameAndNamespace(route, body);
  const old = mustGet(state, route);
  checkPreconditions(route, old, body, true);
  storeUpdate(state, ctx, route, old, body, manager, dryRun);
}

export async function handlePatch(state: ServerState, ctx: RequestContext, route: ResourceRoute): Promise<void> {
  const { rt } = route;
  const type = mediaType(ctx.req.headers['content-type']);
  if (type === APPLY_PATCH_YAML) return handleApply(state, ctx, route);
  const accepted = rt.custom ? [JSON_PATCH, MERGE_PATCH, APPLY_PATCH_YAML] : [JSON_PATCH, MERGE_PATCH, APPLY_PATCH_YAML, STRATEGIC_MERGE_PATCH];
  if (ctx.query.has('force')) {
    throw optionsInvalid('PatchOptions', [{ type: 'FieldValueForbidden', field: 'force', detail: 'Forbidden: may not be specified for non-apply patch' }]);
  }
  const dryRun = dryRunOf(ctx, 'PatchOptions');
  const manager = managerOf(ctx, 'PatchOptions');
  const patch = decodeBody(await readBody(ctx.req), type, accepted);
  const old = mustGet(state, route);
  let patched: unknown;
  if (type === JSON_PATCH) patched = jsonPatch(old, patch);
  else if (type === MERGE_PATCH) patched = mergePatch(old, patch);
  else patched = strategicMergePatch(old, patch);
  assertTypeMatches(rt, patched);
  checkUnknownFields(ctx, route, patched, fieldValidationOf(ctx, 'PatchOptions'));
  checkNameAndNamespace(route, patched);
  checkPreconditions(route, old, patched, false);
  storeUpdate(state, ctx, route, old, patched, manager, dryRun);
}

/** The common end of PUT and non-apply PATCH: merge, record the manager's fields (operation Update), store and answer. */
function storeUpdate(state: ServerState, ctx: RequestContext, route: ResourceRoute, old: KObject, incoming: KObject, manager: string, dryRun: boolean): void {
  const { rt } = route;
  incoming.metadata.managedFields = incomingManagedFields(incoming.metadata.managedFields, old.metadata.managedFields);
  foldStringData(rt, incoming);
  const next = mergeForUpdate(rt, old, incoming, route.subresource);
  next.metadata.managedFields = recordUpdate(ownershipView(rt, route.subresource, old), ownershipView(rt, route.subresource, next)!, next.metadata.managedFields, {
    manager,
    apiVersion: groupVersion(rt),
    subresource: route.subresource,
    now: rfc3339(state.now()),
    schema: schemaOf(rt),
  });
  respondObject(state, ctx, rt, 200, commitUpdate(state, rt, old, next, dryRun));
}

async function handleApply(state: ServerState, ctx: RequestContext, route: ResourceRoute): Promise<void> {
  const { rt } = route;
  const manager = ctx.query.get('fieldManager') ?? '';
  const errs: FieldError[] = [];
  if (!manager) errs.push({ type: 'FieldValueRequired', field: 'fieldManager', detail: 'Required value: is required for apply patch' });
  else if (manager.length > 128) errs.push({ type: 'FieldValueTooLong', field: 'fieldManager', detail: 'Too long: may not be more than 128 bytes' });
  if (errs.length) throw optionsInvalid('PatchOptions', errs);
  const dryRun = dryRunOf(ctx, 'PatchOptions');
  const force = queryBool(ctx.query.get('force'));
  const config = decodeBody(await readBody(ctx.req), APPLY_PATCH_YAML, [APPLY_PATCH_YAML]);
  assertTypeMatches(rt, config);
  fieldValidationOf(ctx, 'PatchOptions');
  if (config.metadata.managedFields !== undefined) throw badRequest('metadata.managedFields must be nil');
  checkAppliedFields(route, config);
  checkNameAndNamespace(route, config);
  const now = rfc3339(state.now());
  const fm = { manager, apiVersion: groupVersion(rt), subresource: route.subresource, now, force, schema: schemaOf(rt) };
  const live = state.store.get(rt, route.namespace, route.name!);

  if (config.metadata.resourceVersion && config.metadata.resourceVersion !== live?.metadata.resourceVersion) {
    if (!live) throw notFound(rt, route.name!);
    throw conflict(rt, route.name!);
  }

  let cfg: KObject = config;
  if (route.subresource === 'status') {
    cfg = { apiVersion: config.apiVersion, kind: config.kind, metadata: { name: config.metadata.name, namespace: config.metadata.namespace }, status: config.status };
  } else if (rt.subresources.includes('status')) {
    const { status: _s, ...rest } = config;
    cfg = rest as KObject;
  }

  if (!live) {
    if (route.subresource) throw notFound(rt, route.name!);
    // An apply that creates is authorized as a create as well (the filter checked patch): kubernetes
    // staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go `PatchResource` passes
    // `withAuthorization(..., createAuthorizerAttributes)` (Verb "create") as createValidation;
    // rest.go `withAuthorization` answers errors.NewForbidden(gr, name, reason): RBAC gives no reason.
    const createAttrs = { verb: 'create', apiGroup: rt.group, resource: rt.resource, namespace: route.namespace, name: route.name };
    if (!state.access.allows(createAttrs)) throw forbidden(`${qualifiedResource(rt)} "${route.name}" is forbidden: `, { name: route.name, group: rt.group, kind: rt.resource });
    ensureNamespace(state, rt, route.namespace);
    scrubForCreate(cfg);
    delete cfg.metadata.resourceVersion;
    assertValidName(rt, cfg);
    // Ownership is of the applied configuration (f:stringData stays in managedFields), the object folds it.
    const merged = applyConfig(undefined, cfg, fm);
    foldStringData(rt, merged);
    createTimeStatus(rt, merged);
    merged.metadata.uid = state.ids.uid();
    merged.metadata.creationTimestamp = now;
    if (rt.generation) merged.metadata.generation = 1;
    if (rt.namespaced) merged.metadata.namespace = route.namespace;
    if (dryRun) {
      sendJson(ctx.res, 201, merged);
      return;
    }
    respondObject(state, ctx, rt, 201, state.store.create(rt, merged));
    return;
  }

  const merged = applyConfig(live, cfg, fm);
  foldStringData(rt, merged);
  const next = mergeForUpdate(rt, live, merged, route.subresource);
  respondObject(state, ctx, rt, 200, commitUpdate(state, rt, live, next, dryRun));
}
