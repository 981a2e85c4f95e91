/**
 * The report's model, from a realistic finished batch (test/support/report-run.ts): attempts and
 * what ended them, per-scan outcomes from the gate's log with failures' log tails, GPU hours,
 * slowest scans, what is said when pods are gone, and the JSON and Markdown renderings.
 */
import { describe, expect, it } from 'vitest';
import { buildReport, type WorkflowInput } from '../lib/report/build';
import { gpuOfPod, gpuOfTemplate } from '../lib/report/gpu';
import { escapeHtml, renderHtml } from '../lib/report/html';
import { parseGateLog, parseStepLog } from '../lib/report/logs';
import { renderMarkdown } from '../lib/report/markdown';
import { REPORT_API_VERSION } from '../lib/report/model';
import { HOSTILE, NAMESPACE, WF, at, reportRun, type RunOptions } from './support/report-run';

const NOW = Date.parse('2026-12-01T12:00:00Z');

function input(o: RunOptions = {}): WorkflowInput {
  const r = reportRun(o);
  return { workflow: r.workflow, pods: r.pods, logs: new Map(Object.entries(r.logs).map(([k, lines]) => [k, { lines }])) };
}

const report = (o: RunOptions = {}) => buildReport({ namespace: NAMESPACE, now: NOW, workflows: [input(o)] });
const only = (o: RunOptions = {}) => report(o).workflows[0];

describe('attempts (the timeline)', () => {
  it('lists every attempt of every step by start time, the preempted one as error, deleted, retried', () => {
    const w = only();
    expect(w.attempts.map((a) => a.name)).toEqual([
      'list-image-sets(0)',
      'predictor(0:0)(0)',
      'predictor(1:1)(0)',
      'predictor(0:0)(1)',
      'trait-extractor(1:1)(0)',
      'trait-extractor(0:0)(0)',
      'onExit(0)',
    ]);
    const lost = w.attempts.find((a) => a.name === 'predictor(0:0)(0)')!;
    expect(lost).toMatchObject({ step: 'predictor', chunk: 0, attempt: 0, state: 'error', interruption: 'deleted', retried: true, message: 'pod deleted', durationSeconds: 180 });
    expect(lost.pod).toBeUndefined();
    expect(w.attempts.find((a) => a.name === 'predictor(0:0)(1)')).toMatchObject({ attempt: 1, state: 'succeeded', retried: false, runSeconds: 355 });
    expect(w.attempts.find((a) => a.name === 'onExit(0)')).toMatchObject({ step: 'gate', state: 'failed', exitCode: '1' });
  });

  it('shows a retry waiting for its first attempt (semaphore, backoff) as pending, and a running attempt up to now', () => {
    const r = reportRun();
    const nodes = r.workflow.status!.nodes!;
    r.workflow.status!.phase = 'Running';
    delete r.workflow.status!.finishedAt;
    Object.assign(nodes[`${WF}-r-trait-0`], { children: [], phase: 'Pending', message: 'Waiting for runai-talmo-lab/ConfigMap/sleap-roots-semaphores/pipeline-gpu lock' });
    delete (nodes[`${WF}-r-trait-0`] as { finishedAt?: string }).finishedAt;
    delete nodes[`${WF}-p-trait-0-0`];
    const gate = nodes[`${WF}-p-gate`] as { phase?: string; finishedAt?: string };
    gate.phase = 'Running';
    delete gate.finishedAt;
    const rep = buildReport({ namespace: NAMESPACE, now: Date.parse(at(900)), workflows: [{ workflow: r.workflow, pods: [], logs: new Map() }] });
    expect(rep.asOf).toBe(at(900).replace('Z', '.000Z'));
    const w = rep.workflows[0];
    expect(w.attempts.find((a) => a.name === 'trait-extractor(0:0)')).toMatchObject({ state: 'pending', gpuHours: 0, message: expect.stringContaining('lock') });
    expect(w.attempts.find((a) => a.name === 'onExit(0)')).toMatchObject({ state: 'running', durationSeconds: 40 });
  });

  it('tells evictions, preemptions and stops from outside (143) apart from deletions', () => {
    const r = reportRun();
    const nodes = r.workflow.status!.nodes!;
    Object.assign(nodes[`${WF}-p-pred-0-0`], { phase: 'Failed', message: 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 20Mi.' });
    Object.assign(nodes[`${WF}-p-pred-1-0`], { phase: 'Failed', message: 'main: Error (exit code 143)', outputs: { exitCode: '143' } });
    Object.assign(nodes[`${WF}-p-trait-1-0`], { phase: 'Failed', message: 'main: Error (exit code 143)', outputs: { exitCode: '143' } });
    const preempted = r.pods.find((p) => p.metadata.annotations?.['workflows.argoproj.io/node-id'] === `${WF}-p-trait-1-0`)!;
    (preempted.status as { conditions?: unknown[] }).conditions = [{ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' }];
    const w = buildReport({ namespace: NAMESPACE, now: NOW, workflows: [{ workflow: r.workflow, pods: [preempted], logs: new Map() }] }).workflows[0];
    expect(w.attempts.find((a) => a.name === 'predictor(0:0)(0)')?.interruption).toBe('evicted');
    expect(w.attempts.find((a) => a.name === 'predictor(1:1)(0)')?.interruption).toBe('stopped');
    expect(w.attempts.find((a) => a.name === 'trait-extractor(1:1)(0)')?.interruption).toBe('preempted');
    expect(w.attempts.find((a) => a.name === 'predictor(0:0)(1)')?.interruption).toBeUndefined();
  });

  it('reads status.compressedNodes when Argo packed the nodes', () => {
    expect(only({ compressed: true }).attempts).toEqual(only().attempts);
  });
});

describe('scans', () => {
  it('gives every scan the gate judged; a failure carries its exit code and the log lines its step printed for it', () => {
    const w = only();
    expect(w.scans).toMatchObject({ available: true, judged: 4, counts: { total: 4, succeeded: 2, partial: 1, failed: 1 } });
    expect(w.scans.rows.map((r) => [r.scan, r.result, r.exitCode])).toEqual([
      ['scan-a', 'succeeded', undefined],
      ['scan-b', 'partial', '3'],
      ['scan-c', 'succeeded', undefined],
      [HOSTILE, 'failed', '1'],
    ]);
    const failed = w.scans.rows[3];
    expect(failed).toMatchObject({ step: 'predictor', chunk: 1, detail: 'predictor exited 1' });
    expect(failed.logTail).toEqual(['Traceback (most recent call last):', 'ValueError: <script>alert(1)</script> is not an image']);
    // The chunk pod itself succeeded (the wrapper recorded the scan's code and went on): no pod message.
    expect(failed.message).toBeUndefined();
  });

  it('with podGC the failed scan keeps its outcome but says why its log tail is missing', () => {
    const w = only({ podGC: true });
    expect(w.scans.counts).toEqual({ total: 4, succeeded: 2, partial: 1, failed: 1 });
    const failed = w.scans.rows.find((r) => r.result === 'failed')!;
    expect(failed.logTail).toBeUndefined();
    expect(failed.logTailUnavailable).toMatch(/pod of predictor\(1:1\)\(0\) not found \(deleted: podGC/);
    expect(w.unavailable.join('\n')).toMatch(/^6 of 7 pods no longer exist \(list-image-sets\(0\), predictor\(0:0\)\(0\), /m);
    expect(w.slowestScans).toEqual([]);
  });

  it('without the gate pod there are no rows: the counts come from its summary and the report says so', () => {
    const w = only({ podGC: true, gateGone: true });
    expect(w.scans).toEqual({ available: false, counts: { total: 4, succeeded: 2, partial: 1, failed: 1 }, rows: [] });
    expect(w.unavailable).toContainEqual(expect.stringMatching(/^per-scan outcomes: pod of onExit\(0\) not found .*the gate's summary is all there is$/));
  });

  it('says when the gate printed fewer rows than it judged (its log limit)', () => {
    const i = input();
    const gatePod = [...i.logs.keys()].find((k) => k.includes('-gate-'))!;
    const lines = i.logs.get(gatePod)!.lines!.filter((l) => !l.text.includes('\tscan-c\t')).map((l) => (l.text.includes('\tend\t') ? { ...l, text: 'sleap-roots-report/v1\tend\t3\t4' } : l));
    const w = buildReport({ namespace: NAMESPACE, now: NOW, workflows: [{ ...i, logs: new Map([...i.logs, [gatePod, { lines }]]) }] }).workflows[0];
    expect(w.scans.rows).toHaveLength(3);
    expect(w.scans.counts).toEqual({ total: 4, succeeded: 2, partial: 1, failed: 1 });
    expect(w.unavailable).toContainEqual(expect.stringContaining('the gate printed 3 of 4 rows to its log (SLEAP_ROOTS_REPORT_LOG_LIMIT)'));
  });
});

describe('GPU hours and slowest scans', () => {
  it('counts pod run time times the GPU share; a deleted pod counts its node time and the stored template request', () => {
    const w = only();
    // predictor: (0:0)(0) 180 s from the node (pod gone) + (0:0)(1) 355 s + (1:1)(0) 475 s from the pods, each x 0.5 GPU.
    expect(w.attempts.find((a) => a.name === 'predictor(0:0)(0)')).toMatchObject({ gpus: 0.5, gpuHours: 0.025 });
    expect(w.gpu.byStep.find((g) => g.step === 'predictor')).toEqual({ step: 'predictor', attempts: 3, request: '0.5 GPU (gpu-fraction)', gpuHours: 0.1403, note: undefined });
    expect(w.gpu.byStep.find((g) => g.step === 'trait-extractor')).toMatchObject({ request: 'none', gpuHours: 0 });
    expect(w.gpu.totalHours).toBe(0.1403);
  });

  it('counts whole GPUs as N, a fraction as its share, and notes gpu-memory without counting it', () => {
    const pod = (limits: Record<string, string>, annotations: Record<string, string> = {}) => ({ metadata: { annotations }, spec: { containers: [{ name: 'main', resources: { limits } }] } });
    expect(gpuOfPod(pod({ 'nvidia.com/gpu': '2' }))).toMatchObject({ gpus: 2, describe: '2 GPU' });
    expect(gpuOfPod(pod({}, { 'gpu-fraction': '0.25' }))).toMatchObject({ gpus: 0.25 });
    expect(gpuOfPod(pod({}, { 'gpu-memory': '8192' }))).toEqual({ gpus: 0, memoryMB: 8192, describe: 'gpu-memory 8192 MB' });
    expect(gpuOfTemplate({ container: { resources: { limits: { 'nvidia.com/gpu': '1', cpu: '4' } } } })).toMatchObject({ gpus: 1 });
    expect(gpuOfTemplate({})).toMatchObject({ gpus: 0, describe: 'none' });
  });

  it('times each scan from its start line to the next, keeping the attempt that finished it', () => {
    expect(only().slowestScans).toEqual([
      { scan: 'scan-b', step: 'predictor', seconds: 260, attempt: 'predictor(0:0)(1)' },
      { scan: 'scan-c', step: 'predictor', seconds: 100, attempt: 'predictor(1:1)(0)' },
      { scan: 'scan-a', step: 'predictor', seconds: 90, attempt: 'predictor(0:0)(1)' },
      { scan: 'scan-a', step: 'trait-extractor', seconds: 25, attempt: 'trait-extractor(0:0)(0)' },
      { scan: 'scan-b', step: 'trait-extractor', seconds: 25, attempt: 'trait-extractor(0:0)(0)' },
      { scan: 'scan-c', step: 'trait-extractor', seconds: 15, attempt: 'trait-extractor(1:1)(0)' },
      { scan: HOSTILE, step: 'predictor', seconds: 3, attempt: 'predictor(1:1)(0)' },
    ]);
  });
});

describe('log parsing', () => {
  it('reads only well-formed gate rows and its end line', () => {
    const g = parseGateLog(['sleap-roots-report/v1\tscan\t0\ts1\tfailed\tpredictor\t\tpredictor: no outcome recorded', 'sleap-roots-report/v1\tscan\tx\ts2\tfailed\t\t\t', 'noise', 'sleap-roots-report/v1\tend\t1\t1']);
    expect(g).toEqual({ rows: [{ chunk: 0, scan: 's1', result: 'failed', step: 'predictor', code: undefined, detail: 'predictor: no outcome recorded' }], end: { printed: 1, judged: 1 } });
  });

  it('a step log that stops mid-scan leaves that scan without an end', () => {
    const segs = parseStepLog('predictor', [
      { time: at(1), text: 'sleap-roots: predictor: s1' },
      { time: at(2), text: 'out' },
      { time: at(3), text: 'sleap-roots: /m/.sleap-roots/predictor.done is newer than its inputs; already done, skipping s2' },
      { time: at(4), text: 'sleap-roots: predictor: s3' },
    ]);
    expect(segs).toEqual([
      { scan: 's1', start: at(1), end: at(3), tail: ['out'] },
      { scan: 's3', start: at(4), end: undefined, tail: [] },
    ]);
  });
});

describe('renderings', () => {
  it('JSON: the documented v1 shape', () => {
    const r = report();
    expect(r.apiVersion).toBe(REPORT_API_VERSION);
    expect(r.asOf).toBeUndefined();
    expect(r.totals).toEqual({ scans: { total: 4, succeeded: 2, partial: 1, failed: 1 }, gpuHours: 0.1403 });
    const json = `${JSON.stringify(r, null, 2)}\n`;
    // Same input, same bytes.
    expect(`${JSON.stringify(report(), null, 2)}\n`).toBe(json);
    expect(json).toMatchSnapshot();
  });

  it('Markdown: tables with cluster text escaped, the failure with its log tail in a fence', () => {
    const md = renderMarkdown(report());
    // Outside code fences nothing is left unescaped that a renderer could take as HTML.
    expect(md.replace(/```[\s\S]*?```/g, '')).not.toMatch(/(^|[^\\])</);
    expect(md).toContain('#### Failed: \\<img src=x onerror=alert(1)\\>\\|\\*\\_\\`x\\`\\_');
    expect(md).toContain('```\nTraceback (most recent call last):\nValueError: <script>alert(1)</script> is not an image\n```');
    expect(md).toContain('| predictor | 3 | 0.5 GPU (gpu-fraction) | 0.14 |  |');
    expect(md).toMatchSnapshot();
  });

  it('HTML: no script, no external resource, and every cluster text escaped', () => {
    const html = renderHtml(report());
    expect(html).not.toMatch(/<(?:script|img|link|iframe|object)|<[^>]+\s(?:src|href)=|url\(/i);
    expect(html).toContain(escapeHtml(HOSTILE));
    expect(html).toContain('ValueError: &lt;script&gt;alert(1)&lt;/script&gt; is not an image');
    expect(renderHtml(report())).toBe(html);
  });
});
