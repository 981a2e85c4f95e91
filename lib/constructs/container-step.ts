/**
 * The generic pipeline step: one WorkflowTemplate holding one container template, with the GPU
 * request, scheduling, retry and security settings of its environment applied in the places Argo
 * and the scheduler actually read them. ModelsDownloader, Predictor and TraitExtractor are this
 * construct with the seed's defaults; an environment adds further steps with it as they are.
 */
import { createHash } from 'node:crypto';
import { Construct } from 'constructs';
import {
  WorkflowTemplate,
  WorkflowTemplateSpecTemplatesContainerResourcesLimits as Limit,
  WorkflowTemplateSpecTemplatesContainerResourcesRequests as Request,
  WorkflowTemplateSpecTemplatesRetryStrategyBackoffFactor as BackoffFactor,
  WorkflowTemplateSpecTemplatesRetryStrategyLimit as RetryLimit,
  WorkflowTemplateSpecTemplatesRetryStrategyRetryPolicy as RetryPolicyEnum,
  type WorkflowTemplateSpecTemplates,
  type WorkflowTemplateSpecTemplatesContainerEnv,
} from '../../imports/argoproj.io';
import type { EnvVarConfig, MountConfig, ResourcesConfig, TolerationConfig } from '../config/schema';
import type { ClusterSettings } from '../scheduling/cluster';
import { GpuRequest, MAIN_CONTAINER } from '../scheduling/gpu';
import { RetryStrategy } from '../scheduling/retry';
import { toEnum } from '../values/enum';
import { digestOf } from '../values/image';
import { markerFile, outputOf } from './resume';
import { WRAPPER_NAME, WrapperEnv, WrapperExit, wrapperScript } from './wrapper';

/** Prefix of every step WorkflowTemplate's name. */
export const STEP_TEMPLATE_PREFIX = 'sleap-roots-';

/** A Secret key mounted as one file (via `subPath`). */
export interface SecretFile {
  readonly secret: string;
  readonly key: string;
  /** Absolute path of the file in the container. */
  readonly path: string;
}

/** A ConfigMap semaphore (Argo v4 `synchronization.semaphores[].configMapKeyRef`). */
export interface SemaphoreRef {
  readonly configMap: string;
  readonly key: string;
}

/** Success markers: how a step skips work a previous run finished (work avoidance). */
export interface ResumeOptions {
  /** Folder of the markers, relative to the step's output directory. */
  readonly markerDir: string;
  /** File name of a marker; `{step}` is replaced by the step name. */
  readonly markerName: string;
  /** Workflow parameter that, when "true", makes every step run again. */
  readonly forceParameter: string;
  /**
   * The markers of the step's inputs, as paths inside this step's container; the step is skipped
   * only when its own marker is newer than all of them.
   * @default - unknown: the step always runs
   */
  readonly inputMarkers?: readonly string[];
}

/**
 * Running a step once per chunk of scans (Argo `withSequence` over the chunks the lister wrote):
 * one pod per chunk, the command once per scan in it (see scripts/step.sh).
 */
export interface FanOutOptions {
  /** Name of the template input parameter holding the chunk number. */
  readonly parameter: string;
  /** Volumes with one folder per scan: the step's arguments at or below their mounts point at `<mount>/<scan>`. */
  readonly itemVolumes: readonly string[];
  /** Upstream fanned-out steps and the codes they must have recorded for a scan before this step runs it. @default [] */
  readonly upstream?: readonly { readonly step: string; readonly accepted: readonly number[] }[];
  /** Seconds one scan may run before the wrapper stops it (exit 124). @default - no limit per scan */
  readonly scanTimeoutSeconds?: number;
}

/**
 * Where a step records its outcomes: a folder per workflow on a shared volume, which the gate
 * judges the batch from.
 */
export interface OutcomeOptions {
  /** The volume holding the run folders. */
  readonly volume: string;
  /** The workflow's run folder, as a path in the container (may use `{{workflow.name}}`). */
  readonly runDir: string;
  /**
   * Whether the step's command runs under the wrapper that records its outcomes; false only
   * mounts the volume (the lister and the gate, which read and write it themselves).
   * @default true
   */
  readonly record?: boolean;
}

/** An output parameter read from a file of the main container. */
export interface OutputFile {
  readonly name: string;
  readonly path: string;
}

/** Where the state volume (run folders) is mounted in the pods that record or judge outcomes. */
export const STATE_MOUNT = '/sleap-roots/state';

/** Props of {@link ContainerStep}. */
export interface ContainerStepProps {
  /** The cluster the step runs on (scheduler, priority classes, GPU settings, identity). */
  readonly cluster: ClusterSettings;
  /** Container image; pin a tag or digest (an unpinned one is a policy error unless allowed). */
  readonly image: string;
  /**
   * Image pull policy.
   * @default - Kubernetes' default (Always for `:latest`, else IfNotPresent)
   */
  readonly imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** @default - the image's entrypoint */
  readonly command?: readonly string[];
  /** @default - none */
  readonly args?: readonly string[];
  /** @default - the image's */
  readonly workingDir?: string;
  /** Environment variables: values, or references to Secret/ConfigMap keys (never inlined secrets). @default [] */
  readonly env?: readonly EnvVarConfig[];
  /** Volume mounts, by the pipeline's volume names. @default [] */
  readonly mounts?: readonly MountConfig[];
  /** Secret keys mounted as single files. @default [] */
  readonly secretFiles?: readonly SecretFile[];
  /** CPU/memory requests and limits. @default - none */
  readonly resources?: ResourcesConfig;
  /** GPU request. @default GpuRequest.none() */
  readonly gpu?: GpuRequest;
  /**
   * Whether the step may be preempted. Selects the cluster's preemptible or non-preemptible
   * priority class, and a preemptible step retries on every failure with backoff.
   * @default false
   */
  readonly preemptible?: boolean;
  /** @default - the cluster's class for `preemptible`, or none when the cluster has no classes */
  readonly priorityClassName?: string;
  /** @default - RetryStrategy.preemptible() for preemptible steps, else RetryStrategy.infrastructure() */
  readonly retry?: RetryStrategy;
  /**
   * Argo template `timeout` (e.g. `6h`): each attempt's pod deadline, and for a node still Pending
   * the controller's limit (see the README's outcomes section for what ends a Pending pod).
   * @default - none (a policy error: every step needs one)
   */
  readonly timeout?: string;
  /** Names of steps this one runs after. @default [] */
  readonly dependencies?: readonly string[];
  /** @default - the cluster's (the image's user when neither is set) */
  readonly runAsUser?: number;
  /** @default - the cluster's */
  readonly runAsGroup?: number;
  /** Run the container privileged (rejected by policy unless the environment allows it). @default false */
  readonly privileged?: boolean;
  /** @default - the cluster's (false) */
  readonly readOnlyRootFilesystem?: boolean;
  /** Merged over the GPU node selector. @default {} */
  readonly nodeSelector?: Readonly<Record<string, string>>;
  /** Added to the GPU tolerations. @default [] */
  readonly tolerations?: readonly TolerationConfig[];
  /** Extra pod labels. @default {} */
  readonly podLabels?: Readonly<Record<string, string>>;
  /** Extra pod annotations. @default {} */
  readonly podAnnotations?: Readonly<Record<string, string>>;
  /** @default `sleap-roots-<id>` (plus `-<content hash>` when `versioned`) */
  readonly templateName?: string;
  /**
   * Suffix the template name with a hash of its content, so deploying a change creates a new
   * template instead of changing one a running workflow resolves.
   * @default false
   */
  readonly versioned?: boolean;
  /** Semaphore the step's pods acquire. @default - none */
  readonly semaphore?: SemaphoreRef;
  /** Skip the step when its success marker is newer than its inputs'. @default - always run */
  readonly resume?: ResumeOptions;
  /** Run once per chunk of scans. @default - once */
  readonly fanOut?: FanOutOptions;
  /** Record outcomes for the gate. @default - not recorded */
  readonly outcomes?: OutcomeOptions;
  /** Output parameters read from files (empty when the file is missing). @default [] */
  readonly outputs?: readonly OutputFile[];
  /**
   * Template input parameters with the value the DAG task passes for each (e.g. an expression
   * on other tasks' results). @default {}
   */
  readonly inputs?: Readonly<Record<string, string>>;
  /**
   * Exit codes meaning "partial success" (some scans failed, the rest is good): recorded as
   * outcomes, the step counts as done and the pipeline's gate accepts them. @default []
   */
  readonly partialExitCodes?: readonly number[];
  /** The step's output directory (a mount path). @default - the path of its first writable mount */
  readonly output?: string;
  /** Env var that receives the image digest when the image is pinned by digest. @default - none */
  readonly imageDigestEnv?: string;
}

/** Folder (under a step's output directory) of its success markers, unless `resume.markerDir` says otherwise. */
export const DEFAULT_MARKER_DIR = '.sleap-roots';
/** Annotations telling Argo CD and Flux not to prune an object that left the repository. */
export const GITOPS_KEEP_ANNOTATIONS: Readonly<Record<string, string>> = {
  'argocd.argoproj.io/sync-options': 'Prune=false',
  'kustomize.toolkit.fluxcd.io/prune': 'disabled',
};

/**
 * One container step: synthesizes a WorkflowTemplate `sleap-roots-<name>` holding one template
 * `<name>`, which the pipeline's DAG calls by `templateRef`. The construct id is the step name.
 */
export class ContainerStep extends Construct {
  /** The step's name: the DAG task and the template inside the WorkflowTemplate. */
  public readonly name: string;
  /** The WorkflowTemplate's name. */
  public readonly templateName: string;
  public readonly image: string;
  public readonly gpu: GpuRequest;
  public readonly preemptible: boolean;
  public readonly priorityClassName?: string;
  public readonly retry: RetryStrategy;
  public readonly dependencies: readonly string[];
  public readonly privileged: boolean;
  public readonly mounts: readonly MountConfig[];
  public readonly resources?: ResourcesConfig;
  public readonly timeout?: string;
  public readonly args: readonly string[];
  public readonly command: readonly string[];
  public readonly env: readonly EnvVarConfig[];
  public readonly cluster: ClusterSettings;
  public readonly semaphore?: SemaphoreRef;
  public readonly resume?: ResumeOptions;
  public readonly fanOut?: FanOutOptions;
  public readonly outcomes?: OutcomeOptions;
  /** Input parameters and the values the DAG task passes. */
  public readonly inputs: Readonly<Record<string, string>>;
  public readonly partialExitCodes: readonly number[];
  /** The output directory, when the step has one. */
  public readonly outputDir?: string;
  /** The success marker's path in the container, when resume is on. */
  public readonly markerPath?: string;
  /** The underlying WorkflowTemplate (escape hatch). */
  public readonly resource: WorkflowTemplate;

  private readonly props: ContainerStepProps;

  public constructor(scope: Construct, id: string, props: ContainerStepProps) {
    super(scope, id);
    this.props = props;
    this.name = id;
    this.cluster = props.cluster;
    const baseName = props.templateName ?? `${STEP_TEMPLATE_PREFIX}${id}`;
    this.image = props.image;
    this.gpu = props.gpu ?? GpuRequest.none();
    this.preemptible = props.preemptible ?? false;
    const classes = props.cluster.priorityClasses;
    this.priorityClassName = props.priorityClassName ?? (classes ? (this.preemptible ? classes.preemptible : classes.nonPreemptible) : undefined);
    const retry = props.retry ?? (this.preemptible ? RetryStrategy.preemptible() : RetryStrategy.infrastructure());
    // The wrapper exits 75 when it cannot record an outcome (shared storage): worth another attempt.
    this.retry = props.resume || (props.outcomes && props.outcomes.record !== false) ? retry.alsoRetrying([WrapperExit.CANNOT_RECORD]) : retry;
    this.dependencies = [...(props.dependencies ?? [])];
    this.privileged = props.privileged ?? false;
    this.mounts = [...(props.mounts ?? [])];
    this.resources = props.resources;
    this.timeout = props.timeout;
    this.args = [...(props.args ?? [])];
    this.command = [...(props.command ?? [])];
    this.env = [...(props.env ?? [])];
    this.semaphore = props.semaphore;
    this.resume = props.resume;
    this.fanOut = props.fanOut;
    this.outcomes = props.outcomes;
    this.inputs = { ...(props.inputs ?? {}) };
    this.partialExitCodes = [...(props.partialExitCodes ?? [])];
    this.outputDir = outputOf(props).path;
    this.markerPath = props.resume && this.outputDir ? markerFile(this.outputDir, props.resume, id) : undefined;

    const template = this.renderTemplate();
    this.templateName = props.versioned ? `${baseName}-${contentHash(template)}` : baseName;
    this.resource = new WorkflowTemplate(this, 'Resource', {
      // A versioned template may be resolved by a running workflow after dist/ dropped it: GitOps
      // tools must not prune it (`sleap-roots deploy --prune` removes it once unused).
      metadata: { name: this.templateName, annotations: props.versioned ? { ...GITOPS_KEEP_ANNOTATIONS } : undefined },
      spec: { templates: [template] },
    });
  }

  /** True when the step's command runs under the wrapper that records its outcomes. */
  public get recordsOutcomes(): boolean {
    return this.outcomes !== undefined && this.outcomes.record !== false;
  }

  /** The exit codes the gate accepts from this step: 0 and its partial codes. */
  public get acceptedExitCodes(): readonly number[] {
    return [0, ...this.partialExitCodes.filter((c) => c !== 0)];
  }

  /** The mounts that hold one folder per scan (fanned-out steps). */
  public get itemMounts(): readonly MountConfig[] {
    const item = new Set(this.fanOut?.itemVolumes ?? []);
    return this.mounts.filter((m) => item.has(m.volume));
  }

  /** The `templateRef` a DAG task uses to call this step. */
  public get templateRef(): { readonly name: string; readonly template: string } {
    return { name: this.templateName, template: this.name };
  }

  private renderTemplate(): WorkflowTemplateSpecTemplates {
    const p = this.props;
    const cluster = p.cluster;
    const gpu = this.gpu.podSettings(cluster.gpu);
    const runAsUser = p.runAsUser ?? cluster.runAsUser;
    const runAsGroup = p.runAsGroup ?? cluster.runAsGroup;

    const limits: Record<string, Limit> = {};
    const requests: Record<string, Request> = {};
    for (const [k, v] of Object.entries(p.resources?.limits ?? {})) if (v !== undefined) limits[k] = Limit.fromString(String(v));
    for (const [k, v] of Object.entries(p.resources?.requests ?? {})) if (v !== undefined) requests[k] = Request.fromString(String(v));
    for (const [k, v] of Object.entries(gpu.resources)) {
      limits[k] = Limit.fromString(v);
      requests[k] = Request.fromString(v);
    }

    const annotations = { ...(p.podAnnotations ?? {}), ...gpu.annotations };
    const labels = { ...(p.podLabels ?? {}), ...cluster.queueLabels };
    const nodeSelector = { ...gpu.nodeSelector, ...(p.nodeSelector ?? {}) };
    const tolerations = [...gpu.tolerations, ...(p.tolerations ?? [])];
    const retry = this.retry.toArgo();

    // Per-scan volumes are mounted whole: one pod runs several scans, the wrapper points the
    // arguments at each scan's folder.
    const volumeMounts = [
      ...this.mounts.map((m) => ({ name: m.volume, mountPath: m.path, readOnly: m.readOnly, subPath: m.subPath })),
      ...(this.outcomes ? [{ name: this.outcomes.volume, mountPath: STATE_MOUNT }] : []),
      ...(p.secretFiles ?? []).map((f) => ({ name: secretVolumeName(f.secret), mountPath: f.path, subPath: f.key, readOnly: true })),
    ];
    const secretVolumes = [...new Set((p.secretFiles ?? []).map((f) => f.secret))].sort().map((secret) => ({
      name: secretVolumeName(secret),
      secret: { secretName: secret },
    }));

    // Provenance: every step knows its workflow; a digest-pinned image knows its digest.
    const env: EnvVarConfig[] = [...(p.env ?? [])];
    const has = (n: string) => env.some((e) => e.name === n);
    if (!has('ARGO_WORKFLOW_NAME')) env.push({ name: 'ARGO_WORKFLOW_NAME', value: '{{workflow.name}}' });
    const digest = digestOf(this.image);
    if (p.imageDigestEnv && digest && !has(p.imageDigestEnv)) env.push({ name: p.imageDigestEnv, value: digest });

    // The wrapper (scripts/step.sh), when markers or outcomes are wanted.
    const wrap = this.markerPath !== undefined || this.recordsOutcomes;
    if (wrap) env.push(...this.wrapperEnv());
    const inputNames = [...(this.fanOut ? [this.fanOut.parameter] : []), ...Object.keys(this.inputs)];
    const command = wrap ? ['/bin/sh', '-c', wrapperScript(), WRAPPER_NAME] : p.command ? [...p.command] : undefined;
    const args = wrap ? [...(p.command ?? []), ...(p.args ?? [])] : p.args ? [...p.args] : undefined;

    return {
      name: this.name,
      inputs: inputNames.length > 0 ? { parameters: inputNames.map((name) => ({ name })) } : undefined,
      outputs: p.outputs && p.outputs.length > 0
        ? { parameters: p.outputs.map((o) => ({ name: o.name, valueFrom: { path: o.path, default: '' } })) }
        : undefined,
      synchronization: this.semaphore
        ? { semaphores: [{ configMapKeyRef: { name: this.semaphore.configMap, key: this.semaphore.key } }] }
        : undefined,
      metadata: nonEmpty(annotations) || nonEmpty(labels) ? { annotations: orUndefined(annotations), labels: orUndefined(labels) } : undefined,
      container: {
        name: MAIN_CONTAINER,
        image: this.image,
        imagePullPolicy: p.imagePullPolicy,
        command,
        args,
        workingDir: p.workingDir,
        env: env.map(renderEnv),
        // A failed container without a termination message reports its last log lines instead,
        // which Argo shows as the step's message (operator.go inferFailedReason: t.Message).
        terminationMessagePolicy: 'FallbackToLogsOnError',
        volumeMounts: volumeMounts.length > 0 ? volumeMounts : undefined,
        resources: nonEmpty(limits) || nonEmpty(requests) ? { limits: orUndefined(limits), requests: orUndefined(requests) } : undefined,
        securityContext: this.privileged
          ? { privileged: true }
          : {
            privileged: false,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ['ALL'] },
            readOnlyRootFilesystem: p.readOnlyRootFilesystem ?? cluster.readOnlyRootFilesystem,
          },
      },
      volumes: secretVolumes.length > 0 ? secretVolumes : undefined,
      securityContext: {
        runAsUser,
        runAsGroup,
        fsGroup: cluster.fsGroup,
        runAsNonRoot: runAsUser !== undefined && runAsUser > 0 ? true : undefined,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      automountServiceAccountToken: cluster.automountServiceAccountToken ? undefined : false,
      executor: cluster.automountServiceAccountToken ? undefined : { serviceAccountName: cluster.serviceAccountName },
      schedulerName: cluster.scheduler === 'default-scheduler' ? undefined : cluster.scheduler,
      priorityClassName: this.priorityClassName,
      podSpecPatch: gpu.podSpecPatch,
      nodeSelector: orUndefined(nodeSelector),
      tolerations: tolerations.length > 0 ? tolerations : undefined,
      retryStrategy: retry
        ? {
          limit: RetryLimit.fromNumber(retry.limit),
          retryPolicy: toEnum(RetryPolicyEnum, retry.retryPolicy),
          expression: retry.expression,
          backoff: retry.backoff
            ? { duration: retry.backoff.duration, factor: retry.backoff.factor !== undefined ? BackoffFactor.fromNumber(retry.backoff.factor) : undefined, cap: retry.backoff.cap }
            : undefined,
        }
        : undefined,
      timeout: this.timeout,
    };
  }

  /** The wrapper's environment: markers, outcome folder, chunk and per-scan mounts (see scripts/step.sh). */
  private wrapperEnv(): EnvVarConfig[] {
    const env: EnvVarConfig[] = [{ name: WrapperEnv.STEP, value: this.name }];
    if (this.markerPath) {
      env.push({ name: WrapperEnv.MARKER, value: this.markerPath });
      env.push({ name: WrapperEnv.FORCE, value: `{{workflow.parameters.${this.resume!.forceParameter}}}` });
      if (this.resume!.inputMarkers) env.push({ name: WrapperEnv.INPUT_MARKERS, value: this.resume!.inputMarkers.join(' ') });
      else env.push({ name: WrapperEnv.ALWAYS_RUN, value: 'true' });
    }
    if (this.recordsOutcomes) {
      env.push({ name: WrapperEnv.RUN_DIR, value: this.outcomes!.runDir });
      env.push({ name: WrapperEnv.ACCEPTED, value: this.acceptedExitCodes.join(' ') });
    }
    const f = this.fanOut;
    if (f) {
      const mounts = this.itemMounts;
      env.push({ name: WrapperEnv.CHUNK, value: `{{inputs.parameters.${f.parameter}}}` });
      env.push({ name: WrapperEnv.ITEM_MOUNTS, value: mounts.map((m) => m.path).join(' ') });
      env.push({ name: WrapperEnv.ITEM_OUTPUTS, value: mounts.filter((m) => !m.readOnly).map((m) => m.path).join(' ') });
      if (f.upstream && f.upstream.length > 0) env.push({ name: WrapperEnv.UPSTREAM, value: f.upstream.map((u) => `${u.step}=${u.accepted.join(',')}`).join(' ') });
      if (f.scanTimeoutSeconds) env.push({ name: WrapperEnv.SCAN_TIMEOUT, value: String(f.scanTimeoutSeconds) });
    }
    return env;
  }
}

/** First 8 hex digits of the SHA-256 of a template's JSON form. */
function contentHash(template: WorkflowTemplateSpecTemplates): string {
  return createHash('sha256').update(JSON.stringify(template)).digest('hex').slice(0, 8);
}

/** The pod volume name for a Secret mounted as files. */
export function secretVolumeName(secret: string): string {
  return `secret-${secret}`.slice(0, 63).replace(/-+$/, '');
}

function renderEnv(e: EnvVarConfig): WorkflowTemplateSpecTemplatesContainerEnv {
  if ('value' in e) return { name: e.name, value: e.value };
  if ('secretKeyRef' in e) return { name: e.name, valueFrom: { secretKeyRef: { ...e.secretKeyRef } } };
  return { name: e.name, valueFrom: { configMapKeyRef: { ...e.configMapKeyRef } } };
}

/**
 * Merges props over defaults, ignoring props that are `undefined` (so an absent field in an
 * environment file never erases a default).
 */
export function withDefaults<T extends object>(defaults: Partial<T>, props: T): T {
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(props)) if (v !== undefined) out[k] = v;
  return out as T;
}

function nonEmpty(o: object): boolean {
  return Object.keys(o).length > 0;
}

function orUndefined<T extends object>(o: T): T | undefined {
  return nonEmpty(o) ? o : undefined;
}
