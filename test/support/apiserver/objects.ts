/**
 * Object lifecycle rules shared by HTTP writes and the control API: names, server-set metadata, generation,
 * status-subresource separation, create-time status defaults.
 */
import { badRequest, invalid, type FieldError } from './errors';
import { groupVersion, type ResourceType } from './resources';
import type { KObject } from './types';

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

export function nameErrors(rt: ResourceType, name: string | undefined): FieldError[] {
  if (!name) return [{ type: 'FieldValueRequired', field: 'metadata.name', detail: 'Required value: name or generateName is required' }];
  const q = JSON.stringify(name);
  if (rt.group === 'rbac.authorization.k8s.io') {
    if (name === '.' || name === '..' || /[/%]/.test(name)) {
      return [{ type: 'FieldValueInvalid', field: 'metadata.name', detail: `Invalid value: ${q}: may not contain '/' or '%'` }];
    }
    return [];
  }
  if (rt.kind === 'Namespace') {
    if (name.length > 63) return [{ type: 'FieldValueInvalid', field: 'metadata.name', detail: `Invalid value: ${q}: must be no more than 63 characters` }];
    if (!LABEL.test(name)) return [{ type: 'FieldValueInvalid', field: 'metadata.name', detail: `Invalid value: ${q}: ${LABEL_MSG}` }];
    return [];
  }
  if (name.length > 253) return [{ type: 'FieldValueInvalid', field: 'metadata.name', detail: `Invalid value: ${q}: must be no more than 253 characters` }];
  if (!SUBDOMAIN.test(name)) return [{ type: 'FieldValueInvalid', field: 'metadata.name', detail: `Invalid value: ${q}: ${SUBDOMAIN_MSG}` }];
  return [];
}

export function assertValidName(rt: ResourceType, obj: KObject): void {
  const errs = nameErrors(rt, obj.metadata?.name);
  if (errs.length) throw invalid(rt, obj.metadata?.name ?? '', errs);
}

/** Checks apiVersion/kind of a request body against the resource it was sent to. */
export function assertTypeMatches(rt: ResourceType, body: unknown): asserts body is KObject {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the body of the request must be a JSON object');
  const obj = body as Record<string, any>;
  if (!obj.kind) throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(obj)}'`);
  if (!obj.apiVersion) throw badRequest(`Object 'apiVersion' is missing in '${JSON.stringify(obj)}'`);
  const gv = groupVersion(rt);
  if (obj.apiVersion !== gv) {
    throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${gv})`);
  }
  if (obj.kind !== rt.kind) throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${rt.kind})`);
  if (obj.metadata !== undefined && (typeof obj.metadata !== 'object' || obj.metadata === null || Array.isArray(obj.metadata))) {
    throw badRequest('metadata must be an object');
  }
  obj.metadata ??= {};
}

/** Status a freshly created object starts with when created through the API. */
export function createTimeStatus(rt: ResourceType, obj: KObject): void {
  if (rt.kind === 'Pod' && rt.group === '') {
    const containers: any[] = [...(obj.spec?.containers ?? []), ...(obj.spec?.initContainers ?? [])];
    const hasResources = containers.some((c) => c?.resources && (c.resources.requests || c.resources.limits));
    obj.status = { phase: 'Pending', qosClass: hasResources ? 'Burstable' : 'BestEffort' };
    return;
  }
  if (rt.kind === 'Namespace' && rt.group === '') {
    obj.spec = { finalizers: ['kubernetes'], ...(obj.spec ?? {}) };
    obj.status = { phase: 'Active' };
    return;
  }
  if (rt.subresources.includes('status')) delete obj.status;
}

function withoutMeta(obj: KObject, dropStatus: boolean): string {
  const { metadata: _m, status, ...rest } = obj;
  return JSON.stringify(sortKeys(dropStatus ? rest : { ...rest, status }));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/** metadata.generation after an update: bumped when anything but metadata (and status, if a subresource) changed. */
export function nextGeneration(rt: ResourceType, old: KObject, next: KObject): number | undefined {
  if (!rt.generation) return next.metadata.generation;
  const prev = old.metadata.generation ?? 1;
  const dropStatus = rt.subresources.includes('status');
  return withoutMeta(old, dropStatus) === withoutMeta(next, dropStatus) ? prev : prev + 1;
}

/**
 * The object an update would store: the main resource keeps the stored status (when status is a subresource),
 * the status subresource keeps everything but status; server-owned metadata always comes from the stored object.
 */
export function mergeForUpdate(rt: ResourceType, old: KObject, incoming: KObject, subresource: string | undefined): KObject {
  let next: KObject;
  if (subresource === 'status') {
    next = structuredClone(old);
    if (incoming.status === undefined) delete next.status;
    else next.status = structuredClone(incoming.status);
    next.metadata.managedFields = incoming.metadata.managedFields;
  } else {
    next = structuredClone(incoming);
    if (rt.subresources.includes('status')) {
      if (old.status === undefined) delete next.status;
      else next.status = structuredClone(old.status);
    }
  }
  const meta = next.metadata;
  meta.name = old.metadata.name;
  if (rt.namespaced) meta.namespace = old.metadata.namespace;
  else delete meta.namespace;
  meta.uid = old.metadata.uid;
  meta.creationTimestamp = old.metadata.creationTimestamp;
  meta.resourceVersion = old.metadata.resourceVersion;
  if (old.metadata.generateName !== undefined) meta.generateName = old.metadata.generateName;
  if (old.metadata.deletionTimestamp !== undefined) {
    meta.deletionTimestamp = old.metadata.deletionTimestamp;
    meta.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
  } else {
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
  }
  const gen = nextGeneration(rt, old, next);
  if (gen === undefined) delete meta.generation;
  else meta.generation = gen;
  return next;
}

/**
 * A Secret's write-only `stringData` merged into `data` (base64; a stringData key wins) and dropped, as the
 * apiserver's v1 conversion does: a Secret is never stored or answered with stringData.
 */
export function foldStringData(rt: ResourceType, obj: KObject): void {
  if (rt.group !== '' || rt.resource !== 'secrets' || obj.stringData === undefined) return;
  const strings = obj.stringData;
  delete obj.stringData;
  if (!strings || typeof strings !== 'object' || Array.isArray(strings)) return;
  const entries = Object.entries(strings as Record<string, unknown>);
  if (entries.length === 0) return;
  obj.data = { ...(obj.data ?? {}) };
  for (const [k, v] of entries) obj.data[k] = Buffer.from(String(v), 'utf8').toString('base64');
}

/** Strips fields a client may not set on create; the caller stamps uid, timestamps and names. */
export function scrubForCreate(obj: KObject): void {
  const meta = obj.metadata;
  delete meta.uid;
  delete meta.creationTimestamp;
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  delete meta.generation;
  delete meta.selfLink;
}
