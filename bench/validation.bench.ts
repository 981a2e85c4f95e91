/**
 * Rough timing of synth-time manifest validation (no assertions):
 *
 *   npx tsx bench/validation.bench.ts [--full-client]
 *
 * Prints the time to import the validator, to load each schema on first use
 * (Argo JSON parse; client-node model loading for core kinds), and to validate
 * 100 documents. `--full-client` also times `require('@kubernetes/client-node')`
 * for comparison with the deep-path model loading (run it in a fresh process:
 * modules already loaded are cached).
 */
type Manifests = typeof import('../lib/validation/manifests');

function ms(start: bigint): string {
  return `${(Number(process.hrtime.bigint() - start) / 1e6).toFixed(2)} ms`;
}

function workflowTemplate(i: number): Record<string, unknown> {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'WorkflowTemplate',
    metadata: { name: `sleap-roots-predict-${i}`, namespace: 'sleap', labels: { 'app.kubernetes.io/name': 'sleap-roots' } },
    spec: {
      entrypoint: 'main',
      serviceAccountName: 'sleap-roots-runner',
      podGC: { strategy: 'OnPodSuccess' },
      ttlStrategy: { secondsAfterCompletion: 3600 },
      arguments: { parameters: [{ name: 'input-dir', value: '/data/in' }] },
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'sleap-roots-data' } }],
      synchronization: { semaphores: [{ configMapKeyRef: { name: 'sleap-roots-limits', key: 'gpu' } }] },
      templates: [
        {
          name: 'main',
          dag: {
            tasks: Array.from({ length: 5 }, (_, t) => ({
              name: `step-${t}`,
              template: 'predict',
              depends: t === 0 ? undefined : `step-${t - 1}.Succeeded`,
              arguments: { parameters: [{ name: 'dir', value: `/data/in/${t}` }] },
            })),
          },
        },
        {
          name: 'predict',
          inputs: { parameters: [{ name: 'dir' }] },
          retryStrategy: { limit: 3, retryPolicy: 'OnError', backoff: { duration: '30s', factor: 2 } },
          container: {
            image: 'ghcr.io/talmolab/sleap-roots-predict:v1',
            args: ['--dir', '{{inputs.parameters.dir}}'],
            env: [{ name: 'OMP_NUM_THREADS', value: '4' }],
            resources: { requests: { cpu: '500m', memory: '2Gi' }, limits: { cpu: 2, memory: '8Gi', 'nvidia.com/gpu': 1 } },
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
          },
        },
      ],
    },
  };
}

function documents(n: number): unknown[] {
  const docs: unknown[] = [];
  for (let i = 0; i < n; i++) {
    switch (i % 5) {
      case 0:
      case 1:
        docs.push(workflowTemplate(i));
        break;
      case 2:
        docs.push({
          apiVersion: 'argoproj.io/v1alpha1',
          kind: 'Workflow',
          metadata: { generateName: 'sleap-roots-predict-' },
          spec: { workflowTemplateRef: { name: `sleap-roots-predict-${i}` }, arguments: { parameters: [{ name: 'input-dir', value: '/x' }] } },
        });
        break;
      case 3:
        docs.push({
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: `r-${i}` },
          rules: [{ apiGroups: ['argoproj.io'], resources: ['workflowtaskresults'], verbs: ['create', 'patch'] }],
        });
        break;
      default:
        docs.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c-${i}` }, data: { gpu: '2' } });
    }
  }
  return docs;
}

function main(): void {
  let t = process.hrtime.bigint();
  const m = require('../lib/validation/manifests') as Manifests;
  console.log(`import lib/validation/manifests:            ${ms(t)}`);

  t = process.hrtime.bigint();
  m.argoSchemaFor('argoproj.io/v1alpha1', 'WorkflowTemplate');
  console.log(`load WorkflowTemplate schema (JSON.parse):  ${ms(t)}`);
  t = process.hrtime.bigint();
  m.argoSchemaFor('argoproj.io/v1alpha1', 'Workflow');
  console.log(`load Workflow schema (JSON.parse):          ${ms(t)}`);

  t = process.hrtime.bigint();
  m.validateManifest({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } });
  console.log(`first core kind (client-node models):       ${ms(t)}`);
  t = process.hrtime.bigint();
  for (const kind of ['ServiceAccount', 'Secret']) m.validateManifest({ apiVersion: 'v1', kind, metadata: { name: 'x' } });
  for (const kind of ['Role', 'RoleBinding']) m.validateManifest({ apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata: { name: 'x' } });
  console.log(`remaining core kinds:                       ${ms(t)}`);

  const docs = documents(100);
  t = process.hrtime.bigint();
  let problems = 0;
  for (const doc of docs) problems += m.validateManifest(doc).length;
  console.log(`validate ${docs.length} documents:                     ${ms(t)} (${problems} problems)`);
  t = process.hrtime.bigint();
  for (let r = 0; r < 10; r++) for (const doc of docs) m.validateManifest(doc);
  console.log(`validate ${docs.length} documents, warm (avg of 10):   ${(Number(process.hrtime.bigint() - t) / 1e7).toFixed(2)} ms`);

  if (process.argv.includes('--full-client')) {
    t = process.hrtime.bigint();
    const all = require('@kubernetes/client-node') as Record<string, unknown>;
    console.log(`require('@kubernetes/client-node') (${Object.keys(all).length} exports): ${ms(t)}`);
  }
}

main();
