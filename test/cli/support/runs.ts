/**
 * Test support for runs of batches: a dist/ whose environment takes its scans from a workflow
 * parameter (the shipped ones list folders), a stand-in controller that runs every batch
 * workflow it sees (Pending -> Running -> Succeeded/Failed with the gate's summary), and
 * readers of what the cluster holds.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { parseEnvironment } from '../../../lib/config/load';
import { synthesizeAll, writeTreeAtomically } from '../../../lib/synth';
import type { FakeApiServer, KObject } from '../../support/apiserver/index';
import { cli, NS, type CliRun, type CliRunOptions, type TestCluster } from './harness';

export const RUN_ENV = 'runai';
export const SCAN_PARAMETER = 'scan-ids';
const WF = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow' };

let cached: string | undefined;

/** dist/ of runai with `fanOut.source: {parameter: scan-ids}` (synthesized once per process). */
export function batchDist(): string {
  if (cached) return cached;
  const root = path.join(__dirname, '..', '..', '..');
  const config = parse(fs.readFileSync(path.join(root, 'environments', 'runai.yaml'), 'utf8')) as Record<string, any>;
  config.fanOut.source = { parameter: SCAN_PARAMETER };
  // The whole list travels in the Workflow: synth checks Argo's 1 MiB at maxScans.
  config.fanOut.maxScans = 1000;
  config.parameters = { ...(config.parameters ?? {}), [SCAN_PARAMETER]: { value: '', description: 'comma-separated scan ids' } };
  const env = parseEnvironment('environments/runai.yaml', stringify(config));
  const dist = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sleap-roots-batch-dist-')), 'dist');
  writeTreeAtomically(dist, synthesizeAll([env], { version: '0.1.0' }));
  cached = dist;
  return cached;
}

/** Runs the CLI against the cluster with the batch dist/. */
export function runCli(c: TestCluster, argv: readonly string[], o: Omit<CliRunOptions, 'cluster'> = {}): Promise<CliRun> {
  return cli([...argv, '--kubeconfig', c.kubeconfig, '--dist', batchDist()], { ...o, cluster: c, connect: false });
}

/** A scans file of `n` ids (`scan-00000`, ...) in the cluster's folder; returns its path. */
export function scansFile(c: TestCluster, n: number, name = 'scans.txt'): string {
  const f = path.join(c.dir, name);
  fs.writeFileSync(f, Array.from({ length: n }, (_, i) => `scan-${String(i).padStart(5, '0')}`).join('\n') + '\n');
  return f;
}

/** Workflows in the namespace. */
export function workflows(server: FakeApiServer): KObject[] {
  return server.list(WF.apiVersion, WF.kind, NS);
}

/** How each batch ends: phase and the gate's summary. */
export type BatchEnd = { phase: 'Succeeded' | 'Failed' | 'Error'; message?: string };

/** Options of {@link simulateBatches}. */
export interface SimulateOptions {
  /** From creation to Running. @default 5 */
  readonly startMs?: number;
  /** From Running to the end. @default 20 */
  readonly runMs?: number;
  /** @default every scan succeeded */
  readonly end?: (wf: KObject, scans: string[]) => BatchEnd;
  /** Start no batch while this returns false (e.g. to hold batches running). @default always */
  readonly proceed?: () => boolean;
}

/** The summary line the gate writes (lib/steps/scripts/gate.sh). */
export function summary(scans: number, succeeded: number, partial: number, failed: number): string {
  return `${scans} scans: ${succeeded} succeeded, ${partial} partial, ${failed} failed`;
}

/**
 * Plays Argo for every workflow labelled with a run: Running after `startMs`, then finished,
 * the gate's summary as the exit handler's `outcome` output (or, failed, as the message), and
 * `workflows.argoproj.io/completed=true`, as the controller does.
 */
export function simulateBatches(server: FakeApiServer, o: SimulateOptions = {}): { stop(): void; finished: () => number } {
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  let finished = 0;
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      if (!stopped) fn();
    }, ms);
    timers.add(t);
  };
  const ref = (wf: KObject) => ({ ...WF, namespace: String(wf.metadata.namespace), name: String(wf.metadata.name) });
  const run = (wf: KObject) => {
    if (o.proceed && !o.proceed()) return later(10, () => run(wf));
    server.modify(ref(wf), (d) => {
      d.status = { phase: 'Running', startedAt: new Date().toISOString(), nodes: {} };
      d.metadata.labels = { ...d.metadata.labels, 'workflows.argoproj.io/completed': 'false', 'workflows.argoproj.io/phase': 'Running' };
    });
    later(o.runMs ?? 20, () => {
      if (!server.get(ref(wf))) return;
      server.modify(ref(wf), (d) => {
        const scans = String(d.spec?.arguments?.parameters?.find((p: { name: string }) => p.name === SCAN_PARAMETER)?.value ?? '').split(',').filter(Boolean);
        const end = o.end?.(d, scans) ?? { phase: 'Succeeded' as const, message: summary(scans.length, scans.length, 0, 0) };
        const name = d.metadata.name;
        d.status.phase = end.phase;
        d.status.finishedAt = new Date().toISOString();
        if (end.phase === 'Succeeded') {
          d.status.nodes = { [`${name}-1`]: { id: `${name}-1`, name: `${name}.onExit`, displayName: 'onExit', type: 'Pod', phase: 'Succeeded', outputs: { parameters: [{ name: 'outcome', value: end.message }] } } };
        } else {
          d.status.message = end.message;
        }
        d.metadata.labels = { ...d.metadata.labels, 'workflows.argoproj.io/completed': 'true', 'workflows.argoproj.io/phase': end.phase };
      });
      finished++;
    });
  };
  const off = server.onChange((ev) => {
    if (ev.type !== 'ADDED' || ev.rt.kind !== 'Workflow' || !ev.object.metadata.labels?.['sleap-roots.io/run'] || ev.object.status?.phase) return;
    const wf = ev.object;
    later(o.startMs ?? 5, () => run(wf));
  });
  return {
    stop() {
      stopped = true;
      off();
      for (const t of timers) clearTimeout(t);
    },
    finished: () => finished,
  };
}
