/**
 * The object store: one monotonically increasing resourceVersion counter for everything, a bounded history of
 * change events (what watches replay from), and synchronous listeners (open watches).
 */
import { expired } from './errors';
import type { ResourceType } from './resources';
import type { KObject } from './types';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ChangeEvent {
  rv: number;
  type: ChangeType;
  rt: ResourceType;
  /** The object after the change (for DELETED: the last state, carrying the deletion's resourceVersion). */
  object: KObject;
  /** The object before the change (MODIFIED and DELETED). */
  prev?: KObject;
}

export type ChangeListener = (ev: ChangeEvent) => void;

function objectKey(rt: ResourceType, namespace: string | undefined, name: string): string {
  return `${rt.group}/${rt.resource}/${rt.namespaced ? namespace ?? '' : ''}/${name}`;
}

export class Store {
  private rv = 0;
  private readonly objects = new Map<string, { rt: ResourceType; obj: KObject }>();
  private history: ChangeEvent[] = [];
  /** Events after this resourceVersion are still replayable (raised by compaction). */
  private compactedAt = 0;
  private readonly listeners = new Set<ChangeListener>();

  constructor(private readonly historyLimit: number) {}

  get resourceVersion(): number {
    return this.rv;
  }

  /** The oldest resourceVersion a watch may start from (the real server's `oldest-1`). */
  get oldestWatchable(): number {
    return this.history.length ? Math.max(this.history[0].rv - 1, this.compactedAt) : this.rv;
  }

  get(rt: ResourceType, namespace: string | undefined, name: string): KObject | undefined {
    const hit = this.objects.get(objectKey(rt, namespace, name));
    return hit ? structuredClone(hit.obj) : undefined;
  }

  /** Objects of one type, optionally in one namespace, in etcd key order (namespace, then name). */
  list(rt: ResourceType, namespace?: string): KObject[] {
    const prefix = `${rt.group}/${rt.resource}/${rt.namespaced && namespace !== undefined ? `${namespace}/` : ''}`;
    const out: Array<[string, KObject]> = [];
    for (const [k, v] of this.objects) if (k.startsWith(prefix)) out.push([k, v.obj]);
    out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return out.map(([, o]) => structuredClone(o));
  }

  /** Every namespaced object in a namespace, across types. */
  inNamespace(namespace: string): Array<{ rt: ResourceType; obj: KObject }> {
    const out: Array<{ rt: ResourceType; obj: KObject }> = [];
    for (const v of this.objects.values()) if (v.rt.namespaced && v.obj.metadata.namespace === namespace) out.push({ rt: v.rt, obj: structuredClone(v.obj) });
    return out;
  }

  /** Stores a new object, stamping the next resourceVersion. Returns the stored copy. */
  create(rt: ResourceType, obj: KObject): KObject {
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(++this.rv);
    this.objects.set(objectKey(rt, stored.metadata.namespace, stored.metadata.name!), { rt, obj: stored });
    this.emit({ rv: this.rv, type: 'ADDED', rt, object: stored });
    return structuredClone(stored);
  }

  /** Replaces an existing object, stamping the next resourceVersion. */
  update(rt: ResourceType, obj: KObject): KObject {
    const k = objectKey(rt, obj.metadata.namespace, obj.metadata.name!);
    const prev = this.objects.get(k)?.obj;
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(++this.rv);
    this.objects.set(k, { rt, obj: stored });
    this.emit({ rv: this.rv, type: prev ? 'MODIFIED' : 'ADDED', rt, object: stored, prev });
    return structuredClone(stored);
  }

  /** Removes an object; the DELETED event carries the deletion's resourceVersion. */
  remove(rt: ResourceType, namespace: string | undefined, name: string): KObject | undefined {
    const k = objectKey(rt, namespace, name);
    const hit = this.objects.get(k);
    if (!hit) return undefined;
    this.objects.delete(k);
    const last = structuredClone(hit.obj);
    last.metadata.resourceVersion = String(++this.rv);
    this.emit({ rv: this.rv, type: 'DELETED', rt, object: last, prev: hit.obj });
    return structuredClone(last);
  }

  /** Events strictly after `rv`, or a 410 Expired error when they are no longer retained. */
  eventsSince(rv: number): ChangeEvent[] {
    const floor = this.oldestWatchable;
    if (rv < floor) throw expired(`too old resource version: ${rv} (${floor})`);
    return this.history.filter((e) => e.rv > rv);
  }

  /** Forgets all history, as an etcd compaction does: watches from older resourceVersions now get 410. */
  compact(): void {
    this.history = [];
    this.compactedAt = this.rv;
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(ev: ChangeEvent): void {
    this.history.push(ev);
    if (this.history.length > this.historyLimit) this.history.splice(0, this.history.length - this.historyLimit);
    for (const l of [...this.listeners]) l(ev);
  }
}
