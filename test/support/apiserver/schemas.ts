/**
 * Object schemas, for unknown-field validation (fieldValidation) and for the list-map keys server-side apply
 * merges by. Schemas are in the CRD openAPIV3Schema shape: the Argo kinds use the pinned CRDs of imports/crds
 * (as a cluster installing them would serve), CRDs stored at run time their own schema, and the built-in kinds
 * the stand-in writes a hand-kept copy of their fields (builtin-schemas.ts). A kind without a schema is not
 * validated (pods, nodes: their specs are large and the tests write them whole).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { BUILTIN_SCHEMAS, OBJECT_META } from './builtin-schemas';
import type { ResourceType } from './resources';

/** The parts of a JSONSchemaProps the stand-in reads. */
export interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: string;
}

const CRD_FILES: Record<string, string> = {
  'argoproj.io/Workflow': 'argoproj.io_workflows.yaml',
  'argoproj.io/WorkflowTemplate': 'argoproj.io_workflowtemplates.yaml',
};
const CRD_DIR = path.join(__dirname, '../../../imports/crds');
const loaded = new Map<string, Schema | undefined>();

/** Keeps what validation and merging read (drops descriptions, validations): the cache stays small. */
function slim(s: unknown): Schema {
  const o = (s ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of ['type', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-embedded-resource', 'x-kubernetes-int-or-string', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type']) {
    if (o[k] !== undefined) out[k] = o[k];
  }
  if (o.properties) out.properties = Object.fromEntries(Object.entries(o.properties as Record<string, unknown>).map(([k, v]) => [k, slim(v)]));
  if (o.items) out.items = slim(o.items);
  if (o.additionalProperties !== undefined) out.additionalProperties = typeof o.additionalProperties === 'boolean' ? o.additionalProperties : slim(o.additionalProperties);
  return out as Schema;
}

/** The openAPIV3Schema of one version of a CRD object. */
export function crdVersionSchema(crd: Record<string, any>, version: string): Schema | undefined {
  const v = (crd.spec?.versions ?? []).find((x: { name?: string }) => x?.name === version);
  const s = v?.schema?.openAPIV3Schema;
  return s ? slim(s) : undefined;
}

/** A pinned Argo CRD's schema; parsed once per process and cached as JSON in the temp folder (the YAML is 2.7 MB). */
function pinnedCrdSchema(file: string, version: string): Schema | undefined {
  const full = path.join(CRD_DIR, file);
  if (!fs.existsSync(full)) return undefined;
  const text = fs.readFileSync(full);
  const cache = path.join(os.tmpdir(), `sleap-roots-crd-schema-${createHash('sha1').update(text).update(version).digest('hex')}.json`);
  try {
    return JSON.parse(fs.readFileSync(cache, 'utf8')) as Schema;
  } catch {
    const schema = crdVersionSchema(parse(text.toString('utf8')) as Record<string, any>, version);
    const tmp = `${cache}.${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify(schema ?? null));
    fs.renameSync(tmp, cache);
    return schema;
  }
}

/** The schema of a resource type's objects, or undefined when the stand-in has none. */
export function schemaOf(rt: ResourceType): Schema | undefined {
  if (rt.schema) return rt.schema;
  const id = `${rt.group}/${rt.kind}`;
  if (loaded.has(id)) return loaded.get(id);
  const file = rt.custom ? CRD_FILES[id] : undefined;
  const schema = file ? pinnedCrdSchema(file, rt.version) : BUILTIN_SCHEMAS[id];
  loaded.set(id, schema);
  return schema;
}

/** A schema by apiVersion and kind alone (built-in kinds and the pinned Argo CRDs), for callers without the type. */
export function schemaByKind(apiVersion: string, kind: string): Schema | undefined {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
  const id = `${group}/${kind}`;
  if (BUILTIN_SCHEMAS[id]) return BUILTIN_SCHEMAS[id];
  const file = CRD_FILES[id];
  if (!file) return undefined;
  if (!loaded.has(id)) loaded.set(id, pinnedCrdSchema(file, version));
  return loaded.get(id);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One unknown field: its path, in the decoder's form and in structured-merge-diff's. */
export interface UnknownField {
  /** `spec.templates[0].foo`: runtime/converter.go `recordUnknownField` (`unknown field "..."`). */
  readonly decodePath: string;
  /** `.spec.templates[name="main"].foo`: structured-merge-diff fieldpath.Path.String(). */
  readonly typedPath: string;
  /** Where it is, to prune it. */
  readonly at: { readonly parent: Record<string, unknown>; readonly key: string };
}

/**
 * The fields of `value` its schema does not declare, in document order. The top level also allows apiVersion,
 * kind and metadata (ObjectMeta, whatever the CRD says of metadata: the API server decodes it as ObjectMeta).
 * `x-kubernetes-preserve-unknown-fields` keeps everything below it; embedded resources get apiVersion, kind and
 * ObjectMeta too (apiextensions-apiserver pkg/apiserver/schema/pruning/algorithm.go `prune`, `isResourceRoot`).
 */
export function unknownFields(schema: Schema, value: unknown): UnknownField[] {
  const out: UnknownField[] = [];
  const walk = (s: Schema | undefined, v: unknown, decode: string, typed: string, root: boolean): void => {
    if (!s || (s['x-kubernetes-preserve-unknown-fields'] && !s.properties)) return;
    if (Array.isArray(v)) {
      const items = s.items;
      const keys = s['x-kubernetes-list-type'] === 'map' ? (s['x-kubernetes-list-map-keys'] ?? []) : [];
      v.forEach((x, i) => {
        const key = keys.length && isObject(x) ? `[${keys.filter((k) => x[k] !== undefined).map((k) => `${k}=${JSON.stringify(x[k])}`).join(',')}]` : `[${i}]`;
        walk(items, x, `${decode}[${i}]`, `${typed}${key}`, false);
      });
      return;
    }
    if (!isObject(v)) return;
    const resource = root || s['x-kubernetes-embedded-resource'] === true;
    for (const [k, x] of Object.entries(v)) {
      const d = decode ? `${decode}.${k}` : k;
      const t = `${typed}.${k}`;
      if (resource && (k === 'apiVersion' || k === 'kind')) continue;
      if (resource && k === 'metadata') {
        walk(OBJECT_META, x, d, t, false);
        continue;
      }
      const declared = s.properties?.[k];
      if (declared) walk(declared, x, d, t, false);
      else if (s.additionalProperties !== undefined && s.additionalProperties !== false) {
        if (typeof s.additionalProperties === 'object') walk(s.additionalProperties, x, d, t, false);
      } else if (!s['x-kubernetes-preserve-unknown-fields']) out.push({ decodePath: d, typedPath: t, at: { parent: v, key: k } });
    }
  };
  walk(schema, value, '', '', true);
  return out;
}

/** The list-map keys of the list at `path` (names of object fields and list positions' parents), if any. */
export function listMapKeys(schema: Schema | undefined, pathFromRoot: readonly string[]): string[] | undefined {
  let s: Schema | undefined = schema;
  for (const seg of pathFromRoot) {
    if (!s) return undefined;
    if (seg === '[]') s = s.items;
    else if (pathFromRoot.length && seg === 'metadata' && s === schema) s = OBJECT_META;
    else s = s.properties?.[seg] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
  }
  return s?.['x-kubernetes-list-type'] === 'map' ? s['x-kubernetes-list-map-keys'] : undefined;
}
