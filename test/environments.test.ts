/**
 * The shipped environments: a snapshot of every file, and beside it the intent the snapshot
 * must keep (DAG edges, GPU placement, priority and retry, hostPath types, RBAC, security).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateManifest } from '../lib/validation/manifests';
import { pipelineTemplate, ROOT, shipped, SHIPPED, stepTemplate, synth, type Manifest } from './support/envs';

const STEPS = ['models-downloader', 'predictor', 'trait-extractor'];

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

  it('runs the DAG models-downloader -> predictor -> trait-extractor by templateRef', () => {
    const tasks = pipelineTemplate(manifests).spec.templates[0].dag.tasks;
    expect(tasks.map((t: any) => [t.name, t.dependencies ?? []])).toEqual([
      ['models-downloader', []],
      ['predictor', ['models-downloader']],
      ['trait-extractor', ['predictor']],
    ]);
    for (const t of tasks) expect(t.templateRef).toEqual({ name: `sleap-roots-${t.name}`, template: t.name });
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
    for (const step of STEPS) {
      const t = stepTemplate(manifests, step);
      const podAnn = t.metadata?.annotations ?? {};
      const limits = t.container.resources?.limits ?? {};
      if ('gpu-fraction' in podAnn || 'gpu-memory' in podAnn) expect(limits).not.toHaveProperty(['nvidia.com/gpu']);
    }
  });

  it('hardens every step pod', () => {
    for (const step of STEPS) {
      const t = stepTemplate(manifests, step);
      expect(t.container.securityContext).toMatchObject({ privileged: false, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      expect(t.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
      expect(t.automountServiceAccountToken).toBe(false);
      expect(t.executor).toEqual({ serviceAccountName: 'sleap-roots-step' });
    }
    const spec = pipelineTemplate(manifests).spec;
    expect(spec).toMatchObject({ serviceAccountName: 'sleap-roots-step', automountServiceAccountToken: false, executor: { serviceAccountName: 'sleap-roots-step' } });
  });

  it('mounts every shared directory as hostPath type Directory', () => {
    const volumes = pipelineTemplate(manifests).spec.volumes;
    expect(volumes.map((v: any) => v.name).sort()).toEqual(['images-input', 'models-input', 'models-output', 'predictions-output', 'traits-output']);
    for (const v of volumes) expect(v.hostPath.type).toBe('Directory');
  });

  it('grants the step service account exactly create/patch on workflowtaskresults', () => {
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
    expect(run.obj.spec).toEqual({ workflowTemplateRef: { name: 'sleap-roots-pipeline' } });
  });

  it('orders files so kubectl apply creates identities before templates, steps before the pipeline', () => {
    const kinds = files.filter((f) => f.path.split('/').length === 2).map((f) => path.basename(f.path));
    const rank = (re: RegExp) => kinds.findIndex((k) => re.test(k));
    expect(rank(/serviceaccount/)).toBeLessThan(rank(/-role-/));
    expect(rank(/-role-/)).toBeLessThan(rank(/rolebinding/));
    expect(rank(/rolebinding/)).toBeLessThan(rank(/sleap-roots-predictor/));
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
  it('retries preemptible steps on every failure with backoff, and not the others', () => {
    for (const step of ['predictor', 'trait-extractor']) {
      const t = stepTemplate(manifests, step);
      expect(t.priorityClassName).toBe('interactive-preemptible');
      expect(t.retryStrategy).toEqual({ limit: 3, retryPolicy: 'Always', backoff: { duration: '2m', factor: 2, cap: '30m' } });
    }
    const md = stepTemplate(manifests, 'models-downloader');
    expect(md.priorityClassName).toBe('high');
    expect(md.retryStrategy).toBeUndefined();
  });
  it('carries the predictor resources of the later pipeline', () => {
    expect(stepTemplate(manifests, 'predictor').container.resources).toEqual({ requests: { cpu: '2', memory: '8Gi' }, limits: { memory: '24Gi' } });
  });
});

describe('gpu', () => {
  const manifests = build('gpu');
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
