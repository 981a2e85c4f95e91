/**
 * A small interpreter for Kubernetes *structural* OpenAPI v3 schemas (the
 * dialect CustomResourceDefinitions use), so synthesized manifests can be
 * checked at synth time about as strictly as `kubectl apply --validate=strict`
 * and the API server would check them, without ajv and without compiling
 * anything: the schema is walked alongside the value.
 *
 * What is enforced (all of it is enforced by the API server for CRDs):
 *  - `type` (object/array/string/integer/number/boolean; an integer must be a
 *    whole number), `nullable`, `enum`, `format` (int32/int64 range, `byte` =
 *    base64, `date-time` = RFC 3339), `pattern`, `minimum`/`maximum` (with the
 *    OpenAPI v3.0 boolean `exclusiveMinimum`/`exclusiveMaximum`), `multipleOf`,
 *    `minLength`/`maxLength` (in code points), `minItems`/`maxItems`,
 *    `uniqueItems`, `minProperties`/`maxProperties`.
 *  - `properties`, `required`, `additionalProperties` (schema, `true` or
 *    `false`), `items`.
 *  - Unknown fields are errors, worded like kubectl's strict decoding
 *    (`unknown field "spec.templates[0].contianer"`): an object node is
 *    closed unless it has `additionalProperties` (schema or `true`) or
 *    `x-kubernetes-preserve-unknown-fields: true`. Like the API server's
 *    pruning, openness is decided by the node's own skeleton; fields declared
 *    under a preserve-unknown-fields node keep being validated, undeclared
 *    subtrees below it are not looked at.
 *  - `x-kubernetes-int-or-string` (integer or string; in CRDs it is spelled
 *    `anyOf: [{type: integer}, {type: string}]`, which is then not evaluated a
 *    second time); together with the resource-quantity `pattern` the string
 *    form is reported as a malformed quantity.
 *  - `anyOf` / `allOf` / `oneOf` / `not` as value validations (unknown-field
 *    checks are never made from inside them: in a structural schema the
 *    skeleton decides what a field is).
 *  - `x-kubernetes-list-type: set` (no duplicate items) and `map` (no two items
 *    with the same `x-kubernetes-list-map-keys` tuple; a key's `default` is
 *    used when it is absent).
 *  - `metadata` of the root object (and of `x-kubernetes-embedded-resource`
 *    nodes) is validated as an ObjectMeta ({@link OBJECT_META_SCHEMA}) when
 *    the schema leaves it as a bare `{type: object}`, as CRDs do.
 *
 * Deliberate differences from the API server:
 *  - `x-kubernetes-validations` (CEL rules) are NOT evaluated: there is no CEL
 *    interpreter here (the schema importer strips them). Rules the CRDs encode
 *    only in CEL are therefore checked at admission time, not at synth time.
 *  - `null` for a field that is not `nullable` is reported. The API server
 *    would silently prune it, which hides a bug in the code that produced it.
 *  - `undefined` property values are treated as absent (JSON serialization
 *    drops them); other non-JSON values (functions, bigint, Date, class
 *    instances, non-finite numbers) are reported.
 *  - Regular expressions are evaluated with JavaScript semantics, not Go RE2;
 *    the importer checks that every pattern in the vendored CRDs compiles.
 *
 * Paths are rendered like kubectl's: `spec.templates[0].container.resources`.
 * Map entries are appended as `.key` when the key is a plain identifier and as
 * `[key]` otherwise (`metadata.labels[app.kubernetes.io/name]`), so paths stay
 * unambiguous.
 */

/** One validation failure. `message` does not repeat `path`, except for the kubectl-style unknown-field wording. */
export interface SchemaProblem {
  path: string;
  message: string;
}

export type SchemaType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';

/** The subset of OpenAPI v3 / Kubernetes structural schema that {@link validateAgainstSchema} interprets. */
export interface StructuralSchema {
  $comment?: string;
  type?: SchemaType;
  nullable?: boolean;
  properties?: Record<string, StructuralSchema>;
  required?: string[];
  additionalProperties?: StructuralSchema | boolean;
  items?: StructuralSchema;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minProperties?: number;
  maxProperties?: number;
  anyOf?: StructuralSchema[];
  allOf?: StructuralSchema[];
  oneOf?: StructuralSchema[];
  not?: StructuralSchema;
  /** Only kept by the importer where it is needed: on list-map key fields. */
  default?: unknown;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
}

const STRING: StructuralSchema = { type: 'string' };
const STRING_MAP: StructuralSchema = { type: 'object', additionalProperties: STRING };
const INT64: StructuralSchema = { type: 'integer', format: 'int64' };
const BOOLEAN: StructuralSchema = { type: 'boolean' };
/** metav1.Time marshals its zero value as null, so kubectl-generated YAML carries `creationTimestamp: null`. */
const TIME: StructuralSchema = { type: 'string', format: 'date-time', nullable: true };

/**
 * meta/v1 ObjectMeta as a closed structural schema (every field of the
 * v1.34 type; `test/validation.test.ts` checks the field list against
 * `@kubernetes/client-node`'s V1ObjectMeta). Which of `name`/`generateName` is
 * required depends on the kind and is checked by the callers.
 */
export const OBJECT_META_SCHEMA: StructuralSchema = {
  type: 'object',
  properties: {
    annotations: STRING_MAP,
    creationTimestamp: TIME,
    deletionGracePeriodSeconds: INT64,
    deletionTimestamp: TIME,
    finalizers: { type: 'array', items: STRING, 'x-kubernetes-list-type': 'set' },
    generateName: STRING,
    generation: INT64,
    labels: STRING_MAP,
    managedFields: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          apiVersion: STRING,
          fieldsType: STRING,
          fieldsV1: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
          manager: STRING,
          operation: STRING,
          subresource: STRING,
          time: TIME,
        },
      },
    },
    name: STRING,
    namespace: STRING,
    ownerReferences: {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['uid'],
      items: {
        type: 'object',
        required: ['apiVersion', 'kind', 'name', 'uid'],
        properties: {
          apiVersion: STRING,
          blockOwnerDeletion: BOOLEAN,
          controller: BOOLEAN,
          kind: STRING,
          name: STRING,
          uid: STRING,
        },
      },
    },
    resourceVersion: STRING,
    selfLink: STRING,
    uid: STRING,
  },
};

/** `path: message`, except that the kubectl-style unknown-field message already names its path. */
export function formatProblem(problem: SchemaProblem): string {
  if (problem.path === '' || problem.message.startsWith('unknown field "')) return problem.message;
  return `${problem.path}: ${problem.message}`;
}

/**
 * Validates a JSON-like value against a structural schema and returns every
 * problem found (empty when valid). `path` is the path of `value` itself; the
 * root of a manifest is `''`, which also turns on the ObjectMeta treatment of
 * a bare `metadata` property.
 *
 * `x-kubernetes-validations` (CEL) rules are ignored: they cannot be evaluated
 * here.
 */
export function validateAgainstSchema(value: unknown, schema: StructuralSchema, path = ''): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  check(value, schema, path, { problems, inJunctor: false, root: path === '' });
  return problems;
}

interface Ctx {
  problems: SchemaProblem[];
  /** Inside anyOf/allOf/oneOf/not: value validations only, no unknown-field checks. */
  inJunctor: boolean;
  /** `value` is a manifest root (or embedded resource): bare `metadata` means ObjectMeta. */
  root: boolean;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function childPath(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** The path of a map entry: `path.key` for identifier-like keys, `path[key]` otherwise. */
export function mapKeyPath(path: string, key: string): string {
  if (IDENTIFIER.test(key)) return childPath(path, key);
  return `${path}[${key}]`;
}

function indexPath(path: string, i: number): string {
  return `${path}[${i}]`;
}

function report(ctx: Ctx, path: string, message: string): void {
  ctx.problems.push({ path, message });
}

/** A short rendering of the offending value for messages. */
function show(value: unknown): string {
  if (typeof value === 'string') {
    const s = value.length > 80 ? `${value.slice(0, 77)}...` : value;
    return JSON.stringify(s);
  }
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[array of ${value.length}]`;
  if (typeof value === 'object') return isPlainObject(value) ? '{object}' : `{${value.constructor?.name ?? 'object'}}`;
  return `<${typeof value}>`;
}

/** The JSON type name of a value, or a description of why it is not JSON. */
function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number':
      if (!Number.isFinite(value)) return 'non-finite number';
      return Number.isInteger(value) ? 'integer' : 'number';
    case 'object':
      return isPlainObject(value) ? 'object' : `non-JSON object (${(value as object).constructor?.name ?? 'unknown class'})`;
    default:
      return `non-JSON ${typeof value}`;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function typeMatches(value: unknown, type: SchemaType): boolean {
  switch (type) {
    case 'object':
      return isPlainObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
  }
}

function isIntOrStringPair(anyOf: StructuralSchema[] | undefined): boolean {
  if (!anyOf || anyOf.length !== 2) return false;
  const types = anyOf.map((s) => (Object.keys(s).length === 1 ? s.type : undefined));
  return types.includes('integer') && types.includes('string');
}

/** The upstream resource.Quantity pattern that controller-gen puts on quantity fields. */
function isQuantityPattern(pattern: string): boolean {
  return pattern.startsWith('^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))') && pattern.includes('[numkMGTPE]');
}

const regexCache = new Map<string, RegExp | null>();

function compilePattern(pattern: string): RegExp | null {
  let re = regexCache.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(pattern);
    } catch {
      re = null;
    }
    regexCache.set(pattern, re);
  }
  return re;
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
// 2^63 as a double; int64 bounds are not exactly representable, this is what a float64 comparison sees.
const INT64_BOUND = 9223372036854775808;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

function check(value: unknown, schema: StructuralSchema, path: string, ctx: Ctx): void {
  if (value === null) {
    if (schema.nullable) return;
    if (schema['x-kubernetes-int-or-string']) {
      report(ctx, path, `Invalid value: null: must be an integer or a string (int-or-string); the field is not nullable`);
    } else if (schema.type !== undefined) {
      report(ctx, path, `Invalid value: null: must be of type ${schema.type}; the field is not nullable (the API server would silently drop it)`);
    }
    return;
  }

  const intOrString = schema['x-kubernetes-int-or-string'] === true;
  if (intOrString) {
    const ok = typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value));
    if (!ok) {
      report(ctx, path, `Invalid value: ${show(value)}: must be an integer or a string (int-or-string), got ${jsonType(value)}`);
      return;
    }
  } else if (schema.type !== undefined) {
    if (!typeMatches(value, schema.type)) {
      report(ctx, path, `Invalid value: ${show(value)}: must be of type ${schema.type}, got ${jsonType(value)}`);
      return;
    }
  } else if (!isJsonValue(value)) {
    report(ctx, path, `Invalid value: ${show(value)}: not a JSON value (${jsonType(value)})`);
    return;
  }

  if (schema.enum !== undefined) checkEnum(value, schema.enum, path, ctx);

  if (typeof value === 'string') checkString(value, schema, path, ctx, intOrString);
  else if (typeof value === 'number') checkNumber(value, schema, path, ctx);
  else if (Array.isArray(value)) checkArray(value, schema, path, ctx);
  else if (isPlainObject(value)) checkObject(value, schema, path, ctx);

  checkJunctors(value, schema, path, ctx, intOrString);
}

function isJsonValue(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      return value === null || Array.isArray(value) || isPlainObject(value);
    default:
      return false;
  }
}

function checkEnum(value: unknown, allowed: unknown[], path: string, ctx: Ctx): void {
  const key = canonicalJson(value);
  for (const candidate of allowed) {
    if (candidate === value || canonicalJson(candidate) === key) return;
  }
  const supported = allowed.map((v) => JSON.stringify(v)).join(', ');
  report(ctx, path, `Unsupported value: ${JSON.stringify(value) ?? show(value)}: supported values: ${supported}`);
}

function checkString(value: string, schema: StructuralSchema, path: string, ctx: Ctx, intOrString: boolean): void {
  if (schema.minLength !== undefined || schema.maxLength !== undefined) {
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength) {
      report(ctx, path, `Invalid value: ${show(value)}: must be at least ${schema.minLength} characters long, got ${length}`);
    }
    if (schema.maxLength !== undefined && length > schema.maxLength) {
      report(ctx, path, `Too long: may not be more than ${schema.maxLength} characters, got ${length}`);
    }
  }
  if (schema.pattern !== undefined) {
    const re = compilePattern(schema.pattern);
    if (re === null) {
      report(ctx, path, `schema error: pattern ${JSON.stringify(schema.pattern)} is not a valid JavaScript regular expression`);
    } else if (!re.test(value)) {
      if (intOrString && isQuantityPattern(schema.pattern)) {
        report(ctx, path, `Invalid value: ${show(value)}: must be an integer or a Kubernetes resource quantity such as "500m", "2Gi" or "1.5"`);
      } else {
        report(ctx, path, `Invalid value: ${show(value)}: must match the regular expression ${JSON.stringify(schema.pattern)}`);
      }
    }
  }
  if (schema.format === 'byte' && !BASE64.test(value)) {
    report(ctx, path, `Invalid value: ${show(value)}: must be base64-encoded (format byte)`);
  } else if (schema.format === 'date-time' && !DATE_TIME.test(value)) {
    report(ctx, path, `Invalid value: ${show(value)}: must be an RFC 3339 date-time such as "2024-01-02T15:04:05Z"`);
  }
}

function checkNumber(value: number, schema: StructuralSchema, path: string, ctx: Ctx): void {
  if (schema.format === 'int32' && (value < INT32_MIN || value > INT32_MAX)) {
    report(ctx, path, `Invalid value: ${value}: must fit in a 32-bit signed integer (format int32: ${INT32_MIN}..${INT32_MAX})`);
  } else if (schema.format === 'int64' && (value < -INT64_BOUND || value >= INT64_BOUND)) {
    report(ctx, path, `Invalid value: ${value}: must fit in a 64-bit signed integer (format int64)`);
  }
  if (schema.minimum !== undefined) {
    if (schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum) {
      report(ctx, path, `Invalid value: ${value}: must be ${schema.exclusiveMinimum ? 'greater than' : 'greater than or equal to'} ${schema.minimum}`);
    }
  }
  if (schema.maximum !== undefined) {
    if (schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum) {
      report(ctx, path, `Invalid value: ${value}: must be ${schema.exclusiveMaximum ? 'less than' : 'less than or equal to'} ${schema.maximum}`);
    }
  }
  if (schema.multipleOf !== undefined && schema.multipleOf > 0) {
    const q = value / schema.multipleOf;
    if (Math.abs(q - Math.round(q)) > 1e-9) {
      report(ctx, path, `Invalid value: ${value}: must be a multiple of ${schema.multipleOf}`);
    }
  }
}

function checkArray(value: unknown[], schema: StructuralSchema, path: string, ctx: Ctx): void {
  if (schema.minItems !== undefined && value.length < schema.minItems) {
    report(ctx, path, `Invalid value: ${show(value)}: must have at least ${schema.minItems} item(s), got ${value.length}`);
  }
  if (schema.maxItems !== undefined && value.length > schema.maxItems) {
    report(ctx, path, `Too many: ${value.length}: must have at most ${schema.maxItems} item(s)`);
  }
  if (schema.items !== undefined) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      if (item === undefined) {
        report(ctx, indexPath(path, i), `Invalid value: undefined: array items must be JSON values (it would serialize as null)`);
        continue;
      }
      check(item, schema.items, indexPath(path, i), { problems: ctx.problems, inJunctor: ctx.inJunctor, root: false });
    }
  }
  const listType = schema['x-kubernetes-list-type'];
  if (listType === 'set' || schema.uniqueItems) {
    const seen = new Set<string>();
    value.forEach((item, i) => {
      const key = canonicalJson(item);
      if (seen.has(key)) report(ctx, indexPath(path, i), `Duplicate value: ${key}`);
      seen.add(key);
    });
  } else if (listType === 'map' && schema['x-kubernetes-list-map-keys'] !== undefined) {
    const keys = schema['x-kubernetes-list-map-keys'];
    const keySchemas = schema.items?.properties ?? {};
    const seen = new Set<string>();
    value.forEach((item, i) => {
      if (!isPlainObject(item)) return;
      const tuple: Record<string, unknown> = {};
      for (const k of keys) tuple[k] = item[k] !== undefined ? item[k] : keySchemas[k]?.default;
      const key = canonicalJson(tuple);
      if (seen.has(key)) report(ctx, indexPath(path, i), `Duplicate value: ${key}`);
      seen.add(key);
    });
  }
}

function checkObject(value: Record<string, unknown>, schema: StructuralSchema, path: string, ctx: Ctx): void {
  const properties = schema.properties;
  const additional = schema.additionalProperties;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = schema['x-kubernetes-embedded-resource'] === true;
  const metaRoot = ctx.root || embedded;
  // Closed: an object node that declares its fields (or no fields) and opts
  // into neither additionalProperties nor preserve-unknown-fields.
  const closed =
    !preserve &&
    additional !== true &&
    typeof additional !== 'object' &&
    (schema.type === 'object' || properties !== undefined || additional === false);
  let count = 0;

  for (const key of Object.keys(value)) {
    const child = value[key];
    if (child === undefined) continue; // dropped by JSON serialization
    count++;
    let childSchema: StructuralSchema | undefined;
    let keyedPath: string;
    if (properties !== undefined && Object.prototype.hasOwnProperty.call(properties, key)) {
      childSchema = properties[key];
      keyedPath = childPath(path, key);
      if (key === 'metadata' && metaRoot && isBareObject(childSchema)) childSchema = OBJECT_META_SCHEMA;
    } else if (embedded && (key === 'apiVersion' || key === 'kind')) {
      childSchema = STRING;
      keyedPath = childPath(path, key);
    } else if (embedded && key === 'metadata') {
      childSchema = OBJECT_META_SCHEMA;
      keyedPath = childPath(path, key);
    } else if (typeof additional === 'object') {
      childSchema = additional;
      keyedPath = mapKeyPath(path, key);
    } else if (closed && !ctx.inJunctor) {
      const fieldPath = childPath(path, key);
      report(ctx, fieldPath, `unknown field "${fieldPath}"`);
      continue;
    } else {
      // Open object (additionalProperties: true, preserve-unknown-fields, or a
      // schema that does not describe objects): undeclared fields are kept as
      // they are, only their JSON-ness is checked.
      if (!jsonDeep(child)) report(ctx, mapKeyPath(path, key), `Invalid value: ${show(child)}: not a JSON value`);
      continue;
    }
    check(child, childSchema, keyedPath, { problems: ctx.problems, inJunctor: ctx.inJunctor, root: false });
  }

  if (schema.required !== undefined) {
    for (const name of schema.required) {
      if (value[name] === undefined) report(ctx, childPath(path, name), 'Required value');
    }
  }
  if (schema.minProperties !== undefined && count < schema.minProperties) {
    report(ctx, path, `Invalid value: ${show(value)}: must have at least ${schema.minProperties} field(s), got ${count}`);
  }
  if (schema.maxProperties !== undefined && count > schema.maxProperties) {
    report(ctx, path, `Too many: ${count}: must have at most ${schema.maxProperties} field(s)`);
  }
}

/** `{type: object}` and nothing else that constrains content: how CRDs spell ObjectMeta. */
function isBareObject(schema: StructuralSchema): boolean {
  return (
    schema.type === 'object' &&
    schema.properties === undefined &&
    schema.additionalProperties === undefined &&
    schema['x-kubernetes-preserve-unknown-fields'] !== true
  );
}

/** True when every nested value is JSON (used for preserved, unchecked subtrees). */
function jsonDeep(value: unknown): boolean {
  if (!isJsonValue(value)) return false;
  if (Array.isArray(value)) return value.every((v) => v !== undefined && jsonDeep(v));
  if (isPlainObject(value)) return Object.values(value).every((v) => v === undefined || jsonDeep(v));
  return true;
}

function checkJunctors(value: unknown, schema: StructuralSchema, path: string, ctx: Ctx, intOrString: boolean): void {
  const sub = (branch: StructuralSchema): SchemaProblem[] => {
    const problems: SchemaProblem[] = [];
    check(value, branch, path, { problems, inJunctor: true, root: false });
    return problems;
  };
  if (schema.allOf !== undefined) {
    for (const branch of schema.allOf) {
      check(value, branch, path, { problems: ctx.problems, inJunctor: true, root: false });
    }
  }
  if (schema.anyOf !== undefined && !(intOrString && isIntOrStringPair(schema.anyOf))) {
    const failures = schema.anyOf.map(sub);
    if (!failures.some((f) => f.length === 0)) {
      const detail = failures.map((f, i) => `#${i + 1}: ${f.map(formatProblem).join('; ')}`).join(' | ');
      report(ctx, path, `Invalid value: ${show(value)}: must match at least one of ${schema.anyOf.length} alternatives (${detail})`);
    }
  }
  if (schema.oneOf !== undefined) {
    const matching = schema.oneOf.map(sub).filter((f) => f.length === 0).length;
    if (matching !== 1) {
      report(ctx, path, `Invalid value: ${show(value)}: must match exactly one of ${schema.oneOf.length} alternatives, matched ${matching}`);
    }
  }
  if (schema.not !== undefined && sub(schema.not).length === 0) {
    report(ctx, path, `Invalid value: ${show(value)}: must not match the schema in "not"`);
  }
}

/** JSON with sorted keys, for equality of enum values, set items and list-map keys. */
function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? String(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`);
  return `{${parts.join(',')}}`;
}
