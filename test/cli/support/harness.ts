/**
 * Test support for the CLI: a stand-in API server with a kubeconfig file, the synthesized dist/
 * tree, an in-process CLI runner with captured output, and a fake Argo controller that writes
 * workflow status, pods and logs the way Argo does.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startApiServer, type ApiServerOptions, type FakeApiServer, type KObject } from '../../support/apiserver/index';
import { runCli } from '../../../lib/cli/program';
import { listEnvironmentFiles, loadEnvironments } from '../../../lib/config/load';
import { synthesizeAll, writeTreeAtomically } from '../../../lib/synth';
import type { CliEnv, CliIO } from '../../../lib/cli/io';

export const NS = 'runai-talmo-lab';
export const ENV = 'runai';

let distCache: string | undefined;

/** dist/ synthesized once per test process from environments/ (the real manifests). */
export function synthesizedDist(): string {
  if (distCache) return distCache;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sleap-roots-dist-'));
  const dist = path.join(root, 'dist');
  writeTreeAtomically(dist, synthesizeAll(loadEnvironments(listEnvironmentFiles(path.join(__dirname, '../../../environments'))), { version: '0.1.0' }));
  distCache = dist;
  return dist;
}

/** A stand-in cluster for one test. */
export interface TestCluster {
  readonly server: FakeApiServer;
  /** A scratch folder (the CLI's cwd: log files land here). */
  readonly dir: string;
  readonly kubeconfig: string;
  readonly dist: string;
  close(): Promise<void>;
}

export async function startCluster(options: ApiServerOptions = {}): Promise<TestCluster> {
  const server = await startApiServer({ namespaces: [NS], ...options });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sleap-roots-cli-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  fs.writeFileSync(kubeconfig, server.kubeconfig({ namespace: NS }));
  const dist = synthesizedDist();
  return {
    server,
    dir,
    kubeconfig,
    dist,
    async close() {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A finished CLI run. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link cli}. */
export interface CliRunOptions {
  readonly cluster?: TestCluster;
  readonly cwd?: string;
  readonly env?: CliEnv;
  readonly isTTY?: boolean;
  readonly signal?: AbortSignal;
  readonly now?: () => number;
  /** Fails the run (and aborts it) after this long. @default 20000 */
  readonly timeoutMs?: number;
  /** Called with each stdout write (to react to output, e.g. abort after the first frame). */
  readonly onStdout?: (text: string, all: string) => void;
  /** Also pass --kubeconfig and --dist of the cluster. @default true */
  readonly connect?: boolean;
  readonly every?: CliIO['every'];
  /** More of the CLI's IO (stdin, stdinIsTTY, processEnv, serviceAccountDir, ...). @default - none */
  readonly io?: Partial<CliIO>;
}

/** Runs the CLI in this process against the cluster; rejects if it does not finish in time. */
export async function cli(argv: readonly string[], o: CliRunOptions = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const timeout = new AbortController();
  const signal = o.signal ? AbortSignal.any([o.signal, timeout.signal]) : timeout.signal;
  const c = o.cluster;
  const args = [...argv, ...(c && o.connect !== false ? ['--kubeconfig', c.kubeconfig, '--dist', c.dist] : [])];
  const io: CliIO = {
    stdout: {
      write: (t) => {
        stdout += t;
        o.onStdout?.(t, stdout);
      },
    },
    stderr: { write: (t) => void (stderr += t) },
    isTTY: o.isTTY ?? false,
    columns: 120,
    env: o.env ?? {},
    cwd: o.cwd ?? c?.dir ?? os.tmpdir(),
    now: o.now ?? (() => Date.now()),
    signal,
    localUser: 'tester',
    hostName: 'lab-pc',
    version: '0.1.0',
    every: o.every,
    ...o.io,
  };
  const ms = o.timeoutMs ?? 20_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timeout.abort();
      reject(new Error(`sleap-roots ${argv.join(' ')} did not finish within ${ms} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, ms);
  });
  try {
    const code = await Promise.race([runCli(args, io), timedOut]);
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until `cond` holds, checking every few ms. @throws after `ms` */
export async function until(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Files in a folder whose names match. */
export function filesMatching(dir: string, re: RegExp): string[] {
  return fs.readdirSync(dir).filter((f) => re.test(f)).map((f) => path.join(dir, f));
}

const WF = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow' };
const POD = { apiVersion: 'v1', kind: 'Pod' };

type NodeRecord = Record<string, unknown> & { id: string; name: string; displayName: string; type: string; phase: string; children?: string[] };

/**
 * Plays Argo's workflow controller for one workflow: status.nodes (root DAG node, task nodes,
 * Retry nodes with `task(N)` Pod children), pods labelled and annotated like Argo's, their logs
 * and container states.
 */
export class FakeArgo {
  private counter = 1000;
  public constructor(
    public readonly server: FakeApiServer,
    public readonly name: string,
    public readonly namespace: string = NS,
  ) {}

  private ref() {
    return { ...WF, namespace: this.namespace, name: this.name };
  }

  private wf(): KObject {
    const wf = this.server.get(this.ref());
    if (!wf) throw new Error(`no workflow ${this.name}`);
    return wf;
  }

  private now(): string {
    return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  }

  private modifyStatus(fn: (status: Record<string, any>, nodes: Record<string, NodeRecord>) => void): void {
    this.server.modify(this.ref(), (draft) => {
      draft.status ??= {};
      draft.status.nodes ??= {};
      fn(draft.status, draft.status.nodes);
      const pods = Object.values(draft.status.nodes as Record<string, NodeRecord>).filter((n) => n.type === 'Pod');
      draft.status.progress = `${pods.filter((n) => n.phase === 'Succeeded').length}/${Math.max(pods.length, 1)}`;
    });
  }

  /** The workflow starts running (root node). */
  public start(): void {
    this.modifyStatus((status, nodes) => {
      status.phase = 'Running';
      status.startedAt = this.now();
      nodes[this.name] = { id: this.name, name: this.name, displayName: this.name, type: 'DAG', phase: 'Running', startedAt: this.now(), children: [] };
    });
  }

  /**
   * Starts a pod for a task (attempt N under a Retry node when `attempt` is given). Returns the
   * pod name. The pod's main container is running.
   */
  public startPod(task: string, attempt?: number, options: { item?: string } = {}): string {
    const hash = String(this.counter++);
    const display = options.item ? `${task}(${options.item})` : task;
    const nodeDisplay = attempt === undefined ? display : `${display}(${attempt})`;
    const nodeName = `${this.name}.${nodeDisplay}`;
    const podName = `${this.name}-${task}-${hash}`;
    const podId = `${this.name}-${hash}`;
    this.modifyStatus((_status, nodes) => {
      const root = nodes[this.name];
      if (attempt !== undefined) {
        const retryId = `${this.name}-r-${display}`;
        if (!nodes[retryId]) {
          nodes[retryId] = { id: retryId, name: `${this.name}.${display}`, displayName: display, type: 'Retry', phase: 'Running', startedAt: this.now(), children: [] };
          root?.children?.push(retryId);
        }
        nodes[retryId].phase = 'Running';
        nodes[retryId].children?.push(podId);
      } else {
        root?.children?.push(podId);
      }
      nodes[podId] = {
        id: podId,
        name: nodeName,
        displayName: nodeDisplay,
        type: 'Pod',
        phase: 'Running',
        startedAt: this.now(),
        templateRef: { name: `sleap-roots-${task}`, template: task },
      };
    });
    this.server.put({
      ...POD,
      metadata: {
        name: podName,
        namespace: this.namespace,
        labels: { 'workflows.argoproj.io/workflow': this.name, 'workflows.argoproj.io/completed': 'false' },
        annotations: { 'workflows.argoproj.io/node-name': nodeName, 'workflows.argoproj.io/node-id': podId },
      },
      spec: { containers: [{ name: 'wait', image: 'argoexec' }, { name: 'main', image: 'step' }] },
      status: {
        phase: 'Running',
        containerStatuses: [
          { name: 'wait', state: { running: { startedAt: this.now() } } },
          { name: 'main', state: { running: { startedAt: this.now() } } },
        ],
      },
    });
    return podName;
  }

  /** Appends lines to a pod's main container log. */
  public log(pod: string, lines: string | string[]): void {
    this.server.appendLog(this.namespace, pod, 'main', lines);
  }

  /** The pod's main container ends; its node (and Retry parent) get the phase. */
  public finishPod(pod: string, result: { exitCode?: number; message?: string; finalAttempt?: boolean } = {}): void {
    const exitCode = result.exitCode ?? 0;
    this.server.terminateContainer(this.namespace, pod, 'main', { exitCode });
    const podObj = this.server.get({ ...POD, namespace: this.namespace, name: pod });
    const nodeId = podObj?.metadata.annotations?.['workflows.argoproj.io/node-id'] as string;
    const phase = exitCode === 0 ? 'Succeeded' : 'Failed';
    this.modifyStatus((_status, nodes) => {
      const n = nodes[nodeId];
      n.phase = phase;
      n.finishedAt = this.now();
      n.outputs = { exitCode: String(exitCode) };
      if (exitCode !== 0) n.message = result.message ?? `Error (exit code ${exitCode})`;
      const retry = Object.values(nodes).find((x) => x.type === 'Retry' && x.children?.includes(nodeId));
      if (retry && (phase === 'Succeeded' || result.finalAttempt)) {
        retry.phase = phase;
        retry.finishedAt = this.now();
        if (phase !== 'Succeeded') retry.message = 'No more retries left';
      }
    });
    this.server.modify({ ...POD, namespace: this.namespace, name: pod }, (d) => {
      d.status.phase = exitCode === 0 ? 'Succeeded' : 'Failed';
    });
  }

  /** Any change of status (for latency measurements). */
  public setMessage(message: string): void {
    this.modifyStatus((status) => {
      status.message = message;
    });
  }

  /** The workflow ends. */
  public complete(phase: 'Succeeded' | 'Failed' | 'Error', message?: string): void {
    this.modifyStatus((status, nodes) => {
      status.phase = phase;
      status.finishedAt = this.now();
      if (message) status.message = message;
      const root = nodes[this.name];
      if (root) {
        root.phase = phase;
        root.finishedAt = this.now();
      }
    });
    this.server.modify(this.ref(), (d) => {
      d.metadata.labels = { ...(d.metadata.labels ?? {}), 'workflows.argoproj.io/completed': 'true' };
    });
  }

  public get workflow(): KObject {
    return this.wf();
  }
}

/** Creates a workflow object directly (as if submitted), for tests of watch/logs alone. */
export function putWorkflow(server: FakeApiServer, name: string, namespace = NS): KObject {
  return server.put({
    ...WF,
    metadata: { name, namespace, labels: { 'app.kubernetes.io/part-of': 'sleap-roots-pipeline', 'sleap-roots.io/environment': ENV } },
    spec: { workflowTemplateRef: { name: 'sleap-roots-pipeline' } },
  });
}
