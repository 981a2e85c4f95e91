/**
 * List-then-watch of a collection, as an async stream of events, driven by the API's watch
 * stream (never by polling).
 *
 * A dropped or ended stream is reopened from the last resourceVersion seen; a 410 Gone (the
 * version is too old, as an HTTP status or as an ERROR event) re-lists and goes on from the new
 * list. Reconnects without any event in between are bounded and backed off.
 */
import type { IncomingMessage } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { ApiError, isAbortError, isStatus } from './errors';
import { isTransient, type KubeClient } from './http';
import type { KubeList, KubeObject } from './resources';

/** One event of {@link listWatch}. */
export type WatchEvent<T extends KubeObject> =
  /** The full current state: at the start and after every re-list (replace what you hold). */
  | { readonly type: 'SYNC'; readonly items: readonly T[]; readonly resourceVersion: string }
  | { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'; readonly object: T };

/** Why the watch reconnected (for displays and tests). */
export interface ReconnectNotice {
  readonly reason: 'dropped' | 'ended' | 'expired';
  readonly resourceVersion?: string;
  readonly attempt: number;
  readonly detail?: string;
}

/** Options of {@link listWatch}. */
export interface ListWatchOptions {
  /** The collection's path, e.g. `/apis/argoproj.io/v1alpha1/namespaces/x/workflows`. */
  readonly path: string;
  /** @default - none */
  readonly labelSelector?: string;
  /** @default - none */
  readonly fieldSelector?: string;
  readonly signal?: AbortSignal;
  /** Reconnects in a row without an event before giving up. @default 10 */
  readonly maxReconnects?: number;
  /** Server-side timeout of one watch request. @default 290 */
  readonly timeoutSeconds?: number;
  /** @default - nothing */
  readonly onReconnect?: (notice: ReconnectNotice) => void;
}

interface RawEvent {
  type?: string;
  object?: KubeObject & { code?: number; reason?: string; message?: string };
}

/**
 * Lists, then watches; yields a SYNC first and after every re-list, then changes.
 * Ends only when the signal aborts (returns) or on a permanent error (throws).
 */
export async function* listWatch<T extends KubeObject>(client: KubeClient, options: ListWatchOptions): AsyncGenerator<WatchEvent<T>, void, undefined> {
  const signal = options.signal;
  const maxReconnects = options.maxReconnects ?? 10;
  const selectors = { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector };
  let resourceVersion: string | undefined;
  let failures = 0;
  try {
    for (;;) {
      if (signal?.aborted) return;
      if (resourceVersion === undefined) {
        const list = await client.json<KubeList<T>>({ path: options.path, query: selectors, signal });
        resourceVersion = list.metadata?.resourceVersion ?? '0';
        yield { type: 'SYNC', items: (list.items ?? []).map((i) => withKind(i, list)), resourceVersion };
      }
      let gotEvent = false;
      let reason: ReconnectNotice['reason'] = 'ended';
      let detail: string | undefined;
      let res: IncomingMessage | undefined;
      try {
        res = await client.stream({
          path: options.path,
          query: { ...selectors, watch: 1, resourceVersion, allowWatchBookmarks: true, timeoutSeconds: options.timeoutSeconds ?? 290 },
          signal,
          timeoutMs: ((options.timeoutSeconds ?? 290) + 30) * 1000,
        });
        for await (const line of lines(res)) {
          let ev: RawEvent;
          try {
            ev = JSON.parse(line) as RawEvent;
          } catch {
            continue; // a torn line at a drop; the resume from resourceVersion repeats it
          }
          const obj = ev.object;
          if (!obj) continue;
          if (ev.type === 'ERROR') {
            const status = obj as { code?: number; reason?: string; message?: string };
            if (status.code === 410) {
              reason = 'expired';
              resourceVersion = undefined;
              break;
            }
            throw new ApiError(status.code ?? 500, status);
          }
          if (obj.metadata?.resourceVersion) resourceVersion = obj.metadata.resourceVersion;
          if (ev.type === 'BOOKMARK') continue;
          if (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED') {
            gotEvent = true;
            failures = 0;
            yield { type: ev.type, object: obj as T };
          }
        }
      } catch (e) {
        if (signal?.aborted || isAbortError(e)) return;
        if (isStatus(e, 410)) {
          reason = 'expired';
          resourceVersion = undefined;
        } else if (isTransient(e) || (e instanceof Error && !(e instanceof ApiError))) {
          reason = 'dropped';
          detail = e instanceof Error ? e.message : String(e);
        } else {
          throw e;
        }
      } finally {
        res?.destroy();
      }
      if (signal?.aborted) return;
      if (reason === 'expired') {
        options.onReconnect?.({ reason, attempt: 0 });
        continue; // re-list at once
      }
      if (!gotEvent) failures++;
      if (failures > maxReconnects) {
        throw new ApiError(503, { reason: 'ServiceUnavailable', message: `the watch of ${options.path} kept failing (${failures} reconnects without an event${detail ? `; last: ${detail}` : ''})` });
      }
      options.onReconnect?.({ reason, resourceVersion, attempt: failures, detail });
      if (failures > 0) await client.sleep(client.backoffMs(failures), signal);
    }
  } catch (e) {
    if (signal?.aborted || isAbortError(e)) return;
    throw e;
  }
}

/** List items lack apiVersion/kind on built-in types; give them the list's. */
function withKind<T extends KubeObject>(item: T, list: KubeList<T>): T {
  if (item.kind && item.apiVersion) return item;
  const kind = list.kind?.replace(/List$/, '');
  return { ...item, kind: item.kind ?? kind, apiVersion: item.apiVersion ?? list.apiVersion } as T;
}

/**
 * The lines of a response, as they arrive (UTF-8 safe across chunks). A connection that breaks
 * mid-stream throws; a partial last line is dropped (the caller resumes and gets it again).
 */
export async function* lines(res: IncomingMessage): AsyncGenerator<string, void, undefined> {
  const decoder = new StringDecoder('utf8');
  let carry = '';
  for await (const chunk of res) {
    const text = carry + decoder.write(chunk as Buffer);
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      if (nl > start) yield text.slice(start, nl);
      start = nl + 1;
    }
    carry = text.slice(start);
  }
  if (!res.complete) {
    const e = new Error('the stream was cut off');
    (e as NodeJS.ErrnoException).code = 'ECONNRESET';
    throw e;
  }
  const last = carry + decoder.end();
  if (last.trim()) yield last;
}
