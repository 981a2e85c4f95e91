/**
 * Synth-time policy: the production pitfalls of pipeline-facts.md that a manifest can get wrong,
 * checked on the constructed pipeline. Each problem names the environment-file field it is about.
 */
import { DNS_LABEL } from '../names';
import { PROJECT_LABEL_KEYS } from '../scheduling/cluster';
import { isPinnedImage } from '../values/image';
import { parseQuantity } from '../values/quantity';
import { durationSeconds, formatSeconds } from '../values/duration';
import { allSteps, type PipelinePlan, type StepPlan } from './types';

/** Characters a versioned template name adds: `-` and 8 hex digits. */
const HASH_SUFFIX_LENGTH = 9;

/** One policy violation, at an environment-file field path. */
export interface PolicyProblem {
  /** Field path in the environment file (e.g. `steps.predictor.gpu`). */
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** What {@link checkPipeline} reads: the plan and the labels every object gets. */
export interface PipelineView extends PipelinePlan {
  readonly labels: Readonly<Record<string, string>>;
}

/** Fanned-out steps the gate can judge (scripts/gate.sh reads each on a descriptor 5..9). */
export const MAX_FANNED_STEPS = 5;

/** `path: message`, for construct validation output. */
export function formatPolicyProblem(p: PolicyProblem): string {
  return `${p.path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('')}: ${p.message}`;
}

/** Every policy problem of a pipeline. */
export function checkPipeline(pipeline: PipelineView): PolicyProblem[] {
  return [
    ...checkScheduling(pipeline),
    ...checkDag(pipeline),
    ...checkVolumes(pipeline),
    ...checkFanOut(pipeline),
    ...checkConcurrency(pipeline),
    ...allSteps(pipeline).flatMap((s) => checkStep(pipeline, s)),
  ];
}

function checkFanOut(p: PipelineView): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  if (p.outcomes && !(p.outcomes.volume in p.volumes)) {
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
  if ('subdirectoriesOf' in f.source && !(f.source.subdirectoriesOf in p.volumes)) {
    out.push({ path: ['fanOut', 'source', 'subdirectoriesOf'], message: `no volume "${f.source.subdirectoriesOf}" in volumes; expected one of: ${Object.keys(p.volumes).join(', ')}` });
  }
  if ('parameter' in f.source && !(f.source.parameter in p.parameters)) {
    out.push({ path: ['fanOut', 'source', 'parameter'], message: `workflow parameter "${f.source.parameter}" is not declared; add it under parameters (e.g. value: "" for a comma-separated list)` });
  }
  (f.itemVolumes ?? []).forEach((v, i) => {
    if (!(v in p.volumes)) out.push({ path: ['fanOut', 'itemVolumes', i], message: `no volume "${v}" in volumes; expected one of: ${Object.keys(p.volumes).join(', ')}` });
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
  if (scheduler === 'runai-scheduler') {
    if (!project) {
      out.push({ path: ['scheduling', 'project'], message: 'required with scheduler runai-scheduler: the Run:AI project the namespace and pod labels belong to; given nothing' });
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
    ...checkOutputs(p, s, at),
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
  if (s.image === '') {
    out.push({ path: at('image'), message: 'a step needs a container image; given nothing' });
  } else if (!isPinnedImage(s.image) && !p.policy.allowUnpinnedImages) {
    out.push({ path: at('image'), message: `"${s.image}" is not pinned; expected a tag other than latest or a @sha256 digest (or set policy.allowUnpinnedImages: true)` });
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
  if (s.gpu.needsSharingScheduler && cluster.scheduler === 'default-scheduler') {
    out.push({ path: at('gpu'), message: `a GPU ${s.gpu} is read from pod annotations by Run:AI/KAI only; scheduling.scheduler is default-scheduler, expected runai-scheduler or kai-scheduler (or a whole GPU: {count: 1})` });
  }

  if (cluster.scheduler !== 'default-scheduler' && !s.priorityClassName) {
    out.push({ path: at('priorityClassName'), message: `every step on ${cluster.scheduler} needs an explicit priority class (a pod without one lands at the highest priority); set scheduling.priorityClasses or this field` });
  }
  if (s.preemptible && !s.priorityClassName) {
    out.push({ path: at('preemptible'), message: 'preemptibility is decided by the priority class, and this step has none; set scheduling.priorityClasses' });
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
    const lim = (limits as Record<string, string | number | undefined>)[name];
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
  const used: [(string | number)[], string][] = [
    ...(s.command ?? []).map((c, i): [(string | number)[], string] => [at('command', i), c]),
    ...(s.args ?? []).map((a, i): [(string | number)[], string] => [at('args', i), a]),
    ...s.env.flatMap((e, i): [(string | number)[], string][] => ('value' in e ? [[at('env', i, 'value'), e.value]] : [])),
  ];
  // (The lister's parameter is reported once, at fanOut.source.parameter.)
  for (const [path, text] of s.role === 'step' ? used : []) {
    for (const m of text.matchAll(/\{\{\s*workflow\.parameters\.([^}\s]+)\s*\}\}/g)) {
      if (!(m[1] in p.parameters)) {
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
  if (s.fanOut) {
    for (const [i, m] of s.mounts.entries()) {
      if (s.fanOut.itemVolumes.includes(m.volume) && /\s/.test(m.path)) {
        out.push({ path: at('mounts', i, 'path'), message: `a per-scan mount path cannot contain blanks (the wrapper lists them space-separated); given "${m.path}"` });
      }
    }
    const perPod = p.lister?.scansPerPod ?? 1;
    const scanSeconds = s.fanOut.scanTimeoutSeconds;
    const podSeconds = s.timeout ? durationSeconds(s.timeout) : undefined;
    if (scanSeconds && podSeconds !== undefined && podSeconds < perPod * scanSeconds) {
      out.push({ path: at('timeout'), message: `${s.timeout} is shorter than ${perPod} scans per pod (fanOut.scansPerPod) x ${formatSeconds(scanSeconds)} per scan (fanOut.scanTimeout) = ${formatSeconds(perPod * scanSeconds)}: the pod deadline would stop chunks whose scans are all within their limit; expected at least ${formatSeconds(perPod * scanSeconds)}` });
    }
  }

  s.mounts.forEach((m, i) => {
    if (!(m.volume in p.volumes)) {
      out.push({ path: at('mounts', i, 'volume'), message: `no volume "${m.volume}" in volumes; expected one of: ${Object.keys(p.volumes).join(', ') || '(none declared)'}` });
    }
  });
  return out;
}
