import { describe, expect, it } from 'vitest';
import { UtilityEnv } from '../../lib/plan/utility-steps';
import { batchName, checkRunId, newRunId } from '../../lib/cluster/run/names';
import { runProgress } from '../../lib/cluster/run/progress';
import { LISTER_MAX_SCANS_ENV, LISTER_SCANS_ENV } from '../../lib/cluster/run/scan-parameter';
import { cutBatches, parseScanList, scanDigest } from '../../lib/cluster/run/scans';
import { parseOutcome, RunState } from '../../lib/cluster/run/state';
import type { Workflow } from '../../lib/cluster/workflow';
import type { DistTree } from '../../lib/cluster/manifests';
import { checkSharedStages, sharedStageWarnings } from '../../lib/cluster/run/shared-stages';

function wf(batch: number, o: { phase?: string; created: string; finished?: string; message?: string; attempt?: number }): Workflow {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Workflow',
    metadata: {
      name: batchName('r', batch, o.attempt ?? 0, 4),
      creationTimestamp: o.created,
      labels: { 'sleap-roots.io/run': 'r', 'sleap-roots.io/batch': String(batch), ...(o.finished ? { 'workflows.argoproj.io/completed': 'true' } : {}) },
      annotations: { 'sleap-roots.io/run-batches': '4', 'sleap-roots.io/run-scans': '100', 'sleap-roots.io/batch-scans': '25', 'sleap-roots.io/batch-attempt': String(o.attempt ?? 0) },
    },
    status: { phase: o.phase, finishedAt: o.finished, message: o.message },
  };
}

describe('run units', () => {
  it('reads the lister variables the planner writes (a rename in lib/plan breaks this, not a run)', () => {
    expect(LISTER_SCANS_ENV).toBe(UtilityEnv.SCANS);
    expect(LISTER_MAX_SCANS_ENV).toBe(UtilityEnv.MAX_SCANS);
  });

  it('cuts scans into batches in order, the last one smaller, each with the digest of its list', () => {
    const scans = parseScanList('a\n b \n\n# note\nc\r\nd\ne\n', 'f');
    expect(scans).toEqual(['a', 'b', 'c', 'd', 'e']);
    const batches = cutBatches(scans, 2);
    expect(batches.map((b) => b.scans)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(batches[1].digest).toBe(scanDigest(['c', 'd']));
    expect(scanDigest(['c', 'd'])).not.toBe(scanDigest(['d', 'c']));
    expect(() => parseScanList('\n# only comments\n', 'f')).toThrow(/f: no scan ids/);
  });

  it('names batches with enough digits for the last one, and resubmissions with -r<n>', () => {
    expect(batchName('run-1', 7, 0, 4000)).toBe('run-1-b0007');
    expect(batchName('run-1', 7, 2, 4000)).toBe('run-1-b0007-r2');
    expect(batchName('run-1', 12345, 0, 20000)).toBe('run-1-b12345');
    expect(batchName('run-1', 7, 0, 20000)).toBe('run-1-b00007');
    expect(newRunId(Date.UTC(2026, 11, 1, 13, 55, 0))).toBe('run-20261201-135500');
    expect(() => checkRunId('x'.repeat(41))).toThrow(/at most 40 characters/);
  });

  it('reads the gate summary line', () => {
    expect(parseOutcome('1000 scans: 990 succeeded, 7 partial, 3 failed: scan-0042 (predictor exited 1)')).toEqual({ succeeded: 990, partial: 7, failed: 3 });
    expect(parseOutcome('child failed')).toBeUndefined();
  });

  it('sums a run up: the latest attempt of each batch counts, queued from the batch count, time left at the rate so far', () => {
    const st = new RunState('r');
    st.replace([
      wf(0, { phase: 'Succeeded', created: '2026-12-01T10:00:00Z', finished: '2026-12-01T10:05:00Z', message: '25 scans: 24 succeeded, 1 partial, 0 failed' }),
      wf(1, { phase: 'Failed', created: '2026-12-01T10:00:00Z', finished: '2026-12-01T10:06:00Z', message: '25 scans: 20 succeeded, 0 partial, 5 failed: ...' }),
      wf(1, { phase: 'Running', created: '2026-12-01T10:07:00Z', attempt: 1 }),
      wf(2, { phase: 'Error', created: '2026-12-01T10:01:00Z', finished: '2026-12-01T10:02:00Z', message: 'pod deleted' }),
    ]);
    const p = runProgress(st, Date.parse('2026-12-01T10:10:00Z'));
    expect(p).toMatchObject({ batches: 4, scans: 100, queued: 1, running: 1, succeeded: 1, failed: 1, workflows: 4, failedBatches: [2] });
    expect(p).toMatchObject({ scansSucceeded: 24, scansPartial: 1, scansFailed: 25, scansWithoutOutcome: 25 });
    // 2 of 4 batches finished in 10 minutes: 10 minutes left.
    expect(p.elapsedMs).toBe(600_000);
    expect(p.remainingMs).toBe(600_000);
  });
});

describe('shared stages of a run', () => {
  const distWith = (env: { name: string }[], mutex = 'sleap-roots-models-downloader') =>
    ({
      environment: 'lab',
      dir: '/dist/lab',
      objects: [{ file: '50-x.yaml', object: { apiVersion: 'argoproj.io/v1alpha1', kind: 'WorkflowTemplate', metadata: { name: 'x' }, spec: { templates: [{ name: 'models-downloader', timeout: '1h', synchronization: { mutexes: [{ name: mutex }] }, container: { env } }] } } }],
    }) as unknown as DistTree;

  it('refuses a run whose exclusive step has no success marker: every batch would rewrite its folder', () => {
    expect(() => checkSharedStages(distWith([]), false)).toThrow(/environment "lab" runs models-downloader in every workflow without success markers/);
    expect(() => checkSharedStages(distWith([{ name: 'SLEAP_ROOTS_MARKER' }]), false)).not.toThrow();
    expect(() => checkSharedStages(distWith([{ name: 'SLEAP_ROOTS_MARKER' }]), true)).toThrow(/--force-rerun cannot be given to a run of batches/);
  });

  it('warns when the batches queued for the lock could wait out the step timeout (the wait counts against it)', () => {
    const d = distWith([{ name: 'SLEAP_ROOTS_MARKER' }]);
    expect(sharedStageWarnings(d, 40)).toEqual([]); // 39 x 30 s = 20 min, under half of 1h
    expect(sharedStageWarnings(d, 200)).toEqual([
      'models-downloader is exclusive (one batch at a time) with timeout 60m: with up to 200 batches in flight the last may wait about 100m for its lock, which counts against that timeout; lower --max-in-flight or raise steps.models-downloader.timeout',
    ]);
  });
});
