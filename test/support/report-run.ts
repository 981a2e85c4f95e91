/**
 * A realistic finished batch as Argo v4.1 leaves it in the API, for the report's tests: status
 * nodes (lister, two predictor chunks of which one was preempted and retried, two trait-extractor
 * chunks, the gate as exit handler), the pods that still exist and their logs, with the step
 * wrapper's and the gate's lines exactly as lib/steps/scripts/step.sh and gate.sh print them.
 */
import { gzipSync } from 'node:zlib';
import type { Workflow } from '../../lib/cluster/workflow';
import type { KubeObject } from '../../lib/cluster/resources';
import type { LogLine } from '../../lib/report/logs';

/** A scan name no page may execute or mark up. */
export const HOSTILE = '<img src=x onerror=alert(1)>|*_`x`_';
export const WF = 'sleap-roots-pipeline-r3p0rt';
export const NAMESPACE = 'runai-talmo-lab';
const T0 = Date.parse('2026-11-30T10:00:00Z');
/** The time `s` seconds after the workflow started. */
export const at = (s: number) => new Date(T0 + s * 1000).toISOString().replace('.000Z', 'Z');

/** What the run's variants change. */
export interface RunOptions {
  /** Succeeded pods deleted (podGC OnPodSuccess), as on runai. @default false */
  readonly podGC?: boolean;
  /** The gate's pod deleted too. @default false */
  readonly gateGone?: boolean;
  /** status.nodes packed into status.compressedNodes. @default false */
  readonly compressed?: boolean;
  readonly name?: string;
  readonly labels?: Record<string, string>;
}

/** The objects of the run. */
export interface Run {
  readonly workflow: Workflow;
  readonly pods: KubeObject[];
  /** Main container log lines by pod name. */
  readonly logs: Record<string, LogLine[]>;
}

interface Attempt {
  id: string;
  display: string;
  template: string;
  start: number;
  end: number;
  phase: 'Succeeded' | 'Failed' | 'Error';
  exitCode?: string;
  message?: string;
  /** The pod still exists (unless podGC took it). */
  pod: boolean;
  gpuFraction?: string;
  log: [number, string][];
}

const REFS: Record<string, string> = {
  'list-image-sets': 'sleap-roots-list-image-sets-5899c52c',
  predictor: 'sleap-roots-predictor-d4f8697e',
  'trait-extractor': 'sleap-roots-trait-extractor-0afbf507',
  gate: 'sleap-roots-gate-8222999e',
};

function attempts(): { retry: string; display: string; group?: string; tries: Attempt[] }[] {
  const gate = `sleap-roots-report/v1`;
  return [
    {
      retry: 'r-list',
      display: 'list-image-sets',
      tries: [{ id: 'p-list', display: 'list-image-sets(0)', template: 'list-image-sets', start: 0, end: 20, phase: 'Succeeded', exitCode: '0', pod: true, log: [[19, '2']] }],
    },
    {
      retry: 'r-pred-0',
      display: 'predictor(0:0)',
      group: 'predictor',
      tries: [
        {
          id: 'p-pred-0-0', display: 'predictor(0:0)(0)', template: 'predictor', start: 20, end: 200, phase: 'Error', message: 'pod deleted', pod: false, gpuFraction: '0.5',
          log: [[25, 'sleap-roots: predictor: scan-a'], [26, 'loading model'], [199, 'sleap-roots: stopped during scan-a; its outcome is not recorded']],
        },
        {
          id: 'p-pred-0-1', display: 'predictor(0:0)(1)', template: 'predictor', start: 440, end: 800, phase: 'Succeeded', exitCode: '0', pod: true, gpuFraction: '0.5',
          log: [[445, 'sleap-roots: predictor: scan-a'], [446, 'loading model'], [535, 'sleap-roots: predictor: scan-b'], [600, 'frame 12 unreadable, skipped'], [795, 'sleap-roots: predictor: chunk 0 done: 2 scans, 2 run or checked in this attempt']],
        },
      ],
    },
    {
      retry: 'r-pred-1',
      display: 'predictor(1:1)',
      group: 'predictor',
      tries: [
        {
          id: 'p-pred-1-0', display: 'predictor(1:1)(0)', template: 'predictor', start: 20, end: 500, phase: 'Succeeded', exitCode: '0', pod: true, gpuFraction: '0.5',
          log: [
            [25, 'sleap-roots: predictor: scan-c'], [30, 'loading model'], [125, `sleap-roots: predictor: ${HOSTILE}`], [126, 'Traceback (most recent call last):'],
            [127, 'ValueError: <script>alert(1)</script> is not an image'], [128, 'sleap-roots: predictor: chunk 1 done: 2 scans, 2 run or checked in this attempt'],
          ],
        },
      ],
    },
    {
      retry: 'r-trait-0',
      display: 'trait-extractor(0:0)',
      group: 'trait-extractor',
      tries: [{ id: 'p-trait-0-0', display: 'trait-extractor(0:0)(0)', template: 'trait-extractor', start: 800, end: 860, phase: 'Succeeded', exitCode: '0', pod: true, log: [[805, 'sleap-roots: trait-extractor: scan-a'], [830, 'sleap-roots: trait-extractor: scan-b'], [855, 'sleap-roots: trait-extractor: chunk 0 done: 2 scans, 2 run or checked in this attempt']] }],
    },
    {
      retry: 'r-trait-1',
      display: 'trait-extractor(1:1)',
      group: 'trait-extractor',
      tries: [
        {
          id: 'p-trait-1-0', display: 'trait-extractor(1:1)(0)', template: 'trait-extractor', start: 500, end: 530, phase: 'Succeeded', exitCode: '0', pod: true,
          log: [[505, 'sleap-roots: trait-extractor: scan-c'], [520, `sleap-roots: ${HOSTILE}: predictor exited 1; not running trait-extractor`], [521, 'sleap-roots: trait-extractor: chunk 1 done: 2 scans, 1 run or checked in this attempt']],
        },
      ],
    },
    {
      retry: 'r-gate',
      display: 'onExit',
      tries: [
        {
          id: 'p-gate', display: 'onExit(0)', template: 'gate', start: 860, end: 866, phase: 'Failed', exitCode: '1',
          message: `4 scans: 2 succeeded, 1 partial, 1 failed: ${HOSTILE} (predictor exited 1) (all in /workspace/state/.sleap-roots/runs/${WF}/report.tsv)`,
          pod: true,
          log: [
            [865, `${gate}\tscan\t0\tscan-a\tsucceeded\t\t\t`],
            [865, `${gate}\tscan\t0\tscan-b\tpartial\tpredictor\t3\tpredictor exited 3`],
            [865, `${gate}\tscan\t1\tscan-c\tsucceeded\t\t\t`],
            [865, `${gate}\tscan\t1\t${HOSTILE}\tfailed\tpredictor\t1\tpredictor exited 1`],
            [865, `${gate}\tend\t4\t4`],
            [865, `sleap-roots: failed: 4 scans: 2 succeeded, 1 partial, 1 failed: ${HOSTILE} (predictor exited 1)`],
          ],
        },
      ],
    },
  ];
}

/** The run, with the variant's pods and logs. */
export function reportRun(o: RunOptions = {}): Run {
  const name = o.name ?? WF;
  const nodes: Record<string, Record<string, unknown>> = {};
  const root = { id: name, name, displayName: name, type: 'DAG', phase: 'Failed', startedAt: at(0), finishedAt: at(866), children: [] as string[] };
  nodes[name] = root;
  const pods: KubeObject[] = [];
  const logs: Record<string, LogLine[]> = {};
  const groups = new Map<string, Record<string, unknown> & { children: string[] }>();
  for (const item of attempts()) {
    const retryId = `${name}-${item.retry}`;
    const last = item.tries[item.tries.length - 1];
    const retry = {
      id: retryId, name: `${name}.${item.display}`, displayName: item.display, type: 'Retry', phase: last.phase, startedAt: at(item.tries[0].start), finishedAt: at(last.end),
      templateRef: { name: REFS[last.template], template: last.template }, children: item.tries.map((t) => `${name}-${t.id}`), outputs: { exitCode: last.exitCode },
      ...(last.message ? { message: last.message } : {}),
    };
    nodes[retryId] = retry;
    if (item.group) {
      const gid = `${name}-g-${item.group}`;
      let g = groups.get(item.group);
      if (!g) {
        g = { id: gid, name: `${name}.${item.group}`, displayName: item.group, type: 'TaskGroup', phase: 'Succeeded', startedAt: at(item.tries[0].start), finishedAt: at(last.end), children: [] };
        groups.set(item.group, g);
        nodes[gid] = g;
        root.children.push(gid);
      }
      g.children.push(retryId);
    } else if (item.display !== 'onExit') {
      root.children.push(retryId);
    }
    for (const t of item.tries) {
      const id = `${name}-${t.id}`;
      nodes[id] = {
        id, name: `${name}.${t.display}`, displayName: t.display, type: 'Pod', phase: t.phase, startedAt: at(t.start), finishedAt: at(t.end),
        templateRef: { name: REFS[t.template], template: t.template }, ...(t.exitCode ? { outputs: { exitCode: t.exitCode } } : {}), ...(t.message ? { message: t.message } : {}),
      };
      const gone = !t.pod || (o.podGC && t.phase === 'Succeeded') || (o.gateGone && t.template === 'gate');
      if (gone) continue;
      const podName = `${name}-${t.template}-${t.id.replace(/[^a-z0-9]/g, '')}`;
      pods.push({
        apiVersion: 'v1', kind: 'Pod',
        metadata: {
          name: podName, namespace: NAMESPACE,
          labels: { 'workflows.argoproj.io/workflow': name },
          annotations: { 'workflows.argoproj.io/node-name': `${name}.${t.display}`, 'workflows.argoproj.io/node-id': id, ...(t.gpuFraction ? { 'gpu-fraction': t.gpuFraction } : {}) },
        },
        spec: { containers: [{ name: 'wait', image: 'argoexec' }, { name: 'main', image: 'step', resources: { requests: { cpu: '1' } } }] },
        status: {
          phase: t.phase === 'Succeeded' ? 'Succeeded' : 'Failed',
          containerStatuses: [{ name: 'main', state: { terminated: { exitCode: Number(t.exitCode ?? 1), startedAt: at(t.start + 5), finishedAt: at(t.end) } } }],
        },
      });
      logs[podName] = t.log.map(([s, text]) => ({ time: at(s), text }));
    }
  }
  const storedTemplates = {
    [`namespaced/${REFS.predictor}/predictor`]: { name: 'predictor', metadata: { annotations: { 'gpu-fraction': '0.5' } }, container: { image: 'predict' } },
    [`namespaced/${REFS.gate}/gate`]: { name: 'gate', container: { image: 'busybox' } },
  };
  const status: Record<string, unknown> = {
    phase: 'Failed', startedAt: at(0), finishedAt: at(866), progress: '6/7',
    message: nodes[`${name}-p-gate`].message, storedTemplates,
  };
  if (o.compressed) {
    status.compressedNodes = gzipSync(Buffer.from(JSON.stringify(nodes))).toString('base64');
  } else {
    status.nodes = nodes;
  }
  const workflow = {
    apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow',
    metadata: { name, namespace: NAMESPACE, creationTimestamp: at(0), labels: { 'app.kubernetes.io/part-of': 'sleap-roots-pipeline', 'sleap-roots.io/environment': 'runai', ...(o.labels ?? {}) } },
    spec: { workflowTemplateRef: { name: 'sleap-roots-pipeline' } },
    status,
  } as Workflow;
  return { workflow, pods, logs };
}
