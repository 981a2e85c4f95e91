/**
 * Container logs (pods/log): an in-memory per-container log the tests append to, served like the kubelet does
 * (timestamps, sinceTime/sinceSeconds, tailLines, limitBytes, follow until the container terminates).
 */
import type { ServerResponse } from 'node:http';
import { ApiError, badRequest, notFound } from './errors';
import type { FaultAction } from './faults';
import { parseRfc3339Nanos, rfc3339NanoFixed, type NanoClock } from './ids';
import { abortAfterFlush, queryBool } from './http';
import type { ResourceType } from './resources';
import type { Store } from './store';
import type { KObject } from './types';

/** A line to append: plain text, or text with an explicit timestamp (Date or RFC3339/RFC3339Nano string). */
export type LogInput = string | { text: string; time?: Date | string };

interface LogLine {
  ns: bigint;
  text: string;
}

interface Follower {
  line(l: LogLine): void;
  end(): void;
}

interface ContainerLog {
  lines: LogLine[];
  terminated: boolean;
  followers: Set<Follower>;
}

export interface LogRequest {
  rt: ResourceType;
  namespace: string;
  pod: string;
  query: URLSearchParams;
  fault?: FaultAction;
}

export class LogStore {
  private readonly logs = new Map<string, ContainerLog>();

  constructor(
    private readonly clock: NanoClock,
    private readonly now: () => Date,
    /** 'second': sinceTime is truncated to whole seconds, as the apiserver does when it forwards to the kubelet. */
    private readonly sinceTimePrecision: 'second' | 'nanosecond',
    /** End each follow stream cleanly after this many ms while the container runs (0: never), as a gateway closing quiet connections does. */
    private readonly endFollowsAfterMs = 0,
  ) {}

  private entry(ns: string, pod: string, container: string): ContainerLog {
    const k = `${ns}/${pod}/${container}`;
    let e = this.logs.get(k);
    if (!e) this.logs.set(k, (e = { lines: [], terminated: false, followers: new Set() }));
    return e;
  }

  append(ns: string, pod: string, container: string, input: LogInput | LogInput[]): void {
    const e = this.entry(ns, pod, container);
    for (const item of Array.isArray(input) ? input : [input]) {
      const text = typeof item === 'string' ? item : item.text;
      let explicit: bigint | undefined;
      if (typeof item !== 'string' && item.time !== undefined) {
        explicit = item.time instanceof Date ? BigInt(item.time.getTime()) * 1_000_000n : parseRfc3339Nanos(item.time);
        if (explicit === undefined) throw new Error(`appendLog: bad timestamp ${String(item.time)}`);
        this.clock.observe(explicit);
      }
      const parts = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
      for (const part of parts) {
        const line = { ns: explicit ?? this.clock.next(), text: part };
        e.lines.push(line);
        for (const f of [...e.followers]) f.line(line);
      }
    }
  }

  terminate(ns: string, pod: string, container: string): void {
    const e = this.entry(ns, pod, container);
    e.terminated = true;
    for (const f of [...e.followers]) f.end();
  }

  /** Forgets a pod's logs and ends its followers (the pod is gone). */
  dropPod(ns: string, pod: string): void {
    for (const [k, e] of this.logs) {
      if (!k.startsWith(`${ns}/${pod}/`)) continue;
      for (const f of [...e.followers]) f.end();
      this.logs.delete(k);
    }
  }

  closeAll(): void {
    for (const e of this.logs.values()) for (const f of [...e.followers]) f.end();
  }

  /** Lines currently stored for a container (text only). */
  lines(ns: string, pod: string, container: string): string[] {
    return (this.logs.get(`${ns}/${pod}/${container}`)?.lines ?? []).map((l) => l.text);
  }

  serve(store: Store, res: ServerResponse, req: LogRequest): void {
    const pod = store.get(req.rt, req.namespace, req.pod);
    if (!pod) throw notFound(req.rt, req.pod);
    const q = req.query;
    const container = pickContainer(pod, q.get('container') ?? '');
    const opts = parseOptions(req.pod, q, this.now());
    if (opts.previous) throw badRequest(`previous terminated container ${JSON.stringify(container)} in pod ${JSON.stringify(req.pod)} not found`);
    const state = containerState(pod, container);
    const e = this.entry(req.namespace, req.pod, container);
    if (state?.waiting && !state.running && !state.terminated && e.lines.length === 0) {
      throw badRequest(`container ${JSON.stringify(container)} in pod ${JSON.stringify(req.pod)} is waiting to start: ${state.waiting.reason || 'ContainerCreating'}`);
    }
    let since = opts.sinceNs;
    if (since !== undefined && opts.sinceFromTime && this.sinceTimePrecision === 'second') since = (since / 1_000_000_000n) * 1_000_000_000n;

    res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();

    let remaining = opts.limitBytes ?? Infinity;
    let written = 0;
    let done = false;
    const fault = req.fault?.type === 'dropLog' ? req.fault : undefined;
    const finish = (abrupt: boolean) => {
      if (done) return;
      done = true;
      e.followers.delete(follower);
      if (abrupt) abortAfterFlush(res);
      else if (!res.destroyed) res.end();
    };
    const checkFault = () => {
      if (fault && written >= fault.afterLines) {
        finish(true);
        return true;
      }
      return false;
    };
    const write = (l: LogLine): boolean => {
      if (done) return false;
      if (since !== undefined && l.ns < since) return true;
      const full = Buffer.from(`${opts.timestamps ? `${rfc3339NanoFixed(l.ns)} ` : ''}${l.text}\n`);
      const bytes = full.length > remaining ? full.subarray(0, remaining) : full;
      res.write(bytes);
      remaining -= bytes.length;
      written++;
      if (checkFault()) return false;
      if (remaining <= 0) {
        finish(false);
        return false;
      }
      return true;
    };
    const follower: Follower = { line: (l) => void write(l), end: () => finish(false) };

    if (checkFault()) return;
    const backlog = opts.tailLines !== undefined ? e.lines.slice(Math.max(0, e.lines.length - opts.tailLines)) : e.lines;
    for (const l of [...backlog]) if (!write(l)) return;
    const terminated = e.terminated || Boolean(state?.terminated);
    if (!opts.follow || terminated) {
      finish(false);
      return;
    }
    e.followers.add(follower);
    const timer = this.endFollowsAfterMs > 0 ? setTimeout(() => finish(false), this.endFollowsAfterMs) : undefined;
    res.on('close', () => {
      done = true;
      clearTimeout(timer);
      e.followers.delete(follower);
    });
  }
}

function containerNames(pod: KObject): string[] {
  const spec = pod.spec ?? {};
  return [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])].map((c: any) => c?.name);
}

/** The apiserver's container choice and messages for pods/log. */
function pickContainer(pod: KObject, requested: string): string {
  const name = pod.metadata.name!;
  if (!requested) {
    const containers: any[] = pod.spec?.containers ?? [];
    if (containers.length === 1) return containers[0].name;
    if (containers.length === 0) throw badRequest(`a container name must be specified for pod ${name}`);
    throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${containerNames(pod).join(' ')}]`);
  }
  if (!containerNames(pod).includes(requested)) throw badRequest(`container ${requested} is not valid for pod ${name}`);
  return requested;
}

function containerState(pod: KObject, container: string): Record<string, any> | undefined {
  const all: any[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  return all.find((s) => s?.name === container)?.state;
}

interface LogOptions {
  follow: boolean;
  timestamps: boolean;
  previous: boolean;
  sinceNs?: bigint;
  sinceFromTime: boolean;
  tailLines?: number;
  limitBytes?: number;
}

function intParam(q: URLSearchParams, key: string): number | undefined {
  const v = q.get(key);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw badRequest(`couldn't parse ${key} ${JSON.stringify(v)}: strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
}

function parseOptions(pod: string, q: URLSearchParams, now: Date): LogOptions {
  const tailLines = intParam(q, 'tailLines');
  const limitBytes = intParam(q, 'limitBytes');
  const sinceSeconds = intParam(q, 'sinceSeconds');
  const sinceTime = q.get('sinceTime');
  const errs: string[] = [];
  if (tailLines !== undefined && tailLines < 0) errs.push(`tailLines: Invalid value: ${tailLines}: must be greater than or equal to 0`);
  if (limitBytes !== undefined && limitBytes < 1) errs.push(`limitBytes: Invalid value: ${limitBytes}: must be greater than 0`);
  if (sinceSeconds !== undefined && sinceSeconds < 1) errs.push(`sinceSeconds: Invalid value: ${sinceSeconds}: must be greater than 0`);
  if (sinceSeconds !== undefined && sinceTime) errs.push('sinceSeconds: Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified');
  if (errs.length) {
    const summary = errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`;
    throw new ApiError(422, 'Invalid', `PodLogOptions "${pod}" is invalid: ${summary}`, { name: pod, kind: 'PodLogOptions' });
  }
  let sinceNs: bigint | undefined;
  if (sinceTime) {
    sinceNs = parseRfc3339Nanos(sinceTime);
    if (sinceNs === undefined) throw badRequest(`parsing time ${JSON.stringify(sinceTime)} as "2006-01-02T15:04:05Z07:00": cannot parse`);
  } else if (sinceSeconds !== undefined) {
    sinceNs = BigInt(now.getTime() - sinceSeconds * 1000) * 1_000_000n;
  }
  return {
    follow: queryBool(q.get('follow')),
    timestamps: queryBool(q.get('timestamps')),
    previous: queryBool(q.get('previous')),
    sinceNs,
    sinceFromTime: Boolean(sinceTime),
    tailLines,
    limitBytes,
  };
}
