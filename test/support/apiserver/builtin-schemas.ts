/**
 * The fields of the built-in kinds the pipeline writes, as their Go types declare them (k8s.io/api
 * core/v1/types.go ObjectMeta (apimachinery pkg/apis/meta/v1/types.go), ServiceAccount, Secret, ConfigMap,
 * Namespace; rbac/v1/types.go Role, RoleBinding; scheduling/v1/types.go PriorityClass), with the list types and
 * map keys of their `+listType` / `+listMapKey` markers, which is what the served OpenAPI says and server-side
 * apply merges by.
 */
import type { Schema } from './schemas';

const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer' };
const bool: Schema = { type: 'boolean' };
const strMap: Schema = { type: 'object', additionalProperties: str };
const atomicList = (items: Schema): Schema => ({ type: 'array', items, 'x-kubernetes-list-type': 'atomic' });
const obj = (properties: Record<string, Schema>): Schema => ({ type: 'object', properties });

export const OBJECT_META: Schema = obj({
  name: str,
  generateName: str,
  namespace: str,
  selfLink: str,
  uid: str,
  resourceVersion: str,
  generation: int,
  creationTimestamp: str,
  deletionTimestamp: str,
  deletionGracePeriodSeconds: int,
  labels: strMap,
  annotations: strMap,
  ownerReferences: {
    type: 'array',
    items: obj({ apiVersion: str, kind: str, name: str, uid: str, controller: bool, blockOwnerDeletion: bool }),
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['uid'],
  },
  finalizers: { type: 'array', items: str, 'x-kubernetes-list-type': 'set' },
  managedFields: atomicList({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true }),
});

const objectReference = obj({ kind: str, namespace: str, name: str, uid: str, apiVersion: str, resourceVersion: str, fieldPath: str });
const policyRule = obj({ verbs: atomicList(str), apiGroups: atomicList(str), resources: atomicList(str), resourceNames: atomicList(str), nonResourceURLs: atomicList(str) });

/** By `<group>/<Kind>` ('' for the core group). */
export const BUILTIN_SCHEMAS: Readonly<Record<string, Schema>> = {
  '/ServiceAccount': obj({
    secrets: { type: 'array', items: objectReference, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
    imagePullSecrets: atomicList(obj({ name: str })),
    automountServiceAccountToken: bool,
  }),
  '/Secret': obj({ immutable: bool, data: strMap, stringData: strMap, type: str }),
  '/ConfigMap': obj({ immutable: bool, data: strMap, binaryData: strMap }),
  '/Namespace': obj({
    spec: obj({ finalizers: atomicList(str) }),
    status: obj({ phase: str, conditions: { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] } }),
  }),
  'rbac.authorization.k8s.io/Role': obj({ rules: atomicList(policyRule) }),
  'rbac.authorization.k8s.io/RoleBinding': obj({
    subjects: atomicList(obj({ kind: str, apiGroup: str, name: str, namespace: str })),
    roleRef: obj({ apiGroup: str, kind: str, name: str }),
  }),
  'scheduling.k8s.io/PriorityClass': obj({ value: int, globalDefault: bool, description: str, preemptionPolicy: str }),
};
