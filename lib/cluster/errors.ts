/**
 * Errors the cluster layer raises, and their one-line, user-facing form. The API's own words
 * (reason and message of its Status) are shown; stack traces never are.
 */
import type { Redactor } from './redact';

/** A Kubernetes `Status` body, as the API server returns it with an error. */
export interface ApiStatus {
  readonly kind?: string;
  readonly status?: string;
  readonly message?: string;
  readonly reason?: string;
  readonly code?: number;
  readonly details?: {
    readonly name?: string;
    readonly group?: string;
    readonly kind?: string;
    readonly causes?: readonly { readonly reason?: string; readonly message?: string; readonly field?: string }[];
    readonly retryAfterSeconds?: number;
  };
}

/** The API server answered with an error status. */
export class ApiError extends Error {
  public readonly statusCode: number;
  public readonly reason: string;
  public readonly status: ApiStatus;
  /** Seconds from a Retry-After header, when the server sent one. */
  public readonly retryAfterSeconds?: number;

  public constructor(statusCode: number, status: ApiStatus, retryAfterSeconds?: number) {
    const reason = status.reason || reasonForCode(statusCode);
    super(status.message || `the server answered ${statusCode} ${reason}`);
    this.name = 'ApiError';
    this.statusCode = statusCode;
    this.reason = reason;
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The API server could not be reached or the connection broke. */
export class NetworkError extends Error {
  /** The system error code (ECONNRESET, ECONNREFUSED, ETIMEDOUT, ...). */
  public readonly code: string;
  public constructor(code: string, message: string) {
    super(message);
    this.name = 'NetworkError';
    this.code = code;
  }
}

/** A problem to report to the user as is (bad flag, missing dist/, ...). */
export class UserError extends Error {
  /** A suggested next step, printed under the message. */
  public readonly hint?: string;
  public constructor(message: string, hint?: string) {
    super(message);
    this.name = 'UserError';
    this.hint = hint;
  }
}

/** The operation was cancelled through its AbortSignal. */
export function isAbortError(e: unknown): boolean {
  return e instanceof Error && (e.name === 'AbortError' || (e as NodeJS.ErrnoException).code === 'ABORT_ERR');
}

/** True for an API error with this HTTP status. */
export function isStatus(e: unknown, code: number): e is ApiError {
  return e instanceof ApiError && e.statusCode === code;
}

/** The message of an error as the user sees it: `Error from server (Reason): message`, no stack. */
export function formatError(e: unknown, redactor?: Redactor): string {
  let text: string;
  if (e instanceof ApiError) text = `Error from server (${e.reason}): ${e.message}`;
  else if (e instanceof NetworkError) text = `error: ${e.message}`;
  else if (e instanceof UserError) text = `error: ${e.message}${e.hint ? `\n  ${e.hint}` : ''}`;
  else if (e instanceof Error) text = `error: ${e.message}`;
  else text = `error: ${String(e)}`;
  return redactor ? redactor.redact(text) : text;
}

/** Kubernetes' reason names for HTTP codes, for error bodies that are not a Status. */
export function reasonForCode(code: number): string {
  const reasons: Record<number, string> = {
    400: 'BadRequest',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'NotFound',
    405: 'MethodNotAllowed',
    409: 'Conflict',
    410: 'Expired',
    415: 'UnsupportedMediaType',
    422: 'Invalid',
    429: 'TooManyRequests',
    500: 'InternalError',
    502: 'BadGateway',
    503: 'ServiceUnavailable',
    504: 'Timeout',
  };
  return reasons[code] ?? `HTTP${code}`;
}
