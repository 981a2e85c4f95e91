/**
 * Rendering one step: its plan as the Argo container template (with the GPU request, scheduling,
 * retry and security settings in the places Argo and the scheduler read them) and as the DAG task
 * that calls it. Pure functions of the plan.
 */
import { createHash } from 'node:crypto';
import {
  WorkflowTemplateSpecTemplatesContainerResourcesLimits as Limit,
  WorkflowTemplateSpecTemplatesContainerResourcesRequests as Request,
  WorkflowTemplateSpecTemplatesDagTasksWithSequenceCount as SequenceCount,
  WorkflowTemplateSpecTemplatesRetryStrategyBackoffFactor as BackoffFactor,
  WorkflowTemplateSpecTemplatesRetryStrategyLimit as RetryLimit,
  WorkflowTemplateSpecTemplatesRetryStrategyRetryPolicy as RetryPolicyEnum,
  type WorkflowTemplateSpecTemplates,
  type WorkflowTemplateSpecTemplatesContainer,
  type WorkflowTemplateSpecTemplatesContainerEnv,
  type WorkflowTemplateSpecTemplatesDagTasks,
} from '../../imports/argoproj.io';
import type { PipelinePlan, StepPlan } from '../plan/types';
import { STATE_MOUNT } from '../plan/plan';
import { acceptedExitCodes, recordsOutcomes } from '../plan/step';
import type { ClusterSettings } from '../scheduling/cluster';
import { MAIN_CONTAINER, type GpuPodSettings } from '../scheduling/gpu';
import { PATH_LIST_SEPARATOR, WRAPPER_NAME, WrapperEnv, wrapperScript } from '../steps/wrapper';
import { toEnum } from '../values/enum';
import { digestOf } from '../values/image';
import type { EnvVar } from '../values/shapes';

/** A rendered step: its WorkflowTemplate's name and its one template. */
export interface RenderedStep {
  readonly plan: StepPlan;
  /** The WorkflowTemplate's name (with the content hash when versioned). */
  readonly templateName: string;
  readonly template: WorkflowTemplateSpecTemplates;
}

/** Renders a step's template and works out its WorkflowTemplate's name. */
export function renderStep(s: StepPlan, cluster: ClusterSettings): RenderedStep {
  const template = renderTemplate(s, cluster);
  return { plan: s, template, templateName: s.versioned ? `${s.templateName}-${contentHash(template)}` : s.templateName };
}

/** The DAG task calling a rendered step. */
export function renderTask(r: RenderedStep, plan: PipelinePlan): WorkflowTemplateSpecTemplatesDagTasks {
  const s = r.plan;
  const args = [
    ...(s.fanOut ? [{ name: s.fanOut.parameter, value: '{{item}}' }] : []),
    ...Object.entries(s.inputs).map(([name, value]) => ({ name, value })),
  ];
  const fanned = s.fanOut && plan.lister;
  return {
    name: s.name,
    templateRef: { name: r.templateName, template: s.name },
    dependencies: s.dependencies.length > 0 ? [...s.dependencies] : undefined,
    // The lister prints the number of chunks: a few bytes whatever the batch (Argo keeps the
    // last 256 KiB of stdout, executor.go CaptureScriptResult; operator.go expandSequence).
    withSequence: fanned ? { count: SequenceCount.fromString(`{{tasks.${s.fanOut!.countFrom}.outputs.result}}`) } : undefined,
    arguments: args.length > 0 ? { parameters: args } : undefined,
    // One lost chunk must not stop the others: without `error`, an Error child makes the whole
    // group Error and every dependent Omitted (dag.go; ancestry.go expandDependency).
    continueOn: fanned ? { failed: true, error: true } : undefined,
  };
}

function renderTemplate(s: StepPlan, cluster: ClusterSettings): WorkflowTemplateSpecTemplates {
  const gpu = s.gpu.podSettings(cluster.gpu);
  const inputNames = [...(s.fanOut ? [s.fanOut.parameter] : []), ...Object.keys(s.inputs)];
  const secretVolumes = [...new Set(s.secretFiles.map((f) => f.secret))].sort().map((secret) => ({ name: secretVolumeName(secret), secret: { secretName: secret } }));
  const nodeSelector = { ...gpu.nodeSelector, ...s.nodeSelector };
  const tolerations = [...gpu.tolerations, ...s.tolerations];
  const runAsUser = s.runAsUser ?? cluster.runAsUser;
  return {
    name: s.name,
    inputs: inputNames.length > 0 ? { parameters: inputNames.map((name) => ({ name })) } : undefined,
    outputs: s.outputs.length > 0 ? { parameters: s.outputs.map((o) => ({ name: o.name, valueFrom: { path: o.path, default: '' } })) } : undefined,
    synchronization: synchronizationOf(s),
    metadata: podMetadata(s, gpu, cluster),
    container: renderContainer(s, gpu, cluster),
    volumes: secretVolumes.length > 0 ? secretVolumes : undefined,
    securityContext: {
      runAsUser,
      runAsGroup: s.runAsGroup ?? cluster.runAsGroup,
      fsGroup: cluster.fsGroup,
      runAsNonRoot: runAsUser !== undefined && runAsUser > 0 ? true : undefined,
      seccompProfile: s.hardened ? { type: 'RuntimeDefault' } : undefined,
    },
    automountServiceAccountToken: cluster.automountServiceAccountToken ? undefined : false,
    executor: cluster.automountServiceAccountToken ? undefined : { serviceAccountName: cluster.serviceAccountName },
    schedulerName: s.scheduler === 'default-scheduler' ? undefined : s.scheduler,
    priorityClassName: s.priorityClassName,
    podSpecPatch: gpu.podSpecPatch,
    nodeSelector: orUndefined(nodeSelector),
    tolerations: tolerations.length > 0 ? tolerations : undefined,
    retryStrategy: renderRetry(s),
    timeout: s.timeout,
  };
}

function podMetadata(s: StepPlan, gpu: GpuPodSettings, cluster: ClusterSettings): WorkflowTemplateSpecTemplates['metadata'] {
  const annotations = { ...s.podAnnotations, ...gpu.annotations };
  const labels = { ...s.podLabels, ...cluster.queueLabels };
  return nonEmpty(annotations) || nonEmpty(labels) ? { annotations: orUndefined(annotations), labels: orUndefined(labels) } : undefined;
}

function renderContainer(s: StepPlan, gpu: GpuPodSettings, cluster: ClusterSettings): WorkflowTemplateSpecTemplatesContainer {
  // The wrapper (scripts/step.sh), when markers or outcomes are wanted.
  const wrap = s.wrapped;
  // Per-scan volumes are mounted whole: one pod runs several scans, the wrapper points the
  // arguments at each scan's folder.
  const volumeMounts = [
    ...s.mounts.map((m) => ({ name: m.volume, mountPath: m.path, readOnly: m.readOnly, subPath: m.subPath })),
    ...(s.outcomes ? [{ name: s.outcomes.volume, mountPath: STATE_MOUNT }] : []),
    ...s.secretFiles.map((f) => ({ name: secretVolumeName(f.secret), mountPath: f.path, subPath: f.key, readOnly: true })),
  ];
  return {
    name: MAIN_CONTAINER,
    image: s.image,
    imagePullPolicy: s.imagePullPolicy,
    command: wrap ? ['/bin/sh', '-c', wrapperScript(), WRAPPER_NAME] : s.command ? [...s.command] : undefined,
    // The wrapper replaces the command: it runs the step's command, else the image's ENTRYPOINT as
    // declared, then the args (what the runtime runs: command or ENTRYPOINT, then args).
    args: wrap ? [...(s.command ?? s.entrypoint ?? []), ...(s.args ?? [])] : s.args ? [...s.args] : undefined,
    workingDir: s.workingDir,
    env: [...stepEnv(s), ...(wrap ? wrapperEnv(s) : [])].map(renderEnv),
    // A failed container without a termination message reports its last log lines instead,
    // which Argo shows as the step's message (operator.go inferFailedReason: t.Message).
    terminationMessagePolicy: 'FallbackToLogsOnError',
    volumeMounts: volumeMounts.length > 0 ? volumeMounts : undefined,
    resources: renderResources(s, gpu),
    // The container's own user and group override the pod's (Kubernetes SecurityContext: "the
    // value specified in SecurityContext takes precedence" over PodSecurityContext).
    securityContext: s.privileged
      ? { privileged: true, ...s.containerSecurityContext }
      : {
        privileged: false,
        ...(s.hardened ? { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } : {}),
        readOnlyRootFilesystem: s.readOnlyRootFilesystem ?? cluster.readOnlyRootFilesystem,
        ...s.containerSecurityContext,
      },
  };
}

function renderResources(s: StepPlan, gpu: GpuPodSettings): WorkflowTemplateSpecTemplatesContainer['resources'] {
  const limits: Record<string, Limit> = {};
  const requests: Record<string, Request> = {};
  for (const [k, v] of Object.entries(s.resources?.limits ?? {})) if (v !== undefined) limits[k] = Limit.fromString(String(v));
  for (const [k, v] of Object.entries(s.resources?.requests ?? {})) if (v !== undefined) requests[k] = Request.fromString(String(v));
  for (const [k, v] of Object.entries(gpu.resources)) {
    limits[k] = Limit.fromString(v);
    requests[k] = Request.fromString(v);
  }
  return nonEmpty(limits) || nonEmpty(requests) ? { limits: orUndefined(limits), requests: orUndefined(requests) } : undefined;
}

function renderRetry(s: StepPlan): WorkflowTemplateSpecTemplates['retryStrategy'] {
  const retry = s.retry.toArgo();
  if (!retry) return undefined;
  const b = retry.backoff;
  return {
    limit: RetryLimit.fromNumber(retry.limit),
    retryPolicy: toEnum(RetryPolicyEnum, retry.retryPolicy),
    expression: retry.expression,
    backoff: b ? { duration: b.duration, factor: b.factor !== undefined ? BackoffFactor.fromNumber(b.factor) : undefined, cap: b.cap } : undefined,
  };
}

/** The step's own environment plus provenance: every step knows its workflow; a digest-pinned image knows its digest. */
function stepEnv(s: StepPlan): EnvVar[] {
  const env: EnvVar[] = [...s.env];
  const has = (n: string) => env.some((e) => e.name === n);
  if (!has('ARGO_WORKFLOW_NAME')) env.push({ name: 'ARGO_WORKFLOW_NAME', value: '{{workflow.name}}' });
  const digest = digestOf(s.image);
  if (s.imageDigestEnv && digest && !has(s.imageDigestEnv)) env.push({ name: s.imageDigestEnv, value: digest });
  return env;
}

/** The wrapper's environment: markers, outcome folder, chunk and per-scan mounts (see scripts/step.sh). */
function wrapperEnv(s: StepPlan): EnvVar[] {
  const env: EnvVar[] = [{ name: WrapperEnv.STEP, value: s.name }];
  const r = s.resume;
  if (r) {
    env.push({ name: WrapperEnv.MARKER, value: r.markerPath });
    env.push({ name: WrapperEnv.FORCE, value: `{{workflow.parameters.${r.forceParameter}}}` });
    if (r.inputMarkers) env.push({ name: WrapperEnv.INPUT_MARKERS, value: pathList(s, r.inputMarkers) });
    else env.push({ name: WrapperEnv.ALWAYS_RUN, value: 'true' });
  }
  if (recordsOutcomes(s)) {
    env.push({ name: WrapperEnv.RUN_DIR, value: s.outcomes!.runDir });
    env.push({ name: WrapperEnv.ACCEPTED, value: acceptedExitCodes(s).join(' ') });
  }
  const f = s.fanOut;
  if (f) {
    const item = new Set(f.itemVolumes);
    const mounts = s.mounts.filter((m) => item.has(m.volume));
    env.push({ name: WrapperEnv.CHUNK, value: `{{inputs.parameters.${f.parameter}}}` });
    env.push({ name: WrapperEnv.ITEM_MOUNTS, value: pathList(s, mounts.map((m) => m.path)) });
    env.push({ name: WrapperEnv.ITEM_OUTPUTS, value: pathList(s, mounts.filter((m) => !m.readOnly).map((m) => m.path)) });
    if (f.upstream.length > 0) env.push({ name: WrapperEnv.UPSTREAM, value: f.upstream.map((u) => `${u.step}=${u.accepted.join(',')}`).join(' ') });
    if (f.scanTimeoutSeconds) env.push({ name: WrapperEnv.SCAN_TIMEOUT, value: String(f.scanTimeoutSeconds) });
  }
  return env;
}

/**
 * A path list for the wrapper: one path per line ({@link PATH_LIST_SEPARATOR}), so paths may hold
 * blanks. A path with a newline (or a NUL, which no environment variable can carry) cannot be
 * listed: refused here rather than split wrongly in the pod.
 */
function pathList(s: StepPlan, paths: readonly string[]): string {
  const bad = paths.find((p) => /[\n\0]/.test(p));
  if (bad !== undefined) throw new Error(`step ${s.name}: the path ${JSON.stringify(bad)} contains a newline; the step wrapper lists paths one per line`);
  return paths.join(PATH_LIST_SEPARATOR);
}

/** First 8 hex digits of the SHA-256 of a template's JSON form. */
function contentHash(template: WorkflowTemplateSpecTemplates): string {
  return createHash('sha256').update(JSON.stringify(template)).digest('hex').slice(0, 8);
}

/** The pod volume name for a Secret mounted as files. */
export function secretVolumeName(secret: string): string {
  return `secret-${secret}`.slice(0, 63).replace(/-+$/, '');
}

function renderEnv(e: EnvVar): WorkflowTemplateSpecTemplatesContainerEnv {
  if ('value' in e) return { name: e.name, value: e.value };
  if ('secretKeyRef' in e) return { name: e.name, valueFrom: { secretKeyRef: { ...e.secretKeyRef } } };
  return { name: e.name, valueFrom: { configMapKeyRef: { ...e.configMapKeyRef } } };
}

function nonEmpty(o: object): boolean {
  return Object.keys(o).length > 0;
}

function orUndefined<T extends object>(o: T): T | undefined {
  return nonEmpty(o) ? o : undefined;
}

/**
 * The template's locks: its semaphore and, for an exclusive step, its mutex (Argo v4 lists both:
 * pkg/apis/workflow/v1alpha1/workflow_types.go Synchronization; a mutex without a namespace is the
 * workflow's namespace, Mutex.Namespace). A pod waits Pending for every lock it names.
 */
function synchronizationOf(s: StepPlan): Record<string, unknown> | undefined {
  if (!s.semaphore && !s.mutex) return undefined;
  return {
    ...(s.semaphore ? { semaphores: [{ configMapKeyRef: { name: s.semaphore.configMap, key: s.semaphore.key } }] } : {}),
    ...(s.mutex ? { mutexes: [{ name: s.mutex }] } : {}),
  };
}
