/**
 * One hand-written step (a container template of a WorkflowTemplate, called by templateRef) as a
 * step of the environment file, with every pitfall of the seed's layout corrected and explained.
 *
 * The Argo v4.1.2 behaviour relied on, read from its source:
 * - Pods get the labels and annotations of the workflow's `spec.podMetadata` and of the resolved
 *   template's `metadata` only: workflow/controller/workflowpod.go `addMetadata`. A templateRef
 *   resolves to the named template of the referenced WorkflowTemplate, to which that object's
 *   `spec.podMetadata` is added: workflow/templateresolution/context.go `GetTemplateFromRef` and
 *   `addPodMetadata`. The WorkflowTemplate object's own `metadata` is read by neither, so a
 *   `gpu-fraction` annotation there never reaches a pod.
 * Retries: ./retry.ts.
 */
import type { GpuRequestConfig, MountConfig, ResourcesConfig, StepConfig, EnvVarConfig, TolerationConfig } from '../config/schema';
import { ModelsDownloader } from '../constructs/models-downloader';
import { Predictor } from '../constructs/predictor';
import { TraitExtractor } from '../constructs/trait-extractor';
import { asList, asMap, asStrings, short, type ImportContext } from './context';
import { translateRetry } from './retry';
import type { SourceObject } from './documents';

/** Run:AI's pod annotations for a GPU share (pipeline-facts, Run:AI rule 1). */
export const GPU_FRACTION = 'gpu-fraction';
export const GPU_MEMORY = 'gpu-memory';
export const GPU_CONTAINER = 'gpu-fraction-container-name';
/** Labels that name the Run:AI/KAI project (pipeline-facts, environments). */
export const PROJECT_LABELS = ['project', 'runai/queue', 'kai.scheduler/queue'];
/** Priority classes that Run:AI treats as preemptible (pipeline-facts, Run:AI rule 3). */
export const PREEMPTIBLE_CLASSES = ['interactive-preemptible', 'train', 'very-low', 'low', 'medium-low', 'medium', 'medium-high'];
/** The requests and timeout the pipeline's built-in steps have when the file states none. */
const BUILT_IN_DEFAULTS = new Map([ModelsDownloader, Predictor, TraitExtractor].map((c) => [c.STEP_NAME, c.defaults()]));
/** What a step of another name gets when the seed stated none (the synth requires both). */
const OTHER_STEP_REQUESTS = { cpu: '500m', memory: '1Gi' } as const;
const OTHER_STEP_TIMEOUT = '6h';
/** Extended resources of whole GPUs. */
const GPU_RESOURCE = /^[a-z0-9.-]+\/gpu$/;

/** What the cluster around the step is, as the pipeline import found it. */
export interface StepSurroundings {
  /** Run:AI or KAI: GPU shares and preemption exist. */
  readonly sharedGpus: boolean;
  /** false: the cluster has no GPU for Kubernetes (Docker Desktop on WSL2, or --no-gpu). */
  readonly gpuAvailable: boolean;
  /** Why gpuAvailable is false, for the explanation. */
  readonly noGpuReason: string;
  /** Volumes declared somewhere in the input, by name. */
  readonly volumes: ReadonlySet<string>;
}

/** A project or queue label found on a step. */
export interface ProjectLabel {
  readonly src: SourceObject;
  readonly path: readonly (string | number)[];
  readonly key: string;
  readonly value: string;
}

/** A step translated, with what the pipeline import needs to know about it. */
export interface TranslatedStep {
  readonly config: StepConfig;
  readonly projectLabels: readonly ProjectLabel[];
  /** The image is unpinned (`:latest` or no tag, no digest). */
  readonly unpinned: boolean;
  /** A GPU share (fraction/memory) was requested. */
  readonly shared: boolean;
  /** The whole-GPU resource name, when a whole GPU was requested. */
  readonly gpuResource?: string;
  readonly schedulerName?: string;
  /** Labels of the WorkflowTemplate object itself (not its pods). */
  readonly labels: Readonly<Record<string, string>>;
  readonly src: SourceObject;
}

const TEMPLATE_KEYS = ['name', 'container', 'metadata', 'retryStrategy', 'timeout', 'activeDeadlineSeconds', 'nodeSelector', 'tolerations', 'priorityClassName', 'schedulerName', 'securityContext'];
const CONTAINER_KEYS = ['name', 'image', 'imagePullPolicy', 'command', 'args', 'workingDir', 'env', 'volumeMounts', 'resources', 'securityContext'];
const SPEC_KEYS = ['templates', 'volumes', 'podMetadata', 'schedulerName', 'podPriorityClassName', 'serviceAccountName', 'nodeSelector', 'tolerations', 'entrypoint'];

/** Translates template `t` of `src` (spec.templates[t]) as step `name`. */
export function translateStep(ctx: ImportContext, src: SourceObject, t: number, name: string, around: StepSurroundings): TranslatedStep | undefined {
  const out = (...p: (string | number)[]) => ['steps', name, ...p];
  const spec = asMap(src.data.spec) ?? {};
  const tp = ['spec', 'templates', t];
  const tmpl = asMap(asList(spec.templates)[t]) ?? {};
  const container = asMap(tmpl.container);
  if (!container) {
    const kind = ['script', 'resource', 'dag', 'steps', 'suspend', 'http', 'plugin', 'containerSet', 'data'].find((k) => k in tmpl);
    ctx.fail(src, tp, `step "${name}" calls template "${String(tmpl.name)}", which has ${kind ? `a ${kind}` : 'no container'}; expected a container template (each step of this pipeline is one container)`);
    return undefined;
  }
  const cp = [...tp, 'container'];
  const config: { -readonly [K in keyof StepConfig]: StepConfig[K] } = {};
  const projectLabels: ProjectLabel[] = [];
  const labels: Record<string, string> = {};

  if (src.kind === 'WorkflowTemplate') {
    ctx.unknownKeys(src, ['spec'], spec, SPEC_KEYS, 'this field of a step WorkflowTemplate');
    asList(spec.templates).forEach((x, i) => {
      if (i !== t) ctx.cannotExpress(src, ['spec', 'templates', i], `template "${String(asMap(x)?.name)}" is not called by the DAG; left out`);
    });
  }
  if (src.kind === 'WorkflowTemplate' && typeof spec.serviceAccountName === 'string') {
    ctx.cannotExpress(src, ['spec', 'serviceAccountName'], `a service account per step has no field: every step runs as the environment's serviceAccountName (given ${spec.serviceAccountName}); left out`);
  }
  ctx.unknownKeys(src, tp, tmpl, TEMPLATE_KEYS, 'this template field');
  ctx.unknownKeys(src, cp, container, CONTAINER_KEYS, 'this container field');

  // Image
  const image = typeof container.image === 'string' ? container.image : '';
  if (!image) ctx.fail(src, [...cp, 'image'], 'expected an image; given nothing');
  config.image = image;
  const unpinned = image !== '' && isUnpinned(image);
  const pull = container.imagePullPolicy;
  if (pull === 'Always' || pull === 'IfNotPresent' || pull === 'Never') config.imagePullPolicy = pull;
  else if (pull !== undefined) ctx.cannotExpress(src, [...cp, 'imagePullPolicy'], `expected Always, IfNotPresent or Never; given ${short(pull)}; left out`);
  if (unpinned) {
    ctx.corrected(src, [...cp, 'image'], out('image'), 'unpinned image kept; pin it',
      `${image} is not pinned${pull === 'Always' ? ' and imagePullPolicy: Always pulls it anew for every pod' : pull === undefined ? ' (and Kubernetes pulls a :latest image anew for every pod when imagePullPolicy is unset)' : ''}: two runs of one batch can run different code (pipeline-facts, Run:AI rule 8). Kept as given, and policy.allowUnpinnedImages: true is set so the file synthesizes; pin a tag other than latest or an @sha256: digest, then remove that opt-in (the synth refuses unpinned images without it)`);
  }
  for (const key of ['command', 'args'] as const) {
    const v = container[key];
    if (v === undefined) continue;
    if (Array.isArray(v)) config[key] = v.map(String);
    else ctx.fail(src, [...cp, key], `expected a list of strings; given ${short(v)}`);
  }
  if (typeof container.workingDir === 'string') config.workingDir = container.workingDir;

  // Env
  const env: EnvVarConfig[] = [];
  asList(container.env).forEach((e, i) => {
    const m = asMap(e) ?? {};
    const n = String(m.name ?? '');
    const from = asMap(m.valueFrom);
    const ref = (r: Record<string, unknown>) => ({ name: String(r.name), key: String(r.key), ...(typeof r.optional === 'boolean' ? { optional: r.optional } : {}) });
    if (!from) env.push({ name: n, value: String(m.value ?? '') });
    else if (asMap(from.secretKeyRef)) env.push({ name: n, secretKeyRef: ref(asMap(from.secretKeyRef) ?? {}) });
    else if (asMap(from.configMapKeyRef)) env.push({ name: n, configMapKeyRef: ref(asMap(from.configMapKeyRef) ?? {}) });
    else ctx.cannotExpress(src, [...cp, 'env', i, 'valueFrom'], `env ${n}: only value, secretKeyRef and configMapKeyRef are expressible; given ${short(from)}; left out`);
  });
  if (env.length > 0) config.env = env;

  // Mounts
  const mounts: MountConfig[] = [];
  asList(container.volumeMounts).forEach((x, i) => {
    const m = asMap(x) ?? {};
    const mp = [...cp, 'volumeMounts', i];
    const volume = String(m.name ?? '');
    if (!around.volumes.has(volume)) {
      ctx.fail(src, [...mp, 'name'], `mounts volume "${volume}", which no spec.volumes of the input declares as hostPath or persistentVolumeClaim; expected one of: ${[...around.volumes].sort().join(', ') || '(none)'}`);
      return;
    }
    ctx.unknownKeys(src, mp, m, ['name', 'mountPath', 'readOnly', 'subPath'], 'this volumeMount field');
    mounts.push({ volume, path: String(m.mountPath ?? ''), ...(m.readOnly === true ? { readOnly: true } : {}), ...(typeof m.subPath === 'string' ? { subPath: m.subPath } : {}) });
  });
  if (mounts.length > 0) config.mounts = mounts;

  // Pod metadata: the template's own (reaches the pod), the WorkflowTemplate's spec.podMetadata
  // (reaches the pod through GetTemplateFromRef/addPodMetadata), and the object's metadata (never does).
  const objectMeta = asMap(src.data.metadata) ?? {};
  const places: { path: (string | number)[]; meta: Record<string, unknown>; reachesPod: boolean }[] = [
    { path: ['metadata'], meta: objectMeta, reachesPod: false },
    ...(src.kind === 'WorkflowTemplate' ? [{ path: ['spec', 'podMetadata'], meta: asMap(spec.podMetadata) ?? {}, reachesPod: true }] : []),
    { path: [...tp, 'metadata'], meta: asMap(tmpl.metadata) ?? {}, reachesPod: true },
  ];
  let fraction: { value: string; where: (string | number)[]; reachesPod: boolean; key: string } | undefined;
  let preemptibleAnnotation: (string | number)[] | undefined;
  const podAnnotations: Record<string, string> = {};
  const podLabels: Record<string, string> = {};
  for (const place of places) {
    const ann = asStrings(place.meta.annotations);
    for (const key of Object.keys(ann).sort()) {
      const ap = [...place.path, 'annotations', key];
      if (key === GPU_FRACTION || key === GPU_MEMORY) fraction = { value: ann[key], where: ap, reachesPod: place.reachesPod, key };
      else if (key === GPU_CONTAINER) continue; // gpu.targetMainContainer sets it
      else if (key === 'preemptible') preemptibleAnnotation = ann[key] === 'true' ? ap : preemptibleAnnotation;
      else if (place.reachesPod) podAnnotations[key] = ann[key];
      else ctx.cannotExpress(src, ap, `an annotation on the WorkflowTemplate object itself (not on its pods); the environment file has no field for annotations of template objects; left out`);
    }
    const lab = asStrings(place.meta.labels);
    for (const key of Object.keys(lab).sort()) {
      const lp = [...place.path, 'labels', key];
      if (PROJECT_LABELS.includes(key)) projectLabels.push({ src, path: lp, key, value: lab[key] });
      else if (place.reachesPod) podLabels[key] = lab[key];
      else labels[key] = lab[key];
    }
    ctx.unknownKeys(src, place.path, place.meta, place.reachesPod ? ['annotations', 'labels'] : ['name', 'namespace', 'generateName', 'annotations', 'labels'], 'this metadata field');
  }
  if (Object.keys(podAnnotations).length > 0) config.podAnnotations = podAnnotations;
  if (Object.keys(podLabels).length > 0) config.podLabels = podLabels;

  // Resources and GPU
  const res = asMap(container.resources) ?? {};
  ctx.unknownKeys(src, [...cp, 'resources'], res, ['limits', 'requests'], 'this resources field');
  const resources: { requests?: Record<string, string | number>; limits?: Record<string, string | number> } = {};
  let whole: { count: number; resource: string; path: (string | number)[] } | undefined;
  for (const side of ['requests', 'limits'] as const) {
    const list = asMap(res[side]) ?? {};
    for (const key of Object.keys(list).sort()) {
      const v = list[key];
      const rp = [...cp, 'resources', side, key];
      if (key === 'cpu' || key === 'memory' || key === 'ephemeral-storage') (resources[side] ??= {})[key] = typeof v === 'number' ? v : String(v);
      else if (GPU_RESOURCE.test(key)) whole = { count: Number(v), resource: key, path: rp };
      else ctx.cannotExpress(src, rp, `resource ${key} is not expressible (only cpu, memory, ephemeral-storage and a GPU through gpu:); left out`);
    }
  }
  // Kubernetes defaults a missing request to its limit (core/v1 SetDefaults_Pod): the seed's
  // limits-only pods were scheduled by their limits, so that is what the requests become.
  const filled: string[] = [];
  for (const key of ['cpu', 'memory', 'ephemeral-storage'] as const) {
    const limit = resources.limits?.[key];
    if (limit !== undefined && resources.requests?.[key] === undefined) {
      (resources.requests ??= {})[key] = limit;
      filled.push(key);
    }
  }
  if (filled.length > 0) {
    ctx.corrected(src, [...cp, 'resources', 'limits'], out('resources', 'requests'), 'requests stated (Kubernetes took them from the limits)',
      `only limits were given for ${filled.join(', ')}; Kubernetes sets a missing request to its limit, so the pods were scheduled by their limits; written out as requests (the synth requires cpu and memory requests)`);
  }
  // A built-in step without any resources keeps the built-in ones; a partial or absent request is stated.
  const defaults = BUILT_IN_DEFAULTS.get(name);
  if (resources.requests || resources.limits || !defaults) {
    const fallback = { ...OTHER_STEP_REQUESTS, ...defaults?.resources?.requests };
    const added: string[] = [];
    for (const key of ['cpu', 'memory'] as const) {
      if (resources.requests?.[key] !== undefined) continue;
      (resources.requests ??= {})[key] = fallback[key];
      added.push(`${key} ${fallback[key]}`);
    }
    if (added.length > 0) {
      ctx.corrected(src, [...cp, 'resources'], out('resources', 'requests'), 'requests added (the seed stated none)',
        `no ${added.map((a) => a.split(' ')[0]).join(' or ')} request: such a pod is scheduled anywhere and evicted first under pressure; written as ${added.join(', ')} (${defaults ? `the built-in ${name}'s default` : 'a small default'}): adjust it to what the step needs`);
    }
    config.resources = { ...(resources.requests ? { requests: resources.requests } : {}), ...(resources.limits ? { limits: resources.limits } : {}) } as ResourcesConfig;
  }

  let gpu: GpuRequestConfig = 'none';
  let shared = false;
  let gpuResource: string | undefined;
  if (fraction) {
    const n = Number(fraction.value);
    gpu = fraction.key === GPU_FRACTION ? { fraction: n } : { memoryMB: n };
    shared = true;
    const written = fraction.key === GPU_FRACTION ? `gpu: {fraction: ${n}}` : `gpu: {memoryMB: ${n}}`;
    ctx.corrected(src, fraction.where, out('gpu'), fraction.reachesPod ? `${fraction.key} annotation as gpu:` : `${fraction.key} moved onto the pod (it never reached one)`,
      fraction.reachesPod
        ? `${fraction.key}: "${fraction.value}" becomes ${written}, which puts the annotation on the pod (spec.templates[].metadata.annotations) with the scheduler that reads it`
        : `${fraction.key}: "${fraction.value}" sits on the WorkflowTemplate object's own metadata, which Argo never copies to a pod (only spec.podMetadata and spec.templates[].metadata reach pods: workflowpod.go addMetadata, templateresolution/context.go GetTemplateFromRef), so Run:AI never saw the request; written as ${written}, which annotates the pod`);
    if (whole) {
      ctx.corrected(src, whole.path, out('gpu'), `${whole.resource} beside the share dropped`,
        `${whole.resource}: ${whole.count} beside ${fraction.key} reserves a whole GPU (pipeline-facts, Run:AI rule 2); dropped, the ${fraction.key === GPU_FRACTION ? 'fraction' : 'memory request'} kept`);
    }
  } else if (whole) {
    gpu = { count: whole.count };
    gpuResource = whole.resource;
  }
  if (gpu !== 'none' && !around.gpuAvailable) {
    ctx.corrected(src, fraction?.where ?? whole?.path ?? cp, out('gpu'), 'GPU request dropped: no GPU here',
      `a GPU request (${fraction ? `${fraction.key}: "${fraction.value}"` : `${whole?.resource}: ${whole?.count}`}) where ${around.noGpuReason}: the pod would stay Pending forever; dropped (gpu: none), the step runs on CPU`);
    gpu = 'none';
    shared = false;
    gpuResource = undefined;
  } else if (shared && !around.sharedGpus) {
    ctx.fail(src, fraction?.where ?? cp, `a GPU share (${fraction?.key}) needs a Run:AI or KAI scheduler, and the input names none (schedulerName); expected schedulerName: runai-scheduler (or a whole GPU: ${'nvidia.com/gpu'} limits)`);
  }
  config.gpu = gpu;

  // Scheduling: preemption, priority class, placement
  const priorityClassName = typeof tmpl.priorityClassName === 'string' ? tmpl.priorityClassName : typeof spec.podPriorityClassName === 'string' ? spec.podPriorityClassName : undefined;
  if (priorityClassName) config.priorityClassName = priorityClassName;
  const preemptibleByClass = priorityClassName !== undefined && PREEMPTIBLE_CLASSES.includes(priorityClassName);
  if (preemptibleAnnotation || preemptibleByClass) {
    if (around.sharedGpus) {
      config.preemptible = true;
      if (preemptibleAnnotation) {
        ctx.corrected(src, preemptibleAnnotation, out('preemptible'), 'preemptible: "true" annotation as preemptible: true',
          `the annotation preemptible: "true" is only a UI breadcrumb: Run:AI decides preemption by the pod's priorityClassName (pipeline-facts, Run:AI rule 3); written as preemptible: true, which gives the pod the preemptible priority class and retries that survive preemption`);
      }
    } else if (preemptibleAnnotation) {
      ctx.corrected(src, preemptibleAnnotation, out(), 'preemptible annotation dropped', 'the annotation preemptible: "true" does nothing (a priority class decides preemption) and no scheduler of the input preempts; dropped');
    }
  }
  const nodeSelector = asStrings(tmpl.nodeSelector ?? spec.nodeSelector);
  if (Object.keys(nodeSelector).length > 0) config.nodeSelector = nodeSelector;
  const tolerations = asList(tmpl.tolerations ?? spec.tolerations).map((x) => asMap(x) ?? {}) as TolerationConfig[];
  if (tolerations.length > 0) config.tolerations = tolerations;
  const schedulerName = typeof tmpl.schedulerName === 'string' ? tmpl.schedulerName : typeof spec.schedulerName === 'string' ? spec.schedulerName : undefined;

  // Security
  const sc = asMap(container.securityContext) ?? {};
  const psc = asMap(tmpl.securityContext) ?? {};
  ctx.unknownKeys(src, [...cp, 'securityContext'], sc, ['privileged', 'allowPrivilegeEscalation', 'runAsUser', 'runAsGroup', 'readOnlyRootFilesystem', 'runAsNonRoot'], 'this securityContext field (every step drops all capabilities and runs with seccomp RuntimeDefault)');
  ctx.unknownKeys(src, [...tp, 'securityContext'], psc, ['runAsUser', 'runAsGroup', 'runAsNonRoot'], 'this pod securityContext field');
  if (sc.privileged === true) {
    ctx.corrected(src, [...cp, 'securityContext', 'privileged'], out(), 'privileged dropped',
      'privileged: true is rejected by the clusters\' admission policy and the containers work without it (pipeline-facts, Run:AI rule 5); dropped: the step runs unprivileged, without privilege escalation, all capabilities dropped');
  }
  if (sc.allowPrivilegeEscalation === true) {
    ctx.corrected(src, [...cp, 'securityContext', 'allowPrivilegeEscalation'], out(), 'allowPrivilegeEscalation dropped', 'allowPrivilegeEscalation: true dropped: every step runs without privilege escalation');
  }
  for (const key of ['runAsUser', 'runAsGroup'] as const) {
    const v = sc[key] ?? psc[key];
    if (typeof v === 'number') config[key] = v;
  }
  if (typeof sc.readOnlyRootFilesystem === 'boolean') config.readOnlyRootFilesystem = sc.readOnlyRootFilesystem;
  if (sc.runAsNonRoot === true || psc.runAsNonRoot === true) {
    ctx.cannotExpress(src, [...(sc.runAsNonRoot === true ? cp : tp), 'securityContext', 'runAsNonRoot'], 'runAsNonRoot has no field; set runAsUser instead (an image without USER runs as root: pipeline-facts, Run:AI rule 5); left out');
  }

  // Timeout and retries
  if (typeof tmpl.timeout === 'string') config.timeout = tmpl.timeout;
  else if (tmpl.activeDeadlineSeconds !== undefined) {
    config.timeout = `${Number(tmpl.activeDeadlineSeconds)}s`;
    ctx.corrected(src, [...tp, 'activeDeadlineSeconds'], out('timeout'), 'activeDeadlineSeconds as timeout',
      'activeDeadlineSeconds bounds only a pod that got a node; a pod Pending forever (missing hostPath, no GPU) is ended only by timeout (argo-runtime: operator.go); written as timeout');
  }
  if (config.timeout === undefined && !defaults) {
    config.timeout = OTHER_STEP_TIMEOUT;
    ctx.corrected(src, tp, out('timeout'), 'timeout added (the seed stated none)',
      `no timeout: a pod that never starts (a missing hostPath, no GPU) stays Pending forever, since only a template timeout ends it (argo-runtime: operator.go); written as ${OTHER_STEP_TIMEOUT}: adjust it to the step's longest run`);
  }
  if (tmpl.retryStrategy === undefined) {
    ctx.corrected(src, tp, out(), 'retries added (the seed had none)',
      'no retryStrategy: a deleted, preempted or evicted pod (an Error attempt) failed the run; the step now gets the project\'s retries: Error attempts and killed pods (exit 137/143), with a backoff, and nothing the step decided');
  }
  translateRetry(ctx, src, tp, asMap(tmpl.retryStrategy), config, out('retry'));

  return { config, projectLabels, unpinned, shared, gpuResource, schedulerName, labels, src };
}

/** `:latest`, or no tag and no digest. */
export function isUnpinned(image: string): boolean {
  if (image.includes('@sha256:')) return false;
  const last = image.slice(image.lastIndexOf('/') + 1);
  const colon = last.lastIndexOf(':');
  return colon < 0 || last.slice(colon + 1) === 'latest';
}

