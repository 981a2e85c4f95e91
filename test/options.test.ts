/**
 * Resume-and-scale options, each off and on, and the validation they bring. The shell scripts
 * they synthesize (marker wrapper, image-set lister, gate) are run for real with /bin/sh.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GATE_SCRIPT, LIST_PARAMETER_SCRIPT, LIST_SUBDIRECTORIES_SCRIPT } from '../lib/steps/utility';
import { WRAPPER_SCRIPT } from '../lib/steps/wrapper';
import { baseConfig, envFrom, pipelineTemplate, problemsOf, stepTemplate, synth } from './support/envs';

const STEP_TEMPLATES = (manifests: ReturnType<typeof synth>['manifests']) =>
  manifests.filter((m) => m.obj.kind === 'WorkflowTemplate' && m.obj.metadata.name !== 'sleap-roots-pipeline').map((m) => m.obj.metadata.name).sort();

describe('options off (the defaults)', () => {
  const { manifests, files } = synth(envFrom(baseConfig()));
  it('runs each command as given, without wrapper, lister, gate, semaphores or hashes', () => {
    expect(STEP_TEMPLATES(manifests)).toEqual(['sleap-roots-models-downloader', 'sleap-roots-predictor', 'sleap-roots-trait-extractor']);
    for (const step of ['models-downloader', 'predictor', 'trait-extractor']) {
      const t = stepTemplate(manifests, step);
      expect(t.container.command).toBeUndefined();
      expect(t.container.env).toEqual([{ name: 'ARGO_WORKFLOW_NAME', value: '{{workflow.name}}' }]);
      expect(t.synchronization).toBeUndefined();
      expect(t.outputs).toBeUndefined();
    }
    expect(files.some((f) => f.path.includes('configmap'))).toBe(false);
    const tasks = pipelineTemplate(manifests).spec.templates[0].dag.tasks;
    expect(tasks.map((t: any) => t.name)).toEqual(['models-downloader', 'predictor', 'trait-extractor']);
    expect(tasks.every((t: any) => t.withParam === undefined && t.continueOn === undefined)).toBe(true);
    expect(pipelineTemplate(manifests).spec.arguments).toBeUndefined();
  });
});

describe('options on', () => {
  it('fan-out from a parameter lists it, and declares nothing new in the template', () => {
    const c = baseConfig();
    c.parameters = { 'image-sets': { value: '', description: 'comma-separated scan folders' } };
    c.fanOut = { steps: ['predictor'], source: { parameter: 'image-sets' } };
    const { manifests } = synth(envFrom(c));
    const lister = stepTemplate(manifests, 'list-image-sets');
    expect(lister.container.args).toEqual(['{{workflow.parameters.image-sets}}']);
    expect(lister.container.volumeMounts).toBeUndefined();
    const tasks = Object.fromEntries(pipelineTemplate(manifests).spec.templates[0].dag.tasks.map((t: any) => [t.name, t]));
    expect(tasks.predictor.withParam).toBeDefined();
    expect(tasks['trait-extractor'].withParam).toBeUndefined();
  });

  it('the manifests do not grow with the number of image sets', () => {
    const c = baseConfig();
    c.parameters = { 'image-sets': { value: '' } };
    c.fanOut = { steps: ['predictor', 'trait-extractor'], source: { parameter: 'image-sets' } };
    const small = synth(envFrom({ ...c, parameters: { 'image-sets': { value: 'a,b' } } })).files;
    const big = synth(envFrom({ ...c, parameters: { 'image-sets': { value: '' } } })).files;
    const size = (fs: typeof small) => fs.filter((f) => !f.path.includes('pipeline')).reduce((n, f) => n + f.content.length, 0);
    expect(size(small)).toBe(size(big));
  });

  it('a semaphore on a named step, values as strings in the ConfigMap', () => {
    const c = baseConfig();
    c.concurrency = { semaphores: { 'pipeline-gpu': 2, 'traits-io': 10 }, configMapName: 'lab-semaphores' };
    c.steps['trait-extractor'].semaphore = 'traits-io';
    const { manifests } = synth(envFrom(c));
    expect(manifests.find((m) => m.obj.kind === 'ConfigMap')!.obj).toMatchObject({ metadata: { name: 'lab-semaphores' }, data: { 'pipeline-gpu': '2', 'traits-io': '10' } });
    expect(stepTemplate(manifests, 'trait-extractor').synchronization.semaphores).toEqual([{ configMapKeyRef: { name: 'lab-semaphores', key: 'traits-io' } }]);
    expect(stepTemplate(manifests, 'predictor').synchronization).toBeUndefined();
  });

  it('partial exit codes on an unfanned step are judged from tasks.<step>.exitCode', () => {
    const c = baseConfig();
    c.steps['trait-extractor'].partialExitCodes = [3, 4];
    c.partialSuccess = { gate: { image: 'ghcr.io/x/gate:1.0' } };
    const { manifests } = synth(envFrom(c));
    const tasks = Object.fromEntries(pipelineTemplate(manifests).spec.templates[0].dag.tasks.map((t: any) => [t.name, t]));
    expect(tasks.gate.arguments.parameters).toEqual([{ name: 'trait-extractor-exit-codes', value: '{{tasks.trait-extractor.exitCode}}' }]);
    expect(stepTemplate(manifests, 'gate').container.image).toBe('ghcr.io/x/gate:1.0');
    expect(stepTemplate(manifests, 'gate').container.args.slice(0, 2)).toEqual(['trait-extractor', '0 3 4']);
  });

  it('versioned template names change with content and only then; GitOps tools must not prune them', () => {
    const c = baseConfig();
    c.versionedTemplates = true;
    const { manifests } = synth(envFrom(c));
    for (const m of manifests.filter((x) => x.obj.kind === 'WorkflowTemplate')) {
      const keep = m.obj.metadata.name === 'sleap-roots-pipeline' ? undefined : { 'argocd.argoproj.io/sync-options': 'Prune=false', 'kustomize.toolkit.fluxcd.io/prune': 'disabled' };
      expect(m.obj.metadata.annotations, m.obj.metadata.name).toEqual(keep);
    }
    const a = STEP_TEMPLATES(manifests);
    expect(STEP_TEMPLATES(synth(envFrom(c)).manifests)).toEqual(a);
    c.steps.predictor.timeout = '2h';
    const b = STEP_TEMPLATES(synth(envFrom(c)).manifests);
    expect(b.filter((n) => n.includes('predictor'))).not.toEqual(a.filter((n) => n.includes('predictor')));
    expect(b.filter((n) => !n.includes('predictor'))).toEqual(a.filter((n) => !n.includes('predictor')));
  });

  it('a digest-pinned image gets its digest in the named env var', () => {
    const c = baseConfig();
    const digest = `sha256:${'d'.repeat(64)}`;
    c.steps.predictor.image = `ghcr.io/talmolab/sleap-roots-predict@${digest}`;
    c.provenance = { imageDigestEnv: 'IMAGE_DIGEST' };
    const { manifests } = synth(envFrom(c));
    expect(stepTemplate(manifests, 'predictor').container.env).toContainEqual({ name: 'IMAGE_DIGEST', value: digest });
    expect(stepTemplate(manifests, 'trait-extractor').container.env.map((e: any) => e.name)).not.toContain('IMAGE_DIGEST');
  });
});

describe('option validation', () => {
  it('fails when a semaphore limit is not a positive integer', () => {
    const c = baseConfig();
    c.concurrency = { semaphores: { 'pipeline-gpu': '8' } };
    const [p] = problemsOf(c);
    expect(p.path).toBe('concurrency.semaphores.pipeline-gpu');
    expect(p.message).toContain('given "8"');
    c.concurrency = { semaphores: { 'pipeline-gpu': 0 } };
    expect(problemsOf(c)[0].message).toContain('given 0');
  });

  it('fails when a step or gpuSemaphore names an undeclared semaphore', () => {
    const c = baseConfig();
    c.concurrency = { semaphores: { 'pipeline-gpu': 4 }, gpuSemaphore: 'gpus' };
    c.steps['trait-extractor'].semaphore = 'cpus';
    expect(problemsOf(c).map((p) => [p.path, p.message])).toEqual([
      ['concurrency.gpuSemaphore', 'no semaphore "gpus" in concurrency.semaphores; expected one of: pipeline-gpu'],
      ['steps.trait-extractor.semaphore', 'no semaphore "cpus" in concurrency.semaphores; expected one of: pipeline-gpu'],
    ]);
  });

  it('fails when fan-out names a missing step, volume or parameter', () => {
    const c = baseConfig();
    c.fanOut = { steps: ['predicter'], source: { subdirectoriesOf: 'scans' }, itemVolumes: ['images'] };
    expect(problemsOf(c).map((p) => p.path)).toEqual(['fanOut.steps[0]', 'fanOut.source.subdirectoriesOf', 'fanOut.itemVolumes[0]']);
    c.fanOut = { steps: ['predictor'], source: { parameter: 'image-sets' } };
    expect(problemsOf(c).map((p) => p.path)).toEqual(['fanOut.source.parameter']);
  });

  it('fails when resume is on for a step without a writable mount', () => {
    const c = baseConfig();
    c.resume = { enabled: true };
    c.steps['write-back'] = { image: 'ghcr.io/x/wb:1.0', dependencies: ['trait-extractor'], mounts: [{ volume: 'traits-output', path: '/in', readOnly: true }] };
    const [p] = problemsOf(c);
    expect(p.path).toBe('steps.write-back.output');
  });

  it('fails when the marker name does not contain {step}', () => {
    const c = baseConfig();
    c.resume = { enabled: true, markerName: 'done' };
    expect(problemsOf(c)[0]).toMatchObject({ path: 'resume.markerName', message: expect.stringContaining('{step}') });
  });
});

describe('the synthesized shell scripts, run with /bin/sh', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sleap-sh-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const sh = (script: string, args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync('/bin/sh', ['-c', script, 'test', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  it('wrapper: runs, writes the marker atomically on 0, and skips a second time', () => {
    const marker = path.join(dir, 'out', '.sleap-roots', 'step.done');
    const count = path.join(dir, 'runs');
    const cmd = ['/bin/sh', '-c', `echo run >> ${count}`];
    const env = { SLEAP_ROOTS_MARKER: marker, SLEAP_ROOTS_INPUT_MARKERS: '', ARGO_WORKFLOW_NAME: 'wf-1' };
    expect(sh(WRAPPER_SCRIPT, cmd, env).code).toBe(0);
    expect(fs.readFileSync(marker, 'utf8')).toBe('wf-1\n');
    expect(fs.readdirSync(path.dirname(marker))).toEqual(['step.done']); // no temp file left
    const second = sh(WRAPPER_SCRIPT, cmd, env);
    expect(second.out).toContain('skipping');
    expect(fs.readFileSync(count, 'utf8')).toBe('run\n');
    expect(sh(WRAPPER_SCRIPT, cmd, { ...env, SLEAP_ROOTS_FORCE: 'true' }).code).toBe(0);
    expect(fs.readFileSync(count, 'utf8')).toBe('run\nrun\n');
  });

  it('wrapper: reruns when an input marker is newer or missing, and never marks a failure', () => {
    const marker = path.join(dir, 'step.done');
    const input = path.join(dir, 'input.done');
    fs.writeFileSync(marker, 'old\n');
    fs.writeFileSync(input, 'x\n');
    const past = new Date(Date.now() - 60_000);
    fs.utimesSync(marker, past, past);
    const failing = ['/bin/sh', '-c', 'exit 3'];
    const r = sh(WRAPPER_SCRIPT, failing, { SLEAP_ROOTS_MARKER: marker, SLEAP_ROOTS_INPUT_MARKERS: input, SLEAP_ROOTS_EXIT_CODE_FILE: path.join(dir, 'code') });
    expect(r.code).toBe(3);
    expect(r.out).toContain('running again');
    expect(fs.readFileSync(marker, 'utf8')).toBe('old\n');
    expect(fs.readFileSync(path.join(dir, 'code'), 'utf8')).toBe('3\n');
    const missing = sh(WRAPPER_SCRIPT, ['true'], { SLEAP_ROOTS_MARKER: marker, SLEAP_ROOTS_INPUT_MARKERS: path.join(dir, 'nope') });
    expect(missing.out).toContain('missing or newer');
  });

  it('wrapper: passes arguments through unquoted and untouched', () => {
    const out = path.join(dir, 'args');
    const r = sh(WRAPPER_SCRIPT, ['/bin/sh', '-c', `printf '%s|' "$@" > ${out}`, 'x', 'a b', '$HOME', '*']);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe('a b|$HOME|*|');
  });

  it('lister: prints sub-directories as a JSON list, hidden ones skipped', () => {
    for (const d of ['scan-2', 'scan-1', '.sleap-roots']) fs.mkdirSync(path.join(dir, d));
    fs.writeFileSync(path.join(dir, 'file.txt'), '');
    const r = sh(LIST_SUBDIRECTORIES_SCRIPT, [dir]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual(['scan-1', 'scan-2']);
    expect(JSON.parse(sh(LIST_SUBDIRECTORIES_SCRIPT, [path.join(dir, 'scan-1')]).out)).toEqual([]);
    expect(sh(LIST_SUBDIRECTORIES_SCRIPT, [path.join(dir, 'absent')]).code).not.toBe(0);
  });

  it('lister: turns a parameter into a JSON list', () => {
    expect(JSON.parse(sh(LIST_PARAMETER_SCRIPT, ['a, b,,c']).out)).toEqual(['a', 'b', 'c']);
    expect(JSON.parse(sh(LIST_PARAMETER_SCRIPT, ['["x","y"]']).out)).toEqual(['x', 'y']);
    expect(JSON.parse(sh(LIST_PARAMETER_SCRIPT, ['']).out)).toEqual([]);
  });

  it('gate: passes on 0 and declared partial codes, fails otherwise or when unresolved', () => {
    expect(sh(GATE_SCRIPT, ['predictor', '0 3', '3']).code).toBe(0);
    expect(sh(GATE_SCRIPT, ['predictor', '0 3', '1']).code).toBe(1);
    expect(sh(GATE_SCRIPT, ['predictor', '0 3', '{{tasks.predictor.exitCode}}']).code).toBe(1);
    const fanned = JSON.stringify([{ 'exit-code': '0' }, { 'exit-code': '3' }]);
    expect(sh(GATE_SCRIPT, ['predictor', '0 3', fanned, 'traits', '0', '0']).code).toBe(0);
    const bad = sh(GATE_SCRIPT, ['predictor', '0 3', JSON.stringify([{ 'exit-code': '0' }, { 'exit-code': '137' }])]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('predictor exited 137; accepted: 0 3');
    expect(sh(GATE_SCRIPT, ['predictor', '0 3', '[]']).code).toBe(0);
  });
});
