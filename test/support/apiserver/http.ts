/**
 * HTTP plumbing: request bodies, JSON/Status responses, media types.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { ApiError, badRequest, unsupportedMediaType } from './errors';

const MAX_BODY = 16 * 1024 * 1024;

export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0].trim().toLowerCase();
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Decodes a JSON (or, where allowed, YAML) request body into a value. */
export function decodeBody(body: Buffer, contentType: string, allowed: string[]): unknown {
  const type = mediaType(contentType) || 'application/json';
  if (!allowed.includes(type)) throw unsupportedMediaType(type, allowed);
  const text = body.toString('utf8');
  if (!text.trim()) throw badRequest('the body of the request was empty');
  if (type.endsWith('yaml')) {
    try {
      return parseYaml(text);
    } catch (e) {
      throw badRequest(`error converting YAML to JSON: ${(e as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
}

export function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}, contentType = 'application/json'): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': contentType,
    'Cache-Control': 'no-cache, private',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/**
 * Adds a `Warning` header in the apiserver's form (apimachinery pkg/util/net/http.go, NewWarningHeader): code 299,
 * agent "-", the text quoted with backslash escapes. Call before the response is written; each call adds one.
 */
export function addWarning(res: ServerResponse, text: string): void {
  if (res.headersSent) return;
  res.appendHeader('Warning', `299 - "${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`);
}

export function sendError(res: ServerResponse, err: ApiError): void {
  sendJson(res, err.code, err.toStatus(), err.headers);
}

export interface AcceptInfo {
  /** The client asked for a meta.k8s.io Table (kubectl get). */
  table: boolean;
  /** The client asked for aggregated discovery (apidiscovery.k8s.io/v2). */
  aggregatedDiscovery: boolean;
}

export function parseAccept(header: string | undefined): AcceptInfo {
  const out: AcceptInfo = { table: false, aggregatedDiscovery: false };
  for (const clause of (header ?? '').split(',')) {
    const params = new Map<string, string>();
    const [type, ...rest] = clause.split(';').map((s) => s.trim());
    for (const p of rest) {
      const [k, v] = p.split('=');
      if (k && v !== undefined) params.set(k.trim(), v.trim());
    }
    if (type !== 'application/json') continue;
    if (params.get('as') === 'Table' && params.get('g') === 'meta.k8s.io' && ['v1', 'v1beta1'].includes(params.get('v') ?? '')) out.table = true;
    if (params.get('as') === 'APIGroupDiscoveryList' && params.get('g') === 'apidiscovery.k8s.io' && params.get('v') === 'v2') out.aggregatedDiscovery = true;
  }
  return out;
}

/** `true`, `1` (and Go's other ParseBool spellings) are true. */
export function queryBool(value: string | null): boolean {
  return value !== null && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value);
}

/** Ends a response abruptly after what was already written has been flushed: no chunked terminator follows. */
export function abortAfterFlush(res: ServerResponse): void {
  const socket = res.socket;
  if (!socket || socket.destroyed) return;
  socket.end(() => socket.destroy());
}
