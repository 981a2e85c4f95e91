/**
 * Structural schemas for the Kubernetes core kinds the pipeline emits, derived
 * at run time (lazily, cached) from the `attributeTypeMap` of
 * `@kubernetes/client-node`'s generated model classes, so
 * lib/validation/structural.ts can validate them like the CRD kinds.
 *
 * Loading: `require('@kubernetes/client-node')` pulls in the whole client
 * (about 840 exports, ~0.45 s on a warm disk). The generated model modules
 * (dist/gen/models/<Name>.js) are self-contained ES modules with no imports,
 * so only the handful needed are loaded, by deep path, through
 * `createRequire` (Node >= 20.19 can `require()` an ES module; the package has
 * no `exports` map, so deep paths resolve). That costs a few milliseconds.
 * Caveat: a bundler will not follow these computed paths; the models must then
 * stay resolvable at run time next to the bundle.
 *
 * What the generated models do not say (they mark nothing required and carry
 * no enums) is added by hand in {@link KIND_OVERRIDES}: only constraints the
 * API server enforces for these kinds.
 */
import { createRequire } from 'node:module';
import type { StructuralSchema } from './structural';

/** One entry of a generated model's `attributeTypeMap`. */
export interface ModelAttribute {
  name: string;
  baseName: string;
  type: string;
  format: string;
}

interface ModelClass {
  getAttributeTypeMap(): ModelAttribute[];
}

export interface CoreKind {
  apiVersion: string;
  kind: string;
  /** Generated model class name in @kubernetes/client-node. */
  model: string;
}

export const CORE_KINDS: readonly CoreKind[] = [
  { apiVersion: 'v1', kind: 'ServiceAccount', model: 'V1ServiceAccount' },
  { apiVersion: 'v1', kind: 'ConfigMap', model: 'V1ConfigMap' },
  { apiVersion: 'v1', kind: 'Secret', model: 'V1Secret' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', model: 'V1Role' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', model: 'V1RoleBinding' },
];

const MODEL_DIR = '@kubernetes/client-node/dist/gen/models';
const MODEL_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

let requireModel: ((id: string) => unknown) | undefined;
const modelCache = new Map<string, ModelAttribute[]>();

/** The `attributeTypeMap` of one generated model class, loaded by deep path. */
export function modelAttributes(model: string): ModelAttribute[] {
  let attributes = modelCache.get(model);
  if (attributes === undefined) {
    if (!MODEL_NAME.test(model)) throw new Error(`not a client-node model name: ${JSON.stringify(model)}`);
    requireModel ??= createRequire(__filename);
    const mod = requireModel(`${MODEL_DIR}/${model}.js`) as Record<string, ModelClass | undefined>;
    const cls = mod[model];
    if (cls === undefined || typeof cls.getAttributeTypeMap !== 'function') {
      throw new Error(`${MODEL_DIR}/${model}.js does not export a model class ${model}`);
    }
    attributes = cls.getAttributeTypeMap();
    modelCache.set(model, attributes);
  }
  return attributes;
}

const ARRAY_TYPE = /^Array<(.+)>$/;
const MAP_TYPE = /^\{ \[key: string\]: (.+); \}$/;

/**
 * Converts a client-node attribute type string to a structural schema.
 * `format` is the attribute's format (int32, int64, byte, date-time, ...),
 * which applies to the innermost primitive of arrays and maps.
 */
function schemaForType(type: string, format: string, models: Map<string, StructuralSchema>): StructuralSchema {
  const array = ARRAY_TYPE.exec(type);
  if (array) return { type: 'array', items: schemaForType(array[1]!, format, models) };
  const map = MAP_TYPE.exec(type);
  if (map) return { type: 'object', additionalProperties: schemaForType(map[1]!, format, models) };
  switch (type) {
    case 'string':
      return format === 'byte' || format === 'date-time' ? { type: 'string', format } : { type: 'string' };
    case 'boolean':
      return { type: 'boolean' };
    case 'number':
      if (format === 'int32' || format === 'int64') return { type: 'integer', format };
      return { type: 'number' };
    case 'Date':
      // metav1.Time; its zero value marshals as null.
      return { type: 'string', format: 'date-time', nullable: true };
    case 'IntOrString':
      return { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] };
    case 'object':
      return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    case 'any':
      // e.g. ManagedFieldsEntry.fieldsV1: free-form JSON.
      return { 'x-kubernetes-preserve-unknown-fields': true };
    default:
      return modelSchema(type, models);
  }
}

/** A closed object schema for a model class; `models` memoizes (and breaks cycles). */
function modelSchema(model: string, models: Map<string, StructuralSchema>): StructuralSchema {
  const cached = models.get(model);
  if (cached !== undefined) return cached;
  const schema: StructuralSchema = { type: 'object', properties: {} };
  models.set(model, schema);
  for (const attr of modelAttributes(model)) {
    schema.properties![attr.baseName] = schemaForType(attr.type, attr.format, models);
  }
  return schema;
}

/** A deep copy, so hand overrides never leak into schemas shared between kinds. */
function clone(schema: StructuralSchema): StructuralSchema {
  return structuredClone(schema);
}

function prop(schema: StructuralSchema, ...names: string[]): StructuralSchema {
  let node = schema;
  for (const name of names) {
    const next = name === '[]' ? node.items : node.properties?.[name];
    if (next === undefined) throw new Error(`core schema override: no ${names.join('.')} in the derived schema`);
    node = next;
  }
  return node;
}

/**
 * Hand-written constraints the generated models do not carry (they mark nothing
 * required), limited to what the API server enforces for these kinds:
 *  - every kind: `metadata.name` (kubectl apply needs a name; generateName is
 *    not usable with apply).
 *  - Role: each rule needs at least one verb.
 *  - RoleBinding: `roleRef` with apiGroup rbac.authorization.k8s.io, kind Role
 *    or ClusterRole and a name; each subject needs kind (ServiceAccount, User or
 *    Group) and name.
 */
const KIND_OVERRIDES: Record<string, (schema: StructuralSchema) => void> = {
  Role: (s) => {
    const rule = prop(s, 'rules', '[]');
    rule.required = ['verbs'];
    prop(rule, 'verbs').minItems = 1;
  },
  RoleBinding: (s) => {
    s.required = [...(s.required ?? []), 'roleRef'];
    const roleRef = prop(s, 'roleRef');
    roleRef.required = ['apiGroup', 'kind', 'name'];
    prop(roleRef, 'apiGroup').enum = ['rbac.authorization.k8s.io'];
    prop(roleRef, 'kind').enum = ['Role', 'ClusterRole'];
    prop(roleRef, 'name').minLength = 1;
    const subject = prop(s, 'subjects', '[]');
    subject.required = ['kind', 'name'];
    prop(subject, 'kind').enum = ['ServiceAccount', 'User', 'Group'];
    prop(subject, 'name').minLength = 1;
  },
};

const kindCache = new Map<string, StructuralSchema>();
let sharedModels: Map<string, StructuralSchema> | undefined;

/** The structural schema for a core kind, or undefined when the kind is not one of {@link CORE_KINDS}. */
export function coreSchemaFor(apiVersion: string, kind: string): StructuralSchema | undefined {
  const entry = CORE_KINDS.find((k) => k.apiVersion === apiVersion && k.kind === kind);
  if (entry === undefined) return undefined;
  const key = `${apiVersion}/${kind}`;
  let schema = kindCache.get(key);
  if (schema === undefined) {
    sharedModels ??= new Map();
    schema = clone(modelSchema(entry.model, sharedModels));
    schema.required = ['apiVersion', 'kind', 'metadata'];
    prop(schema, 'apiVersion').enum = [apiVersion];
    prop(schema, 'kind').enum = [kind];
    prop(schema, 'metadata').required = ['name'];
    prop(schema, 'metadata', 'name').minLength = 1;
    KIND_OVERRIDES[kind]?.(schema);
    kindCache.set(key, schema);
  }
  return schema;
}

/** The derived (override-free) schema of any client-node model, e.g. `V1ObjectMeta`. */
export function deriveModelSchema(model: string): StructuralSchema {
  sharedModels ??= new Map();
  return clone(modelSchema(model, sharedModels));
}
