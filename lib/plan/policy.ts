/**
 * Synth-time policy: the production pitfalls of pipeline-facts.md that a manifest can get wrong,
 * checked on the constructed pipeline. Each problem names the environment-file field it is about.
 */
import { DNS_LABEL, ENVIRONMENT_LABEL, PART_OF_LABEL, VERSION_LABEL } from '../names';
import { PROJECT_LABEL_KEYS } from '../scheduling/cluster';
import { GPU_CONTAINER_ANNOTATION, GPU_FRACTION_ANNOTATION, GPU_MEMORY_ANNOTATION } from '../scheduling/gpu';
import { digestOf, imageReferenceProblem, isPinnedImage } from '../values/image';
import { parseQuantity } from '../values/quantity';
import { durationSeconds, formatSeconds, isWithinGoDurationRange, MAX_GO_DURATION } from '../values/duration';
import type { Toleration } from '../values/shapes';
import { allSteps, type PipelinePlan, type StepPlan } from './types';

/** Characters a versioned template name adds: `-` and 8 hex digits. */
const HASH_SUFFIX_LENGTH = 9;

/** One policy violation, at an environment-file field path. */
export interface PolicyProblem {
  /** Field path in the environment file (e.g. `steps.predictor.gpu`). */
  readonly path: readonly (string | number)[];
  readonly message: string;
  /** `warning`: reported, but the pipeline synthesizes. @default 'error' */
  readonly severity?: 'error' | 'warning';
}

/** True for a problem that stops synthesis. */
export function isError(p: PolicyProblem): boolean {
  return p.severity !== 'warning';
}

/** What {@link checkPipeline} reads: the plan and the labels every object gets. */
export interface PipelineView extends PipelinePlan {
  readonly labels: Readonly<Record<string, string>>;
}

/** Own keys only: a name such as `constructor` is not a declared volume or parameter (`name in obj` would find Object.prototype's). */
const has = (o: object, key: string): boolean => Object.hasOwn(o, key);

/** Labels the pipeline sets on every object and workflow (lib/names.ts); a file may not set them. */
export const RESERVED_LABELS: readonly string[] = [PART_OF_LABEL, ENVIRONMENT_LABEL, VERSION_LABEL];
/** Run:AI's GPU annotations (lib/scheduling/gpu.ts): set from `gpu:` only. */
export const GPU_ANNOTATIONS: readonly string[] = [GPU_FRACTION_ANNOTATION, GPU_MEMORY_ANNOTATION, GPU_CONTAINER_ANNOTATION];
/** Longest Kubernetes name a label value, a namespace or a DNS-1123 label may have (apimachinery util/validation `DNS1123LabelMaxLength`, `LabelValueMaxLength`). */
const MAX_LABEL_LENGTH = 63;
/**
 * apimachinery pkg/api/validation/objectmeta.go `TotalAnnotationSizeLimitB` (256 KiB), summed by
 * `ValidateAnnotationsSize` as len(key) + len(value) in bytes over every annotation.
 */
export const ANNOTATIONS_SIZE_LIMIT = 256 * 1024;

/** Fanned-out steps the gate can judge (scripts/gate.sh reads each on a descriptor 5..9). */
export const MAX_FANNED_STEPS = 5;

/** A field path as written in messages: `steps.predictor.args[0]`. */
export function formatPath(path: readonly (string | number)[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

/** `path: message`, for construct validation output. */
export function formatPolicyProblem(p: PolicyProblem): string {
  return `${formatPath(p.path)}: ${p.message}`;
}

/** Every policy problem of a pipeline. */
export function checkPipeline(pipeline: PipelineView): PolicyProblem[] {
  return [
    ...checkScheduling(pipeline),
    ...checkClusterGpu(pipeline),
    ...checkDag(pipeline),
    ...checkVolumes(pipeline),
    ...checkFanOut(pipeline),
    ...checkConcurrency(pipeline),
    ...checkTemplateNames(pipeline),
    ...allSteps(pipeline).flatMap((s) => checkStep(pipeline, s)),
  ];
}

function checkFanOut(p: PipelineView): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  if (p.outcomes && !has(p.volumes, p.outcomes.volume)) {
    out.push({ path: ['runFolder', 'volume'], message: `the run folders (scan lists and outcomes) go on volume "${p.outcomes.volume}", which is not in volumes; expected one of: ${Object.keys(p.volumes).join(', ') || '(none declared)'}` });
  }
  const f = p.fanOut;
  if (!f) return out;
  const names = new Set(p.steps.map((s) => s.name));
  if (f.steps.length > MAX_FANNED_STEPS) {
    out.push({ path: ['fanOut', 'steps'], message: `the gate reads at most ${MAX_FANNED_STEPS} fanned-out steps' outcomes side by side (one shell file descriptor each); given ${f.steps.length}` });
  }
  f.steps.forEach((name, i) => {
    if (!names.has(name)) out.push({ path: ['fanOut', 'steps', i], message: `there is no enabled step "${name}"; expected one of: ${[...names].join(', ')}` });
  });
  if ('subdirectoriesOf' in f.source && !has(p.volumes, f.source.subdirectoriesOf)) {
    out.push({ path: ['fanOut', 'source', 'subdirectoriesOf'], message: `no volume "${f.source.subdirectoriesOf}" in volumes; expected one of: ${Object.keys(p.volumes).join(', ')}` });
  }
  if ('parameter' in f.source && !has(p.parameters, f.source.parameter)) {
    out.push({ path: ['fanOut', 'source', 'parameter'], message: `workflow parameter "${f.source.parameter}" is not declared; add it under parameters (e.g. value: "" for a comma-separated list)` });
  }
  (f.itemVolumes ?? []).forEach((v, i) => {
    if (!has(p.volumes, v)) out.push({ path: ['fanOut', 'itemVolumes', i], message: `no volume "${v}" in volumes; expected one of: ${Object.keys(p.volumes).join(', ')}` });
  });
  return out;
}

function checkConcurrency(p: PipelineView): PolicyProblem[] {
  const c = p.concurrency;
  const out: PolicyProblem[] = [];
  const known = Object.keys(c?.semaphores ?? {});
  if (c?.gpuSemaphore && !known.includes(c.gpuSemaphore)) {
    out.push({ path: ['concurrency', 'gpuSemaphore'], message: `no semaphore "${c.gpuSemaphore}" in concurrency.semaphores; expected one of: ${known.join(', ') || '(none declared)'}` });
  }
  for (const s of p.steps) {
    if (s.semaphore && !known.includes(s.semaphore.key) && s.semaphore.key !== c?.gpuSemaphore) {
      out.push({ path: ['steps', s.name, 'semaphore'], message: `no semaphore "${s.semaphore.key}" in concurrency.semaphores; expected one of: ${known.join(', ') || '(none declared: add concurrency.semaphores)'}` });
    }
  }
  return out;
}

function checkScheduling(p: PipelineView): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  const { scheduler, project, namespace } = p.cluster;
  // The project is a label value (apimachinery util/validation IsValidLabelValue: at most 63) and,
  // on Run:AI, part of the namespace runai-<project> (ValidateNamespaceName: a DNS-1123 label, at most 63).
  const projectTooLong = project !== undefined && project.length > MAX_LABEL_LENGTH;
  if (projectTooLong) {
    out.push({ path: ['scheduling', 'project'], message: `the project is the value of the pods' queue labels; given ${project.length} characters; expected at most ${MAX_LABEL_LENGTH}` });
  }
  if (scheduler === 'runai-scheduler') {
    if (!project) {
      out.push({ path: ['scheduling', 'project'], message: 'required with scheduler runai-scheduler: the Run:AI project the namespace and pod labels belong to; given nothing' });
    } else if (`runai-${project}`.length > MAX_LABEL_LENGTH) {
      if (!projectTooLong) out.push({ path: ['scheduling', 'project'], message: `Run:AI runs project "${project}" in namespace "runai-${project}", ${project.length + 6} characters; Kubernetes allows at most ${MAX_LABEL_LENGTH}; expected a project of at most ${MAX_LABEL_LENGTH - 6} characters` });
    } else if (namespace !== `runai-${project}`) {
      out.push({ path: ['namespace'], message: `Run:AI runs project "${project}" in namespace "runai-${project}"; given "${namespace}"` });
    }
  }
  for (const [key, value] of Object.entries(p.labels)) {
    if ((PROJECT_LABEL_KEYS as readonly string[]).includes(key) && value !== project) {
      out.push({ path: ['labels', key], message: `names project "${value}" but scheduling.project is ${project ? `"${project}"` : 'not set'}; project and queue labels come from scheduling.project` });
    }
  }
  return out;
}

/**
 * `gpu.resourceName` must be an extended resource: a whole GPU is set as request and limit under
 * it, so a core name (`memory`, `cpu`, ...) would overwrite the step's own request. Kubernetes:
 * pkg/apis/core/helper/helpers.go `IsExtendedResourceName` (not native, i.e. domain-prefixed and
 * not in *kubernetes.io/, and not `requests.`-prefixed) and `IsNativeResource`; `hugepages-*` has no
 * domain. And `gpu.tolerations` must be valid tolerations (see {@link tolerationProblems}).
 */
function checkClusterGpu(p: PipelineView): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  const name = p.cluster.gpu.resourceName;
  const slash = name.indexOf('/');
  const domain = slash < 0 ? '' : name.slice(0, slash);
  if (slash <= 0 || domain === 'kubernetes.io' || domain.endsWith('.kubernetes.io') || name.startsWith('requests.')) {
    out.push({ path: ['gpu', 'resourceName'], message: `given "${name}", a Kubernetes core resource name (no domain prefix, or kubernetes.io); a whole GPU is requested as this resource, which would replace the step's own request of it; expected an extended resource such as nvidia.com/gpu` });
  }
  out.push(...tolerationProblems(p.cluster.gpu.tolerations, (...rest) => ['gpu', 'tolerations', ...rest]));
  return out;
}

/**
 * Kubernetes pkg/apis/core/validation/validation.go `ValidateTolerations`: with operator Exists the
 * value must be empty; with an empty key the operator must be Exists.
 */
function tolerationProblems(tolerations: readonly Toleration[], at: At): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  tolerations.forEach((t, i) => {
    if (t.operator === 'Exists' && t.value !== undefined && t.value !== '') {
      out.push({ path: at(i, 'value'), message: `given "${t.value}" with operator Exists, which matches any value; Kubernetes requires the value to be empty with Exists; expected no value (or operator Equal)` });
    }
    if ((t.key === undefined || t.key === '') && t.operator !== 'Exists') {
      out.push({ path: at(i, 'operator'), message: `given ${t.operator ?? 'nothing (Equal)'} with no key; Kubernetes requires operator Exists when the key is empty; expected a key or operator: Exists` });
    }
  });
  return out;
}

function checkDag(p: PipelineView): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  const steps = allSteps(p);
  const names = new Set(steps.map((s) => s.name));
  for (const s of steps) {
    s.declaredDependencies.forEach((dep, i) => {
      if (dep === s.name) {
        out.push({ path: ['steps', s.name, 'dependencies', i], message: 'a step cannot depend on itself' });
      } else if (!names.has(dep)) {
        out.push({ path: ['steps', s.name, 'dependencies', i], message: `there is no step "${dep}" in this pipeline; expected one of: ${[...names].filter((n) => n !== s.name).join(', ') || '(no other steps)'}` });
      }
    });
  }
  const cycle = findCycle(steps);
  if (cycle) out.push({ path: ['steps', cycle[0], 'dependencies'], message: `dependency cycle: ${cycle.join(' -> ')}; the steps must form a DAG` });
  return out;
}

function findCycle(steps: readonly StepPlan[]): string[] | undefined {
  const deps = new Map(steps.map((s) => [s.name, s.dependencies.filter((d) => d !== s.name)]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 'done' || !deps.has(n)) return undefined;
    if (state.get(n) === 'visiting') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'visiting');
    stack.push(n);
    for (const d of deps.get(n) ?? []) {
      const c = visit(d);
      if (c) return c;
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const s of steps) {
    const c = visit(s.name);
    if (c) return c.reverse();
  }
  return undefined;
}

function checkVolumes(p: PipelineView): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  for (const [name, v] of Object.entries(p.volumes)) {
    if ('hostPath' in v && v.type === 'DirectoryOrCreate' && !p.policy.allowDirectoryOrCreate) {
      out.push({ path: ['volumes', name, 'type'], message: 'DirectoryOrCreate silently writes to the node\'s local disk when the shared mount is missing; expected Directory (or set policy.allowDirectoryOrCreate: true)' });
    }
  }
  return out;
}

/** A field path under a step's own (steps.<name>, fanOut.lister or partialSuccess.gate). */
type At = (...rest: (string | number)[]) => (string | number)[];

function checkStep(p: PipelineView, s: StepPlan): PolicyProblem[] {
  // The lister and the gate are configured under fanOut.lister / partialSuccess.gate.
  const base = s.role === 'step' ? ['steps', s.name] : s.role === 'lister' ? ['fanOut', 'lister'] : ['partialSuccess', 'gate'];
  const at: At = (...rest) => [...base, ...rest];
  return [
    ...checkNamesAndImage(p, s, at),
    ...checkPlacement(p, s, at),
    ...checkResources(s, at),
    ...checkParameters(p, s, at),
    ...checkTemplateVariables(s, at),
    ...checkPodMetadata(p, s, at),
    ...checkOutputs(p, s, at),
    ...checkMounts(s, at),
    ...checkWrapper(s, at),
    ...checkProvenance(s, at),
    ...checkOutcomeFolder(p, s),
    ...tolerationProblems(s.tolerations, (...rest) => at('tolerations', ...rest)),
  ];
}

function checkNamesAndImage(p: PipelineView, s: StepPlan, at: At): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  if (!DNS_LABEL.test(s.name) || s.name.length > 63) {
    out.push({ path: at(), message: `step name "${s.name}" must be a DNS-1123 label of at most 63 characters` });
  }
  const nameLength = s.templateName.length + (s.versioned ? HASH_SUFFIX_LENGTH : 0);
  if (nameLength > 63) {
    const shown = s.versioned ? `${s.templateName}-<hash>` : s.templateName;
    out.push({ path: at(), message: `template name "${shown}" is ${nameLength} characters; Kubernetes allows at most 63 (shorten the step name)` });
  }
  const imageProblem = s.image === '' ? undefined : imageReferenceProblem(s.image);
  if (s.image === '') {
    out.push({ path: at('image'), message: 'a step needs a container image; given nothing' });
  } else if (imageProblem) {
    // The runtime's parser (distribution/reference, cited in lib/values/image.ts) refuses it: the pod never starts (InvalidImageName).
    out.push({ path: at('image'), message: `given "${s.image}", not an image reference; ${imageProblem}` });
  } else if (!isPinnedImage(s.image) && !p.policy.allowUnpinnedImages) {
    out.push({ path: at('image'), message: `"${s.image}" is not pinned; expected a tag other than latest or a @sha256 digest (or set policy.allowUnpinnedImages: true)` });
  }
  if (!s.hardened && !p.policy.allowUnhardened) {
    out.push({ path: at('hardened'), message: 'given false: the step would run without the RuntimeDefault seccomp profile and with its capabilities and privilege escalation, which admission (Pod Security "restricted") rejects and the steps do not need; expected true (or set policy.allowUnhardened: true)' });
  }
  // Kubernetes kuberuntime verifyRunAsNonRoot: a container running as uid 0 under runAsNonRoot never starts (CreateContainerConfigError).
  const podUser = s.runAsUser ?? p.cluster.runAsUser;
  if (s.containerSecurityContext.runAsUser === 0 && podUser !== undefined && podUser > 0) {
    out.push({ path: at('containerSecurityContext', 'runAsUser'), message: `given 0 (root) while the pod runs as ${podUser} with runAsNonRoot: true, so the kubelet refuses to start the container; expected a non-zero user` });
  }
  // The pipeline's own are reported once, at templateAnnotations (checkTemplateNames).
  for (const [key, value] of Object.entries(s.templateAnnotations)) {
    if (GPU_ANNOTATIONS.includes(key) && p.templateAnnotations[key] !== value) out.push(objectGpuAnnotation(at('templateAnnotations', key), key));
  }
  if (s.privileged && !p.policy.allowPrivileged) {
    out.push({ path: at('privileged'), message: 'privileged containers are rejected by admission and the steps do not need them; given true (or set policy.allowPrivileged: true)' });
  }

  return out;
}

/** GPU placement, the scheduler, priority and preemption. */
function checkPlacement(p: PipelineView, s: StepPlan, at: At): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  const cluster = p.cluster;
  if (s.gpu.requestsGpu && !cluster.gpu.available) {
    out.push({ path: at('gpu'), message: `this environment has no GPUs for Kubernetes (gpu.available: false); given ${s.gpu}, expected none` });
  }
  const own = s.scheduler !== cluster.scheduler;
  if (s.gpu.needsSharingScheduler && s.scheduler === 'default-scheduler') {
    out.push({ path: at('gpu'), message: `a GPU ${s.gpu} is read from pod annotations by Run:AI/KAI only; ${own ? formatPath(at('scheduler')) : 'scheduling.scheduler'} is default-scheduler, expected runai-scheduler or kai-scheduler (or a whole GPU: {count: 1})` });
  }

  if (s.scheduler !== 'default-scheduler' && !s.priorityClassName) {
    out.push({ path: at('priorityClassName'), message: `every step on ${s.scheduler} needs an explicit priority class: a pod without one gets the cluster's default priority (the PriorityClass marked globalDefault, else 0), which ${s.scheduler} may treat as preemptible or not; given nothing; expected scheduling.priorityClasses, or ${formatPath(at('priorityClassName'))}: <class>` });
  }
  if (s.preemptible && !s.priorityClassName) {
    out.push({ path: at('preemptible'), message: `preemptibility is decided by the priority class, and this step has none; expected scheduling.priorityClasses, or ${formatPath(at('priorityClassName'))}: <a preemptible class>` });
  }
  // (The gate retries Error attempts only, so that its summary stays the workflow's message.)
  if (s.preemptible && !s.retry.retriesEveryFailure && s.role !== 'gate') {
    out.push({ path: at('retry', 'policy'), message: `a preempted pod ends as Error or Failed; a preemptible step must retry Always with a limit above 0; given policy ${s.retry.policy ?? 'none'} and limit ${s.retry.limit}` });
  }

  return out;
}

function checkResources(s: StepPlan, at: At): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  const requests = s.resources?.requests ?? {};
  const limits = s.resources?.limits ?? {};
  for (const [name, req] of Object.entries(requests)) {
    const lim = has(limits, name) ? (limits as Record<string, string | number | undefined>)[name] : undefined;
    if (req === undefined || lim === undefined) continue;
    const r = parseQuantity(req);
    const l = parseQuantity(lim);
    if (r !== undefined && l !== undefined && r > l) {
      out.push({ path: at('resources', 'requests', name), message: `request ${req} is above the limit ${lim}; expected a request at most the limit` });
    }
  }

  return out;
}

/** Workflow parameters used in args/command/env must be declared. */
function checkParameters(p: PipelineView, s: StepPlan, at: At): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  const used = usedTexts(s, at);
  // (The lister's parameter is reported once, at fanOut.source.parameter.)
  for (const [path, text] of s.role === 'step' ? used : []) {
    for (const m of text.matchAll(/\{\{\s*workflow\.parameters\.([^}\s]+)\s*\}\}/g)) {
      if (!has(p.parameters, m[1])) {
        out.push({ path, message: `refers to workflow parameter "${m[1]}", which is not declared; expected one of: ${Object.keys(p.parameters).join(', ') || '(none declared: add it under parameters)'}` });
      }
    }
  }

  return out;
}

/** The output directory, per-scan mounts and timeouts, and that mounts name declared volumes. */
function checkOutputs(p: PipelineView, s: StepPlan, at: At): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  if (p.resumeEnabled && !s.outputDir && s.role === 'step') {
    out.push({ path: at('output'), message: 'resume writes a success marker into the step\'s output directory, and this step has no writable mount; add one or set output' });
  }
  if (p.resumeEnabled && s.outputDir && s.role === 'step') {
    // The wrapper writes the marker after the command succeeded: on a read-only mount the step
    // fails after its work is done (the kubelet mounts readOnly mounts and read-only claims ro).
    const mount = mountOf(s, s.outputDir);
    const volume = mount && has(p.volumes, mount.volume) ? p.volumes[mount.volume] : undefined;
    const claimReadOnly = volume !== undefined && 'persistentVolumeClaim' in volume && volume.readOnly === true;
    if (mount && (mount.readOnly || claimReadOnly)) {
      out.push({ path: at('output'), message: `resume writes the step's success marker under its output directory; given "${s.outputDir}", on ${mount.readOnly ? `mount ${mount.path} (readOnly)` : `volume "${mount.volume}" (a read-only claim)`}; expected a writable mount's path` });
    }
  }
  if (s.timeout !== undefined && !isWithinGoDurationRange(s.timeout)) {
    out.push({ path: at('timeout'), message: `given ${s.timeout}; Argo parses a timeout as a Go duration (int64 nanoseconds); expected at most ${MAX_GO_DURATION}` });
  }
  // The wrapper takes its path lists (markers, per-scan mounts) one path per line (lib/steps/wrapper.ts).
  if (s.resume && /[\n\r]/.test(s.resume.markerPath)) out.push({ path: ['resume', 'markerName'], message: `a marker path cannot contain a line break (the step wrapper lists paths one per line); given ${JSON.stringify(s.resume.markerName)}` });
  for (const [i, m] of s.mounts.entries()) {
    if (/[\n\r]/.test(m.path)) out.push({ path: at('mounts', i, 'path'), message: `a mount path cannot contain a line break (the step wrapper lists paths one per line); given ${JSON.stringify(m.path)}` });
  }
  if (s.fanOut) {
    const perPod = p.lister?.scansPerPod ?? 1;
    const scanSeconds = s.fanOut.scanTimeoutSeconds;
    const podSeconds = s.timeout ? durationSeconds(s.timeout) : undefined;
    if (scanSeconds && podSeconds !== undefined && podSeconds < perPod * scanSeconds) {
      out.push({ path: at('timeout'), message: `${s.timeout} is shorter than ${perPod} scans per pod (fanOut.scansPerPod) x ${formatSeconds(scanSeconds)} per scan (fanOut.scanTimeout) = ${formatSeconds(perPod * scanSeconds)}: the pod deadline would stop chunks whose scans are all within their limit; expected at least ${formatSeconds(perPod * scanSeconds)}` });
    }
  }

  s.mounts.forEach((m, i) => {
    if (!has(p.volumes, m.volume)) {
      out.push({ path: at('mounts', i, 'volume'), message: `no volume "${m.volume}" in volumes; expected one of: ${Object.keys(p.volumes).join(', ') || '(none declared)'}` });
    }
  });
  return out;
}

/** The mount holding a path: the one at it, or the deepest one above it. */
function mountOf(s: StepPlan, path: string): StepPlan['mounts'][number] | undefined {
  const under = s.mounts.filter((m) => path === m.path || path.startsWith(m.path.endsWith('/') ? m.path : `${m.path}/`));
  return under.sort((a, b) => b.path.length - a.path.length)[0];
}

/**
 * Template variables that do not exist where they are used. A step's command, args and env are
 * resolved in its container template, whose scope holds its declared inputs
 * (`inputs.parameters.<name>`) and no `item`: Argo adds `item` only to a looping task's own scope
 * (workflow/validate/validate.go `addItemsToScope`, for withItems/withParam/withSequence), and
 * `resolveAllVariables` fails "failed to resolve {{...}}" for any other inputs or item reference
 * (the controller validates a workflow before running it; the step template's container is
 * validated by `validateLeaf` with its inputs only).
 */
function checkTemplateVariables(s: StepPlan, at: At): PolicyProblem[] {
  if (s.role !== 'step') return [];
  const out: PolicyProblem[] = [];
  const inputs = [...(s.fanOut ? [s.fanOut.parameter] : []), ...Object.keys(s.inputs)];
  for (const [path, text] of usedTexts(s, at)) {
    for (const m of text.matchAll(/\{\{\s*inputs\.parameters\.([^}\s]+)\s*\}\}/g)) {
      if (!inputs.includes(m[1])) {
        out.push({ path, message: `refers to {{inputs.parameters.${m[1]}}}, which this step's template does not declare (Argo: failed to resolve); expected ${inputs.length > 0 ? `one of: ${inputs.map((n) => `{{inputs.parameters.${n}}}`).join(', ')}` : 'none: the step has no inputs (workflow parameters are {{workflow.parameters.NAME}})'}` });
      }
    }
    for (const m of text.matchAll(/\{\{\s*(item(?:\.[^}\s]*)?)\s*\}\}/g)) {
      out.push({ path, message: `refers to {{${m[1]}}}, which exists only in a looping DAG task's arguments, never in a step's container (Argo: failed to resolve); expected ${s.fanOut ? `{{inputs.parameters.${s.fanOut.parameter}}} (the chunk) or the per-scan mount paths` : 'a workflow parameter ({{workflow.parameters.NAME}}), or fanOut to run the step per scan'}` });
    }
  }
  return out;
}

/** The texts of a step Argo resolves variables in, with their field paths. */
function usedTexts(s: StepPlan, at: At): [(string | number)[], string][] {
  return [
    ...(s.command ?? []).map((c, i): [(string | number)[], string] => [at('command', i), c]),
    ...(s.args ?? []).map((a, i): [(string | number)[], string] => [at('args', i), a]),
    ...s.env.flatMap((e, i): [(string | number)[], string][] => ('value' in e ? [[at('env', i, 'value'), e.value]] : [])),
  ];
}

/** Pod labels and annotations: the pipeline's reserved labels, the GPU annotations, the annotations' total size. */
function checkPodMetadata(p: PipelineView, s: StepPlan, at: At): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  for (const key of Object.keys(s.podLabels)) {
    if (RESERVED_LABELS.includes(key)) {
      out.push({ path: at('podLabels', key), message: `given "${s.podLabels[key]}" for ${key}, a label the pipeline sets itself (what deploy, list and prune select on); expected another key` });
    }
  }
  for (const key of Object.keys(s.podAnnotations)) {
    if (GPU_ANNOTATIONS.includes(key)) {
      out.push({ path: at('podAnnotations', key), message: `given ${key}: "${s.podAnnotations[key]}"; the scheduler reads GPU shares from this annotation, which the pipeline sets from gpu: (and checks against the scheduler and the cluster); expected gpu: {fraction: ...} or {memoryMB: ...} instead` });
    }
  }
  // Kubernetes pkg/api/validation/objectmeta.go ValidateAnnotationsSize (apimachinery): the API server refuses the pod.
  const annotations = { ...s.podAnnotations, ...s.gpu.podSettings(p.cluster.gpu).annotations };
  const bytes = Object.entries(annotations).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  if (bytes > ANNOTATIONS_SIZE_LIMIT) {
    out.push({ path: at('podAnnotations'), message: `given ${bytes} bytes of pod annotations (keys and values); Kubernetes allows at most ${ANNOTATIONS_SIZE_LIMIT} (256 KiB) in total; expected smaller annotations (large data belongs in a volume or a ConfigMap)` });
  }
  return out;
}

/**
 * Kubernetes pkg/apis/core/validation/validation.go `ValidateVolumeMounts`: a subPath goes through
 * `validateLocalDescendingPath` (must be relative, no `..` element, `validatePathNoBacksteps`).
 * A Secret file is mounted with its key as subPath, so the key obeys the same (and
 * apimachinery util/validation `IsConfigMapKey`).
 */
function checkMounts(s: StepPlan, at: At): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  const descending = (p: string): string | undefined =>
    p.startsWith('/') ? 'an absolute path' : p.split(/[\\/]/).includes('..') ? 'a path with a ".." element' : undefined;
  s.mounts.forEach((m, i) => {
    const bad = m.subPath !== undefined && m.subPath !== '' ? descending(m.subPath) : undefined;
    if (bad) out.push({ path: at('mounts', i, 'subPath'), message: `given "${m.subPath}", ${bad}; Kubernetes requires a subPath relative to the volume, without ".."; expected e.g. scans/2024` });
  });
  s.secretFiles.forEach((f, i) => {
    if (!/^[-._a-zA-Z0-9]+$/.test(f.key) || f.key === '.' || f.key === '..' || f.key.startsWith('..')) {
      out.push({ path: at('secretFiles', i, 'key'), message: `given "${f.key}"; a Secret key is letters, digits, "-", "_" and "." (not "." or "..", not starting with "..") and is mounted as the file's subPath; expected e.g. token` });
    }
  });
  return out;
}

/**
 * The wrapper (resume, outcomes) runs as the container's command, so the image's ENTRYPOINT does
 * not run: Kubernetes' `command` replaces it (the runtime runs command, else ENTRYPOINT, then
 * args). Without `command` the wrapper needs the ENTRYPOINT restated as `entrypoint`.
 */
function checkWrapper(s: StepPlan, at: At): PolicyProblem[] {
  if (!s.wrapped || s.command !== undefined || s.entrypoint !== undefined) return [];
  const why = s.resume ? 'resume.enabled' : 'its outcomes are recorded';
  const first = s.args?.[0];
  return [{
    path: at('entrypoint'),
    message: `this step runs under the step wrapper (${why}), which replaces the container's command, so the image's ENTRYPOINT would not run${first !== undefined ? ` and args[0] ("${first}") would run as the program` : ''}; given no command and no entrypoint; expected entrypoint: [<the image's ENTRYPOINT>] (entrypoint: [] when the image defines none), or command: [<the program>]`,
  }];
}

/** `sha256:` and 64 hex digits: an image digest as OCI writes it. */
const DIGEST_VALUE = /^sha256:[0-9a-f]{64}$/;

/**
 * Provenance: a hand-written value of the step's digest variable must be its image's digest
 * (error); a digest stamped under any other name that is not its image's describes another image
 * (warning).
 */
function checkProvenance(s: StepPlan, at: At): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  const digest = digestOf(s.image);
  s.env.forEach((e, i) => {
    if (!('value' in e)) return;
    const image = digest ? `its image is pinned at ${digest} (${s.image})` : `its image "${s.image}" is not pinned by digest`;
    if (e.name === s.imageDigestEnv && e.value !== digest) {
      out.push({ path: at('env', i, 'value'), message: `${e.name} is this step's image-digest variable (provenance.imageDigestEnv), set from the image; given "${e.value}", but ${image}; expected no hand-written value (or ${digest ?? 'an image pinned by @sha256:'})` });
    } else if (e.name !== s.imageDigestEnv && DIGEST_VALUE.test(e.value) && e.value !== digest) {
      out.push({ severity: 'warning', path: at('env', i, 'value'), message: `${e.name} holds the digest ${e.value}, but ${image}: the variable does not describe this step's image; expected its digest, or provenance.imageDigestEnv: ${e.name} to have it set from the image` });
    }
  });
  return out;
}

/**
 * A step recording outcomes writes its exit-code files into the run folder (runFolder.volume,
 * mounted read-write at the state mount): a warning when that volume is a read-only claim, or
 * one this step reads as input (mounted readOnly), where the files land among its inputs.
 */
function checkOutcomeFolder(p: PipelineView, s: StepPlan): PolicyProblem[] {
  if (!s.outcomes?.record) return [];
  const name = s.outcomes.volume;
  const volume = has(p.volumes, name) ? p.volumes[name] : undefined;
  const input = s.mounts.find((m) => m.volume === name && m.readOnly);
  const readOnlyClaim = volume !== undefined && 'persistentVolumeClaim' in volume && volume.readOnly === true;
  if (!readOnlyClaim && !input) return [];
  const where = readOnlyClaim ? `a read-only claim (the writes fail)` : `a folder this step reads as input (mount ${input!.path}, readOnly)`;
  return [{ severity: 'warning', path: ['runFolder', 'volume'], message: `step ${s.name} writes its exit-code files under the run folder on volume "${name}", ${where}; expected a writable output volume (e.g. traits-output)` }];
}

/** Step WorkflowTemplate names are unique (two steps of one name would replace each other's object); no GPU annotation on the objects. */
function checkTemplateNames(p: PipelineView): PolicyProblem[] {
  const seen = new Map<string, string>();
  const out: PolicyProblem[] = Object.keys(p.templateAnnotations).filter((k) => GPU_ANNOTATIONS.includes(k)).map((k) => objectGpuAnnotation(['templateAnnotations', k], k));
  for (const s of allSteps(p)) {
    const first = seen.get(s.templateName);
    if (first !== undefined && !s.versioned) {
      out.push({ path: s.role === 'step' ? ['steps', s.name, 'templateName'] : ['templateNamePrefix'], message: `given "${s.templateName}", the template name of step ${first} too: one WorkflowTemplate would replace the other; expected another name` });
    }
    seen.set(s.templateName, s.name);
  }
  return out;
}

/** Run:AI rule 1 (pipeline-facts.md): GPU annotations on a WorkflowTemplate's own metadata never reach a pod. */
function objectGpuAnnotation(path: (string | number)[], key: string): PolicyProblem {
  return { path, message: `given ${key} on the WorkflowTemplate object, whose annotations Argo never copies to pods: it would request no GPU share; expected gpu: {fraction: ...} or {memoryMB: ...} on the step` };
}
