/**
 * The lab's production pipeline (issue 12): an existing service account, run arguments a
 * dispatcher can set, a configurable gate, the wrapper and the image's ENTRYPOINT, per-step
 * provenance, per-step shapes, and the messages that point at the field to write.
 */
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { App } from 'cdk8s';
import { EXISTING_IDENTITY_GRANTS, SleapRootsPipeline } from '../lib';
import { synthesizeEnvironment } from '../lib/synth';
import { baseConfig, envFrom, pipelineTemplate, problemsOf, stepTemplate, synth } from './support/envs';

export const RUNNABLE = { timeout: '1h', resources: { requests: { cpu: '100m', memory: '128Mi' } } };

function runWorkflow(config: unknown): any {
  const { files } = synth(envFrom(config));
  return parseYaml(files.find((f) => f.path === 'test/run/sleap-roots-pipeline.yaml')!.content);
}

describe('identity (issue 12 item 1)', () => {
  it('with create: false emits no ServiceAccount, Role, RoleBinding or token Secret, and runs as the named account', () => {
    const c = baseConfig();
    c.identity = { serviceAccountName: 'lab-pipeline', create: false };
    const { manifests } = synth(envFrom(c));
    expect(manifests.map((m) => m.obj.kind).filter((k) => ['ServiceAccount', 'Role', 'RoleBinding', 'Secret'].includes(k))).toEqual([]);
    const spec = pipelineTemplate(manifests).spec;
    expect(spec.serviceAccountName).toBe('lab-pipeline');
    expect(spec.executor).toEqual({ serviceAccountName: 'lab-pipeline' });
    expect(stepTemplate(manifests, 'predictor').executor).toEqual({ serviceAccountName: 'lab-pipeline' });
  });

  it('creates the identity by default, under identity.serviceAccountName', () => {
    const c = baseConfig();
    c.identity = { serviceAccountName: 'lab-pipeline' };
    const kinds = synth(envFrom(c)).manifests.filter((m) => m.obj.metadata.name?.startsWith('lab-pipeline')).map((m) => m.obj.kind).sort();
    expect(kinds).toEqual(['Role', 'RoleBinding', 'Secret', 'ServiceAccount']);
  });

  it('keeps the older top-level serviceAccountName, and refuses it beside identity.serviceAccountName', () => {
    const c = baseConfig();
    c.serviceAccountName = 'old-name';
    c.identity = { create: false };
    expect(pipelineTemplate(synth(envFrom(c)).manifests).spec.serviceAccountName).toBe('old-name');
    c.identity = { serviceAccountName: 'new-name' };
    const [p] = problemsOf(c);
    expect(p.path).toBe('serviceAccountName');
    expect(p.message).toContain('older spelling of identity.serviceAccountName');
  });
});

describe('run arguments (issue 12 item 2)', () => {
  it('lists every declared parameter with its default in the run Workflow, so a dispatcher can set it', () => {
    const c = baseConfig();
    c.parameters = { 'scan-ids': { description: 'comma-separated scan ids' }, mode: { value: 'fast', enum: ['fast', 'slow'] } };
    c.resume = { enabled: true };
    const wf = runWorkflow(c);
    expect(wf.spec.workflowTemplateRef).toEqual({ name: 'sleap-roots-pipeline' });
    expect(wf.spec.arguments.parameters).toEqual([
      { name: 'scan-ids', value: '', description: 'comma-separated scan ids' },
      { name: 'mode', value: 'fast', enum: ['fast', 'slow'] },
      { name: 'force-rerun', value: 'false', description: expect.any(String), enum: ['false', 'true'] },
    ]);
  });

  it('has no arguments when nothing is declared', () => {
    expect(runWorkflow(baseConfig()).spec.arguments).toBeUndefined();
  });
});

/** A base configuration whose predictor records partial outcomes, so the pipeline has a gate. */
function gated(): Record<string, any> {
  const c = baseConfig();
  c.steps.predictor.partialExitCodes = [3];
  return c;
}

describe('gate settings (issue 12 item 3)', () => {
  it('takes timeout, retry, priorityClassName, preemptible, resources and image as a step does', () => {
    const c = gated();
    c.partialSuccess = {
      gate: {
        image: 'ghcr.io/example/gate-shell@sha256:' + 'ab'.repeat(32),
        timeout: '20m',
        retry: { limit: 5, backoff: { duration: '5s', cap: '2m' } },
        priorityClassName: 'high',
        preemptible: false,
        resources: { requests: { cpu: '20m', memory: '32Mi' } },
      },
    };
    const g = stepTemplate(synth(envFrom(c)).manifests, 'gate');
    expect(g.container.image).toBe(c.partialSuccess.gate.image);
    expect(g.timeout).toBe('20m');
    expect(g.priorityClassName).toBe('high');
    expect(g.container.resources).toEqual({ requests: { cpu: '20m', memory: '32Mi' } });
    // Still Error attempts only: the gate's failure is the verdict.
    expect(g.retryStrategy).toEqual({ limit: 5, retryPolicy: 'OnError', backoff: { duration: '5s', factor: 2, cap: '2m' } });
  });

  it('refuses a blank image for the gate, as for a step', () => {
    for (const at of [['partialSuccess', 'gate'], ['steps', 'predictor']]) {
      const c = gated();
      if (at[0] === 'partialSuccess') c.partialSuccess = { gate: { image: '   ' } };
      else c.steps.predictor.image = ' ';
      const [p] = problemsOf(c);
      expect(p.path).toBe(`${at.join('.')}.image`);
      expect(p.message).toContain('non-blank');
    }
  });

  it('backoff cap: none removes the cap of a preemptible step', () => {
    const c = baseConfig();
    c.steps.predictor.retry = { backoff: { cap: 'none' } };
    const r = stepTemplate(synth(envFrom(c)).manifests, 'predictor').retryStrategy;
    expect(r.backoff).toEqual({ duration: '2m', factor: 2 });
  });
});

describe('messages that name what to write (issue 12 item 7)', () => {
  it('a missing priority class says the pod gets the cluster default, and names the field that exists', () => {
    const c = gated();
    delete c.scheduling.priorityClasses;
    c.steps.predictor.preemptible = false;
    c.steps['trait-extractor'].preemptible = false;
    c.steps['models-downloader'].priorityClassName = 'high';
    c.steps.predictor.priorityClassName = 'high';
    c.steps['trait-extractor'].priorityClassName = 'high';
    const [p] = problemsOf(c);
    expect(p.path).toBe('partialSuccess.gate.priorityClassName');
    expect(p.message).toContain("the cluster's default priority");
    expect(p.message).not.toContain('highest');
    expect(p.message).toContain('partialSuccess.gate.priorityClassName: <class>');
    // ...and that field is accepted.
    c.partialSuccess = { gate: { priorityClassName: 'high' } };
    expect(() => synth(envFrom(c))).not.toThrow();
  });

  it('a Secret declared as a volume points to secretFiles', () => {
    const c = baseConfig();
    c.volumes.creds = { secret: { secretName: 'lab-creds' } };
    const [p] = problemsOf(c);
    expect(p.path).toBe('volumes.creds');
    expect(p.message).toContain('secretFiles');
  });
});

function warningsOf(config: unknown): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  synthesizeEnvironment(envFrom(config), { onWarning: (w) => out.push({ path: w.path, message: w.message }) });
  return out;
}

describe('the wrapper and the image ENTRYPOINT (issue 12 item 4)', () => {
  it('refuses a wrapped step with args but neither command nor entrypoint, saying what to write', () => {
    const c = baseConfig();
    c.resume = { enabled: true };
    c.steps.extra = { ...RUNNABLE, image: 'ghcr.io/example/extra:1.0.0', args: ['--scans', '/data'], mounts: [{ volume: 'traits-output', path: '/data' }], dependencies: ['trait-extractor'] };
    const [p] = problemsOf(c);
    expect(p.path).toBe('steps.extra.entrypoint');
    expect(p.message).toContain('ENTRYPOINT would not run');
    expect(p.message).toContain('args[0] ("--scans")');
    expect(p.message).toContain('entrypoint: [<the image\'s ENTRYPOINT>]');
  });

  it('runs a declared entrypoint before the args under the wrapper, and leaves it to the runtime otherwise', () => {
    const c = baseConfig();
    c.resume = { enabled: true };
    c.steps.extra = { ...RUNNABLE, image: 'ghcr.io/example/extra:1.0.0', entrypoint: ['/usr/bin/lab-cli'], args: ['upload'], mounts: [{ volume: 'traits-output', path: '/data' }], dependencies: ['trait-extractor'] };
    const wrapped = stepTemplate(synth(envFrom(c)).manifests, 'extra').container;
    expect(wrapped.command[0]).toBe('/bin/sh');
    expect(wrapped.args).toEqual(['/usr/bin/lab-cli', 'upload']);
    delete c.resume;
    const plain = stepTemplate(synth(envFrom(c)).manifests, 'extra').container;
    expect(plain.command).toBeUndefined();
    expect(plain.args).toEqual(['upload']);
  });
});

const DIGEST_A = 'sha256:' + 'a'.repeat(64);
const DIGEST_B = 'sha256:' + 'b'.repeat(64);

describe('per-step provenance (issue 12 item 5)', () => {
  it('stamps each step with its own image digest under its own variable', () => {
    const c = baseConfig();
    c.provenance = { imageDigestEnv: 'IMAGE_DIGEST' };
    c.steps.predictor.image = `ghcr.io/example/predict@${DIGEST_A}`;
    c.steps['trait-extractor'].image = `ghcr.io/example/traits@${DIGEST_B}`;
    c.steps['trait-extractor'].provenance = { imageDigestEnv: 'TRAITS_IMAGE_DIGEST' };
    const { manifests } = synth(envFrom(c));
    expect(stepTemplate(manifests, 'predictor').container.env).toContainEqual({ name: 'IMAGE_DIGEST', value: DIGEST_A });
    const traits = stepTemplate(manifests, 'trait-extractor').container.env;
    expect(traits).toContainEqual({ name: 'TRAITS_IMAGE_DIGEST', value: DIGEST_B });
    expect(traits.map((e: any) => e.name)).not.toContain('IMAGE_DIGEST');
  });

  it('refuses a hand-written digest variable that is not the image digest', () => {
    const c = baseConfig();
    c.steps.predictor.image = `ghcr.io/example/predict@${DIGEST_A}`;
    c.steps.predictor.provenance = { imageDigestEnv: 'PREDICT_DIGEST' };
    c.steps.predictor.env = [{ name: 'PREDICT_DIGEST', value: DIGEST_B }];
    const [p] = problemsOf(c);
    expect(p.path).toBe('steps.predictor.env[0].value');
    expect(p.message).toContain(`given "${DIGEST_B}"`);
    expect(p.message).toContain(`pinned at ${DIGEST_A}`);
  });

  it('warns when a digest is stamped on a step whose image it does not describe', () => {
    const c = baseConfig();
    c.steps.predictor.image = `ghcr.io/example/predict@${DIGEST_A}`;
    c.steps.predictor.env = [{ name: 'TRAITS_DIGEST', value: DIGEST_B }];
    expect(warningsOf(c)).toEqual([{ path: 'steps.predictor.env[0].value', message: expect.stringContaining('does not describe this step\'s image') }]);
    c.steps.predictor.env = [{ name: 'SELF_DIGEST', value: DIGEST_A }];
    expect(warningsOf(c)).toEqual([]);
  });
});

describe('the exit-code files folder (issue 12 item 7)', () => {
  it('warns when a recording step would write its exit-code files among its inputs', () => {
    const c = gated();
    c.runFolder = { volume: 'images-input' };
    c.steps.predictor.mounts = [{ volume: 'images-input', path: '/workspace/images_input', readOnly: true }, { volume: 'predictions-output', path: '/workspace/output' }];
    const w = warningsOf(c);
    expect(w).toEqual([{ path: 'runFolder.volume', message: expect.stringContaining('step predictor writes its exit-code files under the run folder on volume "images-input", a folder this step reads as input') }]);
    expect(warningsOf(gated())).toEqual([]);
  });
});

describe('shapes that were fixed (issue 12 item 6)', () => {
  it('names templates by a pipeline-wide prefix or a step\'s own name, and the DAG follows', () => {
    const c = gated();
    c.templateNamePrefix = 'lab-';
    c.steps.predictor.templateName = 'lab-sleap-predict';
    const { manifests } = synth(envFrom(c));
    const names = manifests.filter((m) => m.obj.kind === 'WorkflowTemplate').map((m) => m.obj.metadata.name).sort();
    expect(names).toEqual(['lab-gate', 'lab-models-downloader', 'lab-sleap-predict', 'lab-trait-extractor', 'sleap-roots-pipeline']);
    const spec = pipelineTemplate(manifests).spec;
    expect(spec.templates[0].dag.tasks.find((t: any) => t.name === 'predictor').templateRef).toEqual({ name: 'lab-sleap-predict', template: 'predictor' });
    expect(spec.hooks.exit.templateRef.name).toBe('lab-gate');
  });

  it('refuses two steps with one template name', () => {
    const c = baseConfig();
    c.steps.predictor.templateName = 'sleap-roots-trait-extractor';
    const [p] = problemsOf(c);
    expect(p.path).toBe('steps.trait-extractor.templateName');
    expect(p.message).toContain('the template name of step predictor too');
  });

  it('annotates the WorkflowTemplate objects, and refuses GPU annotations there', () => {
    const c = baseConfig();
    c.templateAnnotations = { 'lab.example.org/owner': 'roots' };
    c.steps.predictor.templateAnnotations = { 'lab.example.org/stage': 'predict' };
    const { manifests } = synth(envFrom(c));
    const predictor = manifests.find((m) => m.obj.metadata.name === 'sleap-roots-predictor')!.obj;
    expect(predictor.metadata.annotations).toEqual({ 'lab.example.org/owner': 'roots', 'lab.example.org/stage': 'predict' });
    expect(pipelineTemplate(manifests).metadata.annotations).toEqual({ 'lab.example.org/owner': 'roots' });
    expect(stepTemplate(manifests, 'predictor').metadata.annotations).not.toHaveProperty(['lab.example.org/owner']);
    c.steps.predictor.templateAnnotations = { 'gpu-fraction': '0.5' };
    const [p] = problemsOf(c);
    expect(p.path).toBe('steps.predictor.templateAnnotations.gpu-fraction');
    expect(p.message).toContain('never copies to pods');
  });

  it('sets a scheduler per step', () => {
    const c = baseConfig();
    c.steps['models-downloader'].scheduler = 'default-scheduler';
    const { manifests } = synth(envFrom(c));
    expect(stepTemplate(manifests, 'models-downloader').schedulerName).toBeUndefined();
    expect(stepTemplate(manifests, 'predictor').schedulerName).toBe('runai-scheduler');
    c.steps.predictor.scheduler = 'default-scheduler';
    const [p] = problemsOf(c);
    expect(p.path).toBe('steps.predictor.gpu');
    expect(p.message).toContain('steps.predictor.scheduler is default-scheduler');
  });

  it('sets the main container\'s own runAsUser/runAsGroup, and refuses root under a non-root pod', () => {
    const c = baseConfig();
    c.security = { runAsUser: 1000 };
    c.steps.predictor.containerSecurityContext = { runAsUser: 2000, runAsGroup: 3000 };
    const t = stepTemplate(synth(envFrom(c)).manifests, 'predictor');
    expect(t.securityContext.runAsUser).toBe(1000);
    expect(t.container.securityContext).toMatchObject({ runAsUser: 2000, runAsGroup: 3000, capabilities: { drop: ['ALL'] } });
    c.steps.predictor.containerSecurityContext = { runAsUser: 0 };
    const [p] = problemsOf(c);
    expect(p.path).toBe('steps.predictor.containerSecurityContext.runAsUser');
    expect(p.message).toContain('runAsNonRoot');
  });

  it('drops seccomp and the capability drop for one step only when policy allows it', () => {
    const c = baseConfig();
    c.steps['models-downloader'].hardened = false;
    const [p] = problemsOf(c);
    expect(p.path).toBe('steps.models-downloader.hardened');
    expect(p.message).toContain('policy.allowUnhardened: true');
    c.policy = { allowUnhardened: true };
    const { manifests } = synth(envFrom(c));
    const t = stepTemplate(manifests, 'models-downloader');
    expect(t.securityContext.seccompProfile).toBeUndefined();
    expect(t.container.securityContext).toEqual({ privileged: false, readOnlyRootFilesystem: false });
    expect(stepTemplate(manifests, 'predictor').securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
  });
});

describe('the identity as a construct prop', () => {
  it('SleapRootsPipeline with identity.create false wires no identity objects', () => {
    const app = new App();
    const lab = new SleapRootsPipeline(app, 'lab', { namespace: 'plants', identity: { serviceAccountName: 'admin-made', create: false }, policy: { allowUnpinnedImages: true } });
    expect(lab.objects.serviceAccount).toBeUndefined();
    expect(lab.objects.role).toBeUndefined();
    expect(lab.objects.executorToken).toBeUndefined();
    expect((lab.template.toJson() as any).spec.serviceAccountName).toBe('admin-made');
    expect(Object.keys(EXISTING_IDENTITY_GRANTS).length).toBeGreaterThan(0);
    expect(EXISTING_IDENTITY_GRANTS.join(' ')).toContain('workflowtaskresults');
  });
});
