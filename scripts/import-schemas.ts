/**
 * Turns the vendored Argo Workflows CRDs (imports/crds/*.yaml, unchanged
 * upstream copies) into the compact structural schemas that
 * lib/validation/manifests.ts loads at synth time (imports/schemas/*.json).
 *
 *   npx tsx scripts/import-schemas.ts          # (re)write the JSON files
 *   npx tsx scripts/import-schemas.ts --check  # exit 1 if they are stale
 *
 * Only what lib/validation/structural.ts evaluates is kept; documentation,
 * defaults (except on list-map key fields, which the duplicate-key check
 * needs), `x-kubernetes-map-type`, `x-kubernetes-list-type: atomic` and the
 * CEL rules in `x-kubernetes-validations` (not evaluated at synth time) are
 * dropped. A schema keyword the script does not know makes it fail, so a new
 * CRD feature cannot be silently ignored. Output: sorted keys, no whitespace,
 * a trailing newline, and a `$comment` header naming the source.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';

export interface SchemaTarget {
  /** CRD YAML, relative to the project root. */
  crd: string;
  /** Generated JSON, relative to the project root. */
  out: string;
  group: string;
  version: string;
  kind: string;
}

export const SCHEMA_TARGETS: readonly SchemaTarget[] = [
  {
    crd: 'imports/crds/argoproj.io_workflowtemplates.yaml',
    out: 'imports/schemas/argoproj.io_workflowtemplates.json',
    group: 'argoproj.io',
    version: 'v1alpha1',
    kind: 'WorkflowTemplate',
  },
  {
    crd: 'imports/crds/argoproj.io_workflows.yaml',
    out: 'imports/schemas/argoproj.io_workflows.json',
    group: 'argoproj.io',
    version: 'v1alpha1',
    kind: 'Workflow',
  },
];

export const PROJECT_ROOT = path.resolve(__dirname, '..');

/** Schema keywords copied to the output as they are. */
const KEPT = new Set([
  'type',
  'nullable',
  'required',
  'enum',
  'format',
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-list-map-keys',
]);

/** Schema keywords that are recursed into (handled explicitly below). */
const NESTED = new Set(['properties', 'additionalProperties', 'items', 'anyOf', 'allOf', 'oneOf', 'not']);

/** Schema keywords validation does not need. */
const DROPPED = new Set([
  'description',
  'title',
  'example',
  'externalDocs',
  'default', // re-added on list-map key fields only
  'x-kubernetes-map-type',
  'x-kubernetes-validations', // CEL: not evaluated at synth time
]);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reduces one schema node (recursively) to what validation needs. */
export function stripSchema(node: unknown, where = '<root>', keepDefault = false): JsonObject {
  if (!isObject(node)) throw new Error(`${where}: schema node is not an object`);
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (KEPT.has(key)) {
      if (key === 'pattern') assertPattern(value, where);
      out[key] = value;
    } else if (key === 'x-kubernetes-list-type') {
      if (value !== 'atomic') out[key] = value; // atomic is the default and validates nothing
    } else if (key === 'default') {
      if (keepDefault) out[key] = value;
    } else if (DROPPED.has(key)) {
      continue;
    } else if (!NESTED.has(key)) {
      throw new Error(`${where}: unsupported schema keyword ${JSON.stringify(key)}; teach scripts/import-schemas.ts and lib/validation/structural.ts about it`);
    }
  }
  if (node.properties !== undefined) {
    if (!isObject(node.properties)) throw new Error(`${where}.properties: not an object`);
    const props: JsonObject = {};
    for (const [name, child] of Object.entries(node.properties)) props[name] = stripSchema(child, `${where}.${name}`);
    out.properties = props;
  }
  if (node.additionalProperties !== undefined) {
    const ap = node.additionalProperties;
    out.additionalProperties = typeof ap === 'boolean' ? ap : stripSchema(ap, `${where}{}`);
  }
  if (node.items !== undefined) {
    const mapKeys = node['x-kubernetes-list-type'] === 'map' ? node['x-kubernetes-list-map-keys'] : undefined;
    const items = stripSchema(node.items, `${where}[]`);
    if (Array.isArray(mapKeys) && isObject(node.items) && isObject(node.items.properties) && isObject(items.properties)) {
      for (const k of mapKeys) {
        const src = typeof k === 'string' ? node.items.properties[k] : undefined;
        if (isObject(src) && src.default !== undefined && isObject(items.properties[k as string])) {
          (items.properties[k as string] as JsonObject).default = src.default;
        }
      }
    }
    out.items = items;
  }
  for (const junctor of ['anyOf', 'allOf', 'oneOf'] as const) {
    const branches = node[junctor];
    if (branches === undefined) continue;
    if (!Array.isArray(branches)) throw new Error(`${where}.${junctor}: not a list`);
    out[junctor] = branches.map((b, i) => stripSchema(b, `${where}.${junctor}[${i}]`));
  }
  if (node.not !== undefined) out.not = stripSchema(node.not, `${where}.not`);
  return out;
}

function assertPattern(pattern: unknown, where: string): void {
  if (typeof pattern !== 'string') throw new Error(`${where}: pattern is not a string`);
  try {
    new RegExp(pattern);
  } catch (e) {
    throw new Error(`${where}: pattern ${JSON.stringify(pattern)} is not a valid JavaScript regular expression: ${(e as Error).message}`);
  }
}

/** Deterministic JSON: object keys sorted at every level, array order kept. */
export function sortKeysDeep(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const key of Object.keys(value).sort()) out[key] = sortKeysDeep(value[key]);
  return out;
}

/** The JSON file content for one CRD, given the CRD's YAML text. */
export function renderSchemaJson(crdYaml: string, target: SchemaTarget): string {
  const crd: unknown = parse(crdYaml);
  if (!isObject(crd) || crd.kind !== 'CustomResourceDefinition' || !isObject(crd.spec)) {
    throw new Error(`${target.crd}: not a CustomResourceDefinition`);
  }
  const spec = crd.spec;
  if (spec.group !== target.group || !isObject(spec.names) || spec.names.kind !== target.kind) {
    throw new Error(`${target.crd}: expected ${target.group} ${target.kind}`);
  }
  const versions = spec.versions;
  if (!Array.isArray(versions) || versions.length === 0 || !isObject(versions[0])) throw new Error(`${target.crd}: no versions`);
  const version = versions[0];
  if (version.name !== target.version) throw new Error(`${target.crd}: versions[0] is ${String(version.name)}, expected ${target.version}`);
  const schema = isObject(version.schema) ? version.schema.openAPIV3Schema : undefined;
  const stripped = stripSchema(schema, `${target.kind}`);
  stripped.$comment =
    `generated by scripts/import-schemas.ts from ${target.crd} ` +
    `(${target.group}/${target.version} ${target.kind}, spec.versions[0].schema.openAPIV3Schema); do not edit`;
  return `${JSON.stringify(sortKeysDeep(stripped))}\n`;
}

/** What every target's JSON file should contain now (reads the CRDs; writes nothing). */
export function generateSchemaFiles(root: string = PROJECT_ROOT): Array<{ target: SchemaTarget; path: string; content: string }> {
  return SCHEMA_TARGETS.map((target) => ({
    target,
    path: path.join(root, target.out),
    content: renderSchemaJson(fs.readFileSync(path.join(root, target.crd), 'utf8'), target),
  }));
}

/** Names of the generated files whose committed content differs from what would be generated now. */
export function staleSchemaFiles(root: string = PROJECT_ROOT): string[] {
  return generateSchemaFiles(root)
    .filter((f) => !fs.existsSync(f.path) || fs.readFileSync(f.path, 'utf8') !== f.content)
    .map((f) => f.target.out);
}

function main(argv: string[]): number {
  if (argv.includes('--check')) {
    const stale = staleSchemaFiles();
    for (const out of stale) console.error(`stale: ${out} (run npx tsx scripts/import-schemas.ts)`);
    return stale.length === 0 ? 0 : 1;
  }
  for (const file of generateSchemaFiles()) {
    fs.mkdirSync(path.dirname(file.path), { recursive: true });
    fs.writeFileSync(file.path, file.content);
    console.log(`wrote ${file.target.out} (${file.content.length} bytes)`);
  }
  return 0;
}

if (typeof require !== 'undefined' && typeof module !== 'undefined' && require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
