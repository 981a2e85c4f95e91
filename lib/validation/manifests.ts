/**
 * Synth-time validation of the manifests the pipeline emits, dispatching on
 * apiVersion + kind:
 *  - argoproj.io/v1alpha1 WorkflowTemplate and Workflow: the structural
 *    schemas imported from the vendored Argo v4 CRDs by
 *    scripts/import-schemas.ts (imports/schemas/*.json, read lazily once);
 *  - v1 ServiceAccount, ConfigMap, Secret and rbac.authorization.k8s.io/v1
 *    Role, RoleBinding: schemas derived from @kubernetes/client-node
 *    (./core-schemas);
 *  - anything else: `unsupported kind <apiVersion>/<kind>`.
 *
 * On top of the schema, the ObjectMeta rules the API server applies to every
 * object are checked (name/generateName present and well formed, namespace,
 * label and annotation syntax), plus ConfigMap/Secret key syntax.
 *
 * Importing this module has no side effects; it never reads the environment.
 * CEL rules (`x-kubernetes-validations`) are not evaluated (see ./structural).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CORE_KINDS, coreSchemaFor } from './core-schemas';
import { mapKeyPath, validateAgainstSchema, type SchemaProblem, type StructuralSchema } from './structural';

export type { SchemaProblem } from './structural';
export { formatProblem } from './structural';

const ARGO_API_VERSION = 'argoproj.io/v1alpha1';

const ARGO_SCHEMA_FILES: Readonly<Record<string, string>> = {
  WorkflowTemplate: 'argoproj.io_workflowtemplates.json',
  Workflow: 'argoproj.io_workflows.json',
};

/**
 * Where the generated CRD schemas live: the nearest `imports/schemas` above this module, so it
 * is found from lib/ (tsx, vitest) and from a bundle in build/ alike. Resolved on first use.
 */
export function schemaDir(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'imports', 'schemas');
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`no imports/schemas folder above ${from}; run 'npm run import'`);
  }
}

const argoCache = new Map<string, StructuralSchema>();

/** The imported structural schema of an Argo kind (cached), or undefined for other kinds. */
export function argoSchemaFor(apiVersion: string, kind: string): StructuralSchema | undefined {
  if (apiVersion !== ARGO_API_VERSION || !Object.prototype.hasOwnProperty.call(ARGO_SCHEMA_FILES, kind)) return undefined;
  let schema = argoCache.get(kind);
  if (schema === undefined) {
    schema = JSON.parse(fs.readFileSync(path.join(schemaDir(), ARGO_SCHEMA_FILES[kind]!), 'utf8')) as StructuralSchema;
    argoCache.set(kind, schema);
  }
  return schema;
}

/** `<apiVersion>/<kind>` of every kind {@link validateManifest} understands. */
export function supportedKinds(): string[] {
  return [
    ...Object.keys(ARGO_SCHEMA_FILES).map((k) => `${ARGO_API_VERSION}/${k}`),
    ...CORE_KINDS.map((k) => `${k.apiVersion}/${k.kind}`),
  ];
}

/** Validates one manifest; returns [] when it is valid. */
export function validateManifest(obj: unknown): SchemaProblem[] {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    return [{ path: '', message: `Invalid value: a manifest must be an object, got ${Array.isArray(obj) ? 'array' : obj === null ? 'null' : typeof obj}` }];
  }
  const doc = obj as Record<string, unknown>;
  const { apiVersion, kind } = doc;
  const problems: SchemaProblem[] = [];
  if (typeof apiVersion !== 'string' || apiVersion === '') problems.push({ path: 'apiVersion', message: 'Required value: must be a non-empty string' });
  if (typeof kind !== 'string' || kind === '') problems.push({ path: 'kind', message: 'Required value: must be a non-empty string' });
  if (problems.length > 0) return problems;

  const av = apiVersion as string;
  const k = kind as string;
  const argo = argoSchemaFor(av, k);
  const schema = argo ?? coreSchemaFor(av, k);
  if (schema === undefined) return [{ path: 'kind', message: `unsupported kind ${av}/${k}` }];

  problems.push(...validateAgainstSchema(doc, schema));
  if (argo !== undefined) checkSingularSynchronization(doc, problems);
  checkObjectMeta(doc.metadata, k, argo !== undefined, problems);
  if (k === 'ConfigMap' || k === 'Secret') checkDataKeys(doc, k, problems);
  return problems;
}

// ---------------------------------------------------------------------------
// Argo: the singular `synchronization.semaphore` / `mutex` of Argo < 4.

const SINGULAR_SYNC: Readonly<Record<string, string>> = { semaphore: 'semaphores', mutex: 'mutexes' };

/**
 * Argo Workflows v4 dropped `synchronization.semaphore` / `mutex` for the list
 * forms. The v4 schema does not declare them, so the unknown-field check
 * already rejects them; this adds a hint to that problem, and still rejects
 * them should a regenerated schema ever declare them again.
 */
function checkSingularSynchronization(doc: Record<string, unknown>, problems: SchemaProblem[]): void {
  const spec = asRecord(doc.spec);
  if (spec === undefined) return;
  const places: Array<[unknown, string]> = [
    [spec.synchronization, 'spec.synchronization'],
    [asRecord(spec.templateDefaults)?.synchronization, 'spec.templateDefaults.synchronization'],
  ];
  if (Array.isArray(spec.templates)) {
    spec.templates.forEach((t, i) => places.push([asRecord(t)?.synchronization, `spec.templates[${i}].synchronization`]));
  }
  for (const [sync, syncPath] of places) {
    const record = asRecord(sync);
    if (record === undefined) continue;
    for (const [singular, plural] of Object.entries(SINGULAR_SYNC)) {
      if (record[singular] === undefined) continue;
      const fieldPath = `${syncPath}.${singular}`;
      const hint = ` (Argo Workflows v4 removed the singular form; use "${plural}", a list)`;
      const existing = problems.find((p) => p.path === fieldPath && p.message.startsWith('unknown field'));
      if (existing !== undefined) existing.message += hint;
      else problems.push({ path: fieldPath, message: `unknown field "${fieldPath}"${hint}` });
    }
  }
}

// ---------------------------------------------------------------------------
// ObjectMeta rules the API server applies to every object.

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/** RBAC objects only need a valid path segment; the other kinds here need a DNS-1123 subdomain. */
const PATH_SEGMENT_NAME_KINDS = new Set(['Role', 'RoleBinding']);

function nameProblem(name: string, kind: string): string | undefined {
  if (PATH_SEGMENT_NAME_KINDS.has(kind)) {
    if (name === '.' || name === '..') return `may not be ${JSON.stringify(name)}`;
    if (name.includes('/') || name.includes('%')) return 'may not contain "/" or "%"';
    return undefined;
  }
  return dnsSubdomainProblem(name);
}

function dnsSubdomainProblem(value: string): string | undefined {
  if (value.length > 253) return `must be no more than 253 characters, got ${value.length}`;
  if (!DNS1123_SUBDOMAIN.test(value)) {
    return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

function qualifiedNameProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) {
    if (prefix === '') return 'prefix part must be non-empty';
    const p = dnsSubdomainProblem(prefix);
    if (p !== undefined) return `prefix part ${p}`;
  }
  if (name === '') return 'name part must be non-empty';
  if (name.length > 63) return `name part must be no more than 63 characters, got ${name.length}`;
  if (!QUALIFIED_NAME_PART.test(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

function checkObjectMeta(meta: unknown, kind: string, allowGenerateName: boolean, problems: SchemaProblem[]): void {
  const m = asRecord(meta);
  if (m === undefined) return; // absence / wrong type already reported by the schema
  const { name, generateName, namespace, labels, annotations } = m;
  if (typeof name === 'string' && name !== '') {
    const p = nameProblem(name, kind);
    if (p !== undefined) problems.push({ path: 'metadata.name', message: `Invalid value: ${JSON.stringify(name)}: ${p}` });
  } else if (allowGenerateName && name === undefined) {
    if (typeof generateName !== 'string' || generateName === '') {
      problems.push({ path: 'metadata.name', message: 'Required value: name or generateName is required' });
    }
  }
  if (typeof generateName === 'string' && generateName !== '') {
    // The server appends 5 random characters; the prefix must leave a valid name.
    const p = nameProblem(`${generateName}abcde`, kind);
    if (p !== undefined) problems.push({ path: 'metadata.generateName', message: `Invalid value: ${JSON.stringify(generateName)}: ${p}` });
  }
  if (typeof namespace === 'string' && namespace !== '') {
    if (namespace.length > 63 || !DNS1123_LABEL.test(namespace)) {
      problems.push({
        path: 'metadata.namespace',
        message: `Invalid value: ${JSON.stringify(namespace)}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', start and end with an alphanumeric character, and be at most 63 characters`,
      });
    }
  }
  const labelMap = asRecord(labels);
  if (labelMap !== undefined) {
    for (const [key, value] of Object.entries(labelMap)) {
      const keyPath = mapKeyPath('metadata.labels', key);
      const kp = qualifiedNameProblem(key);
      if (kp !== undefined) problems.push({ path: keyPath, message: `Invalid value: ${JSON.stringify(key)}: label key ${kp}` });
      if (typeof value === 'string' && (value.length > 63 || !LABEL_VALUE.test(value))) {
        problems.push({
          path: keyPath,
          message: `Invalid value: ${JSON.stringify(value)}: a label value must be at most 63 characters, empty or consist of alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character`,
        });
      }
    }
  }
  const annotationMap = asRecord(annotations);
  if (annotationMap !== undefined) {
    let total = 0;
    for (const [key, value] of Object.entries(annotationMap)) {
      const kp = qualifiedNameProblem(key.toLowerCase());
      if (kp !== undefined) problems.push({ path: mapKeyPath('metadata.annotations', key), message: `Invalid value: ${JSON.stringify(key)}: annotation key ${kp}` });
      total += key.length + (typeof value === 'string' ? value.length : 0);
    }
    if (total > TOTAL_ANNOTATION_SIZE_LIMIT) {
      problems.push({ path: 'metadata.annotations', message: `Too long: must have at most ${TOTAL_ANNOTATION_SIZE_LIMIT} bytes, got ${total}` });
    }
  }
}

// ---------------------------------------------------------------------------
// ConfigMap / Secret keys.

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

function checkDataKeys(doc: Record<string, unknown>, kind: string, problems: SchemaProblem[]): void {
  const fields = kind === 'ConfigMap' ? ['data', 'binaryData'] : ['data', 'stringData'];
  const seen = new Map<string, string>();
  for (const field of fields) {
    const map = asRecord(doc[field]);
    if (map === undefined) continue;
    for (const key of Object.keys(map)) {
      if (map[key] === undefined) continue;
      const keyPath = mapKeyPath(field, key);
      if (key.length > 253 || !CONFIG_KEY.test(key) || key === '.' || key === '..' || key.startsWith('..')) {
        problems.push({
          path: keyPath,
          message: `Invalid value: ${JSON.stringify(key)}: a valid config key must consist of alphanumeric characters, '-', '_' or '.', be at most 253 characters, and not be or start with ".."`,
        });
      }
      // ConfigMap keys must be unique across data and binaryData (Secret stringData is merged into data, so overlap is allowed).
      if (kind === 'ConfigMap') {
        const other = seen.get(key);
        if (other !== undefined) problems.push({ path: keyPath, message: `Invalid value: ${JSON.stringify(key)}: duplicate of key in ${other}` });
        seen.set(key, field);
      }
    }
  }
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
