/**
 * The schema of an environment file (environments/<name>.yaml).
 *
 * An environment is data only: every difference between clusters is a field here with a
 * documented meaning, never a code path keyed on the environment's name. Field names are the
 * ones users write in YAML; defaults are applied by the constructs, not here, so that an
 * environment file states only what differs.
 */
import { z } from 'zod';
import { DNS_LABEL } from '../names';
import { isWithinGoDurationRange, MAX_GO_DURATION } from '../values/duration';

/** A Kubernetes resource quantity (e.g. 500m, 2, 8Gi, 1.5G). */
export const QUANTITY = /^[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
/** A Go duration as Argo parses it (e.g. 90s, 2m, 1h30m), or a bare number of seconds. */
export const GO_DURATION = /^(([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+|[0-9]+)$/;
/** A string with something besides blanks in it (a blank image or code is never meant). */
const nonBlank = z.string().refine((s) => s.trim() !== '', 'expected a non-blank value; given only blanks (or nothing)');
/** An environment variable name. */
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/**
 * A DNS-1123 label of at most 63 characters: every field using it becomes (part of) an object
 * name, a label value or a file name in dist/, all of which a longer name would break.
 */
const dnsLabel = z
  .string()
  .regex(DNS_LABEL, 'expected a DNS-1123 label (lowercase letters, digits and "-", starting and ending with a letter or digit)')
  .max(63, 'expected a DNS-1123 label of at most 63 characters (it becomes an object name or label value)');
const quantity = z.union([z.number().nonnegative(), z.string().regex(QUANTITY, 'expected a Kubernetes quantity such as 500m, 2 or 8Gi')]);
const goDuration = z.string().regex(GO_DURATION, 'expected a duration such as 90s, 2m or 1h30m').refine(isWithinGoDurationRange, `expected at most ${MAX_GO_DURATION} (a Go duration is int64 nanoseconds)`);
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A label or annotation key: `[prefix/]name`, prefix a DNS subdomain, name at most 63 characters. */
const qualifiedName = z.string().refine((k) => {
  const slash = k.lastIndexOf('/');
  return LABEL_NAME.test(slash < 0 ? k : k.slice(slash + 1)) && (slash < 0 || DNS_SUBDOMAIN.test(k.slice(0, slash)));
}, 'expected a key like name or example.com/name (name: at most 63 letters, digits, "-", "_" or ".", starting and ending alphanumeric)');
/** Labels: qualified keys, values of at most 63 characters ("" allowed). */
const labelMap = z.record(qualifiedName, z.string().regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, 'expected a label value: at most 63 letters, digits, "-", "_" or ".", starting and ending alphanumeric'));
const annotationMap = z.record(qualifiedName, z.string());

const resourceList = z.strictObject({
  cpu: quantity.optional(),
  memory: quantity.optional(),
  'ephemeral-storage': quantity.optional(),
});

export const resourcesSchema = z.strictObject({
  requests: resourceList.optional(),
  limits: resourceList.optional(),
});

/**
 * A GPU request: `none`, or exactly one of `count` (whole GPUs), `fraction` (Run:AI share of one
 * GPU) or `memoryMB` (Run:AI GPU memory, MB of 10^6 bytes).
 */
export const gpuRequestSchema = z.union([
  z.literal('none'),
  z.strictObject({ count: z.number().int().positive() }),
  z.strictObject({ fraction: z.number().gt(0).lt(1) }),
  z.strictObject({ memoryMB: z.number().int().positive() }),
], { error: 'expected "none", {count: <whole GPUs>}, {fraction: <0..1 exclusive>} or {memoryMB: <MB>}' });

export const backoffSchema = z.strictObject({
  duration: goDuration.optional(),
  factor: z.number().int().positive().optional(),
  /** The longest wait between attempts; `none`: no cap (the wait keeps growing by `factor`). */
  cap: z.union([z.literal('none'), goDuration]).optional(),
});

export const retrySchema = z.strictObject({
  limit: z.number().int().nonnegative().optional(),
  /** Argo's policy alone, without the expression that keeps deterministic failures from retrying. */
  policy: z.enum(['Always', 'OnFailure', 'OnError', 'OnTransientError']).optional(),
  backoff: backoffSchema.optional(),
  /** Exit codes retried besides 137/143 (killed) and Error attempts. */
  exitCodes: z.array(z.number().int().min(1).max(255)).optional(),
});

const envVarSchema = z.union([
  z.strictObject({ name: z.string().regex(ENV_NAME), value: z.string() }),
  z.strictObject({
    name: z.string().regex(ENV_NAME),
    secretKeyRef: z.strictObject({ name: dnsLabel, key: z.string().min(1), optional: z.boolean().optional() }),
  }),
  z.strictObject({
    name: z.string().regex(ENV_NAME),
    configMapKeyRef: z.strictObject({ name: dnsLabel, key: z.string().min(1), optional: z.boolean().optional() }),
  }),
], { error: 'expected {name, value}, {name, secretKeyRef: {name, key}} or {name, configMapKeyRef: {name, key}}' });

const mountSchema = z.strictObject({
  volume: dnsLabel,
  path: z.string().startsWith('/', 'expected an absolute path'),
  readOnly: z.boolean().optional(),
  subPath: z.string().optional(),
});

const tolerationSchema = z.strictObject({
  key: z.string().optional(),
  operator: z.enum(['Exists', 'Equal']).optional(),
  value: z.string().optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
});

/** One container step of the pipeline, as an environment describes or overrides it. */
export const stepSchema = z.strictObject({
  /** false drops the step (and it must then not be a dependency of another step). */
  enabled: z.boolean().optional(),
  image: nonBlank.optional(),
  imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).optional(),
  command: z.array(z.string()).optional(),
  /**
   * The image's ENTRYPOINT as the image defines it ([] when it has none). A step under the
   * wrapper (resume, outcomes) has its command replaced, so without `command` the wrapper runs
   * this before `args`, as the container runtime would.
   */
  entrypoint: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  workingDir: z.string().optional(),
  env: z.array(envVarSchema).optional(),
  mounts: z.array(mountSchema).optional(),
  secretFiles: z.array(z.strictObject({
    secret: dnsLabel,
    key: z.string().min(1),
    path: z.string().startsWith('/', 'expected an absolute path'),
  })).optional(),
  resources: resourcesSchema.optional(),
  gpu: gpuRequestSchema.optional(),
  preemptible: z.boolean().optional(),
  priorityClassName: dnsLabel.optional(),
  retry: retrySchema.optional(),
  timeout: goDuration.optional(),
  dependencies: z.array(z.string()).optional(),
  runAsUser: z.number().int().nonnegative().optional(),
  runAsGroup: z.number().int().nonnegative().optional(),
  /** The main container's own securityContext user and group (over the pod's). */
  containerSecurityContext: z.strictObject({
    runAsUser: z.number().int().nonnegative().optional(),
    runAsGroup: z.number().int().nonnegative().optional(),
  }).optional(),
  /** false: no RuntimeDefault seccomp profile, no capability drop, privilege escalation allowed (refused unless policy.allowUnhardened). */
  hardened: z.boolean().optional(),
  /** This step's scheduler, over scheduling.scheduler. */
  scheduler: z.enum(['default-scheduler', 'runai-scheduler', 'kai-scheduler']).optional(),
  /** The step's WorkflowTemplate name. Default: templateNamePrefix + the step name. */
  templateName: dnsLabel.optional(),
  /** Annotations on the step's WorkflowTemplate object (never its pods: those are podAnnotations). */
  templateAnnotations: annotationMap.optional(),
  privileged: z.boolean().optional(),
  readOnlyRootFilesystem: z.boolean().optional(),
  nodeSelector: labelMap.optional(),
  tolerations: z.array(tolerationSchema).optional(),
  podLabels: labelMap.optional(),
  podAnnotations: annotationMap.optional(),
  /** Exit codes that mean "partial success" (e.g. [3]): the DAG continues and the gate judges. */
  partialExitCodes: z.array(z.number().int().min(1).max(255)).optional(),
  /** Semaphore key (in concurrency.semaphores) this step acquires. */
  semaphore: z.string().min(1).optional(),
  /** The step writes folders every workflow shares (e.g. the models): workflows run it one at a time (an Argo mutex). Default: true for models-downloader. */
  exclusive: z.boolean().optional(),
  /** This step's provenance, over the pipeline-wide `provenance`. */
  provenance: z.strictObject({
    /** Env var that receives this step's own image digest (its image pinned by @sha256:). */
    imageDigestEnv: z.string().regex(ENV_NAME).optional(),
  }).optional(),
  /** The step's output directory (a mount path); markers go under it. Default: its first writable mount. */
  output: z.string().startsWith('/', 'expected an absolute path').optional(),
});

const volumeSchema = z.union([
  z.strictObject({
    hostPath: z.string().startsWith('/', 'expected an absolute path'),
    type: z.enum(['Directory', 'DirectoryOrCreate', 'File']).optional(),
  }),
  z.strictObject({ persistentVolumeClaim: dnsLabel, readOnly: z.boolean().optional() }),
], { error: 'expected {hostPath: /abs/path, type?: Directory} or {persistentVolumeClaim: <claim name>}; a Secret is not declared here: mount its keys as files with steps.<name>.secretFiles: [{secret, key, path}] (or as env vars with env: [{name, secretKeyRef: {name, key}}])' });

/**
 * The lister and the gate: the settings of a step that apply to them, with the same names and
 * validation (their command, mounts and env are the pipeline's own).
 */
export const utilityStepSchema = stepSchema.pick({ image: true, imagePullPolicy: true, resources: true, timeout: true, retry: true, priorityClassName: true, preemptible: true });

export const environmentSchema = z.strictObject({
  /** Free text shown in the README and dist/ headers. */
  description: z.string().optional(),
  /** The namespace everything is deployed to and runs in. */
  namespace: dnsLabel,
  /** Extra labels on every object (never the project/queue labels: those come from `scheduling`). */
  labels: labelMap.optional(),
  policy: z.strictObject({
    allowUnpinnedImages: z.boolean().optional(),
    allowPrivileged: z.boolean().optional(),
    allowDirectoryOrCreate: z.boolean().optional(),
    allowUnhardened: z.boolean().optional(),
  }).optional(),
  scheduling: z.strictObject({
    scheduler: z.enum(['default-scheduler', 'runai-scheduler', 'kai-scheduler']).optional(),
    project: dnsLabel.optional(),
    queueLabels: z.array(z.string().min(1)).optional(),
    priorityClasses: z.strictObject({
      preemptible: dnsLabel,
      nonPreemptible: dnsLabel,
    }).optional(),
  }).optional(),
  gpu: z.strictObject({
    available: z.boolean().optional(),
    resourceName: z.string().min(1).optional(),
    tolerations: z.array(tolerationSchema).optional(),
    nodeSelector: labelMap.optional(),
    targetMainContainer: z.boolean().optional(),
  }).optional(),
  security: z.strictObject({
    runAsUser: z.number().int().nonnegative().optional(),
    runAsGroup: z.number().int().nonnegative().optional(),
    fsGroup: z.number().int().nonnegative().optional(),
    readOnlyRootFilesystem: z.boolean().optional(),
    automountServiceAccountToken: z.boolean().optional(),
  }).optional(),
  retry: z.strictObject({
    preemptible: retrySchema.optional(),
  }).optional(),
  /** Kept for files written before `identity`: the same as identity.serviceAccountName (not both). */
  serviceAccountName: dnsLabel.optional(),
  /** The service account the pods run as; create: false uses one the cluster admin created (nothing identity-related is emitted). */
  identity: z.strictObject({
    serviceAccountName: dnsLabel.optional(),
    create: z.boolean().optional(),
  }).optional(),
  volumes: z.record(dnsLabel, volumeSchema).optional(),
  parameters: z.record(dnsLabel, z.strictObject({
    value: z.string().optional(),
    description: z.string().optional(),
    enum: z.array(z.string()).optional(),
  })).optional(),
  workflow: z.strictObject({
    activeDeadlineSeconds: z.number().int().positive().optional(),
    ttlStrategy: z.strictObject({
      secondsAfterCompletion: z.number().int().nonnegative().optional(),
      secondsAfterSuccess: z.number().int().nonnegative().optional(),
      secondsAfterFailure: z.number().int().nonnegative().optional(),
    }).optional(),
    podGC: z.strictObject({
      strategy: z.enum(['OnPodCompletion', 'OnPodSuccess', 'OnWorkflowCompletion', 'OnWorkflowSuccess']),
      deleteDelayDuration: goDuration.optional(),
    }).optional(),
    parallelism: z.number().int().positive().optional(),
  }).optional(),
  steps: z.record(dnsLabel, stepSchema).optional(),
  /** Skip finished stages by success markers (Argo's work-avoidance pattern). Off by default. */
  resume: z.strictObject({
    enabled: z.boolean().optional(),
    markerDir: z.string().regex(/^[^/].*$/, 'expected a path relative to the step\'s output directory').optional(),
    markerName: z.string().regex(/\{step\}/, 'expected a name containing {step}').optional(),
    forceParameter: dnsLabel.optional(),
  }).optional(),
  /** Run steps once per image set. Off by default. */
  fanOut: z.strictObject({
    steps: z.array(dnsLabel).min(1),
    /** Where the list comes from: sub-directories of a volume, or a workflow parameter (comma-separated or a JSON list). */
    source: z.union([
      z.strictObject({ subdirectoriesOf: dnsLabel }),
      z.strictObject({ parameter: dnsLabel }),
    ], { error: 'expected {subdirectoriesOf: <volume>} or {parameter: <workflow parameter>}' }),
    /** Volumes a fanned-out step sees per image set (mounted with the set as subPath). */
    itemVolumes: z.array(dnsLabel).optional(),
    parallelism: z.number().int().positive().optional(),
    /** Scans per pod: each fanned-out step runs one pod per chunk of this many scans. Default 1. */
    scansPerPod: z.number().int().positive().optional(),
    /** The largest batch the environment accepts (checked at synth against Argo's size limits, and by the lister). Default 10000. */
    maxScans: z.number().int().positive().optional(),
    /** How long one scan may run in a fanned-out step before it is stopped and counted as failed. Default: no limit per scan. */
    scanTimeout: goDuration.optional(),
    lister: utilityStepSchema.optional(),
  }).optional(),
  /** Where each workflow keeps its scan list and the outcome of every scan (read by the gate). */
  runFolder: z.strictObject({
    volume: dnsLabel.optional(),
    path: z.string().regex(/^[^/].*$/, 'expected a path relative to the volume').optional(),
  }).optional(),
  /** Bounded concurrency across workflows with ConfigMap semaphores (Argo v4 semaphores list). */
  concurrency: z.strictObject({
    configMapName: dnsLabel.optional(),
    /** Semaphore name -> how many holders at once (a positive integer). */
    semaphores: z.record(z.string().regex(/^[-._a-zA-Z0-9]+$/, 'expected a ConfigMap key'), z.number().int().positive()),
    /** Semaphore every GPU step acquires. */
    gpuSemaphore: z.string().min(1).optional(),
  }).optional(),
  /** The gate that judges the batch (used with a fan-out or when a step declares partialExitCodes). */
  partialSuccess: z.strictObject({
    gate: utilityStepSchema.optional(),
  }).optional(),
  provenance: z.strictObject({
    /** Env var that receives the image digest of steps whose image is pinned by digest. */
    imageDigestEnv: z.string().regex(ENV_NAME).optional(),
  }).optional(),
  /** Prefix of every step WorkflowTemplate's name (the lister's and the gate's too). Default sleap-roots-. */
  templateNamePrefix: z.string().regex(/^[a-z0-9][-a-z0-9]*$/, 'expected the start of a DNS-1123 label (lowercase letters, digits and "-"), e.g. lab-').max(40, 'expected at most 40 characters (the step name follows it in a 63-character name)').optional(),
  /** Annotations on every WorkflowTemplate object (not on pods: see steps.<name>.podAnnotations). */
  templateAnnotations: annotationMap.optional(),
  /** Name step templates with a content hash, so a deploy never changes a running workflow's steps. */
  versionedTemplates: z.boolean().optional(),
});

export type EnvironmentConfig = z.infer<typeof environmentSchema>;
export type StepConfig = z.infer<typeof stepSchema>;
export type GpuRequestConfig = z.infer<typeof gpuRequestSchema>;
export type RetryConfig = z.infer<typeof retrySchema>;
export type UtilityStepConfig = z.infer<typeof utilityStepSchema>;
export type ResourcesConfig = z.infer<typeof resourcesSchema>;
export type VolumeConfig = NonNullable<EnvironmentConfig['volumes']>[string];
export type EnvVarConfig = NonNullable<StepConfig['env']>[number];
export type MountConfig = NonNullable<StepConfig['mounts']>[number];
export type TolerationConfig = z.infer<typeof tolerationSchema>;
