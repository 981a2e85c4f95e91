import { describe, expect, it } from 'vitest';
import { SCHEMA_TARGETS, generateSchemaFiles } from '../scripts/import-schemas';
import { CORE_KINDS, coreSchemaFor, deriveModelSchema, modelAttributes } from '../lib/validation/core-schemas';
import { argoSchemaFor, supportedKinds, validateManifest } from '../lib/validation/manifests';
import { OBJECT_META_SCHEMA, formatProblem, validateAgainstSchema, type SchemaProblem, type StructuralSchema } from '../lib/validation/structural';
import * as fs from 'node:fs';

type Doc = Record<string, any>;

function workflowTemplate(spec: Doc = {}, metadata: Doc = { name: 'sleap-roots-predict' }): Doc {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'WorkflowTemplate',
    metadata,
    spec: {
      entrypoint: 'main',
      templates: [{ name: 'main', container: { image: 'ghcr.io/talmolab/sleap-roots-predict:v1', command: ['python', '-m', 'predict'] } }],
      ...spec,
    },
  };
}

/** The template at index 0 of a WorkflowTemplate, merged with `extra`. */
function withTemplate(extra: Doc): Doc {
  return workflowTemplate({ templates: [{ name: 'main', ...extra }] });
}

function withContainer(extra: Doc): Doc {
  return withTemplate({ container: { image: 'busybox:1.36', ...extra } });
}

const paths = (problems: SchemaProblem[]) => problems.map((p) => p.path);
const lines = (problems: SchemaProblem[]) => problems.map(formatProblem);

describe('WorkflowTemplate / Workflow (imported Argo v4.1.2 CRD schemas)', () => {
  it('accepts a minimal WorkflowTemplate with a container template', () => {
    expect(validateManifest(workflowTemplate())).toEqual([]);
  });

  it('accepts a realistic pipeline WorkflowTemplate', () => {
    const doc = workflowTemplate({
      serviceAccountName: 'sleap-roots-runner',
      activeDeadlineSeconds: 86400,
      podGC: { strategy: 'OnPodSuccess', deleteDelayDuration: '10m' },
      ttlStrategy: { secondsAfterCompletion: 3600 },
      nodeSelector: { 'kubernetes.io/arch': 'amd64' },
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
      arguments: { parameters: [{ name: 'input-dir', value: '/data/in' }, { name: 'batch', value: '8', enum: ['4', '8'] }] },
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'sleap-roots-data' } }],
      synchronization: { semaphores: [{ configMapKeyRef: { name: 'sleap-roots-limits', key: 'gpu' } }] },
      templates: [
        {
          name: 'main',
          dag: {
            tasks: [
              { name: 'predict', template: 'predict', arguments: { parameters: [{ name: 'dir', value: '{{item}}' }] }, withItems: ['a', { plant: 1, tags: ['x'] }] },
              { name: 'traits', template: 'traits', depends: 'predict.Succeeded' },
            ],
          },
        },
        {
          name: 'predict',
          inputs: { parameters: [{ name: 'dir' }], artifacts: [{ name: 'model', path: '/models', archive: { none: {} } }] },
          retryStrategy: { limit: '3', retryPolicy: 'OnError', backoff: { duration: '30s', factor: 2 } },
          container: {
            image: 'ghcr.io/talmolab/sleap-roots-predict:v1',
            args: ['--dir', '{{inputs.parameters.dir}}'],
            env: [{ name: 'OMP_NUM_THREADS', value: '4' }, { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
            resources: { requests: { cpu: '500m', memory: '2Gi' }, limits: { cpu: 2, memory: '8Gi', 'nvidia.com/gpu': 1 } },
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
            ports: [{ containerPort: 8080 }],
          },
          outputs: { artifacts: [{ name: 'predictions', path: '/data/out', s3: { key: 'preds/{{workflow.name}}' } }] },
          metadata: { labels: { app: 'sleap-roots' } },
        },
        { name: 'traits', script: { image: 'python:3.12', command: ['python'], source: 'print(1)\n' }, activeDeadlineSeconds: '1h' },
      ],
    });
    expect(lines(validateManifest(doc))).toEqual([]);
  });

  it('reports a misspelled field as an unknown field with its path', () => {
    const doc = workflowTemplate({ templates: [{ name: 'main', contianer: { image: 'busybox' } }] });
    expect(validateManifest(doc)).toEqual([{ path: 'spec.templates[0].contianer', message: 'unknown field "spec.templates[0].contianer"' }]);
  });

  it('reports unknown fields deep inside and in metadata', () => {
    const problems = validateManifest(workflowTemplate({ podGC: { strategy: 'OnPodSuccess', stratgey: 'x' } }, { name: 'x', lables: { a: 'b' } }));
    expect(paths(problems).sort()).toEqual(['metadata.lables', 'spec.podGC.stratgey']);
  });

  it('reports a wrong type with what was given and what was expected', () => {
    const problems = validateManifest(workflowTemplate({ activeDeadlineSeconds: '300' }));
    expect(problems).toEqual([{ path: 'spec.activeDeadlineSeconds', message: 'Invalid value: "300": must be of type integer, got string' }]);
    expect(paths(validateManifest(workflowTemplate({ activeDeadlineSeconds: 1.5 })))).toEqual(['spec.activeDeadlineSeconds']);
    expect(paths(validateManifest(workflowTemplate({ entrypoint: 5 })))).toEqual(['spec.entrypoint']);
  });

  it('enforces int32 ranges and minimums', () => {
    expect(validateManifest(workflowTemplate({ ttlStrategy: { secondsAfterCompletion: 2 ** 31 } }))).toEqual([
      { path: 'spec.ttlStrategy.secondsAfterCompletion', message: 'Invalid value: 2147483648: must fit in a 32-bit signed integer (format int32: -2147483648..2147483647)' },
    ]);
    expect(validateManifest(workflowTemplate({ ttlStrategy: { secondsAfterCompletion: 2 ** 31 - 1 } }))).toEqual([]);
    expect(validateManifest(workflowTemplate({ parallelism: 0 }))).toEqual([
      { path: 'spec.parallelism', message: 'Invalid value: 0: must be greater than or equal to 1' },
    ]);
  });

  it('accepts int-or-string as 3 and "3", and nothing else', () => {
    expect(validateManifest(withTemplate({ container: { image: 'x' }, retryStrategy: { limit: 3 } }))).toEqual([]);
    expect(validateManifest(withTemplate({ container: { image: 'x' }, retryStrategy: { limit: '3' } }))).toEqual([]);
    for (const bad of [0.5, true, { n: 3 }, [3]]) {
      const problems = validateManifest(withTemplate({ container: { image: 'x' }, retryStrategy: { limit: bad } }));
      expect(paths(problems)).toEqual(['spec.templates[0].retryStrategy.limit']);
      expect(problems[0]!.message).toMatch(/must be an integer or a string \(int-or-string\)/);
    }
  });

  it('accepts resource quantities and rejects malformed ones', () => {
    const ok = withContainer({ resources: { limits: { cpu: '1.5', memory: '512Mi', 'nvidia.com/gpu': 1, 'ephemeral-storage': '1e3' }, requests: { cpu: '250m', memory: '1G' } } });
    expect(validateManifest(ok)).toEqual([]);
    const bad = withContainer({ resources: { limits: { cpu: 0.5, memory: '2 Gi', 'nvidia.com/gpu': 'one' } } });
    expect(lines(validateManifest(bad))).toEqual([
      'spec.templates[0].container.resources.limits.cpu: Invalid value: 0.5: must be an integer or a string (int-or-string), got number',
      'spec.templates[0].container.resources.limits.memory: Invalid value: "2 Gi": must be an integer or a Kubernetes resource quantity such as "500m", "2Gi" or "1.5"',
      'spec.templates[0].container.resources.limits[nvidia.com/gpu]: Invalid value: "one": must be an integer or a Kubernetes resource quantity such as "500m", "2Gi" or "1.5"',
    ]);
  });

  it('reports an enum violation with the supported values', () => {
    const problems = validateManifest(withTemplate({ container: { image: 'x' }, retryStrategy: { retryPolicy: 'Sometimes' } }));
    expect(lines(problems)).toEqual([
      'spec.templates[0].retryStrategy.retryPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "OnError", "OnTransientError"',
    ]);
  });

  it('reports missing required fields', () => {
    const noKey = workflowTemplate({ synchronization: { semaphores: [{ configMapKeyRef: { name: 'limits' } }] } });
    expect(validateManifest(noKey)).toEqual([{ path: 'spec.synchronization.semaphores[0].configMapKeyRef.key', message: 'Required value' }]);
    const noTaskName = withTemplate({ dag: { tasks: [{ template: 'a' }] } });
    expect(paths(validateManifest(noTaskName))).toEqual(['spec.templates[0].dag.tasks[0].name']);
    const { spec: _spec, ...noSpec } = workflowTemplate();
    expect(validateManifest(noSpec)).toEqual([{ path: 'spec', message: 'Required value' }]);
  });

  it('rejects the singular synchronization.semaphore / mutex of Argo < 4 and accepts the list forms', () => {
    const singular = workflowTemplate({ synchronization: { semaphore: { configMapKeyRef: { name: 'limits', key: 'gpu' } } } });
    const problems = validateManifest(singular);
    expect(paths(problems)).toEqual(['spec.synchronization.semaphore']);
    expect(problems[0]!.message).toMatch(/^unknown field "spec\.synchronization\.semaphore" \(Argo Workflows v4 removed the singular form; use "semaphores"/);

    const mutex = withTemplate({ container: { image: 'x' }, synchronization: { mutex: { name: 'one-at-a-time' } } });
    expect(paths(validateManifest(mutex))).toEqual(['spec.templates[0].synchronization.mutex']);

    // The v4 schema must not declare the singular forms at all (the unknown-field check is what rejects them).
    for (const kind of ['WorkflowTemplate', 'Workflow']) {
      const sync = argoSchemaFor('argoproj.io/v1alpha1', kind)!.properties!.spec!.properties!.synchronization!;
      expect(Object.keys(sync.properties!).sort()).toEqual(['mutexes', 'semaphores']);
    }

    const plural = workflowTemplate({
      synchronization: { semaphores: [{ configMapKeyRef: { name: 'limits', key: 'gpu' } }], mutexes: [{ name: 'one-at-a-time' }] },
    });
    expect(validateManifest(plural)).toEqual([]);
  });

  it('respects x-kubernetes-preserve-unknown-fields (withItems, inline, plugin)', () => {
    const doc = withTemplate({
      steps: [[{ name: 's', template: 't', withItems: [{ any: { nested: ['thing', 1, null] } }, 'x', 3] }]],
    });
    expect(validateManifest(doc)).toEqual([]);
    const plugin = workflowTemplate({ templates: [{ name: 'main', plugin: { 'my-plugin': { whatever: { goes: true } } } }] });
    expect(validateManifest(plugin)).toEqual([]);
  });

  it('treats empty object schemas as closed ({type: object} without properties)', () => {
    const doc = withTemplate({ container: { image: 'x' }, outputs: { artifacts: [{ name: 'a', path: '/a', archive: { none: {} } }] } });
    expect(validateManifest(doc)).toEqual([]);
    const bad = withTemplate({ container: { image: 'x' }, outputs: { artifacts: [{ name: 'a', path: '/a', archive: { none: { level: 1 } } }] } });
    expect(paths(validateManifest(bad))).toEqual(['spec.templates[0].outputs.artifacts[0].archive.none.level']);
  });

  it('rejects duplicate keys in x-kubernetes-list-type map lists (using key defaults)', () => {
    const env = withContainer({ env: [{ name: 'A', value: '1' }, { name: 'A', value: '2' }] });
    expect(lines(validateManifest(env))).toEqual(['spec.templates[0].container.env[1]: Duplicate value: {"name":"A"}']);
    const ports = withContainer({ ports: [{ containerPort: 80 }, { containerPort: 80, protocol: 'TCP' }] });
    expect(paths(validateManifest(ports))).toEqual(['spec.templates[0].container.ports[1]']);
    const udp = withContainer({ ports: [{ containerPort: 80 }, { containerPort: 80, protocol: 'UDP' }] });
    expect(validateManifest(udp)).toEqual([]);
  });

  it('reports null for non-nullable fields', () => {
    expect(lines(validateManifest(workflowTemplate({ serviceAccountName: null })))).toEqual([
      'spec.serviceAccountName: Invalid value: null: must be of type string; the field is not nullable (the API server would silently drop it)',
    ]);
  });

  it('validates top-level metadata as ObjectMeta', () => {
    expect(validateManifest(workflowTemplate({}, { name: 'ok', namespace: 'sleap', labels: { 'app.kubernetes.io/name': 'x' }, annotations: { 'workflows.argoproj.io/description': 'd' } }))).toEqual([]);
    expect(lines(validateManifest(workflowTemplate({}, { name: 'x', labels: { app: 3 } })))).toEqual([
      'metadata.labels.app: Invalid value: 3: must be of type string, got integer',
    ]);
    expect(paths(validateManifest(workflowTemplate({}, { name: 'Not_A_Name' })))).toEqual(['metadata.name']);
    expect(paths(validateManifest(workflowTemplate({}, { name: 'x', labels: { 'bad key!': 'v' } })))).toEqual(['metadata.labels[bad key!]']);
    expect(paths(validateManifest(workflowTemplate({}, {})))).toEqual(['metadata.name']);
  });

  it('accepts a Workflow with generateName and workflowTemplateRef', () => {
    const wf = {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Workflow',
      metadata: { generateName: 'sleap-roots-predict-', namespace: 'sleap' },
      spec: { workflowTemplateRef: { name: 'sleap-roots-predict' }, arguments: { parameters: [{ name: 'input-dir', value: '/data/x' }] } },
    };
    expect(validateManifest(wf)).toEqual([]);
    expect(paths(validateManifest({ ...wf, spec: { workflowTemplateRef: { nmae: 'x' } } }))).toEqual(['spec.workflowTemplateRef.nmae']);
  });

  it('rejects unsupported kinds and non-objects', () => {
    expect(validateManifest({ apiVersion: 'argoproj.io/v1alpha1', kind: 'CronWorkflow', metadata: { name: 'x' } })).toEqual([
      { path: 'kind', message: 'unsupported kind argoproj.io/v1alpha1/CronWorkflow' },
    ]);
    expect(validateManifest({ apiVersion: 'apps/v1', kind: 'Deployment' })[0]!.message).toBe('unsupported kind apps/v1/Deployment');
    expect(paths(validateManifest({ kind: 'ConfigMap' }))).toEqual(['apiVersion']);
    expect(validateManifest([])).toHaveLength(1);
    expect(supportedKinds()).toContain('rbac.authorization.k8s.io/v1/RoleBinding');
  });
});

describe('core kinds (schemas derived from @kubernetes/client-node)', () => {
  const role = (rules: unknown[]): Doc => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'argo-executor', namespace: 'sleap' }, rules });

  it('accepts a valid Role', () => {
    expect(validateManifest(role([{ apiGroups: ['argoproj.io'], resources: ['workflowtaskresults'], verbs: ['create', 'patch'] }]))).toEqual([]);
  });

  it('rejects a Role with a `verb:` typo', () => {
    const problems = validateManifest(role([{ apiGroups: [''], resources: ['pods'], verb: ['get'] }]));
    expect(problems).toEqual([
      { path: 'rules[0].verb', message: 'unknown field "rules[0].verb"' },
      { path: 'rules[0].verbs', message: 'Required value' },
    ]);
    expect(paths(validateManifest(role([{ resources: ['pods'], verbs: [] }])))).toEqual(['rules[0].verbs']);
  });

  it('accepts a valid ServiceAccount, ConfigMap, Secret and RoleBinding', () => {
    expect(validateManifest({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sleap-roots-runner' }, automountServiceAccountToken: false })).toEqual([]);
    expect(validateManifest({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'limits' }, data: { gpu: '2', 'config.yaml': 'a: 1\n' } })).toEqual([]);
    expect(validateManifest({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, type: 'Opaque', data: { token: 'aGVsbG8=' }, stringData: { user: 'me' } })).toEqual([]);
    expect(
      validateManifest({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'argo-executor' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'argo-executor' },
        subjects: [{ kind: 'ServiceAccount', name: 'sleap-roots-runner', namespace: 'sleap' }],
      }),
    ).toEqual([]);
  });

  it('rejects a ConfigMap with a non-string data value', () => {
    expect(lines(validateManifest({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'limits' }, data: { gpu: 2 } }))).toEqual([
      'data.gpu: Invalid value: 2: must be of type string, got integer',
    ]);
  });

  it('rejects a Secret whose data is not base64', () => {
    expect(paths(validateManifest({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { token: 'not base64!' } }))).toEqual(['data.token']);
  });

  it('rejects a RoleBinding missing roleRef, and bad subjects', () => {
    const rb = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'rb' }, subjects: [{ kind: 'ServiceAccount', name: 'x' }] };
    expect(validateManifest(rb)).toEqual([{ path: 'roleRef', message: 'Required value' }]);
    const badSubject = {
      ...rb,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' },
      subjects: [{ kind: 'Robot', name: 'x' }, { kind: 'User' }],
    };
    expect(paths(validateManifest(badSubject))).toEqual(['subjects[0].kind', 'subjects[1].name']);
  });

  it('requires metadata.name and rejects unknown metadata fields', () => {
    expect(validateManifest({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { generateName: 'sa-' } })).toEqual([{ path: 'metadata.name', message: 'Required value' }]);
    expect(paths(validateManifest({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa', nmespace: 'x' } }))).toEqual(['metadata.nmespace']);
  });

  it('derives schemas for every core kind from the client-node models', () => {
    for (const k of CORE_KINDS) {
      const schema = coreSchemaFor(k.apiVersion, k.kind)!;
      expect(schema.type).toBe('object');
      expect(Object.keys(schema.properties!)).toEqual(modelAttributes(k.model).map((a) => a.baseName));
    }
    expect(coreSchemaFor('v1', 'Pod')).toBeUndefined();
  });

  it('keeps the hand-written ObjectMeta schema in step with client-node V1ObjectMeta', () => {
    const derived = deriveModelSchema('V1ObjectMeta');
    const shape = (s: StructuralSchema): unknown =>
      Object.fromEntries(Object.entries(s.properties!).map(([k, v]) => [k, v.type ?? 'any']));
    expect(shape(OBJECT_META_SCHEMA)).toEqual(shape(derived));
  });
});

describe('structural schema interpreter', () => {
  const closed: StructuralSchema = {
    type: 'object',
    required: ['a'],
    properties: {
      a: { type: 'string', minLength: 2, maxLength: 4, pattern: '^[a-z]+$' },
      n: { type: 'integer', minimum: 1, maximum: 10, exclusiveMaximum: true },
      tags: { type: 'array', items: { type: 'string' }, maxItems: 2, 'x-kubernetes-list-type': 'set' },
      open: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'boolean' } } },
      strict: { type: 'object', additionalProperties: false },
      map: { type: 'object', additionalProperties: { type: 'number' } },
      maybe: { type: 'string', nullable: true },
    },
  };

  it('passes a valid value', () => {
    expect(validateAgainstSchema({ a: 'ab', n: 9, tags: ['x', 'y'], open: { known: true, x: { y: 1 } }, strict: {}, map: { x: 1.5 }, maybe: null }, closed)).toEqual([]);
  });

  it('checks preserve-unknown-fields nodes only for their declared fields', () => {
    expect(lines(validateAgainstSchema({ a: 'ab', open: { known: 'yes', anything: [1, { b: 2 }] } }, closed))).toEqual([
      'open.known: Invalid value: "yes": must be of type boolean, got string',
    ]);
  });

  it('reports each kind of violation', () => {
    const problems = validateAgainstSchema({ n: 10, tags: ['x', 'x', 'z'], strict: { s: 1 }, map: { y: 'no' }, extra: 1 }, closed, 'spec');
    expect(lines(problems)).toEqual([
      'spec.n: Invalid value: 10: must be less than 10',
      'spec.tags: Too many: 3: must have at most 2 item(s)',
      'spec.tags[1]: Duplicate value: "x"',
      'unknown field "spec.strict.s"',
      'spec.map.y: Invalid value: "no": must be of type number, got string',
      'unknown field "spec.extra"',
      'spec.a: Required value',
    ]);
    expect(lines(validateAgainstSchema({ a: 'ABCDE' }, closed))).toEqual([
      'a: Too long: may not be more than 4 characters, got 5',
      'a: Invalid value: "ABCDE": must match the regular expression "^[a-z]+$"',
    ]);
  });

  it('evaluates anyOf / oneOf / allOf / not as value validations', () => {
    const schema: StructuralSchema = {
      type: 'object',
      properties: { a: { type: 'integer' }, b: { type: 'integer' } },
      anyOf: [{ required: ['a'] }, { required: ['b'] }],
      not: { required: ['a', 'b'] },
    };
    expect(validateAgainstSchema({ a: 1 }, schema)).toEqual([]);
    expect(validateAgainstSchema({}, schema)[0]!.message).toMatch(/must match at least one of 2 alternatives/);
    expect(validateAgainstSchema({ a: 1, b: 2 }, schema)[0]!.message).toMatch(/must not match/);
    const one: StructuralSchema = { type: 'integer', oneOf: [{ minimum: 0 }, { maximum: 10 }] };
    expect(validateAgainstSchema(20, one)).toEqual([]);
    expect(validateAgainstSchema(5, one)[0]!.message).toMatch(/exactly one of 2 alternatives, matched 2/);
  });

  it('reports non-JSON values', () => {
    const schema: StructuralSchema = { type: 'object', properties: { when: { type: 'string' }, n: { type: 'number' } } };
    expect(lines(validateAgainstSchema({ when: new Date(0), n: Number.NaN, skipped: undefined }, schema))).toEqual([
      'when: Invalid value: {Date}: must be of type string, got non-JSON object (Date)',
      'n: Invalid value: NaN: must be of type number, got non-finite number',
    ]);
  });
});

describe('generated schema files', () => {
  it('imports/schemas/*.json are what scripts/import-schemas.ts generates now (run `npx tsx scripts/import-schemas.ts`)', () => {
    const files = generateSchemaFiles();
    expect(files.map((f) => f.target.out)).toEqual(SCHEMA_TARGETS.map((t) => t.out));
    for (const file of files) {
      expect(fs.existsSync(file.path), `${file.target.out} is missing`).toBe(true);
      const committed = fs.readFileSync(file.path, 'utf8');
      expect(committed === file.content, `${file.target.out} is stale`).toBe(true);
      expect(committed.endsWith('}\n')).toBe(true);
      expect(JSON.parse(committed).$comment).toMatch(/^generated by scripts\/import-schemas\.ts from imports\/crds\/.*; do not edit$/);
      expect(committed).not.toMatch(/"description":"/);
    }
  });
});
