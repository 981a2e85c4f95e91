/**
 * Logs of every step pod of a workflow (retried pods included), each line once.
 *
 * Pods are found by their `workflows.argoproj.io/workflow` label through a watch, so pods of
 * later attempts join as they appear. Each pod's `main` container is read with
 * `timestamps=true`; when its stream drops, it is reopened with `sinceTime` (second precision in
 * the API) and the lines already written are skipped: those older than the last timestamp
 * written, and at that timestamp as many copies of each text as were written (timestamp plus
 * content identifies a line; counting keeps identical lines at one instant apart). A pass that
 * ends on a line without its newline leaves that line pending until the next pass shows it
 * whole, so a cut-off line is neither lost nor written twice. A follow stream that ends cleanly
 * once the container has finished is complete; one that ends cleanly while the container still
 * runs (a proxy or gateway closing a quiet connection) is reopened at once and is not a failure;
 * one that broke is resumed after a backoff, without `follow` when the container has finished,
 * until a pass ends cleanly. What counts as a failure is the watch rule (watch.ts): a broken
 * stream, or a clean end within SHORT_WATCH_MS that brought nothing new.
 */
import type { IncomingMessage } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { ApiError, UserError, isAbortError, isStatus } from './errors';
import { isTransient, type KubeClient } from './http';
import { ARGO_WORKFLOW_LABEL } from './labels';
import { KINDS, resourcePath, type KubeList, type KubeObject } from './resources';
import { nodesOf } from './node-status';
import { listWatch, SHORT_WATCH_MS, type ReconnectNotice } from './watch';
import { isCompleted, stepOfPod, type Workflow } from './workflow';

/** Lines of one pod, as they arrived in one chunk. */
export interface LogBatch {
  readonly pod: string;
  /** `predictor(1)`: step and attempt as Argo displays them. */
  readonly label: string;
  readonly step: string;
  readonly attempt?: number;
  /** The lines' text, without timestamps or newlines. */
  readonly lines: readonly string[];
  /** The API's timestamp of each line (RFC 3339). */
  readonly timestamps: readonly string[];
}

/** Where captured lines go (terminal, log file). Called synchronously, in arrival order. */
export interface LogSink {
  write(batch: LogBatch): void;
}

/** Options of {@link captureLogs}. */
export interface LogCaptureOptions {
  readonly namespace: string;
  readonly workflow: string;
  /** Keep reading until the workflow has finished and every pod's log is drained. */
  readonly follow: boolean;
  readonly sink: LogSink;
  /** @default 'main' */
  readonly container?: string;
  /** Stops the capture (what was read so far has been written). */
  readonly signal?: AbortSignal;
  /** Things worth telling the user (a pod deleted before its logs were read, a reconnect). @default - nothing */
  readonly onNotice?: (message: string) => void;
  /** Every state of the workflow seen while following (for a live view). @default - nothing */
  readonly onWorkflow?: (wf: Workflow) => void;
  /**
   * Failures in a row (a broken stream, or one that ended at once without a new line) before
   * giving up on one pod's log, and on each watch. A follow stream that ends cleanly after a new
   * line or after a second while the container runs is reopened and is not a failure. @default 10
   */
  readonly maxReconnects?: number;
}

/** What a capture did. */
export interface LogSummary {
  readonly pods: number;
  readonly lines: number;
  /** The workflow's last state seen. */
  readonly workflow?: Workflow;
  /** True when the signal stopped it. */
  readonly detached: boolean;
}

/** `2024-05-01T12:00:00.5Z` -> `2024-05-01T12:00:00.500000000`: comparable as strings. */
export function timestampKey(ts: string): string {
  const dot = ts.indexOf('.');
  const end = ts.endsWith('Z') ? ts.length - 1 : ts.length;
  if (ts.length >= 20 && ts[10] === 'T' && (dot === 19 || (dot < 0 && end === 19))) {
    const frac = dot < 0 ? '' : ts.slice(20, end);
    if (/^\d*$/.test(frac)) return `${ts.slice(0, 19)}.${frac.padEnd(9, '0').slice(0, 9)}`;
  }
  const at = Date.parse(ts);
  if (Number.isNaN(at)) return ts;
  const iso = new Date(at).toISOString();
  const frac = /\.(\d+)/.exec(ts)?.[1] ?? '';
  return `${iso.slice(0, 19)}.${frac.padEnd(9, '0').slice(0, 9)}`;
}

/** The second a timestamp falls in, for `sinceTime` (which the API reads at second precision). */
export function sinceTimeOf(ts: string): string {
  const key = timestampKey(ts);
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(key) ? `${key.slice(0, 19)}Z` : ts;
}

/** Per-pod record of what has been written, for resuming without loss or repetition. */
export class LogCursor {
  /** Timestamp of the last line written. */
  public lastTimestamp?: string;
  /** Texts written at {@link lastTimestamp}, in order. */
  private atLast: string[] = [];
  private resumeKey?: string;
  private skip?: Map<string, number>;
  /** A newline-less last line of a cleanly ended pass, not written yet. */
  public pendingTail?: string;
  public lines = 0;

  /** Call before each pass after the first. */
  public beginResume(): void {
    if (this.lastTimestamp === undefined) return;
    this.resumeKey = timestampKey(this.lastTimestamp);
    this.skip = new Map();
    for (const t of this.atLast) this.skip.set(t, (this.skip.get(t) ?? 0) + 1);
  }

  /**
   * Takes a block of complete `timestamp text` lines (no trailing newline) and returns the ones
   * not written before, recording them as written.
   */
  public accept(block: string, out: { lines: string[]; timestamps: string[] }): void {
    let start = 0;
    const n = block.length;
    while (start <= n) {
      let nl = block.indexOf('\n', start);
      if (nl < 0) nl = n;
      let line = block.slice(start, nl);
      start = nl + 1;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line.length === 0 && nl === n) break;
      const sp = line.indexOf(' ');
      const ts = sp > 0 ? line.slice(0, sp) : line;
      const text = sp > 0 ? line.slice(sp + 1) : '';
      if (this.resumeKey !== undefined) {
        const key = timestampKey(ts);
        if (key < this.resumeKey) continue;
        if (key === this.resumeKey) {
          const c = this.skip?.get(text);
          if (c) {
            this.skip?.set(text, c - 1);
            continue;
          }
        } else {
          this.resumeKey = undefined;
          this.skip = undefined;
        }
      }
      if (ts === this.lastTimestamp) this.atLast.push(text);
      else {
        this.lastTimestamp = ts;
        this.atLast = [text];
      }
      out.lines.push(text);
      out.timestamps.push(ts);
      this.lines++;
    }
  }
}

interface PodState {
  pod: KubeObject;
  started: boolean;
  settled: boolean;
  follower?: Promise<void>;
  cursor: LogCursor;
  /** Resolved (and replaced) whenever the pod changes. */
  changed: Promise<void>;
  notify: () => void;
  gone: boolean;
}

/** Reads the logs of a workflow's pods into the sink. @throws UserError when the workflow does not exist */
export async function captureLogs(client: KubeClient, options: LogCaptureOptions): Promise<LogSummary> {
  const capture = new Capture(client, options);
  return capture.run();
}

class Capture {
  private readonly client: KubeClient;
  private readonly o: LogCaptureOptions;
  private readonly container: string;
  private readonly pods = new Map<string, PodState>();
  private readonly stop = new AbortController();
  private wf?: Workflow;
  private wfDone = false;
  private reconciled = false;
  private finish!: () => void;
  private fail!: (e: unknown) => void;
  private readonly finished: Promise<void>;

  public constructor(client: KubeClient, options: LogCaptureOptions) {
    this.client = client;
    this.o = options;
    this.container = options.container ?? 'main';
    this.finished = new Promise<void>((resolve, reject) => {
      this.finish = resolve;
      this.fail = reject;
    });
    this.finished.catch(() => undefined);
  }

  private get signal(): AbortSignal {
    return this.stop.signal;
  }

  public async run(): Promise<LogSummary> {
    const outer = this.o.signal;
    const onAbort = () => this.stop.abort();
    if (outer?.aborted) this.stop.abort();
    outer?.addEventListener('abort', onAbort, { once: true });
    try {
      if (this.o.follow) await this.runFollow();
      else await this.runOnce();
    } finally {
      outer?.removeEventListener('abort', onAbort);
      this.stop.abort();
    }
    let lines = 0;
    for (const p of this.pods.values()) lines += p.cursor.lines;
    return { pods: this.pods.size, lines, workflow: this.wf, detached: !!outer?.aborted };
  }

  /** Logs as they are now: every pod, one after the other, drained. */
  private async runOnce(): Promise<void> {
    this.wf = await this.getWorkflow();
    const pods = await this.listPods();
    pods.sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
    for (const pod of pods) {
      if (this.signal.aborted) return;
      const st = this.track(pod);
      if (!containerStarted(pod, this.container)) {
        this.notice(`${this.labelOf(pod)}: pod ${pod.metadata.name} has not started; no logs yet`);
        continue;
      }
      await this.readPod(st, false);
    }
    this.noticeMissingPods(pods);
  }

  private async runFollow(): Promise<void> {
    const wfWatch = this.watchWorkflow().catch((e: unknown) => this.fail(e));
    const podWatch = this.watchPods().catch((e: unknown) => this.fail(e));
    const onAbort = () => this.finish();
    this.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await this.finished;
    } finally {
      this.signal.removeEventListener('abort', onAbort);
      this.stop.abort();
      await Promise.all([wfWatch, podWatch]);
      await Promise.all([...this.pods.values()].map((p) => p.follower));
    }
  }

  private async getWorkflow(): Promise<Workflow> {
    try {
      return await this.client.json<Workflow>({ path: resourcePath(KINDS.Workflow, this.o.namespace, this.o.workflow), signal: this.signal });
    } catch (e) {
      if (isStatus(e, 404)) throw new UserError(`workflow "${this.o.workflow}" is not in namespace "${this.o.namespace}"`, 'list recent ones: npx sleap-roots list');
      throw e;
    }
  }

  private async listPods(): Promise<KubeObject[]> {
    const list = await this.client.json<KubeList>({ path: resourcePath(KINDS.Pod, this.o.namespace), query: { labelSelector: `${ARGO_WORKFLOW_LABEL}=${this.o.workflow}` }, signal: this.signal });
    return list.items ?? [];
  }

  private async watchWorkflow(): Promise<void> {
    let seen = false;
    for await (const ev of listWatch<Workflow>(this.client, {
      path: resourcePath(KINDS.Workflow, this.o.namespace),
      fieldSelector: `metadata.name=${this.o.workflow}`,
      signal: this.signal,
      maxReconnects: this.o.maxReconnects,
      onReconnect: (n) => this.watchNotice('workflow', n),
    })) {
      let wf: Workflow | undefined;
      if (ev.type === 'SYNC') {
        wf = ev.items.find((w) => w.metadata.name === this.o.workflow);
        if (!wf) {
          if (!seen) throw new UserError(`workflow "${this.o.workflow}" is not in namespace "${this.o.namespace}"`, 'list recent ones: npx sleap-roots list');
          this.notice(`workflow ${this.o.workflow} was deleted`);
          await this.workflowDone();
          return;
        }
      } else if (ev.object.metadata.name !== this.o.workflow) continue;
      else if (ev.type === 'DELETED') {
        this.notice(`workflow ${this.o.workflow} was deleted`);
        await this.workflowDone();
        return;
      } else wf = ev.object;
      seen = true;
      this.wf = wf;
      this.o.onWorkflow?.(wf);
      if (isCompleted(wf) && !this.wfDone) {
        await this.workflowDone();
        return;
      }
    }
  }

  /** The workflow finished: pick up any pod the pod watch has not shown yet, then wait for the followers. */
  private async workflowDone(): Promise<void> {
    this.wfDone = true;
    try {
      const pods = await this.listPods();
      for (const pod of pods) this.onPod(pod);
      this.noticeMissingPods(pods);
    } catch (e) {
      if (!isAbortError(e) && !this.signal.aborted) this.notice(`could not list the pods once more: ${(e as Error).message}`);
    }
    this.reconciled = true;
    for (const st of this.pods.values()) {
      if (!st.started && !st.settled) {
        st.settled = true;
        this.notice(`${this.labelOf(st.pod)}: pod ${st.pod.metadata.name} never started; it has no logs`);
      }
    }
    this.checkFinished();
  }

  private async watchPods(): Promise<void> {
    for await (const ev of listWatch(this.client, {
      path: resourcePath(KINDS.Pod, this.o.namespace),
      labelSelector: `${ARGO_WORKFLOW_LABEL}=${this.o.workflow}`,
      signal: this.signal,
      maxReconnects: this.o.maxReconnects,
      onReconnect: (n) => this.watchNotice('pod', n),
    })) {
      if (ev.type === 'SYNC') {
        const names = new Set(ev.items.map((p) => p.metadata.name));
        for (const pod of ev.items) this.onPod(pod);
        for (const st of this.pods.values()) if (!names.has(st.pod.metadata.name)) this.onPodGone(st);
      } else if (ev.type === 'DELETED') {
        const st = this.pods.get(ev.object.metadata.name ?? '');
        if (st) this.onPodGone(st);
      } else {
        this.onPod(ev.object);
      }
    }
  }

  private track(pod: KubeObject): PodState {
    const name = pod.metadata.name ?? '';
    let st = this.pods.get(name);
    if (!st) {
      let notify!: () => void;
      const changed = new Promise<void>((r) => (notify = r));
      st = { pod, started: false, settled: false, cursor: new LogCursor(), changed, notify, gone: false };
      this.pods.set(name, st);
    } else {
      st.pod = pod;
    }
    return st;
  }

  private onPod(pod: KubeObject): void {
    const st = this.track(pod);
    const notify = st.notify;
    st.changed = new Promise<void>((r) => (st.notify = r));
    notify();
    if (!st.follower && !st.settled && containerStarted(pod, this.container)) {
      st.started = true;
      st.follower = this.readPod(st, true)
        .catch((e: unknown) => {
          if (!isAbortError(e) && !this.signal.aborted) this.notice(`${this.labelOf(st.pod)}: ${(e as Error).message}`);
        })
        .finally(() => {
          st.settled = true;
          this.checkFinished();
        });
    } else if (this.wfDone && !st.follower && !st.settled) {
      st.settled = true;
      this.notice(`${this.labelOf(pod)}: pod ${pod.metadata.name} never started; it has no logs`);
      this.checkFinished();
    }
  }

  private onPodGone(st: PodState): void {
    st.gone = true;
    st.notify();
    if (!st.follower && !st.settled) {
      st.settled = true;
      this.checkFinished();
    }
  }

  private checkFinished(): void {
    if (!this.wfDone || !this.reconciled) return;
    for (const st of this.pods.values()) if (!st.settled) return;
    this.finish();
  }

  private noticeMissingPods(pods: readonly KubeObject[]): void {
    const nodes = Object.values(this.wf ? nodesOf(this.wf) : {});
    const have = new Set(pods.map((p) => stepOfPod(p, this.wf).label));
    for (const n of nodes) {
      if (n.type !== 'Pod' || !n.startedAt) continue;
      const label = n.displayName ?? n.name;
      if (!have.has(label) && !this.noticed.has(label)) {
        this.noticed.add(label);
        this.notice(`${label}: its pod is gone (deleted by podGC or by hand); its logs cannot be read`);
      }
    }
  }

  private readonly noticed = new Set<string>();

  /** Normal ends are silent; failures and re-lists are told. */
  private watchNotice(what: 'workflow' | 'pod', n: ReconnectNotice): void {
    if (n.reason === 'ended') return;
    if (n.reason === 'expired') this.notice(`${what} watch expired (410); listing again`);
    else this.notice(`${what} watch ${n.reason === 'short' ? 'ended at once' : 'dropped'} (${n.detail ?? 'no detail'}); reconnecting from resourceVersion ${n.resourceVersion} in ${(n.delayMs / 1000).toFixed(1)}s`);
  }

  private notice(message: string): void {
    this.o.onNotice?.(message);
  }

  private labelOf(pod: KubeObject): string {
    return stepOfPod(pod, this.wf).label;
  }

  /**
   * Reads one pod's log to its end. Follow: until its container has finished; a follow stream that
   * ends cleanly after the container finished has delivered everything (the kubelet ends it only
   * then), one that broke is resumed, without follow once the container has finished.
   * Not following: one clean pass is the log as it is now.
   */
  private async readPod(st: PodState, follow: boolean): Promise<void> {
    const max = this.o.maxReconnects ?? 10;
    const name = st.pod.metadata.name ?? '';
    const path = resourcePath(KINDS.Pod, this.o.namespace, name, 'log');
    let following = follow;
    let idle = 0;
    let first = true;
    for (;;) {
      if (this.signal.aborted) return;
      if (!first) st.cursor.beginResume();
      first = false;
      let progressed = false;
      let clean = false;
      let tailPending = false;
      let failure = '';
      const openedAt = Date.now();
      try {
        const res = await this.client.stream({
          path,
          query: {
            container: this.container,
            timestamps: true,
            follow: following ? true : undefined,
            sinceTime: st.cursor.lastTimestamp ? sinceTimeOf(st.cursor.lastTimestamp) : undefined,
          },
          signal: this.signal,
        });
        const pass = await this.consume(res, st);
        clean = true;
        // A snapshot takes a newline-less last line as it is; otherwise it waits for confirmation.
        const settled = this.settleTail(st, pass.progressed, pass.tail, !follow);
        progressed = settled.progressed;
        tailPending = settled.pending;
      } catch (e) {
        if (this.signal.aborted || isAbortError(e)) return;
        progressed = (e as { progressed?: boolean }).progressed ?? false;
        if (isStatus(e, 404)) {
          if (st.cursor.lines === 0 || following) this.notice(`${this.labelOf(st.pod)}: pod ${name} is gone; ${st.cursor.lines} lines were read before`);
          return;
        }
        if (isStatus(e, 400)) {
          // Not started yet (ContainerCreating) or no such container.
          if (++idle > max) throw new ApiError(400, (e as ApiError).status);
          await this.waitForChange(st, 1000);
          continue;
        }
        if (!isTransient(e) && !(e instanceof Error && (e as NodeJS.ErrnoException).code === 'ECONNRESET')) throw e;
        failure = (e as Error).message;
      }
      // The same rule as a watch (watch.ts): a clean end that brought a new line or lasted
      // SHORT_WATCH_MS is normal (a proxy or the kubelet closing a quiet stream) and is reopened at
      // once; a clean end sooner with nothing new, or a broken stream, is a failure, backed off.
      // Failures in a row are counted; a healthy pass starts the count again.
      const healthy = progressed || Date.now() - openedAt >= SHORT_WATCH_MS;
      if (clean) idle = healthy ? 0 : idle + 1;
      else idle = healthy ? 1 : idle + 1;
      if (idle > max) {
        throw new Error(
          clean
            ? `gave up reading pod ${name}: its log stream ended at once ${idle} times in a row without a new line`
            : `gave up reading pod ${name}: ${idle} failures in a row (last: ${failure})`,
        );
      }
      if (following) {
        const state = await this.containerState(name);
        if (state === 'gone') return;
        if (state === 'terminated') {
          if (clean && !tailPending) return;
          following = false; // read what is left without follow, at once
          continue;
        }
      } else if (clean && !tailPending) {
        return;
      }
      if (idle > 0) await this.client.sleep(this.client.backoffMs(idle), this.signal).catch(() => undefined);
    }
  }

  /**
   * After a clean pass: a newline-less last line is written when `accept` is set or when the
   * previous clean pass ended on the same text (then it is the log's real last line); otherwise
   * it stays pending for the next pass.
   */
  private settleTail(st: PodState, progressed: boolean, tail: string | undefined, accept: boolean): { progressed: boolean; pending: boolean } {
    if (tail === undefined) {
      st.cursor.pendingTail = undefined;
      return { progressed, pending: false };
    }
    if (accept || (st.cursor.pendingTail === tail && !progressed)) {
      st.cursor.pendingTail = undefined;
      const out = { lines: [] as string[], timestamps: [] as string[] };
      st.cursor.accept(tail, out);
      this.emit(st, out);
      return { progressed: progressed || out.lines.length > 0, pending: false };
    }
    st.cursor.pendingTail = tail;
    return { progressed: true, pending: true };
  }

  /**
   * Writes the stream's complete lines to the sink; returns whether any was new and the
   * newline-less rest of a cleanly ended stream. Throws (with `progressed`) when cut off.
   */
  private async consume(res: IncomingMessage, st: PodState): Promise<{ progressed: boolean; tail?: string }> {
    const decoder = new StringDecoder('utf8');
    let carry = '';
    let progressed = false;
    try {
      for await (const chunk of res) {
        const text = carry + decoder.write(chunk as Buffer);
        const nl = text.lastIndexOf('\n');
        if (nl < 0) {
          carry = text;
          continue;
        }
        carry = text.slice(nl + 1);
        const out = { lines: [] as string[], timestamps: [] as string[] };
        st.cursor.accept(text.slice(0, nl), out);
        if (out.lines.length > 0) {
          progressed = true;
          this.emit(st, out);
        }
      }
      if (!res.complete) throw Object.assign(new Error('the log stream was cut off'), { code: 'ECONNRESET' });
    } catch (e) {
      // Node reports a response cut mid-body as a bare "aborted" (code ECONNRESET): say what it is.
      const cut = !isAbortError(e) && !this.signal.aborted && (e as NodeJS.ErrnoException).code === 'ECONNRESET';
      const error = cut ? Object.assign(new Error('the log stream was cut off'), { code: 'ECONNRESET' }) : e instanceof Error ? e : new Error(String(e));
      throw Object.assign(error, { progressed });
    } finally {
      res.destroy();
    }
    carry += decoder.end();
    return { progressed, tail: carry.length > 0 ? carry : undefined };
  }

  private emit(st: PodState, out: { lines: string[]; timestamps: string[] }): void {
    const where = stepOfPod(st.pod, this.wf);
    this.o.sink.write({ pod: st.pod.metadata.name ?? '', label: where.label, step: where.step, attempt: where.attempt, lines: out.lines, timestamps: out.timestamps });
  }

  private async containerState(name: string): Promise<'running' | 'terminated' | 'gone'> {
    try {
      const pod = await this.client.json<KubeObject>({ path: resourcePath(KINDS.Pod, this.o.namespace, name), signal: this.signal });
      const st = this.pods.get(name);
      if (st) st.pod = pod;
      return containerTerminated(pod, this.container) ? 'terminated' : 'running';
    } catch (e) {
      if (isStatus(e, 404)) return 'gone';
      throw e;
    }
  }

  private async waitForChange(st: PodState, ms: number): Promise<void> {
    await Promise.race([st.changed, this.client.sleep(ms, this.signal).catch(() => undefined)]);
  }
}

interface ContainerStatus {
  name?: string;
  state?: { running?: unknown; terminated?: unknown; waiting?: unknown };
}

function containerStatus(pod: KubeObject, container: string): ContainerStatus | undefined {
  const status = pod.status as { containerStatuses?: ContainerStatus[] } | undefined;
  return status?.containerStatuses?.find((c) => c.name === container);
}

/** The container has started (running or finished): its log can be read. */
export function containerStarted(pod: KubeObject, container: string): boolean {
  const cs = containerStatus(pod, container);
  if (cs?.state) return !!(cs.state.running || cs.state.terminated);
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  return phase === 'Running' || phase === 'Succeeded' || phase === 'Failed';
}

/** The container has finished (or the pod has): its log will not grow. */
export function containerTerminated(pod: KubeObject, container: string): boolean {
  const cs = containerStatus(pod, container);
  if (cs?.state) return !!cs.state.terminated;
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}
