/**
 * Watch streams: newline-delimited JSON watch events over a chunked `application/json` response.
 */
import type { ServerResponse } from 'node:http';
import { ApiError, badRequest, expired } from './errors';
import type { FaultAction } from './faults';
import { abortAfterFlush, sendError } from './http';
import { groupVersion, type ResourceType } from './resources';
import type { Predicate } from './selectors';
import type { ChangeEvent, Store } from './store';
import { toTable, type IncludeObject } from './table';
import type { KObject, WatchEventType } from './types';

export interface WatchParams {
  rt: ResourceType;
  namespace?: string;
  /** Only this object (from a `metadata.name=` field selector or a deprecated named watch path). */
  name?: string;
  labels: Predicate;
  fields: Predicate;
  /** The `resourceVersion` query parameter (null when absent). */
  resourceVersion: string | null;
  allowBookmarks: boolean;
  sendInitialEvents?: boolean;
  timeoutSeconds?: number;
  table: boolean;
  include: IncludeObject;
  fault?: FaultAction;
}

export interface WatchHubOptions {
  store: Store;
  now: () => Date;
  bookmarkIntervalMs: number;
  /** Answer a too-old resourceVersion with HTTP 410 instead of a 200 stream holding one ERROR event. */
  expiredAsHttp410: boolean;
  /** The server-side timeout of a watch without timeoutSeconds is random in [this, 2 * this) seconds. */
  minRequestTimeoutSeconds: number;
  /** End every watch cleanly after this many ms (a compressed server-side timeout); 0: never. */
  endAfterMs: number;
}

/** The pre-timeout bookmark comes this long before the deadline (the cacher's 2 s). */
const PRETIMEOUT_BOOKMARK_MS = 2000;

interface WatchEvent {
  type: WatchEventType;
  object: unknown;
}

class WatchStream {
  private written = 0;
  private closed = false;
  private unsubscribe?: () => void;
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly hub: WatchHub,
    private readonly res: ServerResponse,
    readonly params: WatchParams,
  ) {}

  start(): void {
    const { store } = this.hub.options;
    const p = this.params;
    let initial: WatchEvent[] = [];
    let startError: ApiError | undefined;
    const rv = p.resourceVersion;
    const snapshot = p.sendInitialEvents === true || ((rv === null || rv === '' || rv === '0') && p.sendInitialEvents !== false);
    if (snapshot) {
      const objs = store.list(p.rt, p.namespace).filter((o) => this.selects(o));
      initial = objs.map((o) => ({ type: 'ADDED' as const, object: o }));
    } else if (rv !== null && rv !== '' && rv !== '0') {
      if (!/^\d+$/.test(rv)) throw badRequest(`invalid resource version: ${JSON.stringify(rv)}`);
      try {
        initial = store.eventsSince(Number(rv)).flatMap((ev) => this.convert(ev) ?? []);
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        if (this.hub.options.expiredAsHttp410) throw e;
        startError = e;
      }
    }

    this.res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    this.res.flushHeaders();
    this.res.on('close', () => this.cleanup());
    this.hub.streams.add(this);

    if (startError) {
      // What the watch cache does: a 200 stream with a single ERROR event, then the end.
      this.writeRaw({ type: 'ERROR', object: startError.toStatus() });
      this.end();
      return;
    }
    if (this.checkFault()) return;
    for (const ev of initial) {
      if (!this.send(ev)) return;
    }
    if (p.sendInitialEvents === true && p.allowBookmarks) {
      this.writeRaw({ type: 'BOOKMARK', object: this.bookmarkObject({ 'k8s.io/initial-events-end': 'true' }) });
    }
    this.unsubscribe = store.subscribe((ev) => {
      const out = this.convert(ev);
      if (out) this.send(out);
    });
    this.scheduleEnd();
    if (p.allowBookmarks && this.hub.options.bookmarkIntervalMs > 0) {
      this.timers.push(setInterval(() => this.bookmark(), this.hub.options.bookmarkIntervalMs));
    }
  }

  /**
   * The server-side end of the watch, as the apiserver does it: at timeoutSeconds, or when the
   * client sets none at a random time in [minRequestTimeout, 2 * minRequestTimeout)
   * (k8s.io/apiserver pkg/endpoints/handlers/get.go ListResource); the handler then returns and the
   * chunked response completes (handlers/watch.go serveWatch, its timeout case). With bookmarks
   * allowed, the watch cache sends one 2 s before that deadline (pkg/storage/cacher/cache_watcher.go
   * nextBookmarkTime: "right before the watcher timeout"), none when the deadline is nearer than
   * that. The endAfterMs option compresses time: the bookmark comes just before the end.
   */
  private scheduleEnd(): void {
    const p = this.params;
    const o = this.hub.options;
    const bookmarks = p.allowBookmarks && o.bookmarkIntervalMs > 0;
    if (o.endAfterMs > 0) {
      this.timers.push(
        setTimeout(() => {
          if (bookmarks) this.bookmark();
          this.end();
        }, o.endAfterMs),
      );
      return;
    }
    const timeoutMs =
      p.timeoutSeconds !== undefined && p.timeoutSeconds > 0 ? p.timeoutSeconds * 1000 : o.minRequestTimeoutSeconds * 1000 * (1 + Math.random());
    if (!(timeoutMs > 0)) return;
    this.timers.push(setTimeout(() => this.end(), timeoutMs));
    if (bookmarks && timeoutMs > PRETIMEOUT_BOOKMARK_MS) this.timers.push(setTimeout(() => this.bookmark(), timeoutMs - PRETIMEOUT_BOOKMARK_MS));
  }

  private selects(o: KObject): boolean {
    const p = this.params;
    if (p.namespace !== undefined && p.rt.namespaced && o.metadata.namespace !== p.namespace) return false;
    if (p.name !== undefined && o.metadata.name !== p.name) return false;
    return p.labels(o) && p.fields(o);
  }

  /** The cacher's event translation: objects moving in or out of the selection become ADDED / DELETED. */
  private convert(ev: ChangeEvent): WatchEvent | undefined {
    if (ev.rt.group !== this.params.rt.group || ev.rt.resource !== this.params.rt.resource) return undefined;
    const cur = this.selects(ev.object);
    if (ev.type === 'ADDED') return cur ? { type: 'ADDED', object: ev.object } : undefined;
    if (ev.type === 'DELETED') return cur ? { type: 'DELETED', object: ev.object } : undefined;
    const old = ev.prev ? this.selects(ev.prev) : false;
    if (cur && old) return { type: 'MODIFIED', object: ev.object };
    if (cur) return { type: 'ADDED', object: ev.object };
    if (old && ev.prev) {
      const gone = structuredClone(ev.prev);
      gone.metadata.resourceVersion = ev.object.metadata.resourceVersion;
      return { type: 'DELETED', object: gone };
    }
    return undefined;
  }

  private send(ev: WatchEvent): boolean {
    if (this.closed) return false;
    const p = this.params;
    const object = p.table
      ? toTable(p.rt, [ev.object as KObject], { include: p.include, now: this.hub.options.now() })
      : ev.object;
    this.writeRaw({ type: ev.type, object });
    this.written++;
    return !this.checkFault();
  }

  /** Applies a dropWatch/expireWatch fault once its event count is reached; true when the stream is gone. */
  private checkFault(): boolean {
    const f = this.params.fault;
    if (!f) return false;
    if (f.type === 'dropWatch' && this.written >= f.afterEvents) {
      this.drop();
      return true;
    }
    if (f.type === 'expireWatch' && this.written >= (f.afterEvents ?? 0)) {
      this.expire();
      return true;
    }
    return false;
  }

  private writeRaw(ev: WatchEvent): void {
    if (this.closed || this.res.destroyed) return;
    this.res.write(`${JSON.stringify(ev)}\n`);
  }

  private bookmarkObject(annotations?: Record<string, string>): KObject {
    const meta: Record<string, unknown> = { resourceVersion: String(this.hub.options.store.resourceVersion) };
    if (annotations) meta.annotations = annotations;
    return { kind: this.params.rt.kind, apiVersion: groupVersion(this.params.rt), metadata: meta };
  }

  bookmark(): void {
    if (this.params.allowBookmarks) this.writeRaw({ type: 'BOOKMARK', object: this.bookmarkObject() });
  }

  /** Sends the ERROR 410 Expired event a real server sends when it can no longer serve the watch, then ends. */
  expire(): void {
    const store = this.hub.options.store;
    this.writeRaw({ type: 'ERROR', object: expired(`too old resource version: ${store.resourceVersion} (${store.resourceVersion + 1})`).toStatus() });
    this.end();
  }

  /** Ends the stream cleanly (terminating chunk), as a server-side timeout does. */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.cleanup();
    if (!this.res.destroyed) this.res.end();
  }

  /** Ends the stream abruptly (what was sent so far still arrives). */
  drop(): void {
    this.closed = true;
    this.cleanup();
    abortAfterFlush(this.res);
  }

  private cleanup(): void {
    this.closed = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    this.hub.streams.delete(this);
  }
}

export class WatchHub {
  readonly streams = new Set<WatchStream>();

  constructor(readonly options: WatchHubOptions) {}

  open(res: ServerResponse, params: WatchParams): void {
    const stream = new WatchStream(this, res, params);
    try {
      stream.start();
    } catch (e) {
      if (e instanceof ApiError && !res.headersSent) sendError(res, e);
      else throw e;
    }
  }

  private select(filter?: (p: WatchParams) => boolean): WatchStream[] {
    return [...this.streams].filter((s) => !filter || filter(s.params));
  }

  /** Sends a BOOKMARK on every open watch that allowed them. */
  bookmarkAll(): void {
    for (const s of this.select()) s.bookmark();
  }

  /** Sends ERROR 410 Expired on open watches (optionally filtered) and ends them. */
  expireAll(filter?: (p: WatchParams) => boolean): number {
    const hit = this.select(filter);
    for (const s of hit) s.expire();
    return hit.length;
  }

  /** Ends open watches abruptly (optionally filtered). */
  dropAll(filter?: (p: WatchParams) => boolean): number {
    const hit = this.select(filter);
    for (const s of hit) s.drop();
    return hit.length;
  }

  /** Ends every open watch cleanly. */
  closeAll(): void {
    for (const s of this.select()) s.end();
  }
}
