/**
 * `sleap-roots report` against the stand-in API server, over a realistic finished batch
 * (test/support/report-run.ts: fan-out chunks, a preempted attempt retried, a failed scan with a
 * hostile name, the gate's log), and the HTML as headless Chromium shows it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPORT_API_VERSION, type Report } from '../../lib/report/model';
import { dumpDom, rowTexts } from '../support/chromium';
import { HOSTILE, WF, reportRun, type RunOptions } from '../support/report-run';
import { cli, startCluster, type TestCluster } from './support/harness';

describe('report', () => {
  let c: TestCluster;
  beforeEach(async () => {
    c = await startCluster();
  });
  afterEach(async () => {
    await c.close();
  });

  /** Stores the run's workflow, pods and logs in the stand-in. */
  function seed(o: RunOptions = {}): void {
    const r = reportRun(o);
    c.server.put(r.workflow as never);
    for (const p of r.pods) c.server.put(p as never);
    for (const [pod, lines] of Object.entries(r.logs)) c.server.appendLog(r.workflow.metadata.namespace!, pod, 'main', lines as never);
  }

  it('writes one self-contained HTML file that Chromium shows with the failed scan, its exit code and log tail, the timeline and the GPU hours', async () => {
    seed();
    const r = await cli(['report', WF], { cluster: c });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const file = path.join(c.dir, `sleap-roots-report-${WF}.html`);
    expect(r.stderr).toBe(`report written to ${file} (4 scans: 2 succeeded, 1 partial, 1 failed; 0.14 GPU hours; 1 note(s) on unavailable data)\n`);
    const dom = dumpDom(file);
    // The hostile scan name stayed text: Chromium made no element of it.
    expect(dom).not.toMatch(/<img|<script/i);
    const failures = rowTexts(dom, /<tr class="result-failed">/);
    expect(failures[0]).toBe(`${HOSTILE} predictor 1 predictor exited 1 Traceback (most recent call last): ValueError: <script>alert(1)</script> is not an image`);
    const rows = rowTexts(dom);
    expect(rows).toContainEqual(expect.stringMatching(/^predictor\(0:0\)\(0\) predictor error, pod deleted \(preempted or removed\), retried 2026-11-30T10:00:20Z 3m 00s pod deleted$/));
    expect(rows).toContainEqual(expect.stringMatching(/^predictor\(0:0\)\(1\) predictor succeeded 2026-11-30T10:07:20Z 6m 00s 0$/));
    expect(rows).toContainEqual(expect.stringMatching(/^onExit\(0\) gate failed .* 6s 1 4 scans: 2 succeeded, 1 partial, 1 failed: /));
    expect(rows).toContain('predictor 3 0.5 GPU (gpu-fraction) 0.14');
    expect(rows).toContain('scan-b predictor 4m 20s predictor(0:0)(1)');
    // Logs were read with timestamps and a byte limit.
    const logReads = c.server.requests.filter((q) => q.path.endsWith('/log'));
    expect(logReads).toHaveLength(6);
    for (const q of logReads) expect(q.query).toMatchObject({ container: 'main', timestamps: 'true', limitBytes: String(16 * 1024 * 1024) });
  }, 120_000);

  it('-o json prints the documented v1 document on stdout; -o md --out writes Markdown', async () => {
    seed();
    const j = await cli(['report', WF, '-o', 'json'], { cluster: c });
    expect(j.code, j.stderr).toBe(0);
    const report = JSON.parse(j.stdout) as Report;
    expect(report).toMatchObject({ apiVersion: REPORT_API_VERSION, kind: 'Report', namespace: 'runai-talmo-lab', totals: { gpuHours: 0.1403 } });
    expect(report.workflows[0].scans.rows.find((s) => s.result === 'failed')).toMatchObject({ scan: HOSTILE, exitCode: '1', logTail: ['Traceback (most recent call last):', 'ValueError: <script>alert(1)</script> is not an image'] });
    // Same cluster state, same bytes.
    expect((await cli(['report', WF, '-o', 'json'], { cluster: c })).stdout).toBe(j.stdout);

    const m = await cli(['report', WF, '-o', 'md', '--out', 'r.md'], { cluster: c });
    expect(m.code, m.stderr).toBe(0);
    const md = fs.readFileSync(path.join(c.dir, 'r.md'), 'utf8');
    expect(md).toMatch(/^# sleap-roots report: sleap-roots-pipeline-r3p0rt\n/);
    expect(md).toContain('| predictor | 3 | 0.5 GPU (gpu-fraction) | 0.14 |  |');
  });

  it('after podGC the report still has every outcome and says which data is gone instead of guessing', async () => {
    seed({ podGC: true });
    const r = await cli(['report', WF, '-o', 'json'], { cluster: c });
    expect(r.code, r.stderr).toBe(0);
    const w = (JSON.parse(r.stdout) as Report).workflows[0];
    expect(w.scans.counts).toEqual({ total: 4, succeeded: 2, partial: 1, failed: 1 });
    const failed = w.scans.rows.find((s) => s.result === 'failed')!;
    expect(failed.logTail).toBeUndefined();
    expect(failed.logTailUnavailable).toContain('not found (deleted: podGC');
    expect(w.slowestScans).toEqual([]);
    expect(w.unavailable[0]).toMatch(/^6 of 7 pods no longer exist/);
  });

  it('--run reports every workflow labelled with the run id, batches in order, with run totals', async () => {
    seed({ name: 'batch-b', labels: { 'sleap-roots.io/run': 'r1', 'sleap-roots.io/batch': '1' } });
    seed({ name: 'batch-a', labels: { 'sleap-roots.io/run': 'r1', 'sleap-roots.io/batch': '0' } });
    seed({ name: 'other', labels: { 'sleap-roots.io/run': 'r2' } });
    const r = await cli(['report', '--run', 'r1', '-o', 'json'], { cluster: c });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.run).toBe('r1');
    expect(report.workflows.map((w) => w.name)).toEqual(['batch-a', 'batch-b']);
    expect(report.totals).toEqual({ scans: { total: 8, succeeded: 4, partial: 2, failed: 2 }, gpuHours: 0.2806 });
    const html = await cli(['report', '--run', 'r1'], { cluster: c });
    expect(html.stderr).toContain(`report written to ${path.join(c.dir, 'sleap-roots-report-run-r1.html')}`);
  });

  it('fails with a message for a workflow that does not exist, and for a workflow and --run together', async () => {
    const missing = await cli(['report', 'nope'], { cluster: c });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('workflow "nope" is not in namespace "runai-talmo-lab"');
    const both = await cli(['report', 'nope', '--run', 'r1'], { cluster: c });
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('give a workflow or --run, not both');
    const format = await cli(['report', WF, '-o', 'yaml'], { cluster: c });
    expect(format.code).toBe(2);
  });
});
