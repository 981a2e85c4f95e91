/**
 * Cluster-wide scheduling settings that every step of an environment shares, resolved from the
 * environment file with defaults applied once here.
 */
import type { EnvironmentConfig, TolerationConfig } from '../config/schema';
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

/** Everything a step needs to know about the cluster it runs on. */
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

/** Resolves an environment's cluster settings, applying every default. */
export function clusterSettings(env: EnvironmentConfig): ClusterSettings {
  const scheduling = env.scheduling ?? {};
  const scheduler = scheduling.scheduler ?? 'default-scheduler';
  const project = scheduling.project;
  const queueLabelKeys = scheduling.queueLabels ?? (project ? ['project'] : []);
  const queueLabels: Record<string, string> = {};
  for (const key of queueLabelKeys) if (project) queueLabels[key] = project;
  const resourceName = env.gpu?.resourceName ?? DEFAULT_GPU_RESOURCE;
  const defaultTolerations: TolerationConfig[] = [{ key: resourceName, operator: 'Exists', effect: 'NoSchedule' }];
  return {
    namespace: env.namespace,
    scheduler,
    project,
    queueLabels,
    priorityClasses: scheduling.priorityClasses,
    gpu: {
      available: env.gpu?.available ?? true,
      resourceName,
      tolerations: env.gpu?.tolerations ?? defaultTolerations,
      nodeSelector: env.gpu?.nodeSelector ?? {},
      targetMainContainer: env.gpu?.targetMainContainer ?? true,
    },
    serviceAccountName: env.serviceAccountName ?? DEFAULT_SERVICE_ACCOUNT,
    automountServiceAccountToken: env.security?.automountServiceAccountToken ?? false,
    runAsUser: env.security?.runAsUser,
    runAsGroup: env.security?.runAsGroup,
    fsGroup: env.security?.fsGroup,
    readOnlyRootFilesystem: env.security?.readOnlyRootFilesystem ?? false,
  };
}
