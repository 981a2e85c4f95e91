/**
 * Field ownership (metadata.managedFields) and server-side apply.
 *
 * Modelled on structured-merge-diff: every JSON object is a granular struct/map; a list is atomic unless its schema
 * (schemas.ts: the CRD's `x-kubernetes-list-type: map` + `x-kubernetes-list-map-keys`, the built-in kinds'
 * `+listType=map` markers) makes it a map keyed by those fields, whose items are owned, merged and pruned one by one
 * (`k:{"name":"A"}` path segments, as FieldsV1 writes them).
 * Field sets are kept as sets of paths of `f:<name>` segments, serialized to the real FieldsV1 format.
 */
import { ApiError } from './errors';
import { OBJECT_META } from './builtin-schemas';
import { schemaByKind, type Schema } from './schemas';
import type { KObject, ManagedFieldsEntry } from './types';

type PathKey = string; // JSON.stringify(string[])
type FieldSet = Set<PathKey>;

interface Entry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource?: string;
  time?: string;
  set: FieldSet;
}

export interface ManagerContext {
  manager: string;
  /** The objects' schema, for list-map keys. @default by apiVersion and kind (schemas.ts), else every list atomic */
  schema?: Schema;
  apiVersion: string;
  subresource?: string;
  /** RFC3339 time stamped on the entry of the manager doing the write. */
  now: string;
}

const META_STRIPPED = new Set([
  'name',
  'namespace',
  'creationTimestamp',
  'selfLink',
  'uid',
  'clusterName',
  'generation',
  'managedFields',
  'resourceVersion',
]);

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function key(path: string[]): PathKey {
  return JSON.stringify(path);
}

function unkey(k: PathKey): string[] {
  return JSON.parse(k) as string[];
}

/** Paths that are never owned: apiVersion, kind, metadata itself and server-populated metadata. */
function stripped(path: string[]): boolean {
  if (path.length === 1) return path[0] === 'f:apiVersion' || path[0] === 'f:kind' || path[0] === 'f:metadata';
  return path[0] === 'f:metadata' && path.length === 2 && META_STRIPPED.has(path[1].slice(2));
}

// ---- FieldsV1 encoding ---------------------------------------------------------------------------------------

export function decodeFieldsV1(fields: unknown): FieldSet {
  const out: FieldSet = new Set();
  const walk = (node: unknown, prefix: string[]) => {
    if (!isObject(node)) return;
    for (const [k, v] of Object.entries(node)) {
      if (k === '.') {
        if (prefix.length) out.add(key(prefix));
        continue;
      }
      const child = [...prefix, k];
      if (isObject(v) && Object.keys(v).length > 0) walk(v, child);
      else out.add(key(child));
    }
  };
  walk(fields, []);
  return out;
}

interface Tree {
  member: boolean;
  children: Map<string, Tree>;
}

export function encodeFieldsV1(set: FieldSet): Record<string, any> {
  const root: Tree = { member: false, children: new Map() };
  for (const k of set) {
    let node = root;
    for (const seg of unkey(k)) {
      let next = node.children.get(seg);
      if (!next) node.children.set(seg, (next = { member: false, children: new Map() }));
      node = next;
    }
    node.member = true;
  }
  const emit = (node: Tree): Record<string, any> => {
    const out: Record<string, any> = {};
    if (node.member && node.children.size > 0) out['.'] = {};
    for (const name of [...node.children.keys()].sort()) out[name] = emit(node.children.get(name)!);
    return out;
  };
  return emit(root);
}

/** `.spec.foo`, `.spec.containers[name="main"]`: the path form used in conflict messages. */
export function pathString(k: PathKey): string {
  return unkey(k)
    .map((seg) => {
      const body = seg.slice(2);
      switch (seg.slice(0, 2)) {
        case 'f:':
          return `.${body}`;
        case 'i:':
          return `[${body}]`;
        case 'v:':
          return `[=${body}]`;
        case 'k:': {
          try {
            const obj = JSON.parse(body) as Record<string, unknown>;
            return `[${Object.entries(obj)
              .map(([kk, vv]) => `${kk}=${JSON.stringify(vv)}`)
              .join(',')}]`;
          } catch {
            return `[${body}]`;
          }
        }
        default:
          return `.${seg}`;
      }
    })
    .join('');
}

// ---- Entries <-> metadata.managedFields ---------------------------------------------------------------------------

function identity(e: Pick<Entry, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  return JSON.stringify([e.manager, e.operation, e.operation === 'Update' ? e.apiVersion : '', e.subresource ?? '']);
}

function readEntries(fields: ManagedFieldsEntry[] | undefined): Entry[] {
  return (fields ?? []).map((f) => ({
    manager: f.manager ?? '',
    operation: f.operation === 'Apply' ? 'Apply' : 'Update',
    apiVersion: f.apiVersion ?? '',
    subresource: f.subresource || undefined,
    time: f.time,
    set: decodeFieldsV1(f.fieldsV1),
  }));
}

function writeEntries(entries: Entry[]): ManagedFieldsEntry[] {
  const live = entries.filter((e) => e.set.size > 0);
  live.sort((a, b) => {
    if (a.operation !== b.operation) return a.operation < b.operation ? -1 : 1;
    const ta = a.time ? Date.parse(a.time) : 0;
    const tb = b.time ? Date.parse(b.time) : 0;
    if (ta !== tb) return ta - tb;
    if (a.manager !== b.manager) return a.manager < b.manager ? -1 : 1;
    if (a.apiVersion !== b.apiVersion) return a.apiVersion < b.apiVersion ? -1 : 1;
    return (a.subresource ?? '') < (b.subresource ?? '') ? -1 : 1;
  });
  return live.map((e) => {
    const out: ManagedFieldsEntry = { manager: e.manager, operation: e.operation, apiVersion: e.apiVersion };
    if (e.time) out.time = e.time;
    out.fieldsType = 'FieldsV1';
    out.fieldsV1 = encodeFieldsV1(e.set);
    if (e.subresource) out.subresource = e.subresource;
    return out;
  });
}

// ---- Field sets of objects ----------------------------------------------------------------------------------------

type Node = Schema | undefined;

function childSchema(s: Node, name: string, root: boolean): Node {
  if (root && name === 'metadata') return OBJECT_META;
  if (!s) return undefined;
  return s.properties?.[name] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
}

/** The key fields of a list-map list, when `v` is one (all items objects). */
function listKeys(s: Node, ...values: unknown[]): string[] | undefined {
  const keys = s?.['x-kubernetes-list-type'] === 'map' ? s['x-kubernetes-list-map-keys'] : undefined;
  if (!keys?.length) return undefined;
  const arrays = values.filter((v) => v !== undefined);
  return arrays.length > 0 && arrays.every((v) => Array.isArray(v) && v.every(isObject)) ? keys : undefined;
}

/** `k:{"containerPort":80,"protocol":"TCP"}`: key fields in name order, as structured-merge-diff serializes them. */
function itemSegment(item: Record<string, any>, keys: readonly string[]): string {
  const fields = [...keys].filter((k) => item[k] !== undefined).sort();
  return `k:${JSON.stringify(Object.fromEntries(fields.map((k) => [k, item[k]])))}`;
}

function schemaFor(ctx: Pick<ManagerContext, 'schema'>, obj: KObject | undefined): Node {
  return ctx.schema ?? (obj ? schemaByKind(obj.apiVersion, obj.kind) : undefined);
}

/** The set an applier claims: every leaf of its configuration (scalars, atomic lists), and each list-map item. */
export function appliedSet(config: Record<string, any>, schema?: Schema): FieldSet {
  const out: FieldSet = new Set();
  const walk = (node: Record<string, any>, prefix: string[], s: Node) => {
    const root = prefix.length === 0;
    for (const [k, v] of Object.entries(node)) {
      const path = [...prefix, `f:${k}`];
      if (path.length === 1 && (k === 'apiVersion' || k === 'kind')) continue;
      if (v === null || v === undefined) continue;
      const cs = childSchema(s, k, root);
      if (path.length === 1 && k === 'metadata') {
        if (isObject(v)) walk(v, path, cs);
        continue;
      }
      if (stripped(path)) continue;
      if (isObject(v)) {
        // Like a struct field in structured-merge-diff: an empty object claims nothing.
        walk(v, path, cs);
        continue;
      }
      const keys = listKeys(cs, v);
      if (keys && Array.isArray(v)) {
        for (const item of v as Record<string, any>[]) {
          const itemPath = [...path, itemSegment(item, keys)];
          out.add(key(itemPath));
          walk(item, itemPath, cs?.items);
        }
        continue;
      }
      out.add(key(path));
    }
  };
  walk(config, [], schema);
  return out;
}

interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameJson(a[k], b[k]));
  }
  return false;
}

/** Compares two objects the way structured-merge-diff does: leaves, list-map items, and added/removed object nodes. */
export function compare(lhs: Record<string, any> | undefined, rhs: Record<string, any> | undefined, schema?: Schema): Comparison {
  const c: Comparison = { added: new Set(), modified: new Set(), removed: new Set() };
  const node = (l: unknown, r: unknown, path: string[]) => {
    if (path.length === 0 || stripped(path)) return;
    if (l === undefined) c.added.add(key(path));
    else if (r === undefined) c.removed.add(key(path));
  };
  const walk = (l: unknown, r: unknown, path: string[], s: Node) => {
    const keys = listKeys(s, l, r);
    if (keys) {
      const byKey = (list: unknown) => new Map(((list ?? []) as Record<string, any>[]).map((x) => [itemSegment(x, keys), x]));
      const lm = byKey(l);
      const rm = byKey(r);
      for (const seg of new Set([...lm.keys(), ...rm.keys()])) {
        const lx = lm.get(seg);
        const rx = rm.get(seg);
        walk(lx, rx, [...path, seg], s?.items);
        node(lx, rx, [...path, seg]);
      }
      node(l, r, path);
      return;
    }
    const lMap = isObject(l) && Object.keys(l).length > 0;
    const rMap = isObject(r) && Object.keys(r).length > 0;
    const isLeaf = !(lMap || rMap) || (l !== undefined && r !== undefined && isObject(l) !== isObject(r));
    if (isLeaf) {
      if (path.length === 0 || stripped(path)) return;
      if (l === undefined) c.added.add(key(path));
      else if (r === undefined) c.removed.add(key(path));
      else if (!sameJson(l, r)) c.modified.add(key(path));
      return;
    }
    const lo = isObject(l) ? l : {};
    const ro = isObject(r) ? r : {};
    for (const k of new Set([...Object.keys(lo), ...Object.keys(ro)])) {
      const child = [...path, `f:${k}`];
      if (child.length === 1 && (k === 'apiVersion' || k === 'kind')) continue;
      if (child.length === 2 && child[0] === 'f:metadata' && META_STRIPPED.has(k)) continue;
      walk(lo[k], ro[k], child, childSchema(s, k, path.length === 0));
    }
    node(l, r, path);
  };
  walk(lhs ?? {}, rhs ?? {}, [], schema);
  return c;
}

function union(...sets: FieldSet[]): FieldSet {
  const out: FieldSet = new Set();
  for (const s of sets) for (const k of s) out.add(k);
  return out;
}

function minus(a: FieldSet, b: FieldSet): FieldSet {
  return new Set([...a].filter((k) => !b.has(k)));
}

function intersect(a: FieldSet, b: FieldSet): FieldSet {
  return new Set([...a].filter((k) => b.has(k)));
}

function withoutManagedFields(obj: KObject | undefined): Record<string, any> | undefined {
  if (!obj) return undefined;
  const copy: Record<string, any> = { ...obj, metadata: { ...obj.metadata } };
  delete copy.metadata.managedFields;
  return copy;
}

// ---- Operations ------------------------------------------------------------------------------------------------------

/**
 * Ownership after a non-apply write (create, update, patch): the writer takes every field it changed (taking it
 * away from others, as updates always force); fields it removed are dropped from every manager.
 */
export function recordUpdate(
  oldObj: KObject | undefined,
  newObj: KObject,
  base: ManagedFieldsEntry[] | undefined,
  ctx: ManagerContext,
): ManagedFieldsEntry[] {
  const entries = readEntries(base);
  const cmp = compare(withoutManagedFields(oldObj), withoutManagedFields(newObj), schemaFor(ctx, newObj));
  const changed = union(cmp.added, cmp.modified);
  const id = identity({ manager: ctx.manager, operation: 'Update', apiVersion: ctx.apiVersion, subresource: ctx.subresource });
  let mine = entries.find((e) => identity(e) === id);
  for (const e of entries) if (e !== mine) e.set = minus(minus(e.set, changed), cmp.removed);
  if (!mine) {
    mine = { manager: ctx.manager, operation: 'Update', apiVersion: ctx.apiVersion, subresource: ctx.subresource, set: new Set() };
    entries.push(mine);
  }
  const before = mine.set;
  mine.set = minus(union(mine.set, changed), cmp.removed);
  if (changed.size || cmp.removed.size || before.size !== mine.set.size) mine.time = ctx.now;
  return writeEntries(entries);
}

function deleteAt(obj: Record<string, any>, path: string[]): void {
  let cur: any = obj;
  for (const [i, seg] of path.entries()) {
    const last = i === path.length - 1;
    if (seg.startsWith('f:') && isObject(cur)) {
      if (last) delete cur[seg.slice(2)];
      else cur = cur[seg.slice(2)];
    } else if (seg.startsWith('k:') && Array.isArray(cur)) {
      const want = JSON.parse(seg.slice(2)) as Record<string, unknown>;
      const at = cur.findIndex((x) => isObject(x) && Object.entries(want).every(([k, v]) => sameJson(x[k], v)));
      if (at < 0) return;
      if (last) cur.splice(at, 1);
      else cur = cur[at];
    } else return;
  }
}

/**
 * The applied configuration merged into the live object: objects field by field, list-maps item by item (live items
 * the configuration lacks stay, in their place; new ones are appended), other lists replaced whole.
 */
function mergeConfig(live: unknown, config: unknown, s: Node, root = true): any {
  if (isObject(live) && isObject(config)) {
    const out: Record<string, any> = { ...live };
    for (const [k, v] of Object.entries(config)) {
      if (v === undefined) continue;
      if (v === null) delete out[k];
      else out[k] = mergeConfig(live[k], v, childSchema(s, k, root), false);
    }
    return out;
  }
  const keys = listKeys(s, live, config);
  if (keys && Array.isArray(live) && Array.isArray(config)) {
    const out = [...live];
    for (const item of config as Record<string, any>[]) {
      const seg = itemSegment(item, keys);
      const at = out.findIndex((x) => itemSegment(x, keys) === seg);
      if (at >= 0) out[at] = mergeConfig(out[at], item, s?.items, false);
      else out.push(structuredClone(item));
    }
    return out;
  }
  return structuredClone(config);
}

function printManager(e: Entry): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') s += ` using ${e.apiVersion}`;
  return s;
}

function conflictError(conflicts: Array<{ entry: Entry; paths: FieldSet }>): ApiError {
  const flat: Array<{ who: string; path: string }> = [];
  const sorted = [...conflicts].sort((a, b) => (a.entry.manager < b.entry.manager ? -1 : a.entry.manager > b.entry.manager ? 1 : 0));
  for (const c of sorted) {
    for (const p of [...c.paths].map(pathString).sort()) flat.push({ who: printManager(c.entry), path: p });
  }
  let message: string;
  if (flat.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${flat[0].who}: ${flat[0].path}`;
  } else {
    const lines: string[] = [];
    for (const c of sorted) {
      lines.push(`conflicts with ${printManager(c.entry)}:`);
      for (const p of [...c.paths].map(pathString).sort()) lines.push(`- ${p}`);
    }
    message = `Apply failed with ${flat.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError(409, 'Conflict', message, {
    causes: flat.map((f) => ({ reason: 'FieldManagerConflict', message: `conflict with ${f.who}`, field: f.path })),
  });
}

export interface ApplyResult {
  object: KObject;
}

/**
 * Server-side apply of `config` onto `live` (undefined when creating). Returns the merged object with its
 * managedFields, or throws a 409 Conflict naming the other managers' fields it would change.
 */
export function applyConfig(live: KObject | undefined, config: KObject, ctx: ManagerContext & { force: boolean }): KObject {
  const first = applyCore(live, config, ctx);
  if (first instanceof ConflictSet === false) return withLastApplied(live, first as KObject, config, ctx.manager);
  const { conflicts } = first as ConflictSet;
  // Moving from client-side to server-side apply (apimachinery util/managedfields/internal/lastappliedmanager.go
  // `Apply`): for the manager "kubectl" only, conflicts on fields whose live value is still what the last-applied
  // annotation says (`allowedConflictsFromLastApplied`) are not conflicts: the apply is forced.
  if (ctx.manager === 'kubectl' && live) {
    const allowed = allowedFromLastApplied(live);
    const left = conflicts.map((c) => ({ entry: c.entry, paths: minus(c.paths, allowed) })).filter((c) => c.paths.size > 0);
    if (left.length === 0) return withLastApplied(live, applyCore(live, config, { ...ctx, force: true }) as KObject, config, ctx.manager);
    throw conflictError(left);
  }
  throw conflictError(conflicts);
}

class ConflictSet {
  constructor(readonly conflicts: Array<{ entry: Entry; paths: FieldSet }>) {}
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** The fields of the last-applied annotation whose live values still match it (lastappliedmanager.go). */
function allowedFromLastApplied(live: KObject): FieldSet {
  const text = live.metadata?.annotations?.[LAST_APPLIED];
  if (!text) return new Set();
  let last: Record<string, any>;
  try {
    last = JSON.parse(text) as Record<string, any>;
  } catch {
    return new Set();
  }
  if (last.apiVersion !== live.apiVersion) return new Set();
  const schema = schemaByKind(live.apiVersion, live.kind);
  const cmp = compare(last, withoutManagedFields(live), schema);
  return minus(minus(minus(appliedSet(last, schema), cmp.modified), cmp.added), cmp.removed);
}

/**
 * apimachinery util/managedfields/internal/lastappliedupdater.go `Apply`: an apply by "kubectl" rewrites an
 * existing last-applied annotation to the applied configuration (without the annotation), so a later client-side
 * apply diffs against it. Other managers leave it as it is.
 */
function withLastApplied(live: KObject | undefined, merged: KObject, config: KObject, manager: string): KObject {
  if (manager !== 'kubectl' || !live?.metadata?.annotations?.[LAST_APPLIED] || !merged.metadata?.annotations?.[LAST_APPLIED]) return merged;
  const applied = structuredClone(config);
  if (applied.metadata?.annotations) {
    delete applied.metadata.annotations[LAST_APPLIED];
    if (Object.keys(applied.metadata.annotations).length === 0) delete applied.metadata.annotations;
  }
  merged.metadata.annotations = { ...merged.metadata.annotations, [LAST_APPLIED]: JSON.stringify(applied) };
  return merged;
}

function applyCore(live: KObject | undefined, config: KObject, ctx: ManagerContext & { force: boolean }): KObject | ConflictSet {
  const entries = readEntries(live?.metadata?.managedFields);
  const base = withoutManagedFields(live) ?? {};
  const schema = schemaFor(ctx, config);
  const configSet = appliedSet(config, schema);
  let merged: Record<string, any> = mergeConfig(base, config, schema);

  const id = identity({ manager: ctx.manager, operation: 'Apply', apiVersion: ctx.apiVersion, subresource: ctx.subresource });
  const mine = entries.find((e) => identity(e) === id);

  // Prune: fields this manager applied last time but not now, unless another manager owns them, applier or
  // updater (structured-merge-diff merge/update.go `prune`, `addBackOwnedItems`: "other appliers or updaters").
  if (mine) {
    const claimedByOthers = union(...entries.filter((e) => e !== mine).map((e) => e.set));
    const kept = union(configSet, claimedByOthers);
    // A map or list this manager owned as a whole (".", e.g. after kubectl moved client-side ownership to it)
    // stays while something below it is still applied or owned: structured-merge-diff removes only leaves and
    // empty parents (merge/update.go `prune`, `addBackDanglingItems`).
    const drop = [...minus(mine.set, kept)].filter((k) => {
      const p = k.slice(0, -1);
      return ![...kept].some((o) => o.startsWith(p) && o !== k);
    });
    merged = structuredClone(merged);
    for (const k of drop) deleteAt(merged, unkey(k));
  }

  const cmp = compare(base, merged, schema);
  const changed = union(cmp.added, cmp.modified);
  const conflicts: Array<{ entry: Entry; paths: FieldSet }> = [];
  for (const e of entries) {
    if (e === mine) continue;
    const paths = intersect(e.set, changed);
    if (paths.size) conflicts.push({ entry: e, paths });
  }
  if (conflicts.length && !ctx.force) return new ConflictSet(conflicts);

  for (const e of entries) {
    if (e === mine) continue;
    e.set = minus(minus(e.set, changed), cmp.removed);
  }
  const next: Entry = mine ?? { manager: ctx.manager, operation: 'Apply', apiVersion: ctx.apiVersion, subresource: ctx.subresource, set: new Set() };
  const setChanged = next.set.size !== configSet.size || [...configSet].some((k) => !next.set.has(k));
  next.set = configSet;
  next.apiVersion = ctx.apiVersion;
  if (setChanged || changed.size || cmp.removed.size || !next.time) next.time = ctx.now;
  if (!mine) entries.push(next);

  const out = merged as KObject;
  out.metadata = { ...(out.metadata ?? {}), managedFields: writeEntries(entries) };
  if (!out.metadata.managedFields!.length) delete out.metadata.managedFields;
  return out;
}

/** managedFields a write should start from: omitted or `[]` keeps the stored ones, `[{}]` clears them. */
export function incomingManagedFields(body: ManagedFieldsEntry[] | undefined | null, stored: ManagedFieldsEntry[] | undefined): ManagedFieldsEntry[] {
  if (!body || body.length === 0) return stored ?? [];
  if (body.every((e) => !e || Object.keys(e).length === 0)) return [];
  return body;
}

/** Equality that ignores managedFields timestamps, used to detect no-op writes. */
export function sameObjectIgnoringTimes(a: KObject, b: KObject): boolean {
  const strip = (o: KObject) => {
    const c = structuredClone(o);
    for (const e of c.metadata?.managedFields ?? []) delete e.time;
    return c;
  };
  return sameJson(strip(a), strip(b));
}
