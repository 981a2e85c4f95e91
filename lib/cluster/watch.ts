/**
 * List-then-watch of a collection, as an async stream of events, driven by the API's watch
 * stream (never by polling).
 *
 * What ends a watch, and what happens then:
 * - The server ends it cleanly (the response completes): normal. A real API server ends every
 *   watch at `timeoutSeconds` (k8s.io/apiserver pkg/endpoints/handlers/get.go, ListResource: the
 *   client's timeoutSeconds, or when none is set a random time in [minRequestTimeout,
 *   2*minRequestTimeout), 1800 s by default; handlers/watch.go serveWatch returns when that timer
 *   fires, which completes the chunked response). It is reopened at once from the last
 *   resourceVersion seen (bookmarks update it), with no backoff and no count.
 * - Unless it ended very soon with no event at all: a watch that lasted less than
 *   {@link SHORT_WATCH_MS} and delivered nothing (not even a bookmark) is what a broken server or
 *   proxy does in a hot loop. client-go's reflector treats it as an error ("very short watch",
 *   tools/cache/reflector.go handleAnyWatch: `watchDuration < 1*time.Second && eventCount == 0`,
 *   where eventCount counts bookmarks too); so does this: counted and backed off.
 * - A real error (the connection dropped or was reset mid-stream, 429/5xx, a network error, a
 *   stream or list that could not be established after the client's own retries) is counted and
 *   backed off (Retry-After when the server sent one). The count is of failures in a row: a watch
 *   that delivered an event or stayed open {@link SHORT_WATCH_MS} was healthy and starts it again.
 *   More than `maxReconnects` in a row ends the watch with an error naming the last failure.
 * - 410 Gone (the version is too old, as an HTTP status or as an ERROR event) re-lists at once and
 *   goes on from the new list.
 * - Any other API error (401, 403, 404, ...) ends the watch at once.
 */
import type { IncomingMessage } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { ApiError, isAbortError, isStatus } from './errors';
import { isTransient, type KubeClient } from './http';
import type { KubeList, KubeObject } from './resources';

/**
 * A watch that ends sooner than this without any event is a failure, not a normal end
 * (client-go tools/cache/reflector.go handleAnyWatch uses one second).
 */
export const SHORT_WATCH_MS = 1000;

/** The longest Retry-After a watch reconnect honours. */
const MAX_RETRY_AFTER_MS = 30_000;

/** One event of {@link listWatch}. */
export type WatchEvent<T extends KubeObject> =
  /** The full current state: at the start and after every re-list (replace what you hold). */
  | { readonly type: 'SYNC'; readonly items: readonly T[]; readonly resourceVersion: string }
  | { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'; readonly object: T };

/** Why the watch reconnected (for displays and tests). */
export interface ReconnectNotice {
  /**
   * `ended`: the server ended it normally (reopened at once, not a failure); `short`: it ended
   * very soon with no event (a failure); `dropped`: an error (a failure); `expired`: 410, re-listing.
   */
  readonly reason: 'dropped' | 'ended' | 'short' | 'expired';
  readonly resourceVersion?: string;
  /** Failures in a row so far (0 after a normal end or a re-list). */
  readonly attempt: number;
  /** The wait before reopening, in ms (0: at once). */
  readonly delayMs: number;
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
  /** @default - none (the watch runs until a permanent error) */
  readonly signal?: AbortSignal;
  /** Failures in a row (errors and very short watches) before giving up. @default 10 */
  readonly maxReconnects?: number;
  /** Server-side timeout of one watch request. @default 290 */
  readonly timeoutSeconds?: number;
  /** A clean end sooner than this with no event counts as a failure. @default SHORT_WATCH_MS (1000) */
  readonly shortWatchMs?: number;
  /** @default - nothing */
  readonly onReconnect?: (notice: ReconnectNotice) => void;
}

interface RawEvent {
  type?: string;
  object?: KubeObject & { code?: number; reason?: string; message?: string };
}

/** How one list-and/or-watch attempt ended. */
type Outcome = { readonly type: 'ended' } | { readonly type: 'expired' } | { readonly type: 'failed'; readonly error: unknown };

/**
 * Lists, then watches; yields a SYNC first and after every re-list, then changes.
 * Ends only when the signal aborts (returns) or on a permanent error or too many failures in a
 * row (throws).
 */
export async function* listWatch<T extends KubeObject>(client: KubeClient, options: ListWatchOptions): AsyncGenerator<WatchEvent<T>, void, undefined> {
  const signal = options.signal;
  const maxReconnects = options.maxReconnects ?? 10;
  const shortWatchMs = options.shortWatchMs ?? SHORT_WATCH_MS;
  const timeoutSeconds = options.timeoutSeconds ?? 290;
  const selectors = { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector };
  let resourceVersion: string | undefined;
  let failures = 0;
  let failingSince = 0;
  for (;;) {
    if (signal?.aborted) return;
    let events = 0;
    let outcome: Outcome = { type: 'ended' };
    let res: IncomingMessage | undefined;
    let openedAt = Date.now();
    try {
      if (resourceVersion === undefined) {
        const list = await client.json<KubeList<T>>({ path: options.path, query: selectors, signal });
        resourceVersion = list.metadata?.resourceVersion ?? '0';
        yield { type: 'SYNC', items: (list.items ?? []).map((i) => withKind(i, list)), resourceVersion };
        openedAt = Date.now();
      }
      res = await client.stream({
        path: options.path,
        query: { ...selectors, watch: 1, resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
        signal,
        timeoutMs: (timeoutSeconds + 30) * 1000,
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
            outcome = { type: 'expired' };
            break;
          }
          throw new ApiError(status.code ?? 500, status);
        }
        events++;
        if (obj.metadata?.resourceVersion) resourceVersion = obj.metadata.resourceVersion;
        if (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED') yield { type: ev.type, object: obj as T };
      }
    } catch (e) {
      if (signal?.aborted || isAbortError(e)) return;
      if (isStatus(e, 410)) outcome = { type: 'expired' };
      else if (isTransient(e) || (e instanceof Error && !(e instanceof ApiError))) outcome = { type: 'failed', error: e };
      else throw e;
    } finally {
      res?.destroy();
    }
    if (signal?.aborted) return;
    if (outcome.type === 'expired') {
      resourceVersion = undefined;
      failures = 0;
      options.onReconnect?.({ reason: 'expired', attempt: 0, delayMs: 0 });
      continue; // re-list at once
    }
    const healthy = events > 0 || Date.now() - openedAt >= shortWatchMs;
    if (outcome.type === 'ended' && healthy) {
      failures = 0;
      options.onReconnect?.({ reason: 'ended', resourceVersion, attempt: 0, delayMs: 0 });
      continue; // the server's normal end: reopen at once
    }
    if (healthy || failures === 0) {
      failures = 0;
      failingSince = Date.now();
    }
    failures++;
    const error = outcome.type === 'failed' ? outcome.error : undefined;
    const detail =
      error === undefined
        ? `the server ended the watch after ${Date.now() - openedAt} ms without any event`
        : error instanceof Error
          ? error.message
          : String(error);
    if (failures > maxReconnects) {
      const seconds = Math.round((Date.now() - failingSince) / 1000);
      throw new ApiError(503, {
        reason: 'ServiceUnavailable',
        message: `the watch of ${options.path} failed ${failures} times in a row over ${seconds}s; gave up (last: ${detail})`,
      });
    }
    const delayMs = retryDelay(client, error, failures);
    options.onReconnect?.({ reason: error === undefined ? 'short' : 'dropped', resourceVersion, attempt: failures, delayMs, detail });
    await client.sleep(delayMs, signal).catch(() => undefined);
  }
}

/** The wait before the next attempt: what the server asked for (Retry-After), else the client's backoff. */
function retryDelay(client: KubeClient, error: unknown, failures: number): number {
  const retryAfter = error instanceof ApiError ? (error.retryAfterSeconds ?? error.status.details?.retryAfterSeconds) : undefined;
  if (retryAfter !== undefined && retryAfter >= 0) return Math.min(MAX_RETRY_AFTER_MS, retryAfter * 1000);
  return client.backoffMs(failures);
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
