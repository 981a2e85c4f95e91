/**
 * The lab's production pipeline (issue 12): an existing service account, run arguments a
 * dispatcher can set, a configurable gate, the wrapper and the image's ENTRYPOINT, per-step
 * provenance, per-step shapes, and the messages that point at the field to write.
 */
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { baseConfig, envFrom, pipelineTemplate, problemsOf, stepTemplate, synth } from './support/envs';

const RUNNABLE = { timeout: '1h', resources: { requests: { cpu: '100m', memory: '128Mi' } } };

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
