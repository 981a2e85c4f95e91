/**
 * Patch formats: JSON merge patch (RFC 7386), JSON patch (RFC 6902), and strategic merge patch
 * (approximated as a merge patch with `$`-directives dropped: lists are replaced, never merged by key).
 */
import { ApiError } from './errors';

export const MERGE_PATCH = 'application/merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
export const APPLY_PATCH_YAML = 'application/apply-patch+yaml';

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function mergePatch(target: unknown, patch: unknown): any {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, any> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Removes strategic-merge directives (`$patch`, `$retainKeys`, `$setElementOrder/...`, `$deleteFromPrimitiveList/...`). */
function stripDirectives(patch: unknown): unknown {
  if (Array.isArray(patch)) return patch.filter((x) => !(isObject(x) && x.$patch === 'delete')).map(stripDirectives);
  if (!isObject(patch)) return patch;
  if (patch.$patch === 'delete') return null;
  const out: Record<string, any> = {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    out[k] = stripDirectives(v);
  }
  return out;
}

export function strategicMergePatch(target: unknown, patch: unknown): any {
  return mergePatch(target, stripDirectives(patch));
}

function patchError(message: string): ApiError {
  // The apiserver reports unusable JSON patches as 422 Invalid-ish errors without details.
  return new ApiError(422, 'Invalid', message);
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw patchError(`invalid JSON pointer: ${JSON.stringify(pointer)}`);
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isObject(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = canonical(v[k]);
    return out;
  }
  return v;
}

function getParent(doc: any, path: string[], op: string): { parent: any; key: string } {
  let cur = doc;
  for (const seg of path.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (isObject(cur)) cur = cur[seg];
    else cur = undefined;
    if (cur === undefined) throw patchError(`${op} operation does not apply: doc is missing path: /${path.join('/')}`);
  }
  return { parent: cur, key: path[path.length - 1] };
}

function getAt(doc: any, path: string[]): unknown {
  let cur = doc;
  for (const seg of path) {
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (isObject(cur)) cur = Object.prototype.hasOwnProperty.call(cur, seg) ? cur[seg] : undefined;
    else return undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

function addAt(doc: any, path: string[], value: unknown, op: string): any {
  if (path.length === 0) return structuredClone(value);
  const { parent, key } = getParent(doc, path, op);
  if (Array.isArray(parent)) {
    const idx = key === '-' ? parent.length : Number(key);
    if (!Number.isInteger(idx) || idx < 0 || idx > parent.length) throw patchError(`${op} operation does not apply: index out of range: /${path.join('/')}`);
    parent.splice(idx, 0, structuredClone(value));
  } else if (isObject(parent)) {
    parent[key] = structuredClone(value);
  } else throw patchError(`${op} operation does not apply: doc is missing path: /${path.join('/')}`);
  return doc;
}

function removeAt(doc: any, path: string[], op: string): any {
  const { parent, key } = getParent(doc, path, op);
  if (Array.isArray(parent)) {
    const idx = Number(key);
    if (!Number.isInteger(idx) || idx < 0 || idx >= parent.length) throw patchError(`${op} operation does not apply: doc is missing path: /${path.join('/')}`);
    parent.splice(idx, 1);
  } else if (isObject(parent) && Object.prototype.hasOwnProperty.call(parent, key)) {
    delete parent[key];
  } else throw patchError(`${op} operation does not apply: doc is missing path: /${path.join('/')}`);
  return doc;
}

export function jsonPatch(target: unknown, ops: unknown): any {
  if (!Array.isArray(ops)) throw new ApiError(400, 'BadRequest', 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc: any = structuredClone(target);
  for (const raw of ops) {
    if (!isObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') throw patchError('invalid JSON patch operation');
    const path = parsePointer(raw.path);
    switch (raw.op) {
      case 'add':
        doc = addAt(doc, path, raw.value, 'add');
        break;
      case 'remove':
        doc = removeAt(doc, path, 'remove');
        break;
      case 'replace':
        if (getAt(doc, path) === undefined) throw patchError(`replace operation does not apply: doc is missing key: ${raw.path}`);
        if (path.length === 0) doc = structuredClone(raw.value);
        else {
          doc = removeAt(doc, path, 'replace');
          doc = addAt(doc, path, raw.value, 'replace');
        }
        break;
      case 'move':
      case 'copy': {
        const from = parsePointer(String(raw.from ?? ''));
        const value = getAt(doc, from);
        if (value === undefined) throw patchError(`${raw.op} operation does not apply: doc is missing from path: ${raw.from}`);
        if (raw.op === 'move') doc = removeAt(doc, from, 'move');
        doc = addAt(doc, path, value, raw.op);
        break;
      }
      case 'test':
        if (!deepEqual(getAt(doc, path), raw.value)) throw patchError(`testing value ${raw.path} failed: test failed`);
        break;
      default:
        throw patchError(`Unexpected kind: ${raw.op}`);
    }
  }
  return doc;
}
