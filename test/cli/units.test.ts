import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect } from '../../lib/cluster/connection';
import { KubeClient, parseRetryAfter } from '../../lib/cluster/http';
import * as labels from '../../lib/cluster/labels';
import { LogCursor, sinceTimeOf, timestampKey } from '../../lib/cluster/logs';
import { applyOrder, type Manifest } from '../../lib/cluster/manifests';
import { Redactor } from '../../lib/cluster/redact';
import { generateName, submit } from '../../lib/cluster/submit';
import { stepOfPod, viewWorkflow, type Workflow } from '../../lib/cluster/workflow';
import { formatDuration, truncate } from '../../lib/cli/format';
import { useColor } from '../../lib/cli/style';
import { ENV, NS, startCluster, type TestCluster } from './support/harness';

describe('labels', () => {
  it('turn any user name into a valid label value', () => {
    expect(labels.toLabelValue('system:serviceaccount:runai-talmo-lab:argo')).toBe('system-serviceaccount-runai-talmo-lab-argo');
    fc.assert(
      fc.property(fc.string(), (s) => {
        const v = labels.toLabelValue(s);
        return v.length <= 63 && /^([A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?)?$/.test(v);
      }),
    );
  });
});

describe('apply order', () => {
  const m = (file: string, kind: string, name: string, spec: unknown = {}): Manifest => ({
    file,
    object: { apiVersion: kind === 'WorkflowTemplate' ? 'argoproj.io/v1alpha1' : kind.startsWith('Role') ? 'rbac.authorization.k8s.io/v1' : 'v1', kind, metadata: { name, namespace: 'x' }, spec },
  });
  const calls = (...names: string[]) => ({ templates: [{ name: 'main', dag: { tasks: names.map((n) => ({ name: n, templateRef: { name: n, template: n } })) } }] });

  it('comes from the kinds and templateRefs, not from file names', () => {
    const order = applyOrder([
      m('a.yaml', 'WorkflowTemplate', 'pipeline', calls('step-b', 'step-a')),
      m('b.yaml', 'WorkflowTemplate', 'step-b', calls('step-a')),
      m('c.yaml', 'ConfigMap', 'semaphores'),
      m('d.yaml', 'WorkflowTemplate', 'step-a'),
      m('e.yaml', 'RoleBinding', 'rb'),
      m('f.yaml', 'Role', 'role'),
      m('g.yaml', 'Secret', 'token'),
      m('h.yaml', 'ServiceAccount', 'sa'),
    ]).map((x) => x.object.metadata.name);
    expect(order).toEqual(['sa', 'token', 'role', 'rb', 'semaphores', 'step-a', 'step-b', 'pipeline']);
  });

  it('fails on templates that call each other in a cycle', () => {
    expect(() => applyOrder([m('a', 'WorkflowTemplate', 'a', calls('b')), m('b', 'WorkflowTemplate', 'b', calls('a'))])).toThrow(/cycle: a, b/);
  });
});

describe('log resume', () => {
  it('normalizes RFC 3339 timestamps of any precision so that they compare as strings', () => {
    expect(timestampKey('2025-01-02T03:04:05Z')).toBe('2025-01-02T03:04:05.000000000');
    expect(timestampKey('2025-01-02T03:04:05.5Z')).toBe('2025-01-02T03:04:05.500000000');
    expect(timestampKey('2025-01-02T03:04:05.123456789Z')).toBe('2025-01-02T03:04:05.123456789');
    expect(timestampKey('2025-01-02T03:04:05.12Z') > timestampKey('2025-01-02T03:04:05.123Z')).toBe(false);
    expect(sinceTimeOf('2025-01-02T03:04:05.999Z')).toBe('2025-01-02T03:04:05Z');
  });

  it('writes every line exactly once whatever the cut points and repeated lines (property)', () => {
    // A log of lines with non-decreasing timestamps (many equal, many equal texts); streams are cut
    // at random points and resumed from the second of the last line written, as the API does.
    const line = fc.record({ dt: fc.constantFrom(0, 0, 0, 1, 250_000_000, 1_000_000_000), text: fc.constantFrom('a', 'b', 'a b', '') });
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 60 }), fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 20 }), (spec, cuts) => {
        let ns = 1_735_786_800_000_000_000n;
        const log = spec.map((l) => {
          ns += BigInt(l.dt);
          const secs = ns / 1_000_000_000n;
          const frac = String(ns % 1_000_000_000n).padStart(9, '0');
          return { ts: `${new Date(Number(secs) * 1000).toISOString().slice(0, 19)}.${frac}Z`, text: l.text, ns };
        });
        const cursor = new LogCursor();
        const got: string[] = [];
        let pass = 0;
        for (;;) {
          if (pass > 0) cursor.beginResume();
          const since = cursor.lastTimestamp ? BigInt(Date.parse(sinceTimeOf(cursor.lastTimestamp))) * 1_000_000n : undefined;
          const served = log.filter((l) => since === undefined || l.ns >= since);
          const cut = cuts[pass % cuts.length];
          const part = pass < 40 ? served.slice(0, cut) : served;
          const out = { lines: [] as string[], timestamps: [] as string[] };
          if (part.length > 0) cursor.accept(part.map((l) => `${l.ts} ${l.text}`).join('\n'), out);
          got.push(...out.lines);
          pass++;
          if (part.length === served.length && out.lines.length === 0) break;
          if (pass > 200) return false;
        }
        expect(got).toEqual(log.map((l) => l.text));
        return true;
      }),
      { numRuns: 300 },
    );
  });
});

describe('workflow view', () => {
  const wf: Workflow = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Workflow',
    metadata: { name: 'wf', namespace: NS },
    status: {
      phase: 'Failed',
      startedAt: '2025-01-01T00:00:00Z',
      finishedAt: '2025-01-01T00:10:00Z',
      nodes: {
        wf: { id: 'wf', name: 'wf', displayName: 'wf', type: 'DAG', phase: 'Failed' },
        'wf-1': { id: 'wf-1', name: 'wf.predictor', displayName: 'predictor', type: 'TaskGroup', phase: 'Failed', startedAt: '2025-01-01T00:01:00Z', finishedAt: '2025-01-01T00:09:00Z', children: ['wf-2', 'wf-3'] },
        'wf-2': { id: 'wf-2', name: 'wf.predictor(0:set-a)', displayName: 'predictor(0:set-a)', type: 'Retry', phase: 'Succeeded', children: ['wf-4'] },
        'wf-3': { id: 'wf-3', name: 'wf.predictor(1:set-b)', displayName: 'predictor(1:set-b)', type: 'Retry', phase: 'Failed', children: ['wf-5', 'wf-6'], message: 'No more retries left', finishedAt: '2025-01-01T00:09:00Z' },
        'wf-4': { id: 'wf-4', name: 'wf.predictor(0:set-a)(0)', displayName: 'predictor(0:set-a)(0)', type: 'Pod', phase: 'Succeeded' },
        'wf-5': { id: 'wf-5', name: 'wf.predictor(1:set-b)(0)', displayName: 'predictor(1:set-b)(0)', type: 'Pod', phase: 'Failed', message: 'pod deleted' },
        'wf-6': { id: 'wf-6', name: 'wf.predictor(1:set-b)(1)', displayName: 'predictor(1:set-b)(1)', type: 'Pod', phase: 'Failed', message: 'OOMKilled (exit code 137)' },
      },
    },
  };

  it('shows a fanned-out task with its items, their retries and the failing item with its message', () => {
    const v = viewWorkflow(wf, Date.parse('2025-01-01T00:10:00Z'));
    expect(v.steps.map((s) => [s.name, s.item, s.phase, s.retries])).toEqual([
      ['predictor', false, 'Failed', 1],
      ['predictor(0:set-a)', true, 'Succeeded', 0],
      ['predictor(1:set-b)', true, 'Failed', 1],
    ]);
    expect(v.steps[0].message).toBe('2/2 items done, 1 failed');
    expect(v.failing).toEqual([{ step: 'predictor(1:set-b)', message: 'OOMKilled (exit code 137)' }]);
  });

  it('reads the batch outcome from the exit handler\'s outcome output', () => {
    const done: Workflow = {
      ...wf,
      status: {
        phase: 'Succeeded',
        nodes: {
          wf: { id: 'wf', name: 'wf', type: 'DAG', phase: 'Succeeded' },
          'wf-9': { id: 'wf-9', name: 'wf.onExit', displayName: 'wf.onExit', type: 'Retry', phase: 'Succeeded', children: ['wf-10'], outputs: { parameters: [{ name: 'outcome', value: '3 scans: 2 succeeded, 1 partial, 0 failed\n' }] } },
          'wf-10': { id: 'wf-10', name: 'wf.onExit(0)', displayName: 'wf.onExit(0)', type: 'Pod', phase: 'Succeeded' },
        },
      },
    };
    expect(viewWorkflow(done, Date.parse('2025-01-01T00:10:00Z')).outcome).toBe('3 scans: 2 succeeded, 1 partial, 0 failed');
    expect(viewWorkflow(wf, Date.parse('2025-01-01T00:10:00Z')).outcome).toBeUndefined();
  });

  it('maps a pod to its step and attempt from Argo annotations, or from the node id in its name', () => {
    const annotated = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', annotations: { 'workflows.argoproj.io/node-name': 'wf.predictor(1:set-b)(1)' } } };
    expect(stepOfPod(annotated, wf)).toEqual({ step: 'predictor(1:set-b)', attempt: 1, label: 'predictor(1:set-b)(1)' });
    const bare = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'wf-predictor-5', labels: { 'workflows.argoproj.io/workflow': 'wf' } } };
    expect(stepOfPod(bare, wf).label).toBe('predictor(1:set-b)(0)');
  });
});

describe('small parts', () => {
  it('parses Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6);
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it('formats durations', () => {
    expect([0, 45_000, 133_000, 3_720_000, 90_000_000].map(formatDuration)).toEqual(['0s', '45s', '2m13s', '1h02m', '1d01h']);
  });

  it('truncates lines to the terminal width without counting colour codes', () => {
    expect(truncate('\x1b[32mabcdefghij\x1b[39m', 5)).toBe('\x1b[32mabcd…\x1b[0m');
    expect(truncate('abcdefghij', 5)).toBe('abcd…');
  });

  it('colours only a terminal without NO_COLOR, or with FORCE_COLOR', () => {
    expect(useColor(true, {})).toBe(true);
    expect(useColor(true, { NO_COLOR: '1' })).toBe(false);
    expect(useColor(false, {})).toBe(false);
    expect(useColor(false, { FORCE_COLOR: '1' })).toBe(true);
    expect(useColor(true, {}, true)).toBe(false);
  });

  it('redacts a token with and without its Bearer prefix', () => {
    const r = new Redactor();
    r.add('Bearer abcdef123');
    expect(r.redact('x abcdef123 y Bearer abcdef123')).toBe('x <redacted> y Bearer <redacted>');
  });
});

describe('submit (library)', () => {
  let c: TestCluster;
  beforeEach(async () => {
    c = await startCluster();
  });
  afterEach(async () => {
    await c.close();
  });

  it('treats AlreadyExists for its own submission id as its own earlier create (the answer was lost)', async () => {
    // The same random sequence as submit's: the submission id first, then the name.
    const seq = () => {
      let i = 0;
      return () => ((i++ * 7) % 27) / 27;
    };
    const r = seq();
    const id = generateName('', r) + generateName('', r);
    const name = generateName('sleap-roots-pipeline-', r);
    c.server.put({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name, namespace: NS, annotations: { 'sleap-roots.io/submission-id': id } }, spec: {} });
    const client = new KubeClient(await connect({ kubeconfigFiles: [c.kubeconfig] }));
    try {
      const wf = await submit(client, { namespace: NS, environment: ENV, submitter: { tool: 't' }, checkTemplate: false, random: seq() });
      expect(wf.metadata.name).toBe(name);
      expect(c.server.list('argoproj.io/v1alpha1', 'Workflow', NS)).toHaveLength(1);
    } finally {
      client.connection.close();
    }
  });

  it('picks another name when the name is taken by someone else', async () => {
    const r = (() => {
      let i = 0;
      return () => ((i++ * 7) % 27) / 27;
    })();
    generateName('', r);
    generateName('', r);
    const taken = generateName('sleap-roots-pipeline-', r);
    c.server.put({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: taken, namespace: NS }, spec: {} });
    const client = new KubeClient(await connect({ kubeconfigFiles: [c.kubeconfig] }));
    try {
      let i = 0;
      const wf = await submit(client, { namespace: NS, submitter: { tool: 't' }, checkTemplate: false, random: () => ((i++ * 7) % 27) / 27 });
      expect(wf.metadata.name).not.toBe(taken);
      expect(c.server.list('argoproj.io/v1alpha1', 'Workflow', NS)).toHaveLength(2);
    } finally {
      client.connection.close();
    }
  });
});
