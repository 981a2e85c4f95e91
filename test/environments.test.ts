/**
 * The shipped environments: a snapshot of every file, and beside it the intent the snapshot
 * must keep (DAG edges, GPU placement, priority and retry, hostPath types, RBAC, security).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { synthesizeEnvironment } from '../lib/synth';
import { validateManifest } from '../lib/validation/manifests';
import { pipelineTemplate, ROOT, shipped, SHIPPED, stepTemplate, synth, type Manifest } from './support/envs';

const STEPS = ['models-downloader', 'predictor', 'trait-extractor'];

/** An environment keeping the seed's three built-in steps, resume and shared folders (not the production shape). */
function seedShaped(name: string): boolean {
  const c = shipped(name).config;
  return STEPS.every((s) => c.steps?.[s]?.enabled !== false) && c.resume?.enabled === true;
}

/**
 * `it` for a test that applies to the environment; otherwise the test is not declared at all, so
 * a run shows no skipped tests (a skip in CI would look like a test that did not run).
 */
function itWhen(applies: boolean): typeof it {
  return applies ? it : ((() => undefined) as unknown as typeof it);
}

/** The service account an environment's pods run as. */
function accountOf(name: string): string {
  const c = shipped(name).config;
  return c.identity?.serviceAccountName ?? c.serviceAccountName ?? 'sleap-roots-step';
}

function build(name: string): Manifest[] {
  return synth(shipped(name)).manifests;
}

describe.each(SHIPPED)('environment %s', (name) => {
  const { files, manifests } = synth(shipped(name));

  it('matches its snapshot', () => {
    for (const f of files) expect(f.content).toMatchSnapshot(f.path);
  });

  it('is schema-valid object by object', () => {
    for (const m of manifests) expect(validateManifest(m.obj), m.file).toEqual([]);
  });

  itWhen(seedShaped(name))('runs the DAG models-downloader -> predictor -> trait-extractor by templateRef', () => {
    const tasks = pipelineTemplate(manifests).spec.templates[0].dag.tasks.filter((t: any) => STEPS.includes(t.name));
    expect(tasks.map((t: any) => [t.name, (t.dependencies ?? []).filter((d: string) => STEPS.includes(d))])).toEqual([
      ['models-downloader', []],
      ['predictor', ['models-downloader']],
      ['trait-extractor', ['predictor']],
    ]);
    const templates = new Set(manifests.filter((m) => m.obj.kind === 'WorkflowTemplate').map((m) => m.obj.metadata.name));
    for (const t of tasks) {
      expect(t.templateRef.template).toBe(t.name);
      expect(t.templateRef.name).toMatch(new RegExp(`^sleap-roots-${t.name}(-[0-9a-f]{8})?$`));
      expect(templates.has(t.templateRef.name), t.templateRef.name).toBe(true);
    }
  });

  it('puts everything in one namespace and labels it with the environment', () => {
    const ns = shipped(name).config.namespace;
    for (const m of manifests) {
      expect(m.obj.metadata.namespace, m.file).toBe(ns);
      expect(m.obj.metadata.labels['sleap-roots.io/environment'], m.file).toBe(name);
    }
  });

  it('never puts GPU annotations on object metadata, nor nvidia.com/gpu next to a fraction', () => {
    for (const m of manifests) {
      const ann = m.obj.metadata.annotations ?? {};
      expect(Object.keys(ann).filter((k) => k.startsWith('gpu-')), m.file).toEqual([]);
    }
    for (const step of pipelineTemplate(manifests).spec.templates[0].dag.tasks.map((t: any) => t.name)) {
      const t = stepTemplate(manifests, step);
      const podAnn = t.metadata?.annotations ?? {};
      const limits = t.container.resources?.limits ?? {};
      if ('gpu-fraction' in podAnn || 'gpu-memory' in podAnn) expect(limits).not.toHaveProperty(['nvidia.com/gpu']);
    }
  });

  it('hardens every step pod', () => {
    const all = manifests.filter((m) => m.obj.kind === 'WorkflowTemplate' && m.obj.metadata.name !== 'sleap-roots-pipeline').map((m) => m.obj.spec.templates[0].name);
    expect(all.length).toBeGreaterThanOrEqual(3);
    for (const step of all) {
      const t = stepTemplate(manifests, step);
      expect(t.container.securityContext).toMatchObject({ privileged: false, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      expect(t.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
      expect(t.automountServiceAccountToken).toBe(false);
      expect(t.executor).toEqual({ serviceAccountName: accountOf(name) });
    }
    const spec = pipelineTemplate(manifests).spec;
    expect(spec).toMatchObject({ serviceAccountName: accountOf(name), automountServiceAccountToken: false, executor: { serviceAccountName: accountOf(name) } });
  });

  it('gives every step its workflow name for provenance, and labels runs with environment and version', () => {
    const steps = pipelineTemplate(manifests).spec.templates[0].dag.tasks.map((t: any) => t.name);
    for (const step of steps) expect(stepTemplate(manifests, step).container.env).toContainEqual({ name: 'ARGO_WORKFLOW_NAME', value: '{{workflow.name}}' });
    expect(pipelineTemplate(manifests).spec.workflowMetadata.labels).toEqual({
      'app.kubernetes.io/part-of': 'sleap-roots-pipeline',
      'app.kubernetes.io/version': expect.stringMatching(/^\d+\.\d+\.\d+/),
      'sleap-roots.io/environment': name,
    });
  });

  itWhen(seedShaped(name))('skips finished stages: markers in each output dir, newer than the inputs\' markers, force-rerun to redo', () => {
    const byName = (step: string, env: string) => stepTemplate(manifests, step).container.env.find((e: any) => e.name === env)?.value;
    expect(byName('models-downloader', 'SLEAP_ROOTS_MARKER')).toBe('/workspace/output/.sleap-roots/models-downloader.done');
    expect(byName('models-downloader', 'SLEAP_ROOTS_INPUT_MARKERS')).toBe('');
    expect(byName('predictor', 'SLEAP_ROOTS_INPUT_MARKERS')).toBe('/workspace/models_input/.sleap-roots/models-downloader.done');
    expect(byName('trait-extractor', 'SLEAP_ROOTS_INPUT_MARKERS')).toBe('/workspace/input/.sleap-roots/predictor.done');
    for (const step of STEPS) {
      const c = stepTemplate(manifests, step).container;
      expect(c.command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
      expect(c.args.slice(0, 2)).toEqual(['python', '/workspace/src/main.py']);
      expect(byName(step, 'SLEAP_ROOTS_FORCE')).toBe('{{workflow.parameters.force-rerun}}');
    }
    const force = pipelineTemplate(manifests).spec.arguments.parameters.find((p: any) => p.name === 'force-rerun');
    expect(force).toMatchObject({ value: 'false', enum: ['false', 'true'] });
  });

  it('mounts every shared directory as hostPath type Directory', () => {
    const volumes = pipelineTemplate(manifests).spec.volumes;
    expect(volumes.map((v: any) => v.name).sort()).toEqual(Object.keys(shipped(name).config.volumes ?? {}).sort());
    if (seedShaped(name)) expect(volumes.map((v: any) => v.name).sort()).toEqual(['images-input', 'models-input', 'models-output', 'predictions-output', 'traits-output']);
    for (const v of volumes) expect(v.hostPath.type).toBe('Directory');
  });

  itWhen(shipped(name).config.identity?.create !== false)('grants the step service account exactly create/patch on workflowtaskresults', () => {
    const role = manifests.find((m) => m.obj.kind === 'Role')!.obj;
    expect(role.rules).toEqual([{ apiGroups: ['argoproj.io'], resources: ['workflowtaskresults'], verbs: ['create', 'patch'] }]);
    const binding = manifests.find((m) => m.obj.kind === 'RoleBinding')!.obj;
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
    expect(binding.subjects).toEqual([expect.objectContaining({ kind: 'ServiceAccount', name: 'sleap-roots-step' })]);
    const sa = manifests.find((m) => m.obj.kind === 'ServiceAccount')!.obj;
    expect(sa.automountServiceAccountToken).toBe(false);
  });

  it('keeps the run manifest (generateName only) out of what kubectl apply reads', () => {
    const top = files.filter((f) => f.path.split('/').length === 2);
    for (const f of top) expect(f.content, f.path).not.toMatch(/generateName/);
    const run = manifests.find((m) => m.obj.kind === 'Workflow')!;
    expect(run.file).toBe(`${name}/run/sleap-roots-pipeline.yaml`);
    expect(run.obj.metadata).not.toHaveProperty('name');
    expect(run.obj.metadata.generateName).toBe('sleap-roots-pipeline-');
    expect(run.obj.spec.workflowTemplateRef).toEqual({ name: 'sleap-roots-pipeline' });
    // Every parameter the template declares, for a dispatcher to set before it submits.
    const declared = (pipelineTemplate(manifests).spec.arguments?.parameters ?? []).map((p: any) => [p.name, p.value]);
    expect((run.obj.spec.arguments?.parameters ?? []).map((p: any) => [p.name, p.value])).toEqual(declared);
  });

  it('orders files so kubectl apply creates identities before templates, steps before the pipeline', () => {
    // What kubectl apply -f reads (.yaml; not the extension-less Kustomization).
    const kinds = files.filter((f) => f.path.split('/').length === 2 && f.path.endsWith('.yaml')).map((f) => path.basename(f.path));
    const rank = (re: RegExp) => kinds.findIndex((k) => re.test(k));
    if (shipped(name).config.identity?.create !== false) {
      expect(rank(/serviceaccount/)).toBeGreaterThanOrEqual(0);
      expect(rank(/serviceaccount/)).toBeLessThan(rank(/-role-/));
      expect(rank(/-role-/)).toBeLessThan(rank(/rolebinding/));
      expect(rank(/rolebinding/)).toBeLessThan(rank(/sleap-roots-predictor/));
    }
    if (rank(/configmap/) >= 0) expect(rank(/configmap/)).toBeLessThan(rank(/workflowtemplate/));
    expect(kinds[kinds.length - 1]).toBe('60-workflowtemplate-sleap-roots-pipeline.yaml');
  });

  it('is what dist/ holds (dist/ is not stale)', () => {
    for (const f of files) {
      const committed = path.join(ROOT, 'dist', f.path);
      expect(fs.existsSync(committed), `${committed} missing: run npm run synth`).toBe(true);
      expect(fs.readFileSync(committed, 'utf8'), `${committed} is stale: run npm run synth`).toBe(f.content);
    }
  });
});

describe('local', () => {
  const manifests = build('local');
  it('requests no GPU anywhere and names no GPU scheduler', () => {
    for (const step of STEPS) {
      const t = stepTemplate(manifests, step);
      expect(t.metadata?.annotations ?? {}).toEqual({});
      expect(Object.keys(t.container.resources?.limits ?? {})).not.toContain('nvidia.com/gpu');
      expect(t.schedulerName).toBeUndefined();
      expect(t.tolerations).toBeUndefined();
    }
  });
  it('uses the WSL2 host paths in namespace argo', () => {
    const spec = pipelineTemplate(manifests).spec;
    for (const v of spec.volumes) expect(v.hostPath.path).toMatch(/^\/run\/desktop\/mnt\/host\/wsl\//);
    expect(pipelineTemplate(manifests).metadata.namespace).toBe('argo');
  });
});

describe('runai', () => {
  const manifests = build('runai');
  it('gives the predictor half a GPU as pod annotations aimed at the main container', () => {
    const t = stepTemplate(manifests, 'predictor');
    expect(t.metadata.annotations).toEqual({ 'gpu-fraction': '0.5', 'gpu-fraction-container-name': 'main' });
    expect(JSON.parse(t.podSpecPatch)).toEqual({ '$setElementOrder/containers': [{ name: 'main' }, { name: 'wait' }] });
    expect(t.container.name).toBe('main');
    expect(t.container.resources.limits).not.toHaveProperty(['nvidia.com/gpu']);
    expect(t.container.resources.requests).not.toHaveProperty(['nvidia.com/gpu']);
  });
  it('schedules every step with runai-scheduler, an explicit priority class and the project labels', () => {
    for (const step of STEPS) {
      const t = stepTemplate(manifests, step);
      expect(t.schedulerName).toBe('runai-scheduler');
      expect(t.priorityClassName).toMatch(/^(interactive-preemptible|high)$/);
      expect(t.metadata.labels).toEqual({ project: 'talmo-lab', 'runai/queue': 'talmo-lab' });
    }
    expect(pipelineTemplate(manifests).metadata.namespace).toBe('runai-talmo-lab');
  });
  it('retries preemptible steps on preemption and infrastructure errors only, with backoff', () => {
    const expression = (codes: string) => `lastRetry.status == "Error" || (lastRetry.status == "Failed" && !(lastRetry.message contains "deadline") && lastRetry.exitCode in [${codes}])`;
    for (const step of ['predictor', 'trait-extractor']) {
      const t = stepTemplate(manifests, step);
      expect(t.priorityClassName).toBe('interactive-preemptible');
      // 75: the wrapper could not record an outcome; 137/143: the pod was stopped; never 1, 2 or 3.
      expect(t.retryStrategy).toEqual({ limit: 3, retryPolicy: 'Always', expression: expression('"-1", "75", "137", "143"'), backoff: { duration: '2m', factor: 2, cap: '30m' } });
    }
    const md = stepTemplate(manifests, 'models-downloader');
    expect(md.priorityClassName).toBe('high');
    expect(md.retryStrategy).toMatchObject({ limit: 2, retryPolicy: 'Always', backoff: { duration: '30s', factor: 2, cap: '5m' } });
  });

  it('gives every step, utility steps included, a timeout, requests, a retry and a priority class; utility steps are preemptible and short', () => {
    for (const step of [...STEPS, 'list-image-sets', 'gate']) {
      const t = stepTemplate(manifests, step);
      expect(t.timeout, step).toMatch(/^\d+[hm]$/);
      expect(Object.keys(t.container.resources.requests).sort(), step).toEqual(['cpu', 'memory']);
      expect(t.retryStrategy.limit, step).toBeGreaterThan(0);
      expect(t.priorityClassName, step).toBeDefined();
    }
    for (const step of ['list-image-sets', 'gate']) {
      expect(stepTemplate(manifests, step).priorityClassName).toBe('interactive-preemptible');
      expect(stepTemplate(manifests, step).timeout).toBe('10m');
    }
  });

  it('fans predictor and trait-extractor out over chunks of 50 scans the lister writes, bounded by parallelism', () => {
    const dag = pipelineTemplate(manifests).spec.templates[0];
    expect(dag.parallelism).toBe(8);
    const tasks = Object.fromEntries(dag.dag.tasks.map((t: any) => [t.name, t]));
    for (const step of ['predictor', 'trait-extractor']) {
      expect(tasks[step].withSequence).toEqual({ count: '{{tasks.list-image-sets.outputs.result}}' });
      expect(tasks[step].withParam).toBeUndefined();
      expect(tasks[step].arguments.parameters).toEqual([{ name: 'chunk', value: '{{item}}' }]);
      expect(tasks[step].dependencies).toContain('list-image-sets');
    }
    // Everything starts after the lister: an empty batch stops at once.
    expect(tasks['models-downloader'].dependencies).toEqual(['list-image-sets']);
    const p = stepTemplate(manifests, 'predictor');
    expect(p.container.volumeMounts.every((m: any) => m.subPath === undefined)).toBe(true);
    expect(p.container.env).toEqual(expect.arrayContaining([
      { name: 'SLEAP_ROOTS_CHUNK', value: '{{inputs.parameters.chunk}}' },
      { name: 'SLEAP_ROOTS_ITEM_MOUNTS', value: '/workspace/images_input\n/workspace/output' },
      { name: 'SLEAP_ROOTS_SCAN_TIMEOUT', value: '1200' },
      { name: 'SLEAP_ROOTS_RUN_DIR', value: '/sleap-roots/state/.sleap-roots/runs/{{workflow.name}}' },
    ]));
    expect(stepTemplate(manifests, 'trait-extractor').container.env).toContainEqual({ name: 'SLEAP_ROOTS_UPSTREAM', value: 'predictor=0,3' });
    const lister = stepTemplate(manifests, 'list-image-sets');
    expect(lister.container.volumeMounts).toEqual([{ name: 'images-input', mountPath: '/workspace/list', readOnly: true }, { name: 'traits-output', mountPath: '/sleap-roots/state' }]);
    expect(lister.container.env).toEqual(expect.arrayContaining([
      { name: 'SLEAP_ROOTS_SCANS_PER_POD', value: '50' },
      { name: 'SLEAP_ROOTS_MAX_SCANS', value: '100000' },
      { name: 'SLEAP_ROOTS_SOURCE_NAME', value: '/hpi/hpi_dev/sleap-roots/images_input' },
    ]));
  });

  it('keeps going past failed and lost chunks, and judges the batch in the exit handler, before a deadline', () => {
    const spec = pipelineTemplate(manifests).spec;
    const tasks = Object.fromEntries(spec.templates[0].dag.tasks.map((t: any) => [t.name, t]));
    for (const step of ['predictor', 'trait-extractor']) expect(tasks[step].continueOn).toEqual({ failed: true, error: true });
    expect(tasks['models-downloader'].continueOn).toBeUndefined();
    expect(tasks.gate).toBeUndefined();
    const gateName = manifests.find((m) => m.obj.kind === 'WorkflowTemplate' && m.obj.spec.templates?.[0]?.name === 'gate')!.obj.metadata.name;
    expect(spec.hooks).toEqual({ exit: { templateRef: { name: gateName, template: 'gate' } } });
    expect(spec.activeDeadlineSeconds).toBe(604_800);
    const gate = stepTemplate(manifests, 'gate');
    expect(gate.container.env).toEqual(expect.arrayContaining([
      { name: 'SLEAP_ROOTS_SCAN_STEPS', value: 'predictor=0,3 trait-extractor=0,3' },
      { name: 'SLEAP_ROOTS_WORKFLOW_STATUS', value: '{{workflow.status}}' },
    ]));
    expect(gate.outputs.parameters).toEqual([{ name: 'outcome', valueFrom: { path: '/dev/termination-log', default: '' } }]);
    expect(gate.container.resources.limits).toEqual({ cpu: '100m', memory: '64Mi' });
    expect(stepTemplate(manifests, 'predictor').outputs).toBeUndefined();
  });

  it('bounds the GPU steps across workflows with the pipeline-gpu semaphore (4 halves of 2 GPUs)', () => {
    const cm = manifests.find((m) => m.obj.kind === 'ConfigMap')!;
    expect(cm.file).toBe('runai/40-configmap-sleap-roots-semaphores.yaml');
    expect(cm.obj.data).toEqual({ 'pipeline-gpu': '4' });
    expect(stepTemplate(manifests, 'predictor').synchronization.semaphores[0].configMapKeyRef).toEqual({ name: 'sleap-roots-semaphores', key: 'pipeline-gpu' });
    expect(stepTemplate(manifests, 'trait-extractor').synchronization).toBeUndefined();
  });

  it('names step templates by content hash, and the pipeline template stably', () => {
    const names = manifests.filter((m) => m.obj.kind === 'WorkflowTemplate').map((m) => m.obj.metadata.name).sort();
    expect(names.filter((n) => n !== 'sleap-roots-pipeline').every((n) => /-[0-9a-f]{8}$/.test(n))).toBe(true);
    expect(names).toContain('sleap-roots-pipeline');
  });

  it('carries the predictor resources of the later pipeline', () => {
    expect(stepTemplate(manifests, 'predictor').container.resources).toEqual({ requests: { cpu: '2', memory: '8Gi' }, limits: { memory: '24Gi' } });
  });
});

describe('gpu', () => {
  const manifests = build('gpu');
  it('bounds whole-GPU steps across workflows with a semaphore, and only them', () => {
    const cm = manifests.find((m) => m.obj.kind === 'ConfigMap')!.obj;
    expect(cm.data).toEqual({ 'pipeline-gpu': '1' });
    expect(stepTemplate(manifests, 'predictor').synchronization).toEqual({ semaphores: [{ configMapKeyRef: { name: cm.metadata.name, key: 'pipeline-gpu' } }] });
    expect(stepTemplate(manifests, 'trait-extractor').synchronization).toBeUndefined();
    // The models downloader takes no semaphore, only its mutex (one workflow at a time writes the models).
    expect(stepTemplate(manifests, 'models-downloader').synchronization).toEqual({ mutexes: [{ name: 'sleap-roots-models-downloader' }] });
  });
  it('requests one whole GPU as request and limit, with the toleration, and no Run:AI annotations', () => {
    const t = stepTemplate(manifests, 'predictor');
    expect(t.container.resources.limits['nvidia.com/gpu']).toBe('1');
    expect(t.container.resources.requests['nvidia.com/gpu']).toBe('1');
    expect(t.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(t.metadata?.annotations ?? {}).toEqual({});
    expect(t.podSpecPatch).toBeUndefined();
    expect(t.schedulerName).toBeUndefined();
  });
  it('gives GPU requests and tolerations to the predictor only', () => {
    for (const step of ['models-downloader', 'trait-extractor']) {
      const t = stepTemplate(manifests, step);
      expect(Object.keys(t.container.resources?.limits ?? {})).not.toContain('nvidia.com/gpu');
      expect(t.tolerations).toBeUndefined();
    }
  });
});

describe('production', () => {
  const manifests = build('production');
  const dag = pipelineTemplate(manifests).spec.templates[0].dag.tasks;
  const env = (step: string) => stepTemplate(manifests, step).container.env;

  it('runs images-downloader -> predictor -> trait-extractor -> write-back, without models-downloader', () => {
    expect(Object.fromEntries(dag.map((t: any) => [t.name, t.dependencies ?? []]))).toEqual({
      'images-downloader': [],
      predictor: ['images-downloader'],
      'trait-extractor': ['predictor'],
      'write-back': ['trait-extractor'],
    });
  });

  it('runs as the admin-created account and emits no identity objects', () => {
    expect(manifests.map((m) => m.obj.kind).filter((k) => ['ServiceAccount', 'Role', 'RoleBinding', 'Secret'].includes(k))).toEqual([]);
    expect(pipelineTemplate(manifests).spec.serviceAccountName).toBe('sleap-roots-runner');
  });

  it('lets the dispatcher set scan-ids on the run Workflow, which the data-service stages read', () => {
    const run = manifests.find((m) => m.obj.kind === 'Workflow')!.obj;
    expect(run.spec.arguments.parameters.map((p: any) => p.name)).toEqual(['scan-ids']);
    for (const step of ['images-downloader', 'write-back']) expect(stepTemplate(manifests, step).container.args).toContain('{{workflow.parameters.scan-ids}}');
  });

  it('sizes the predictor by GPU memory (8192 MB) as a pod annotation, never a whole GPU', () => {
    const t = stepTemplate(manifests, 'predictor');
    expect(t.metadata.annotations).toMatchObject({ 'gpu-memory': '8192', 'gpu-fraction-container-name': 'main' });
    expect(t.container.resources.limits).not.toHaveProperty(['nvidia.com/gpu']);
  });

  it('bounds the GPU and the stage-in step with semaphores', () => {
    expect(stepTemplate(manifests, 'predictor').synchronization.semaphores[0].configMapKeyRef.key).toBe('pipeline-gpu');
    expect(stepTemplate(manifests, 'images-downloader').synchronization.semaphores[0].configMapKeyRef.key).toBe('stage-in');
  });

  it('gives the gate its own timeout, retry and priority', () => {
    const g = stepTemplate(manifests, 'gate');
    expect(g).toMatchObject({ timeout: '5m', priorityClassName: 'high', retryStrategy: { limit: 4, retryPolicy: 'OnError' } });
  });

  it('pins every image by digest and stamps each stage with its own', () => {
    const digestVars: Record<string, string> = { 'images-downloader': 'STAGE_IN_IMAGE_DIGEST', predictor: 'PREDICT_IMAGE_DIGEST', 'trait-extractor': 'TRAITS_IMAGE_DIGEST', 'write-back': 'WRITE_BACK_IMAGE_DIGEST' };
    for (const [step, name] of Object.entries(digestVars)) {
      const image = stepTemplate(manifests, step).container.image;
      expect(image).toMatch(/@sha256:[0-9a-f]{64}$/);
      expect(env(step)).toContainEqual({ name, value: image.slice(image.indexOf('@') + 1) });
    }
    expect(stepTemplate(manifests, 'gate').container.image).toMatch(/@sha256:[0-9a-f]{64}$/);
  });

  it('passes secrets as env vars and as a credentials file under HOME', () => {
    for (const step of ['images-downloader', 'write-back']) {
      const c = stepTemplate(manifests, step).container;
      expect(c.env).toContainEqual({ name: 'HOME', value: '/tmp/home' });
      expect(c.env).toContainEqual({ name: 'DATA_SERVICE_API_KEY', valueFrom: { secretKeyRef: { name: 'data-service', key: 'api-key' } } });
      expect(c.volumeMounts).toContainEqual({ name: 'secret-data-service', mountPath: '/tmp/home/.config/data-service/credentials.json', subPath: 'credentials.json', readOnly: true });
    }
  });

  it('synthesizes without warnings', () => {
    const warnings: string[] = [];
    synthesizeEnvironment(shipped('production'), { onWarning: (w) => warnings.push(w.message) });
    expect(warnings).toEqual([]);
  });
});
