/**
 * Requests to the Kubernetes API with bounded retries.
 *
 * Why our own small HTTP layer instead of client-node's generated API classes: those classes
 * buffer every body, hide response headers (no Retry-After), choose the patch content type from
 * a fixed list per call, and give no handle on a streaming response. Server-side apply needs
 * `application/apply-patch+yaml`; watches and `--follow` logs need the raw chunked response with
 * per-line handling and a clean abort; 429/5xx retries need the status and Retry-After before
 * the body. connection.ts does configuration and authentication (with client-node where it can);
 * this file moves bytes over node:http(s) with the agent and headers it produced, asks it to renew
 * a credential after a 401 (then retries that request once), and hands API `Warning` headers to
 * the caller (auth/warnings.ts).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { setTimeout as sleepTimer } from 'node:timers/promises';
import { ApiError, NetworkError, reasonForCode, type ApiStatus } from './errors';
import { parseWarningHeaders, type ApiWarning } from './auth/warnings';
import type { Connection, RequestAuth } from './connection';
import { absoluteFormTarget } from './auth/tunnel';

/** HTTP methods the client sends. */
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One request to the API server. */
export interface KubeRequest {
  /** @default 'GET' */
  readonly method?: Method;
  /** Path below the server URL, e.g. `/api/v1/namespaces/x/pods`. */
  readonly path: string;
  /** Query parameters; `undefined` values are left out. @default {} */
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** A string is sent as is, anything else as JSON. @default - no body */
  readonly body?: unknown;
  /** @default 'application/json' when there is a body */
  readonly contentType?: string;
  /** Cancels the request (and any retry wait). @default - none */
  readonly signal?: AbortSignal;
  /** Attempts in all, for transient failures. @default the client's retry.maxAttempts */
  readonly maxAttempts?: number;
  /**
   * Socket idle timeout; for streams it also applies while reading. 0 disables it.
   * @default the client's requestTimeoutMs (streams: 0)
   */
  readonly timeoutMs?: number;
}

/** How transient failures (429, 5xx, connection resets) are retried. */
export interface RetryPolicy {
  /** Attempts in all. @default 5 */
  readonly maxAttempts: number;
  /** First backoff delay; doubles each attempt, with jitter. @default 200 */
  readonly baseDelayMs: number;
  /** Largest backoff delay. @default 5000 */
  readonly maxDelayMs: number;
  /** Largest wait a Retry-After header may ask for. @default 30000 */
  readonly maxRetryAfterMs: number;
}

/** Reported before each retry (for verbose output and tests). */
export interface RetryNotice {
  readonly attempt: number;
  readonly delayMs: number;
  readonly reason: string;
  readonly path: string;
}

/** Options of {@link KubeClient}. */
export interface KubeClientOptions {
  /** @default DEFAULT_RETRY_POLICY */
  readonly retry?: Partial<RetryPolicy>;
  /** @default 30000 */
  readonly requestTimeoutMs?: number;
  /** @default 'sleap-roots' */
  readonly userAgent?: string;
  /** Waits between attempts. @default a timer that the signal cancels */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Random numbers in [0, 1) for jitter. @default Math.random */
  readonly random?: () => number;
  /** Called before each retry. @default - nothing */
  readonly onRetry?: (notice: RetryNotice) => void;
  /**
   * Called with each warning of each response's `Warning` headers (client-go rest/warnings.go,
   * handleWarnings, calls its handler for every response, errors included). @default - nothing
   */
  readonly onWarning?: (warning: ApiWarning) => void;
  /** Milliseconds since the epoch (when a request was sent, for token-file renewal). @default Date.now */
  readonly now?: () => number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 5000, maxRetryAfterMs: 30_000 };

/** HTTP statuses worth another attempt. */
const TRANSIENT_STATUS = new Set([429, 500, 502, 503, 504]);
/** Socket errors worth another attempt. */
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_STREAM_PREMATURE_CLOSE']);

/**
 * A 500 that every attempt would get: a server-side apply whose object does not fit the schema
 * (an unknown field) fails while the typed patch is built, with a 500 and no reason, whatever
 * fieldValidation says (apimachinery pkg/util/managedfields/internal/structuredmerge.go Apply:
 * "failed to create typed patch object"). Retrying it only delays the message.
 */
function isDeterministic500(e: ApiError): boolean {
  return e.statusCode === 500 && /^failed to create typed (patch|live) object/.test(e.status.message ?? '');
}

/** True when another attempt may succeed. */
export function isTransient(e: unknown): boolean {
  if (e instanceof ApiError) return TRANSIENT_STATUS.has(e.statusCode) && !isDeterministic500(e);
  if (e instanceof NetworkError) return TRANSIENT_CODES.has(e.code);
  return false;
}

/** A client for one API server. */
export class KubeClient {
  public readonly connection: Connection;
  public readonly retry: RetryPolicy;
  private readonly requestTimeoutMs: number;
  private readonly userAgent: string;
  private readonly sleepFn: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly onRetry?: (notice: RetryNotice) => void;
  private readonly onWarning?: (warning: ApiWarning) => void;
  private readonly now: () => number;

  public constructor(connection: Connection, options: KubeClientOptions = {}) {
    this.connection = connection;
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.userAgent = options.userAgent ?? 'sleap-roots';
    this.sleepFn = options.sleep ?? ((ms, signal) => sleepTimer(ms, undefined, { signal }));
    this.random = options.random ?? Math.random;
    this.onRetry = options.onRetry;
    this.onWarning = options.onWarning;
    this.now = options.now ?? Date.now;
  }

  /** Sends a request and parses the JSON answer. @throws ApiError | NetworkError */
  public async json<T>(req: KubeRequest): Promise<T> {
    const { body } = await this.withRetries(req, async (res) => ({ body: await readBody(res) }));
    if (body.length === 0) return undefined as T;
    try {
      return JSON.parse(body.toString('utf8')) as T;
    } catch {
      throw new NetworkError('EBADJSON', `the API server at ${this.connection.server} answered ${req.path} with something that is not JSON`);
    }
  }

  /**
   * Sends a request and returns the response as soon as its headers arrive with a 2xx status, for
   * the caller to read as a stream (watch, logs). Only establishing the stream is retried.
   * Destroy the response (or abort the signal) to stop it.
   * @throws ApiError | NetworkError
   */
  public stream(req: KubeRequest): Promise<http.IncomingMessage> {
    return this.withRetries({ ...req, timeoutMs: req.timeoutMs ?? 0 }, async (res) => res);
  }

  /** Waits like the retry loop does (abortable): for callers with their own reconnect loops. */
  public sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.sleepFn(ms, signal);
  }

  /** The backoff delay before attempt `attempt + 1`. */
  public backoffMs(attempt: number): number {
    const exp = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** Math.max(0, attempt - 1));
    return Math.round(exp * (0.5 + this.random() / 2));
  }

  private async withRetries<T>(req: KubeRequest, onOk: (res: http.IncomingMessage) => Promise<T>): Promise<T> {
    const maxAttempts = Math.max(1, req.maxAttempts ?? this.retry.maxAttempts);
    let renewed = false;
    for (let attempt = 1; ; attempt++) {
      let sent: { auth: RequestAuth; at: number } | undefined;
      try {
        const at = this.now();
        const auth = await this.connection.auth();
        sent = { auth, at };
        const res = await this.send(req, auth);
        if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300) return await onOk(res);
        throw await apiErrorOf(res);
      } catch (e) {
        req.signal?.throwIfAborted();
        if (e instanceof ApiError && e.statusCode === 401 && sent && !renewed) {
          // The exec plugin runs again (unless another request already renewed it), a token file is read
          // again; then this request is retried, once (client-go exec.go roundTripper.RoundTrip /
          // maybeRefreshCreds, transport/token_source.go tokenSourceTransport.RoundTrip).
          renewed = true;
          await this.connection.unauthorized(sent.auth, sent.at);
          continue;
        }
        if (!isTransient(e) || attempt >= maxAttempts) throw gaveUp(e, attempt);
        const delayMs = this.delayFor(e, attempt);
        this.onRetry?.({ attempt, delayMs, reason: describeFailure(e), path: req.path });
        await this.sleepFn(delayMs, req.signal);
      }
    }
  }

  private delayFor(e: unknown, attempt: number): number {
    if (e instanceof ApiError && e.retryAfterSeconds !== undefined) {
      return Math.min(this.retry.maxRetryAfterMs, Math.max(0, e.retryAfterSeconds * 1000));
    }
    return this.backoffMs(attempt);
  }

  private async send(req: KubeRequest, auth: RequestAuth): Promise<http.IncomingMessage> {
    const url = new URL(this.connection.server + req.path);
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    let payload: Buffer | undefined;
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': this.userAgent, ...auth.headers };
    if (req.body !== undefined) {
      payload = Buffer.from(typeof req.body === 'string' ? req.body : JSON.stringify(req.body), 'utf8');
      headers['Content-Type'] = req.contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const timeoutMs = req.timeoutMs ?? this.requestTimeoutMs;
    // An http:// server behind a proxy gets absolute-form requests sent to the proxy (auth/tunnel.ts); an
    // https:// one is tunnelled by the agent.
    const viaProxy = url.protocol === 'http:' && auth.httpProxy ? absoluteFormTarget(url, auth.httpProxy) : undefined;
    const transport = (viaProxy ? auth.httpProxy?.protocol : url.protocol) === 'https:' ? https : http;
    return new Promise<http.IncomingMessage>((resolve, reject) => {
      req.signal?.throwIfAborted();
      const method = req.method ?? 'GET';
      const request = viaProxy
        ? transport.request({ ...viaProxy, method, headers: { ...headers, ...viaProxy.headers } })
        : transport.request(url, { method, headers, agent: auth.agent });
      const onAbort = () => request.destroy(abortError());
      req.signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => req.signal?.removeEventListener('abort', onAbort);
      if (timeoutMs > 0) {
        request.setTimeout(timeoutMs, () => request.destroy(new NetworkError('ETIMEDOUT', `no answer from ${url.host} within ${timeoutMs} ms`)));
      }
      request.on('error', (err) => {
        cleanup();
        reject(toNetworkError(err, url));
      });
      request.on('response', (res) => {
        res.on('close', cleanup);
        if (this.onWarning && res.headers.warning !== undefined) {
          for (const w of parseWarningHeaders(res.rawHeaders.filter((_, i, all) => i % 2 === 1 && all[i - 1].toLowerCase() === 'warning'))) this.onWarning(w);
        }
        // Errors while reading the body surface on the response; give them our shape.
        res.on('error', () => undefined);
        resolve(res);
      });
      request.end(payload);
    });
  }
}

/** Reads a whole response body. @throws NetworkError when the connection breaks first */
export function readBody(res: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', (err) => reject(toNetworkError(err)));
    res.on('aborted', () => reject(new NetworkError('ECONNRESET', 'the connection broke while reading the answer')));
    res.on('close', () => {
      if (!res.complete) reject(new NetworkError('ECONNRESET', 'the connection broke while reading the answer'));
    });
  });
}

/** Builds the ApiError of a non-2xx response from its Status body (or its text). */
export async function apiErrorOf(res: http.IncomingMessage): Promise<ApiError> {
  const code = res.statusCode ?? 0;
  const body = await readBody(res).catch(() => Buffer.alloc(0));
  let status: ApiStatus = {};
  const text = body.toString('utf8').trim();
  try {
    const parsed = JSON.parse(text) as ApiStatus;
    if (parsed && typeof parsed === 'object') status = parsed;
  } catch {
    status = { message: text ? text.slice(0, 500) : undefined };
  }
  if (!status.reason) status = { ...status, reason: reasonForCode(code) };
  const retryAfter = parseRetryAfter(res.headers['retry-after']) ?? status.details?.retryAfterSeconds;
  return new ApiError(code, status, retryAfter);
}

/** Seconds from a Retry-After header (delta-seconds or HTTP date). */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Number(v.trim());
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - now) / 1000);
}

function abortError(): Error {
  const e = new Error('the operation was aborted');
  e.name = 'AbortError';
  return e;
}

function toNetworkError(err: unknown, url?: URL): Error {
  if (err instanceof NetworkError || (err instanceof Error && err.name === 'AbortError')) return err;
  const e = err as NodeJS.ErrnoException;
  const code = e.code ?? 'ECONNRESET';
  const where = url ? ` ${url.protocol}//${url.host}` : '';
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
    return new NetworkError(code, `TLS error talking to${where}: ${e.message}; pass --certificate-authority FILE (or --insecure-skip-tls-verify for a test cluster)`);
  }
  return new NetworkError(code, `cannot reach the API server at${where}: ${e.message}`);
}

function describeFailure(e: unknown): string {
  if (e instanceof ApiError) return `${e.statusCode} ${e.reason}`;
  if (e instanceof NetworkError) return e.code;
  return String(e);
}

function gaveUp(e: unknown, attempts: number): unknown {
  if (attempts <= 1 || !isTransient(e)) return e;
  if (e instanceof ApiError) return new ApiError(e.statusCode, { ...e.status, message: `${e.message} (gave up after ${attempts} attempts)` });
  if (e instanceof NetworkError) return new NetworkError(e.code, `${e.message} (gave up after ${attempts} attempts)`);
  return e;
}
