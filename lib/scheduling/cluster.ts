/**
 * Cluster-wide scheduling settings that every step of a pipeline shares: the scheduler as a value
 * type ({@link Scheduler}), and {@link resolveCluster}, which applies every default once.
 */
import type { Toleration } from '../values/shapes';
import type { GpuClusterSettings } from './gpu';

/** Schedulers a pipeline can name. */
export type SchedulerName = 'default-scheduler' | 'runai-scheduler' | 'kai-scheduler';

/** Pod label keys Run:AI / KAI read the project or queue from. */
export const PROJECT_LABEL_KEYS = ['project', 'runai/queue', 'kai.scheduler/queue'] as const;

/** The priority classes that make a step preemptible or not. */
export interface PriorityClasses {
  readonly preemptible: string;
  readonly nonPreemptible: string;
}

/** Options of {@link Scheduler.runai} and {@link Scheduler.kai}. */
export interface SharingSchedulerOptions {
  /** The Run:AI project (KAI: queue) the pods belong to. */
  readonly project: string;
  /** Priority classes for preemptible and non-preemptible steps. @default - none (a policy error: every step on these schedulers needs one) */
  readonly priorityClasses?: PriorityClasses;
  /** Pod label keys set to the project. @default ['project'] (Run:AI), ['kai.scheduler/queue'] (KAI) */
  readonly queueLabels?: readonly string[];
}

/** Options of {@link Scheduler.kubernetes}. */
export interface DefaultSchedulerOptions {
  /** @default - none (steps get the cluster's default priority) */
  readonly priorityClasses?: PriorityClasses;
}

/** The scheduler the step pods go to, with the project and priority classes it reads. */
export class Scheduler {
  /** Kubernetes' own `default-scheduler`: whole GPUs only. */
  public static kubernetes(options: DefaultSchedulerOptions = {}): Scheduler {
    return new Scheduler('default-scheduler', undefined, [], options.priorityClasses);
  }

  /** Run:AI's `runai-scheduler`: fractions and GPU memory through pod annotations; namespace `runai-<project>`. */
  public static runai(options: SharingSchedulerOptions): Scheduler {
    return new Scheduler('runai-scheduler', options.project, options.queueLabels ?? ['project'], options.priorityClasses);
  }

  /** NVIDIA KAI's `kai-scheduler`: fractions and GPU memory through pod annotations; pods labelled with their queue. */
  public static kai(options: SharingSchedulerOptions): Scheduler {
    return new Scheduler('kai-scheduler', options.project, options.queueLabels ?? ['kai.scheduler/queue'], options.priorityClasses);
  }

  /**
   * A scheduler by name, the project optional (a Run:AI scheduler without one is then a policy
   * problem rather than an exception): what an environment file describes.
   * @param queueLabels @default ['project'] when there is a project
   */
  public static of(name: SchedulerName, options: { project?: string; queueLabels?: readonly string[]; priorityClasses?: PriorityClasses } = {}): Scheduler {
    const labels = options.queueLabels ?? (options.project ? ['project'] : []);
    return new Scheduler(name, options.project, labels, options.priorityClasses);
  }

  private constructor(
    /** The pods' `schedulerName`. */
    public readonly name: SchedulerName,
    /** The project (queue), when the scheduler has one. */
    public readonly project: string | undefined,
    private readonly queueLabelKeys: readonly string[],
    /** Priority classes, when the cluster maps preemptibility to them. */
    public readonly priorityClasses: PriorityClasses | undefined,
  ) {}

  /** Whether the scheduler preempts and reads GPU shares from annotations (Run:AI, KAI). */
  public get isSharing(): boolean {
    return this.name !== 'default-scheduler';
  }

  /** Pod labels naming the project/queue (each value the project). */
  public get queueLabels(): Readonly<Record<string, string>> {
    const project = this.project;
    return project ? Object.fromEntries(this.queueLabelKeys.map((k) => [k, project])) : {};
  }
}

/** How pods of a cluster get GPUs. */
export interface GpuClusterOptions {
  /** Whether pods can get GPUs at all (false: any GPU request is a policy error). @default true */
  readonly available?: boolean;
  /** Extended resource name of a whole GPU. @default 'nvidia.com/gpu' */
  readonly resourceName?: string;
  /** Tolerations a whole-GPU pod needs. @default - `<resourceName>` Exists NoSchedule */
  readonly tolerations?: readonly Toleration[];
  /** Node selector for GPU pods. @default {} */
  readonly nodeSelector?: Readonly<Record<string, string>>;
  /** For fraction/memory requests: name the `main` container and put it first. @default true */
  readonly targetMainContainer?: boolean;
}

/** Pod security defaults of every step. */
export interface SecurityOptions {
  /** @default - the image's user */
  readonly runAsUser?: number;
  /** @default - the image's group */
  readonly runAsGroup?: number;
  /** @default - none */
  readonly fsGroup?: number;
  /** @default false */
  readonly readOnlyRootFilesystem?: boolean;
  /** Whether the step containers get a service account token (Argo's `wait` always does). @default false */
  readonly automountServiceAccountToken?: boolean;
}

/**
 * The identity the step pods run as: a service account the pipeline creates (with its Role,
 * RoleBinding and executor token Secret), or one the cluster admin created.
 */
export interface IdentityOptions {
  /** Service account the workflow and step pods run as. @default 'sleap-roots-step' */
  readonly serviceAccountName?: string;
  /**
   * Whether the pipeline emits the ServiceAccount, its Role (create/patch on
   * workflowtaskresults), RoleBinding and (without automount) the executor's token Secret. false:
   * nothing identity-related is emitted and the admin grants what {@link EXISTING_IDENTITY_GRANTS} lists.
   * @default true
   */
  readonly create?: boolean;
}

/**
 * What a service account the pipeline does not create (`identity.create: false`) must have, for
 * the README and doctor. Argo's executor (the `wait` container) reports each step's outputs by
 * creating and patching a WorkflowTaskResult (pipeline-facts item 6); with the token not
 * automounted in step containers, the controller mounts the executor's token from the Secret
 * `secrets.TokenNameForServiceAccount` names: the SA's `workflows.argoproj.io/service-account-token.name`
 * annotation, else `<name>.service-account-token` (util/secrets/secret_name.go, read by
 * operator.go getServiceAccountTokenName).
 */
export const EXISTING_IDENTITY_GRANTS: readonly string[] = [
  'a ServiceAccount of that name in the namespace',
  'a Role (or ClusterRole) allowing create and patch on workflowtaskresults (apiGroup argoproj.io), bound to it by a RoleBinding',
  'unless security.automountServiceAccountToken is true: a kubernetes.io/service-account-token Secret for it, named <name>.service-account-token or named by its annotation workflows.argoproj.io/service-account-token.name',
];

/** What {@link resolveCluster} reads. */
export interface ClusterOptions {
  readonly namespace: string;
  /** @default Scheduler.kubernetes() */
  readonly scheduler?: Scheduler;
  /** @default - GPUs available as `nvidia.com/gpu` */
  readonly gpu?: GpuClusterOptions;
  /** @default - the image's user, writable root filesystem, no token in step containers */
  readonly security?: SecurityOptions;
  /** @default - the `sleap-roots-step` service account, created by the pipeline */
  readonly identity?: IdentityOptions;
}

/** Everything a step needs to know about the cluster it runs on (every default applied). */
export interface ClusterSettings {
  readonly namespace: string;
  readonly scheduler: SchedulerName;
  /** Run:AI / KAI project, when the cluster has one. */
  readonly project?: string;
  /** Pod labels naming the project/queue (each value = the project). */
  readonly queueLabels: Readonly<Record<string, string>>;
  /** Priority classes, when the cluster maps preemptibility to them. */
  readonly priorityClasses?: PriorityClasses;
  readonly gpu: GpuClusterSettings;
  /** Service account the step pods run as. */
  readonly serviceAccountName: string;
  /** Whether the pipeline emits the identity objects (false: an admin created them). */
  readonly createIdentity: boolean;
  /** Whether the step pods' main containers get a service account token. */
  readonly automountServiceAccountToken: boolean;
  /** Pod-level run-as user/group/fsGroup defaults. */
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  readonly fsGroup?: number;
  readonly readOnlyRootFilesystem: boolean;
}

/** Default service account name for step pods. */
export const DEFAULT_SERVICE_ACCOUNT = 'sleap-roots-step';
/** Default extended resource name of a whole GPU. */
export const DEFAULT_GPU_RESOURCE = 'nvidia.com/gpu';

/** A cluster's settings with every default applied. */
export function resolveCluster(o: ClusterOptions): ClusterSettings {
  const scheduler = o.scheduler ?? Scheduler.kubernetes();
  const resourceName = o.gpu?.resourceName ?? DEFAULT_GPU_RESOURCE;
  const defaultTolerations: Toleration[] = [{ key: resourceName, operator: 'Exists', effect: 'NoSchedule' }];
  return {
    namespace: o.namespace,
    scheduler: scheduler.name,
    project: scheduler.project,
    queueLabels: scheduler.queueLabels,
    priorityClasses: scheduler.priorityClasses,
    gpu: {
      available: o.gpu?.available ?? true,
      resourceName,
      tolerations: o.gpu?.tolerations ?? defaultTolerations,
      nodeSelector: o.gpu?.nodeSelector ?? {},
      targetMainContainer: o.gpu?.targetMainContainer ?? true,
    },
    serviceAccountName: o.identity?.serviceAccountName ?? DEFAULT_SERVICE_ACCOUNT,
    createIdentity: o.identity?.create ?? true,
    automountServiceAccountToken: o.security?.automountServiceAccountToken ?? false,
    runAsUser: o.security?.runAsUser,
    runAsGroup: o.security?.runAsGroup,
    fsGroup: o.security?.fsGroup,
    readOnlyRootFilesystem: o.security?.readOnlyRootFilesystem ?? false,
  };
}
