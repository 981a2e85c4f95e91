/**
 * The synth-time run-time rules (lib/build/runtime-rules.ts): each one reports the shape `dist/runai`
 * had before batch outcomes were judged from outcome files (test/fixtures/runai-before/), and
 * none reports what the shipped environments synthesize now.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkRunTime, type RunTimeView } from '../lib/build/runtime-rules';
import { formatPolicyProblem } from '../lib/plan/policy';
import type { WorkflowTemplateJson } from '../lib/build/scale';
import { buildEnvironment } from '../lib/synth';
import { baseConfig, envFrom, problemsOf, SHIPPED, shipped, stepTemplate, synth } from './support/envs';

const FIXTURE = path.join(__dirname, 'fixtures', 'runai-before');

function viewOf(docs: WorkflowTemplateJson[], extra: Partial<RunTimeView> = {}): RunTimeView {
  return {
    pipeline: docs.find((d) => d.metadata?.name === 'sleap-roots-pipeline')!,
    steps: docs.filter((d) => d.metadata?.name !== 'sleap-roots-pipeline'),
    userSteps: ['models-downloader', 'predictor', 'trait-extractor'],
    maxScans: 100_000,
    preemptiveScheduler: true,
    nonPreemptibleClass: 'high',
    partialExitCodes: { predictor: [3], 'trait-extractor': [3] },
    ...extra,
  };
}

const before = () => viewOf(fs.readdirSync(FIXTURE).filter((f) => f.endsWith('.yaml')).map((f) => parse(fs.readFileSync(path.join(FIXTURE, f), 'utf8'))));
const problems = (v: RunTimeView) => checkRunTime(v).map(formatPolicyProblem);

describe('each rule reports the shape dist/runai had before', () => {
  const found = problems(before());

  it('fails on reading aggregated outputs of a fanned-out task', () => {
    expect(found).toContainEqual(expect.stringMatching(/^fanOut\.steps: task gate reads \{\{tasks\.predictor\.outputs\.parameters\}\} of the fanned-out task predictor; Argo aggregates only the items that Succeeded/));
    expect(found).toContainEqual(expect.stringMatching(/^fanOut\.steps: task gate reads \{\{tasks\.trait-extractor\.outputs\.parameters\}\}/));
  });

  it('fails on continueOn of a fan-out that does not cover errors', () => {
    expect(found).toContainEqual('fanOut.steps: fanned-out task predictor has continueOn {"failed":true}; one failed or preempted (Error) item would stop the batch; expected {failed: true, error: true}');
  });

  it('fails on steps without a timeout, naming the non-preemptible ones on a preemptive scheduler', () => {
    expect(found).toContainEqual(expect.stringMatching(/^partialSuccess\.gate\.timeout: step gate is not preemptible \(priority class high\) and has no timeout/));
    expect(found).toContainEqual(expect.stringMatching(/^fanOut\.lister\.timeout: step list-image-sets is not preemptible/));
  });

  it('fails on a retry that would retry a declared partial code', () => {
    expect(found).toContainEqual('steps.predictor.retry: step predictor would retry its declared partial exit code 3 (retryPolicy Always, no expression); a partial result is final; retry only preemption and infrastructure errors');
    expect(found).toContainEqual(expect.stringMatching(/^steps\.trait-extractor\.retry: step trait-extractor would retry/));
  });

  it('fails on a design over a size limit at the declared largest batch', () => {
    expect(found).toContainEqual(expect.stringMatching(/^fanOut\.maxScans: at 100000 scans, list-image-sets result \(JSON list of scan names\) would be \d+ KiB, over Argo's 256 KiB \(a step result keeps only its last 256 KiB\)/));
    expect(found).toContainEqual(expect.stringMatching(/^fanOut\.maxScans: at 100000 scans, Workflow with its status would be \d+ KiB, over Argo's 1024 KiB/));
    // The same templates at 10 scans fit.
    expect(problems(viewOf(before().steps.concat([before().pipeline]), { maxScans: 10 })).filter((p) => p.startsWith('fanOut.maxScans'))).toEqual([]);
  });

  it('fails on steps without resource requests, without retries, and a workflow without deadline', () => {
    expect(found).toContainEqual(expect.stringMatching(/^steps\.models-downloader\.resources\.requests: step models-downloader requests no cpu or memory/));
    for (const p of ['steps.models-downloader.retry', 'fanOut.lister.retry', 'partialSuccess.gate.retry']) {
      expect(found).toContainEqual(expect.stringMatching(new RegExp(`^${p.replace(/\./g, '\\.')}: step \\S+ has no retry strategy`)));
    }
    expect(found).toContainEqual(expect.stringMatching(/^workflow\.activeDeadlineSeconds: the workflow has no deadline/));
  });
});

describe('what synthesizes now passes every rule', () => {
  it.each(SHIPPED)('%s', (name) => {
    expect(buildEnvironment(shipped(name)).pipeline.problems().map(formatPolicyProblem)).toEqual([]);
  });
});

describe('rules through the environment file', () => {
  it('fails when a step has no timeout or requests, naming its fields', () => {
    const c = baseConfig();
    c.steps['write-back'] = { image: 'ghcr.io/x/wb:1.0', dependencies: ['trait-extractor'], mounts: [{ volume: 'traits-output', path: '/in', readOnly: true }] };
    const paths = problemsOf(c).map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['steps.write-back.timeout', 'steps.write-back.resources.requests']));
  });

  it('fails when retry.exitCodes lists a declared partial code', () => {
    const c = baseConfig();
    c.steps.predictor.partialExitCodes = [3];
    c.steps.predictor.retry = { exitCodes: [3] };
    const [p] = problemsOf(c).filter((x) => x.path.startsWith('steps.predictor.retry'));
    expect(p).toMatchObject({ path: 'steps.predictor.retry.exitCodes', message: expect.stringContaining('partial exit code 3') });
  });

  it('accepts a plain retry policy on a step with partial codes: the wrapper turns an accepted code into exit 0', () => {
    const c = baseConfig();
    c.steps.predictor.retry = { policy: 'Always', limit: 2 };
    c.steps.predictor.partialExitCodes = [3];
    const t = stepTemplate(synth(envFrom(c)).manifests, 'predictor');
    expect(t.retryStrategy).toMatchObject({ retryPolicy: 'Always', limit: 2 });
    expect(t.container.env).toContainEqual({ name: 'SLEAP_ROOTS_ACCEPTED', value: '0 3' });
  });

  it('fails when the design passes a size limit at fanOut.maxScans, and says what to change', () => {
    const c = baseConfig();
    c.fanOut = { steps: ['predictor', 'trait-extractor'], source: { subdirectoriesOf: 'images-input' }, maxScans: 100_000 };
    const [p] = problemsOf(c);
    expect(p.path).toBe('fanOut.maxScans');
    expect(p.message).toMatch(/^at 100000 scans, Workflow with its status would be \d+ KiB, over Argo's 1024 KiB .*; raise fanOut.scansPerPod or lower fanOut.maxScans$/);
    c.fanOut.scansPerPod = 50;
    expect(() => synth(envFrom(c))).not.toThrow();
  });

  it('fails when a pod timeout is shorter than its scans x the scan timeout', () => {
    const c = baseConfig();
    c.fanOut = { steps: ['predictor'], source: { subdirectoriesOf: 'images-input' }, scansPerPod: 10, scanTimeout: '30m' };
    c.steps.predictor.timeout = '2h';
    expect(problemsOf(c)).toContainEqual(expect.objectContaining({
      path: 'steps.predictor.timeout',
      message: '2h is shorter than 10 scans per pod (fanOut.scansPerPod) x 30m per scan (fanOut.scanTimeout) = 5h: the pod deadline would stop chunks whose scans are all within their limit; expected at least 5h',
    }));
  });

  it('fails when the run folder volume is not declared', () => {
    const c = baseConfig();
    c.steps.predictor.partialExitCodes = [3];
    c.runFolder = { volume: 'scratch' };
    expect(problemsOf(c)).toContainEqual(expect.objectContaining({ path: 'runFolder.volume' }));
  });
});
