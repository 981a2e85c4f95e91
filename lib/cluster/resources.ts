/**
 * The Kubernetes object types the CLI reads and writes, and the URL paths that reach them.
 */

/** Object metadata, as far as the CLI uses it. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  generation?: number;
  uid?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  managedFields?: unknown[];
  ownerReferences?: unknown[];
}

/** Any Kubernetes object. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** A list answer. */
export interface KubeList<T = KubeObject> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

/** Where a kind lives in the API. */
export interface ResourceKind {
  readonly kind: string;
  readonly apiVersion: string;
  /** The plural resource name used in paths. */
  readonly plural: string;
  readonly namespaced: boolean;
}

const table: readonly ResourceKind[] = [
  { kind: 'Namespace', apiVersion: 'v1', plural: 'namespaces', namespaced: false },
  { kind: 'ServiceAccount', apiVersion: 'v1', plural: 'serviceaccounts', namespaced: true },
  { kind: 'Secret', apiVersion: 'v1', plural: 'secrets', namespaced: true },
  { kind: 'ConfigMap', apiVersion: 'v1', plural: 'configmaps', namespaced: true },
  { kind: 'Pod', apiVersion: 'v1', plural: 'pods', namespaced: true },
  { kind: 'Node', apiVersion: 'v1', plural: 'nodes', namespaced: false },
  { kind: 'Role', apiVersion: 'rbac.authorization.k8s.io/v1', plural: 'roles', namespaced: true },
  { kind: 'RoleBinding', apiVersion: 'rbac.authorization.k8s.io/v1', plural: 'rolebindings', namespaced: true },
  { kind: 'PriorityClass', apiVersion: 'scheduling.k8s.io/v1', plural: 'priorityclasses', namespaced: false },
  { kind: 'CustomResourceDefinition', apiVersion: 'apiextensions.k8s.io/v1', plural: 'customresourcedefinitions', namespaced: false },
  { kind: 'WorkflowTemplate', apiVersion: 'argoproj.io/v1alpha1', plural: 'workflowtemplates', namespaced: true },
  { kind: 'Workflow', apiVersion: 'argoproj.io/v1alpha1', plural: 'workflows', namespaced: true },
];

/** Every kind the CLI knows, by kind name. */
export const KINDS: Readonly<Record<string, ResourceKind>> = Object.fromEntries(table.map((k) => [k.kind, k]));

/** The kind entry for an object. @throws Error naming the known kinds */
export function kindOf(obj: Pick<KubeObject, 'apiVersion' | 'kind'>): ResourceKind {
  const k = KINDS[obj.kind];
  if (!k || k.apiVersion !== obj.apiVersion) {
    throw new Error(`${obj.apiVersion}/${obj.kind} is not a kind sleap-roots handles (known: ${table.map((t) => t.kind).join(', ')})`);
  }
  return k;
}

/** `/api/v1` or `/apis/<group>/<version>`. */
export function apiBase(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/**
 * The path of a collection (no name) or of one object, optionally a subresource.
 * Namespaced kinds need a namespace.
 */
export function resourcePath(kind: ResourceKind, namespace?: string, name?: string, subresource?: string): string {
  let p = apiBase(kind.apiVersion);
  if (kind.namespaced) {
    if (!namespace) throw new Error(`${kind.kind} is namespaced: a namespace is needed`);
    p += `/namespaces/${encodeURIComponent(namespace)}`;
  }
  p += `/${kind.plural}`;
  if (name !== undefined) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}

/** The path of an object, from the object itself. */
export function objectPath(obj: KubeObject, namespace?: string): string {
  return resourcePath(kindOf(obj), namespace ?? obj.metadata.namespace, obj.metadata.name);
}

/** `WorkflowTemplate/sleap-roots-pipeline`: how objects are named in messages. */
export function displayName(obj: Pick<KubeObject, 'kind' | 'metadata'>): string {
  return `${obj.kind}/${obj.metadata.name ?? obj.metadata.generateName ?? '?'}`;
}

/** A label selector from equality terms. */
export function labelSelector(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
}
