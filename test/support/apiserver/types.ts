/**
 * Shared types of the stand-in Kubernetes API server (test support only).
 */

/** A Kubernetes object as stored and served: plain JSON. */
export interface KObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  // Objects are free-form JSON beyond apiVersion/kind/metadata.
  [key: string]: any;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: any[];
  managedFields?: ManagedFieldsEntry[];
  [key: string]: any;
}

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: 'Apply' | 'Update';
  apiVersion?: string;
  time?: string;
  fieldsType?: 'FieldsV1';
  fieldsV1?: Record<string, any>;
  subresource?: string;
}

/** Identifies one object for the control API. `apiVersion` + `kind` pick the resource type. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

/** The user the stand-in authenticates every request as. */
export interface UserInfo {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/**
 * One RBAC-like allow rule. A request (or a SelfSubjectAccessReview) is allowed when any rule matches.
 * `'*'` is a wildcard in every list; an omitted list matches anything.
 */
export interface AccessRule {
  verbs: string[];
  /** '' is the core group. */
  apiGroups?: string[];
  /** Plural resource names, optionally with a subresource: 'pods/log'. */
  resources?: string[];
  /** '' matches cluster-scoped requests. */
  namespaces?: string[];
  resourceNames?: string[];
  /** For non-resource requests (e.g. '/healthz'); a trailing '*' is a prefix match. */
  nonResourceURLs?: string[];
}

/** One line of the request log (never includes credentials). */
export interface RequestRecord {
  method: string;
  path: string;
  /** Query parameters (last value wins). */
  query: Record<string, string>;
  /** Raw query string without the leading '?'. */
  search: string;
  contentType?: string;
  accept?: string;
  userAgent?: string;
  /** Whether an `Authorization: Bearer ...` header was sent (the token itself is never recorded). */
  bearer: boolean;
  /** The user the request authenticated as (a client certificate's CN, a token's user); undefined on 401. */
  user?: string;
  /** HTTP status sent (undefined while a stream is still open, or when the connection was reset). */
  status?: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
