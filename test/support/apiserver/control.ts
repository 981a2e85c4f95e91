/**
 * The control API tests use to drive the store directly (no HTTP, no admission): put/update/modify/delete
 * objects, container termination with the matching pod status, and the retry-pod swap.
 */
import { removeObject } from './common';
import { generateName } from './write';
import { incomingManagedFields, recordUpdate } from './fieldmanager';
import { rfc3339 } from './ids';
import { createTimeStatus, nextGeneration } from './objects';
import { groupVersion, type ResourceType } from './resources';
import type { ServerState } from './state';
import type { KObject, ObjectRef } from './types';

export interface WriteOptions {
  /** Record this write in managedFields as an Update by this manager (e.g. 'workflow-controller'). */
  manager?: string;
  /** With `manager`: the write is to this subresource (e.g. 'status'). */
  subresource?: string;
}

function typeOf(state: ServerState, ref: { apiVersion: string; kind: string }): ResourceType {
  return state.catalog.mustByKind(ref.apiVersion, ref.kind);
}

function namespaceOf(rt: ResourceType, ns: string | undefined): string | undefined {
  return rt.namespaced ? ns || 'default' : undefined;
}

export function controlGet(state: ServerState, ref: ObjectRef): KObject | undefined {
  const rt = typeOf(state, ref);
  return state.store.get(rt, namespaceOf(rt, ref.namespace), ref.name);
}

export function controlList(state: ServerState, apiVersion: string, kind: string, namespace?: string): KObject[] {
  const rt = typeOf(state, { apiVersion, kind });
  return state.store.list(rt, rt.namespaced ? namespace : undefined);
}

/**
 * Stores `obj` as given (status included), creating or replacing it. Server-set metadata (uid,
 * creationTimestamp, generation) is filled in when absent; resourceVersion is always stamped by the store.
 */
export function controlWrite(state: ServerState, input: KObject, opts: WriteOptions, mustExist: boolean): KObject {
  const rt = typeOf(state, input);
  const obj = structuredClone(input);
  obj.metadata ??= {};
  const meta = obj.metadata;
  const namespace = namespaceOf(rt, meta.namespace);
  if (namespace === undefined) delete meta.namespace;
  else meta.namespace = namespace;
  if (!meta.name && meta.generateName) meta.name = generateName(state, rt, namespace, meta.generateName);
  if (!meta.name) throw new Error('stand-in apiserver: object needs metadata.name or metadata.generateName');
  const old = state.store.get(rt, namespace, meta.name);
  if (mustExist && !old) throw new Error(`stand-in apiserver: ${rt.resource} ${namespace ? `${namespace}/` : ''}${meta.name} does not exist`);
  const now = state.now();
  meta.uid ??= old?.metadata.uid ?? state.ids.uid();
  meta.creationTimestamp ??= old?.metadata.creationTimestamp ?? rfc3339(now);
  if (rt.generation) {
    if (!old) meta.generation ??= 1;
    else if (meta.generation === undefined || meta.generation === old.metadata.generation) meta.generation = nextGeneration(rt, old, obj);
  }
  meta.managedFields = incomingManagedFields(meta.managedFields, old?.metadata.managedFields);
  if (opts.manager) {
    meta.managedFields = recordUpdate(old, obj, meta.managedFields, {
      manager: opts.manager,
      apiVersion: groupVersion(rt),
      subresource: opts.subresource,
      now: rfc3339(now),
    });
  }
  if (!meta.managedFields.length) delete meta.managedFields;
  // Pods and namespaces always have a phase; give new ones the one the apiserver would.
  if (!old && obj.status === undefined && rt.group === '' && (rt.kind === 'Pod' || rt.kind === 'Namespace')) createTimeStatus(rt, obj);
  return old ? state.store.update(rt, obj) : state.store.create(rt, obj);
}

export function controlModify(state: ServerState, ref: ObjectRef, fn: (draft: KObject) => KObject | void, opts: WriteOptions): KObject {
  const current = controlGet(state, ref);
  if (!current) throw new Error(`stand-in apiserver: ${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name} does not exist`);
  const next = fn(current) ?? current;
  return controlWrite(state, next, opts, true);
}

/** Deletes immediately (finalizers ignored); namespaces take their contents with them. */
export function controlDelete(state: ServerState, ref: ObjectRef): KObject | undefined {
  const rt = typeOf(state, ref);
  const obj = state.store.get(rt, namespaceOf(rt, ref.namespace), ref.name);
  return obj ? removeObject(state, rt, obj) : undefined;
}

const POD_REF = { apiVersion: 'v1', kind: 'Pod' };

export interface TerminateOptions {
  exitCode?: number;
  /** Defaults to 'Completed' for exit code 0, else 'Error'. */
  reason?: string;
  message?: string;
  /** Also record the termination in the pod's status (default true). */
  updateStatus?: boolean;
}

/** Ends the container's log (followers finish) and, like the kubelet, reports it terminated in the pod status. */
export function controlTerminate(state: ServerState, namespace: string, pod: string, container: string, opts: TerminateOptions): void {
  state.logs.terminate(namespace, pod, container);
  if (opts.updateStatus === false) return;
  const current = controlGet(state, { ...POD_REF, namespace, name: pod });
  if (!current) return;
  const exitCode = opts.exitCode ?? 0;
  const now = rfc3339(state.now());
  const isInit = (current.spec?.initContainers ?? []).some((c: any) => c?.name === container);
  const field = isInit ? 'initContainerStatuses' : 'containerStatuses';
  current.status ??= {};
  const statuses: any[] = current.status[field] ?? [];
  const prev = statuses.find((s) => s?.name === container);
  const specContainer = [...(current.spec?.initContainers ?? []), ...(current.spec?.containers ?? [])].find((c: any) => c?.name === container);
  const terminated: Record<string, unknown> = {
    exitCode,
    reason: opts.reason ?? (exitCode === 0 ? 'Completed' : 'Error'),
    startedAt: prev?.state?.running?.startedAt ?? now,
    finishedAt: now,
  };
  if (opts.message) terminated.message = opts.message;
  if (prev?.containerID) terminated.containerID = prev.containerID;
  const next = {
    name: container,
    image: prev?.image ?? specContainer?.image ?? '',
    imageID: prev?.imageID ?? '',
    containerID: prev?.containerID ?? '',
    ready: false,
    started: false,
    restartCount: prev?.restartCount ?? 0,
    state: { terminated },
    lastState: prev?.lastState ?? {},
  };
  current.status[field] = prev ? statuses.map((s) => (s === prev ? next : s)) : [...statuses, next];
  controlWrite(state, current, {}, true);
}

export interface RetryOptions {
  /** Name of the replacement pod (default `<name>-retry`). */
  newName?: string;
  /** Keep the original pod instead of deleting it. */
  keepOriginal?: boolean;
  /** Adjust the replacement before it is created. */
  mutate?: (pod: KObject) => void;
}

/** Replaces a step pod by its retry: DELETED for the old pod, then ADDED for a fresh Pending pod with a new name. */
export function controlRetryPod(state: ServerState, namespace: string, name: string, opts: RetryOptions): { deleted?: KObject; created: KObject } {
  const old = controlGet(state, { ...POD_REF, namespace, name });
  if (!old) throw new Error(`stand-in apiserver: pod ${namespace}/${name} does not exist`);
  const deleted = opts.keepOriginal ? undefined : controlDelete(state, { ...POD_REF, namespace, name });
  const meta: Record<string, unknown> = { name: opts.newName ?? `${name}-retry`, namespace };
  for (const k of ['labels', 'annotations', 'ownerReferences'] as const) if (old.metadata[k] !== undefined) meta[k] = structuredClone(old.metadata[k]);
  const pod: KObject = { apiVersion: 'v1', kind: 'Pod', metadata: meta, spec: structuredClone(old.spec ?? {}), status: { phase: 'Pending' } };
  opts.mutate?.(pod);
  const created = controlWrite(state, pod, {}, false);
  return { deleted, created };
}
