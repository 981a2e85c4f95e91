/**
 * The generic pipeline step: one WorkflowTemplate holding one container template, with the GPU
 * request, scheduling, retry and security settings of its environment applied in the places Argo
 * and the scheduler actually read them. ModelsDownloader, Predictor and TraitExtractor are this
 * construct with the seed's defaults; an environment adds further steps with it as they are.
 */
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

/** Prefix of every step WorkflowTemplate's name. */
export const STEP_TEMPLATE_PREFIX = 'sleap-roots-';

/** A Secret key mounted as one file (via `subPath`). */
export interface SecretFile {
  readonly secret: string;
  readonly key: string;
  /** Absolute path of the file in the container. */
  readonly path: string;
}

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
  /** @default - RetryStrategy.preemptible() for preemptible steps, else RetryStrategy.none() */
  readonly retry?: RetryStrategy;
  /** Total node timeout including time Pending (e.g. `6h`). @default - none */
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
  /** @default `sleap-roots-<id>` */
  readonly templateName?: string;
}

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
  /** The underlying WorkflowTemplate (escape hatch). */
  public readonly resource: WorkflowTemplate;

  private readonly props: ContainerStepProps;

  public constructor(scope: Construct, id: string, props: ContainerStepProps) {
    super(scope, id);
    this.props = props;
    this.name = id;
    this.cluster = props.cluster;
    this.templateName = props.templateName ?? `${STEP_TEMPLATE_PREFIX}${id}`;
    this.image = props.image;
    this.gpu = props.gpu ?? GpuRequest.none();
    this.preemptible = props.preemptible ?? false;
    const classes = props.cluster.priorityClasses;
    this.priorityClassName = props.priorityClassName ?? (classes ? (this.preemptible ? classes.preemptible : classes.nonPreemptible) : undefined);
    this.retry = props.retry ?? (this.preemptible ? RetryStrategy.preemptible() : RetryStrategy.none());
    this.dependencies = [...(props.dependencies ?? [])];
    this.privileged = props.privileged ?? false;
    this.mounts = [...(props.mounts ?? [])];
    this.resources = props.resources;
    this.timeout = props.timeout;
    this.args = [...(props.args ?? [])];
    this.command = [...(props.command ?? [])];
    this.env = [...(props.env ?? [])];

    this.resource = new WorkflowTemplate(this, 'Resource', {
      metadata: { name: this.templateName },
      spec: { templates: [this.renderTemplate()] },
    });
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

    const volumeMounts = [
      ...this.mounts.map((m) => ({ name: m.volume, mountPath: m.path, readOnly: m.readOnly, subPath: m.subPath })),
      ...(p.secretFiles ?? []).map((f) => ({ name: secretVolumeName(f.secret), mountPath: f.path, subPath: f.key, readOnly: true })),
    ];
    const secretVolumes = [...new Set((p.secretFiles ?? []).map((f) => f.secret))].sort().map((secret) => ({
      name: secretVolumeName(secret),
      secret: { secretName: secret },
    }));

    return {
      name: this.name,
      metadata: nonEmpty(annotations) || nonEmpty(labels) ? { annotations: orUndefined(annotations), labels: orUndefined(labels) } : undefined,
      container: {
        name: MAIN_CONTAINER,
        image: this.image,
        imagePullPolicy: p.imagePullPolicy,
        command: p.command ? [...p.command] : undefined,
        args: p.args ? [...p.args] : undefined,
        workingDir: p.workingDir,
        env: p.env && p.env.length > 0 ? p.env.map(renderEnv) : undefined,
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
          backoff: retry.backoff
            ? { duration: retry.backoff.duration, factor: retry.backoff.factor !== undefined ? BackoffFactor.fromNumber(retry.backoff.factor) : undefined, cap: retry.backoff.cap }
            : undefined,
        }
        : undefined,
      timeout: this.timeout,
    };
  }
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
