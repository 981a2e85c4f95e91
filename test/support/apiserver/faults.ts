/**
 * Programmatic fault injection: one-shot (or N-times) failures matched by method and path.
 */

export type FaultAction =
  /** 409 Conflict ("the object has been modified"). */
  | { type: 'conflict'; message?: string }
  /** 429 TooManyRequests with a `Retry-After` header. */
  | { type: 'tooManyRequests'; retryAfterSeconds?: number }
  /** 500 InternalError. */
  | { type: 'internalError'; message?: string }
  /** Any Status error. */
  | { type: 'status'; code: number; reason: string; message: string }
  /** Destroy the socket before responding (the client sees a connection reset / socket hang up). */
  | { type: 'reset' }
  /** Serve the request normally, with a `Warning: 299 - "text"` header (as admission and deprecation warnings come). */
  | { type: 'warning'; text: string }
  /** Serve the request (a create is stored), then destroy the socket instead of answering: a lost response. */
  | { type: 'loseResponse' }
  /** Hold the request this long, then serve it normally. */
  | { type: 'delay'; ms: number }
  /** Watch requests only: after K events, end the response abruptly (socket destroyed mid-stream). */
  | { type: 'dropWatch'; afterEvents: number }
  /** Watch requests only: after K events, send an ERROR event with a 410 Expired Status and end the stream. */
  | { type: 'expireWatch'; afterEvents?: number }
  /** Log requests only: after K lines, end the response abruptly. */
  | { type: 'dropLog'; afterLines: number };

export interface FaultRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** The request is a watch (`watch=true|1`). */
  watch: boolean;
  /** The request is for pods/log. */
  log: boolean;
}

export interface FaultSpec {
  /** Method(s) to match (case-insensitive); omitted matches all. */
  method?: string | string[];
  /** Exact path, a RegExp tested against the path, or a predicate; omitted matches all. */
  path?: string | RegExp | ((req: FaultRequest) => boolean);
  action: FaultAction;
  /** How many matching requests it applies to (default 1; Infinity for all). */
  times?: number;
}

export interface FaultHandle {
  readonly spec: FaultSpec;
  /** How many requests it has applied to so far. */
  readonly hits: number;
  readonly remaining: number;
  remove(): void;
}

type Stage = 'request' | 'watch' | 'log';

function stageOf(action: FaultAction): Stage {
  if (action.type === 'dropWatch' || action.type === 'expireWatch') return 'watch';
  if (action.type === 'dropLog') return 'log';
  return 'request';
}

class Fault implements FaultHandle {
  hits = 0;
  remaining: number;
  constructor(
    readonly spec: FaultSpec,
    private readonly owner: Faults,
  ) {
    this.remaining = spec.times ?? 1;
  }
  remove(): void {
    this.owner.remove(this);
  }
  matches(req: FaultRequest): boolean {
    const { method, path } = this.spec;
    if (method !== undefined) {
      const methods = (Array.isArray(method) ? method : [method]).map((m) => m.toUpperCase());
      if (!methods.includes(req.method.toUpperCase())) return false;
    }
    if (path === undefined) return true;
    if (typeof path === 'string') return req.path === path;
    if (path instanceof RegExp) return path.test(req.path);
    return path(req);
  }
}

export class Faults {
  private list: Fault[] = [];

  add(spec: FaultSpec): FaultHandle {
    const f = new Fault(spec, this);
    this.list.push(f);
    return f;
  }

  remove(f: FaultHandle): void {
    this.list = this.list.filter((x) => x !== f);
  }

  clear(): void {
    this.list = [];
  }

  /**
   * Consumes the first matching fault for a stage: 'request' faults apply to any request, 'watch' faults only
   * to watch requests and 'log' faults only to log requests (so they are not used up by other requests).
   */
  take(stage: Stage, req: FaultRequest): FaultAction | undefined {
    if (stage === 'watch' && !req.watch) return undefined;
    if (stage === 'log' && !req.log) return undefined;
    const f = this.list.find((x) => x.remaining > 0 && stageOf(x.spec.action) === stage && x.matches(req));
    if (!f) return undefined;
    f.hits++;
    f.remaining--;
    if (f.remaining <= 0) this.remove(f);
    return f.spec.action;
  }
}
