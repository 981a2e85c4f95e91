/**
 * Hand-written Argo YAML in the seed's layout (one WorkflowTemplate per step, a DAG Workflow or
 * WorkflowTemplate calling them by templateRef, hostPath volumes) as an environment file's data.
 *
 * A templateRef names a WorkflowTemplate by `name` and one of its `spec.templates` by `template`
 * (workflow/templateresolution/context.go `GetTemplateFromRef`: `wftmplGetter.Get(tmplRef.Name)`,
 * then `GetTemplateByName(tmplRef.Template)`); a task's `template` names a template of the
 * DAG's own object. The DAG's edges are the tasks' `dependencies` (or a `depends` that is only
 * task names joined by `&&`).
 */
import type { EnvironmentConfig, StepConfig, VolumeConfig } from '../config/schema';
import { DNS_LABEL } from '../names';
import { asList, asMap, asStrings, short, ImportContext } from './context';
import type { SourceObject } from './documents';
import { ImportError } from './findings';
import { translateStep, type ProjectLabel, type TranslatedStep } from './step';
import { translateVolume } from './volumes';

/** Options of {@link translate}. */
export interface TranslateOptions {
  /** The namespace to write, over the input's. @default - the DAG object's namespace */
  readonly namespace?: string;
  /** false: the cluster has no GPU (every GPU request is dropped). @default - false for Docker Desktop hostPaths, else true */
  readonly gpuAvailable?: boolean;
}

/** An environment file's data, with what the import says about it. */
export interface Translation {
  readonly config: EnvironmentConfig;
  readonly context: ImportContext;
}

/** The built-in steps of the pipeline (lib/constructs): a seed without one disables it. */
const BUILT_IN_STEPS = ['models-downloader', 'predictor', 'trait-extractor'];
/** Docker Desktop exposes WSL2 folders to its node here; its Kubernetes sees no GPU (pipeline-facts, environments). */
const DOCKER_DESKTOP_PREFIX = '/run/desktop/mnt/host/';
/** Priority classes of the lab's Run:AI cluster (pipeline-facts, Run:AI rule 3). */
const RUNAI_PRIORITY_CLASSES = { preemptible: 'interactive-preemptible', nonPreemptible: 'high' };
const WORKFLOW_SPEC_KEYS = ['entrypoint', 'templates', 'arguments', 'volumes', 'schedulerName', 'serviceAccountName', 'activeDeadlineSeconds', 'ttlStrategy', 'podGC', 'parallelism', 'podMetadata', 'podPriorityClassName', 'nodeSelector', 'tolerations'];
const TASK_KEYS = ['name', 'templateRef', 'template', 'dependencies', 'depends'];

/**
 * Translates the objects of the input files.
 * @throws ImportError when something the pipeline needs is missing or broken (every such problem)
 */
export function translate(objects: readonly SourceObject[], options: TranslateOptions = {}): Translation {
  const ctx = new ImportContext();
  const holders = objects.filter((o) => (o.kind === 'Workflow' || o.kind === 'WorkflowTemplate') && dagIndex(o) !== undefined);
  const workflows = holders.filter((o) => o.kind === 'Workflow');
  const candidates = workflows.length > 0 ? workflows : holders;
  if (candidates.length === 0) {
    throw new ImportError([{ file: objects.map((o) => o.file).filter((f, i, a) => a.indexOf(f) === i).join(', ') || '(no input)', field: '', message: 'no DAG: expected a Workflow (or WorkflowTemplate) whose spec.templates has a dag template calling the steps by templateRef' }]);
  }
  if (candidates.length > 1) {
    const [a, b] = candidates;
    throw new ImportError([{ file: b.file, line: b.lineOf(['kind']), field: 'kind', message: `a second DAG (${b.kind} ${b.name}; the first is ${a.kind} ${a.name} in ${a.file}); expected one pipeline per import` }]);
  }
  const holder = candidates[0];
  for (const o of objects) {
    if (o !== holder && o.kind !== 'WorkflowTemplate' && o.kind !== 'Workflow') ctx.cannotExpress(o, ['kind'], `a ${o.kind} is not part of what import reads (WorkflowTemplates and one DAG); left out`);
    else if (o !== holder && o.kind === 'Workflow') ctx.cannotExpress(o, ['kind'], `a second Workflow (${o.name}) without a DAG; left out`);
  }
  const spec = asMap(holder.data.spec) ?? {};
  ctx.unknownKeys(holder, ['spec'], spec, WORKFLOW_SPEC_KEYS, 'this workflow field');
  const d = dagIndex(holder) ?? 0;
  const dagPath = ['spec', 'templates', d, 'dag'];
  const dag = asMap(asMap(asList(spec.templates)[d])?.dag) ?? {};
  ctx.unknownKeys(holder, dagPath, dag, ['tasks'], 'this dag field');

  // Volumes, from every object (the seed declared them on the Workflow, sometimes on step templates)
  const volumes: Record<string, VolumeConfig> = {};
  const volumeSeen = new Map<string, string>();
  for (const o of [holder, ...objects.filter((x) => x !== holder && x.kind === 'WorkflowTemplate')]) {
    asList(asMap(o.data.spec)?.volumes).forEach((v, i) => translateVolume(ctx, o, i, asMap(v) ?? {}, volumes, volumeSeen));
  }
  const dockerDesktop = Object.values(volumes).some((v) => 'hostPath' in v && v.hostPath.startsWith(DOCKER_DESKTOP_PREFIX));
  const gpuAvailable = options.gpuAvailable ?? !dockerDesktop;
  const noGpuReason = options.gpuAvailable === false ? 'the cluster has no GPU (--no-gpu)' : `the hostPaths under ${DOCKER_DESKTOP_PREFIX} are Docker Desktop's, whose Kubernetes on WSL2 sees no GPU`;

  // Scheduler: a Run:AI or KAI schedulerName anywhere makes GPU shares and preemption available
  const schedulerNames = objects.flatMap((o) => {
    const s = asMap(o.data.spec) ?? {};
    return [s.schedulerName, ...asList(s.templates).map((t) => asMap(t)?.schedulerName)].filter((x): x is string => typeof x === 'string');
  });
  const scheduler = schedulerNames.find((s) => s === 'runai-scheduler' || s === 'kai-scheduler');
  for (const s of new Set(schedulerNames)) {
    if (s !== scheduler && s !== 'default-scheduler') ctx.cannotExpress(holder, ['spec', 'schedulerName'], `scheduler ${s} is not one of default-scheduler, runai-scheduler, kai-scheduler; left out`);
  }
  const sharedGpus = scheduler !== undefined;

  // Steps, in the DAG's order
  const tasks = asList(dag.tasks).map((t) => asMap(t) ?? {});
  const names = tasks.map((t) => String(t.name ?? ''));
  const steps: Record<string, StepConfig> = {};
  const translated: TranslatedStep[] = [];
  tasks.forEach((task, i) => {
    const tp = [...dagPath, 'tasks', i];
    const name = names[i];
    if (!DNS_LABEL.test(name) || name.length > 63) {
      ctx.fail(holder, [...tp, 'name'], `the task name becomes the step name (a DNS-1123 label of at most 63 characters); given ${short(name)}`);
      return;
    }
    ctx.unknownKeys(holder, tp, task, TASK_KEYS, 'this DAG task field');
    const target = resolve(ctx, holder, objects, task, tp);
    if (!target) return;
    const step = translateStep(ctx, target.src, target.index, name, { sharedGpus, gpuAvailable, noGpuReason, volumes: new Set(Object.keys(volumes)) });
    if (!step) return;
    translated.push(step);
    steps[name] = { ...step.config, dependencies: dependenciesOf(ctx, holder, task, tp, names) };
  });
  if (tasks.length === 0) ctx.fail(holder, dagPath, 'the DAG has no tasks; expected one task per step, calling its WorkflowTemplate by templateRef');
  if (ctx.problems.length > 0) throw new ImportError(ctx.problems);
  for (const b of BUILT_IN_STEPS) if (!(b in steps)) steps[b] = { enabled: false };

  const config: { -readonly [K in keyof EnvironmentConfig]: EnvironmentConfig[K] } = { namespace: '' };
  config.description = `imported from ${[...new Set(objects.map((o) => o.file))].join(', ')}`;
  config.namespace = namespaceOf(ctx, holder, objects, options.namespace);

  // Labels of the template objects: every object of the environment carries the ones they share
  const labels = sharedLabels(translated);
  if (Object.keys(labels).length > 0) config.labels = labels;
  for (const s of translated) {
    for (const key of Object.keys(s.labels).sort()) {
      if (!(key in labels)) ctx.cannotExpress(s.src, ['metadata', 'labels', key], `a label of this WorkflowTemplate object only (not of every template object, which \`labels\` would label; not of its pods); left out`);
    }
  }
  const holderMeta = asMap(holder.data.metadata) ?? {};
  for (const key of Object.keys(asStrings(holderMeta.labels)).sort()) {
    if (!['project', 'runai/queue', 'kai.scheduler/queue'].includes(key)) ctx.cannotExpress(holder, ['metadata', 'labels', key], `a label of the ${holder.kind} object has no field (the run Workflow carries the pipeline's own labels); left out`);
  }
  for (const key of Object.keys(asStrings(holderMeta.annotations)).sort()) {
    ctx.cannotExpress(holder, ['metadata', 'annotations', key], `an annotation of the ${holder.kind} object has no field; left out`);
  }

  if (translated.some((s) => s.unpinned)) config.policy = { allowUnpinnedImages: true };

  const projectLabels = [...translated.flatMap((s) => s.projectLabels), ...workflowProjectLabels(holder)];
  if (scheduler) config.scheduling = schedulingOf(ctx, holder, config, scheduler, projectLabels, translated);
  else for (const l of projectLabels) ctx.cannotExpress(l.src, l.path, `a project label without a Run:AI or KAI schedulerName does nothing (no scheduler reads it); left out`);

  const gpuResources = [...new Set(translated.map((s) => s.gpuResource).filter((r): r is string => r !== undefined))];
  if (!gpuAvailable) config.gpu = { available: false };
  else if (gpuResources.length > 0) config.gpu = { resourceName: gpuResources[0] };
  if (scheduler === 'runai-scheduler' && translated.some((s) => s.shared)) {
    config.gpu = { ...config.gpu, targetMainContainer: true };
    ctx.corrected(holder, dagPath, ['gpu', 'targetMainContainer'], 'GPU share aimed at the main container',
      'Run:AI (seen on 2.22) gives a GPU share to the pod\'s first container, and Argo puts its wait container first, so the predictor ran on CPU (pipeline-facts, Run:AI rule 10); gpu.targetMainContainer: true names the main container in gpu-fraction-container-name and puts it first');
  }

  if (typeof spec.serviceAccountName === 'string') {
    const name = spec.serviceAccountName;
    if (objects.some((o) => o.kind === 'ServiceAccount' && o.name === name)) {
      config.identity = { serviceAccountName: name };
    } else {
      // The input runs as an account it does not create: the cluster's admins made it. Keep it so:
      // identity.create: false emits no ServiceAccount, Role, RoleBinding or token Secret over it.
      config.identity = { serviceAccountName: name, create: false };
      ctx.corrected(holder, ['spec', 'serviceAccountName'], ['identity', 'create'], 'an existing service account, not created',
        `the input runs as ${name} and does not create it; identity: {serviceAccountName: ${name}, create: false} keeps using that account and emits no ServiceAccount, Role, RoleBinding or token Secret over it (\`sleap-roots doctor\` checks that it exists; the admin grants create and patch on workflowtaskresults)`);
    }
  }
  config.volumes = volumes;
  const parameters = parametersOf(ctx, holder, spec);
  if (parameters) config.parameters = parameters;
  const workflow = workflowSettingsOf(ctx, holder, spec);
  if (workflow) config.workflow = workflow;
  config.steps = steps;
  return { config: config as EnvironmentConfig, context: ctx };
}

/** The index of the DAG template: the entrypoint's when it is a dag, else the first dag. */
function dagIndex(o: SourceObject): number | undefined {
  const spec = asMap(o.data.spec) ?? {};
  const templates = asList(spec.templates).map((t) => asMap(t) ?? {});
  const entry = templates.findIndex((t) => t.name === spec.entrypoint && asMap(t.dag));
  if (entry >= 0) return entry;
  const first = templates.findIndex((t) => asMap(t.dag));
  return first >= 0 ? first : undefined;
}

function resolve(ctx: ImportContext, holder: SourceObject, objects: readonly SourceObject[], task: Record<string, unknown>, tp: (string | number)[]): { src: SourceObject; index: number } | undefined {
  const ref = asMap(task.templateRef);
  if (ref) {
    if (ref.clusterScope === true) {
      ctx.fail(holder, [...tp, 'templateRef', 'clusterScope'], 'a ClusterWorkflowTemplate cannot be imported; expected a WorkflowTemplate in the input');
      return undefined;
    }
    const wts = objects.filter((o) => o.kind === 'WorkflowTemplate' && o.name === ref.name);
    if (wts.length === 0) {
      const known = objects.filter((o) => o.kind === 'WorkflowTemplate' && o !== holder).map((o) => o.name).sort();
      ctx.fail(holder, [...tp, 'templateRef', 'name'], `no WorkflowTemplate "${String(ref.name)}" in the input; expected one of: ${known.join(', ') || '(none: give its file too)'}`);
      return undefined;
    }
    const index = asList(asMap(wts[0].data.spec)?.templates).findIndex((t) => asMap(t)?.name === ref.template);
    if (index < 0) {
      ctx.fail(holder, [...tp, 'templateRef', 'template'], `WorkflowTemplate ${String(ref.name)} (${wts[0].file}) has no template "${String(ref.template)}"`);
      return undefined;
    }
    return { src: wts[0], index };
  }
  if (typeof task.template === 'string') {
    const index = asList(asMap(holder.data.spec)?.templates).findIndex((t) => asMap(t)?.name === task.template);
    if (index >= 0) return { src: holder, index };
    ctx.fail(holder, [...tp, 'template'], `no template "${task.template}" in this ${holder.kind}`);
    return undefined;
  }
  ctx.fail(holder, tp, 'expected templateRef: {name, template} (or template: <name>); given neither');
  return undefined;
}

function dependenciesOf(ctx: ImportContext, holder: SourceObject, task: Record<string, unknown>, tp: (string | number)[], names: readonly string[]): string[] {
  let deps: string[] = [];
  let at = [...tp, 'dependencies'];
  if (task.depends !== undefined) {
    at = [...tp, 'depends'];
    const text = String(task.depends).trim();
    const parts = text.split(/\s*&&\s*/);
    if (!parts.every((p) => /^[A-Za-z0-9-]+(\.Succeeded)?$/.test(p))) {
      ctx.fail(holder, at, `expected task names joined by && (each optionally .Succeeded); given ${short(text)}: the DAG's edges cannot be expressed otherwise`);
      return [];
    }
    deps = parts.map((p) => p.replace(/\.Succeeded$/, ''));
  } else {
    deps = asList(task.dependencies).map(String);
  }
  for (const dep of deps) if (!names.includes(dep)) ctx.fail(holder, at, `depends on "${dep}", which is no task of the DAG; expected one of: ${names.join(', ')}`);
  return deps;
}

function namespaceOf(ctx: ImportContext, holder: SourceObject, objects: readonly SourceObject[], given: string | undefined): string {
  const of = (o: SourceObject) => asMap(o.data.metadata)?.namespace;
  const chosen = given ?? (typeof of(holder) === 'string' ? String(of(holder)) : objects.map(of).find((n): n is string => typeof n === 'string'));
  if (!chosen) throw new ImportError([{ file: holder.file, line: holder.lineOf(['metadata']), field: 'metadata.namespace', message: 'no object names a namespace; expected metadata.namespace, or --namespace' }]);
  for (const o of objects) {
    const n = of(o);
    if (typeof n === 'string' && n !== chosen) {
      ctx.corrected(o, ['metadata', 'namespace'], ['namespace'], 'one namespace for every object',
        `namespace ${n}, where ${given ? '--namespace gives' : `the DAG (${holder.file}) runs in`} ${chosen}: a templateRef finds WorkflowTemplates in the workflow's own namespace only; every object now goes to ${chosen}`);
    }
  }
  return chosen;
}

function workflowProjectLabels(holder: SourceObject): ProjectLabel[] {
  const out: ProjectLabel[] = [];
  for (const path of [['metadata'], ['spec', 'podMetadata']]) {
    let m: unknown = holder.data;
    for (const p of path) m = asMap(m)?.[p];
    const labels = asStrings(asMap(m)?.labels);
    for (const key of Object.keys(labels).sort()) {
      if (['project', 'runai/queue', 'kai.scheduler/queue'].includes(key)) out.push({ src: holder, path: [...path, 'labels', key], key, value: labels[key] });
    }
  }
  return out;
}

function schedulingOf(ctx: ImportContext, holder: SourceObject, config: { namespace: string }, scheduler: string, labels: readonly ProjectLabel[], steps: readonly TranslatedStep[]): NonNullable<EnvironmentConfig['scheduling']> {
  const runai = scheduler === 'runai-scheduler';
  let project = runai && config.namespace.startsWith('runai-') ? config.namespace.slice('runai-'.length) : labels[0]?.value;
  if (!project) project = config.namespace.replace(/^runai-/, '');
  if (runai && config.namespace !== `runai-${project}`) {
    ctx.corrected(holder, ['metadata', 'namespace'], ['namespace'], 'namespace runai-<project>', `Run:AI runs project ${project} in namespace runai-${project}, and the input names ${config.namespace}; written as runai-${project}`);
    config.namespace = `runai-${project}`;
  }
  for (const l of labels) {
    if (l.value !== project) {
      ctx.corrected(l.src, l.path, ['scheduling', 'project'], 'one project name',
        `${l.key}: ${l.value} names another project than the namespace ${config.namespace} (project ${project}): the namespace, the project label and the launcher named different projects (pipeline-facts, Run:AI rule 7); one name now, scheduling.project: ${project}, from which the namespace and every pod's ${l.key} label come`);
    }
  }
  const queueLabels = [...new Set(labels.map((l) => l.key))].sort();
  const out: { -readonly [K in keyof NonNullable<EnvironmentConfig['scheduling']>]: NonNullable<EnvironmentConfig['scheduling']>[K] } = { scheduler: scheduler as 'runai-scheduler' | 'kai-scheduler', project };
  if (queueLabels.length > 0) out.queueLabels = queueLabels;
  if (steps.some((s) => !s.config.priorityClassName)) {
    out.priorityClasses = RUNAI_PRIORITY_CLASSES;
    ctx.corrected(holder, ['spec'], ['scheduling', 'priorityClasses'], 'explicit priority classes',
      `no priority class on ${steps.filter((s) => !s.config.priorityClassName).length} step(s): such a pod gets the cluster's globalDefault PriorityClass, else priority 0 (on the lab's Run:AI the default was very-high, 150, which is never preempted) (pipeline-facts, Run:AI rule 3); preemptible steps now get ${RUNAI_PRIORITY_CLASSES.preemptible}, the others ${RUNAI_PRIORITY_CLASSES.nonPreemptible} (the lab cluster's classes: change them for another cluster)`);
  }
  return out;
}

function sharedLabels(steps: readonly TranslatedStep[]): Record<string, string> {
  if (steps.length === 0) return {};
  const [first, ...rest] = steps;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(first.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (rest.every((s) => s.labels[k] === v) && !k.startsWith('app.kubernetes.io/') && !k.startsWith('sleap-roots.io/')) out[k] = v;
  }
  return out;
}

function parametersOf(ctx: ImportContext, holder: SourceObject, spec: Record<string, unknown>): EnvironmentConfig['parameters'] {
  const args = asMap(spec.arguments) ?? {};
  ctx.unknownKeys(holder, ['spec', 'arguments'], args, ['parameters'], 'this arguments field');
  const out: NonNullable<EnvironmentConfig['parameters']> = {};
  asList(args.parameters).forEach((p, i) => {
    const m = asMap(p) ?? {};
    const pp = ['spec', 'arguments', 'parameters', i];
    ctx.unknownKeys(holder, pp, m, ['name', 'value', 'description', 'enum'], 'this parameter field');
    out[String(m.name)] = {
      ...(m.value !== undefined ? { value: String(m.value) } : {}),
      ...(typeof m.description === 'string' ? { description: m.description } : {}),
      ...(Array.isArray(m.enum) ? { enum: m.enum.map(String) } : {}),
    };
  });
  return Object.keys(out).length > 0 ? out : undefined;
}

function workflowSettingsOf(ctx: ImportContext, holder: SourceObject, spec: Record<string, unknown>): EnvironmentConfig['workflow'] {
  const out: { -readonly [K in keyof NonNullable<EnvironmentConfig['workflow']>]: NonNullable<EnvironmentConfig['workflow']>[K] } = {};
  if (spec.activeDeadlineSeconds !== undefined) out.activeDeadlineSeconds = Number(spec.activeDeadlineSeconds);
  if (spec.parallelism !== undefined) out.parallelism = Number(spec.parallelism);
  const ttl = asMap(spec.ttlStrategy);
  if (ttl) {
    ctx.unknownKeys(holder, ['spec', 'ttlStrategy'], ttl, ['secondsAfterCompletion', 'secondsAfterSuccess', 'secondsAfterFailure'], 'this ttlStrategy field');
    out.ttlStrategy = Object.fromEntries(['secondsAfterCompletion', 'secondsAfterSuccess', 'secondsAfterFailure'].filter((k) => ttl[k] !== undefined).map((k) => [k, Number(ttl[k])]));
  }
  const gc = asMap(spec.podGC);
  if (gc) {
    ctx.unknownKeys(holder, ['spec', 'podGC'], gc, ['strategy', 'deleteDelayDuration'], 'this podGC field');
    out.podGC = { strategy: String(gc.strategy) as 'OnPodSuccess', ...(gc.deleteDelayDuration !== undefined ? { deleteDelayDuration: String(gc.deleteDelayDuration) } : {}) };
  }
  const pm = asMap(spec.podMetadata);
  if (pm) {
    const ann = asStrings(pm.annotations);
    for (const k of Object.keys(ann).sort()) ctx.cannotExpress(holder, ['spec', 'podMetadata', 'annotations', k], 'annotations of every pod have no field (set podAnnotations on the steps that need them); left out');
    const labels = asStrings(pm.labels);
    for (const k of Object.keys(labels).sort()) if (!['project', 'runai/queue', 'kai.scheduler/queue'].includes(k)) ctx.cannotExpress(holder, ['spec', 'podMetadata', 'labels', k], 'labels of every pod have no field (set podLabels on the steps); left out');
  }
  for (const k of ['podPriorityClassName', 'nodeSelector', 'tolerations']) {
    if (spec[k] !== undefined) ctx.cannotExpress(holder, ['spec', k], `${k} on the workflow has no field (set it per step); left out`);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
