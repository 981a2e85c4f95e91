/**
 * The data of the planning layer: what the constructs declare ({@link PipelineSpec}, one
 * {@link StepSpec} per step) and what {@link planPipeline} works out from it ({@link PipelinePlan}:
 * every default applied, fan-out, resume, semaphores, the lister and the gate decided). The build
 * layer renders a plan; policy checks it. Plain data only: no constructs.
 */
import type { ClusterSettings, SchedulerName } from '../scheduling/cluster';
import type { GpuRequest } from '../scheduling/gpu';
import type { RetryOptions, RetryStrategy } from '../scheduling/retry';
import type { EnvVar, Mount, OutputFile, PipelineParameter, Resources, SecretFile, Toleration, Volume } from '../values/shapes';

/** What a step declares: its container and pod settings. Every field is optional except where a step needs it. */
export interface StepSettings {
  /** Container image; pin a tag or digest (an unpinned one is a policy error unless allowed). @default - the built-in step's image; other steps need one */
  readonly image?: string;
  /** @default - Kubernetes' (Always for `:latest`, else IfNotPresent) */
  readonly imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** @default - the image's entrypoint */
  readonly command?: readonly string[];
  /**
   * The image's ENTRYPOINT, restated (`[]` when the image has none). Only used when the step runs
   * under the wrapper (resume or outcomes), which replaces the container's command: without
   * `command`, the wrapper runs `entrypoint` then `args`, as the runtime would have. A wrapped
   * step with neither is a policy error (the image's ENTRYPOINT would silently not run).
   * @default - not declared
   */
  readonly entrypoint?: readonly string[];
  /** @default - none */
  readonly args?: readonly string[];
  /** Env var receiving this step's own image digest (when pinned by @sha256:). @default - the pipeline's `imageDigestEnv` */
  readonly imageDigestEnv?: string;
  /** @default - the image's */
  readonly workingDir?: string;
  /** Environment variables: values, or references to Secret/ConfigMap keys. @default [] */
  readonly env?: readonly EnvVar[];
  /** Volume mounts, by the pipeline's volume names. @default [] */
  readonly mounts?: readonly Mount[];
  /** Secret keys mounted as single files. @default [] */
  readonly secretFiles?: readonly SecretFile[];
  /** CPU/memory requests and limits. @default - none (a policy error: every step needs requests) */
  readonly resources?: Resources;
  /** GPU request. @default GpuRequest.none() */
  readonly gpu?: GpuRequest;
  /**
   * Whether the step may be preempted: selects the scheduler's preemptible or non-preemptible
   * priority class, and the longer {@link RetryStrategy.preemptible} backoff.
   * @default false
   */
  readonly preemptible?: boolean;
  /** @default - the scheduler's class for `preemptible`, or none when it has no classes */
  readonly priorityClassName?: string;
  /** @default - RetryStrategy.preemptible() for preemptible steps, else RetryStrategy.infrastructure() */
  readonly retry?: RetryStrategy;
  /**
   * Argo template `timeout` (e.g. `6h`): each attempt's pod deadline.
   * @default - none (a policy error: every step needs one)
   */
  readonly timeout?: string;
  /** @default - the pipeline's security settings (the image's user when neither is set) */
  readonly runAsUser?: number;
  /** @default - the pipeline's security settings */
  readonly runAsGroup?: number;
  /** The main container's own user and group (`container.securityContext`), over the pod's. @default - the pod's */
  readonly containerSecurityContext?: { readonly runAsUser?: number; readonly runAsGroup?: number };
  /**
   * false drops the hardening of this step only: no RuntimeDefault seccomp profile, no capability
   * drop, privilege escalation allowed (a policy error unless the pipeline allows it).
   * @default true
   */
  readonly hardened?: boolean;
  /** This step's scheduler. @default - the pipeline's */
  readonly scheduler?: SchedulerName;
  /** Annotations on the step's WorkflowTemplate object (never its pods). @default - the pipeline's `templateAnnotations` */
  readonly templateAnnotations?: Readonly<Record<string, string>>;
  /** Run the container privileged (a policy error unless the pipeline allows it). @default false */
  readonly privileged?: boolean;
  /** @default - the pipeline's security settings (false) */
  readonly readOnlyRootFilesystem?: boolean;
  /** Merged over the GPU node selector. @default {} */
  readonly nodeSelector?: Readonly<Record<string, string>>;
  /** Added to the GPU tolerations. @default [] */
  readonly tolerations?: readonly Toleration[];
  /** Extra pod labels. @default {} */
  readonly podLabels?: Readonly<Record<string, string>>;
  /** Extra pod annotations. @default {} */
  readonly podAnnotations?: Readonly<Record<string, string>>;
  /**
   * Exit codes meaning "partial success" (some scans failed, the rest is good): recorded as
   * outcomes, the step counts as done and the gate accepts them. @default []
   */
  readonly partialExitCodes?: readonly number[];
  /** Key of a semaphore in the pipeline's `concurrency.semaphores` the step's pods acquire. @default - none (GPU steps: `concurrency.gpuSemaphore`) */
  readonly semaphore?: string;
  /**
   * The step writes folders every workflow shares (the models every batch predicts from), not the
   * workflow's own or one scan's. Its pods hold an Argo mutex named after its template, so
   * workflows running at the same time (the batches of a run) run it one at a time; with resume,
   * the first writes its marker and the others find it and skip, so no batch reads the folder
   * while another writes it. Runs of many batches require resume and refuse --force-rerun then.
   * @default false (ModelsDownloader: true)
   */
  readonly exclusive?: boolean;
  /** The step's output directory (a mount path). @default - the path of its first writable mount */
  readonly output?: string;
  /** Output parameters read from files (empty when the file is missing). @default [] */
  readonly outputs?: readonly OutputFile[];
  /** @default `<templateNamePrefix><name>` (plus `-<content hash>` with versioned templates) */
  readonly templateName?: string;
}

/** One step as the planner sees it: its name, settings and the names of the steps it runs after. */
export interface StepSpec extends StepSettings {
  readonly name: string;
  readonly dependencies: readonly string[];
}

/** Skipping finished stages by success markers (Argo's work-avoidance pattern). */
export interface ResumeOptions {
  /** @default false */
  readonly enabled?: boolean;
  /** Folder of the markers, relative to each step's output directory. @default '.sleap-roots' */
  readonly markerDir?: string;
  /** File name of a marker; `{step}` is replaced by the step name. @default '{step}.done' */
  readonly markerName?: string;
  /** Workflow parameter that, when "true", makes every step run again. @default 'force-rerun' */
  readonly forceParameter?: string;
}

/** Settings of the lister or the gate: those of a step that apply to them, under the same names. */
export interface UtilityStepOptions {
  /** @default 'busybox:1.36.1' */
  readonly image?: string;
  /** @default - Kubernetes' */
  readonly imagePullPolicy?: StepSettings['imagePullPolicy'];
  /** @default - the scheduler's class for `preemptible`, or none when it has no classes */
  readonly priorityClassName?: string;
  /** @default - true when the scheduler has priority classes */
  readonly preemptible?: boolean;
  /**
   * Fields replacing the default retries (limit 3, backoff 10s doubling, capped at 1m; the gate
   * retries Error attempts only, so its message stays the verdict); with `policy`, Argo's policy
   * alone decides.
   * @default - see above
   */
  readonly retry?: RetryOptions;
  /** @default - requests cpu 10m / memory 16Mi, limits cpu 100m / memory 64Mi */
  readonly resources?: Resources;
  /** @default '10m' */
  readonly timeout?: string;
}

/** Running some steps once per chunk of scans, each scan judged on its own. */
export interface FanOutOptions {
  /** Names of the steps that run per scan. */
  readonly steps: readonly string[];
  /** Where the scans come from: the sub-folders of a volume, or a workflow parameter (comma-separated or a JSON list). */
  readonly source: { readonly subdirectoriesOf: string } | { readonly parameter: string };
  /** Volumes with one folder per scan. @default ['images-input', 'predictions-output', 'traits-output'] */
  readonly itemVolumes?: readonly string[];
  /** Chunks running at once. @default - unbounded (Argo's) */
  readonly parallelism?: number;
  /** Scans per pod. @default 1 */
  readonly scansPerPod?: number;
  /** The largest batch (checked at synth against Argo's limits, and by the lister). @default 1000 */
  readonly maxScans?: number;
  /** How long one scan may run before it is stopped and counted as failed. @default - no limit per scan */
  readonly scanTimeout?: string;
  /** @default - see {@link UtilityStepOptions} */
  readonly lister?: UtilityStepOptions;
}

/** ConfigMap semaphores bounding concurrency across workflows (Argo v4 `synchronization.semaphores`). */
export interface ConcurrencyOptions {
  /** @default 'sleap-roots-semaphores' */
  readonly configMapName?: string;
  /** Semaphore name -> how many holders at once. */
  readonly semaphores: Readonly<Record<string, number>>;
  /** Semaphore every GPU step acquires. @default - none */
  readonly gpuSemaphore?: string;
}

/** Workflow-level options of the pipeline template. */
export interface WorkflowOptions {
  /** @default 172800 (48 hours) */
  readonly activeDeadlineSeconds?: number;
  /** @default - none */
  readonly ttlStrategy?: { readonly secondsAfterCompletion?: number; readonly secondsAfterSuccess?: number; readonly secondsAfterFailure?: number };
  /** @default - none */
  readonly podGC?: { readonly strategy: 'OnPodCompletion' | 'OnPodSuccess' | 'OnWorkflowCompletion' | 'OnWorkflowSuccess'; readonly deleteDelayDuration?: string };
  /** @default - unbounded */
  readonly parallelism?: number;
}

/** What policies a pipeline explicitly relaxes. */
export interface PipelinePolicy {
  /** @default false */
  readonly allowUnpinnedImages?: boolean;
  /** @default false */
  readonly allowPrivileged?: boolean;
  /** @default false */
  readonly allowDirectoryOrCreate?: boolean;
  /** Allow steps with `hardened: false`. @default false */
  readonly allowUnhardened?: boolean;
}

/** Where each workflow keeps its scan list and the outcome of every scan. */
export interface RunFolderOptions {
  /** @default 'traits-output' */
  readonly volume?: string;
  /** Relative to the volume. @default '.sleap-roots/runs' */
  readonly path?: string;
}

/** The pipeline-wide options, shared by the chart's props and the planner's input. */
export interface PipelineOptions {
  /** Volumes by name, mounted by the steps. @default - a PersistentVolumeClaim per built-in volume, named as the volume (see `Volumes`) */
  readonly volumes?: Readonly<Record<string, Volume>>;
  /** Workflow parameters (`{{workflow.parameters.NAME}}`) with their defaults. @default {} */
  readonly parameters?: Readonly<Record<string, PipelineParameter>>;
  /** @default - 48-hour deadline, nothing else */
  readonly workflow?: WorkflowOptions;
  /** @default - all strict */
  readonly policy?: PipelinePolicy;
  /** @default - off */
  readonly resume?: ResumeOptions;
  /** @default - off: every step runs once per batch */
  readonly fanOut?: FanOutOptions;
  /** @default - no semaphores */
  readonly concurrency?: ConcurrencyOptions;
  /** The gate (the exit handler judging the batch). @default - see {@link UtilityStepOptions} */
  readonly gate?: UtilityStepOptions;
  /** @default - traits-output, `.sleap-roots/runs` */
  readonly runFolder?: RunFolderOptions;
  /** Env var receiving the image digest of digest-pinned steps. @default - none */
  readonly imageDigestEnv?: string;
  /** Name step templates with a content hash, so a deploy never changes a running workflow's steps. @default false */
  readonly versionedTemplates?: boolean;
  /** Prefix of the step WorkflowTemplates' names (the lister's and the gate's too). @default 'sleap-roots-' */
  readonly templateNamePrefix?: string;
  /** Annotations on every WorkflowTemplate object; a step's own are merged over them. @default {} */
  readonly templateAnnotations?: Readonly<Record<string, string>>;
}

/** The planner's input: the cluster, the steps and the options. */
export interface PipelineSpec extends PipelineOptions {
  readonly cluster: ClusterSettings;
  readonly steps: readonly StepSpec[];
}

/** Success markers of one step. */
export interface StepResume {
  readonly markerDir: string;
  readonly markerName: string;
  readonly forceParameter: string;
  /** The marker this step writes, as a path in its container. */
  readonly markerPath: string;
  /** Markers of its inputs; undefined when they cannot be checked (the step then always runs). */
  readonly inputMarkers?: readonly string[];
}

/** A step run once per chunk of scans. */
export interface StepFanOut {
  /** Template input parameter holding the chunk number. */
  readonly parameter: string;
  /** Volumes with one folder per scan. */
  readonly itemVolumes: readonly string[];
  /** Upstream fanned-out steps and the codes they must have recorded for a scan before this one runs it. */
  readonly upstream: readonly { readonly step: string; readonly accepted: readonly number[] }[];
  /** Seconds one scan may run before the wrapper stops it (exit 124). */
  readonly scanTimeoutSeconds?: number;
  /** The task that prints the number of chunks (`withSequence.count`). */
  readonly countFrom: string;
}

/** Where a step records its outcomes, or (the lister, the gate) reads and writes the run folder itself. */
export interface StepOutcomes {
  /** The volume holding the run folders. */
  readonly volume: string;
  /** The workflow's run folder as a path in the container. */
  readonly runDir: string;
  /** Whether the command runs under the wrapper that records its outcome. */
  readonly record: boolean;
}

/** Which kind of step: one of the pipeline's, the scan lister, or the gate. */
export type StepRole = 'step' | 'lister' | 'gate';

/** One step with every decision made: what the build layer renders. */
export interface StepPlan {
  readonly name: string;
  readonly role: StepRole;
  /** The template name before any content hash. */
  readonly templateName: string;
  readonly versioned: boolean;
  readonly image: string;
  readonly imagePullPolicy?: StepSettings['imagePullPolicy'];
  readonly command?: readonly string[];
  readonly entrypoint?: readonly string[];
  readonly args?: readonly string[];
  readonly workingDir?: string;
  readonly env: readonly EnvVar[];
  readonly mounts: readonly Mount[];
  readonly secretFiles: readonly SecretFile[];
  readonly resources?: Resources;
  readonly gpu: GpuRequest;
  readonly preemptible: boolean;
  readonly priorityClassName?: string;
  readonly retry: RetryStrategy;
  readonly timeout?: string;
  /** Tasks this one runs after (the lister included). */
  readonly dependencies: readonly string[];
  /** The step's own dependencies, as declared (what policy checks). */
  readonly declaredDependencies: readonly string[];
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  readonly containerSecurityContext: { readonly runAsUser?: number; readonly runAsGroup?: number };
  readonly hardened: boolean;
  /** The pods' scheduler. */
  readonly scheduler: SchedulerName;
  /** Annotations on the WorkflowTemplate object. */
  readonly templateAnnotations: Readonly<Record<string, string>>;
  readonly privileged: boolean;
  readonly readOnlyRootFilesystem?: boolean;
  readonly nodeSelector: Readonly<Record<string, string>>;
  readonly tolerations: readonly Toleration[];
  readonly podLabels: Readonly<Record<string, string>>;
  readonly podAnnotations: Readonly<Record<string, string>>;
  readonly partialExitCodes: readonly number[];
  /** The semaphore the pods acquire. */
  readonly semaphore?: { readonly configMap: string; readonly key: string };
  /** The mutex the pods hold (exclusive steps): one holder across the namespace's workflows. */
  readonly mutex?: string;
  readonly outputDir?: string;
  readonly outputs: readonly OutputFile[];
  /** Template inputs with the value the DAG task passes. */
  readonly inputs: Readonly<Record<string, string>>;
  readonly resume?: StepResume;
  readonly fanOut?: StepFanOut;
  readonly outcomes?: StepOutcomes;
  /** Whether the command runs under the wrapper (markers or outcomes). */
  readonly wrapped: boolean;
  /** The env var receiving this step's own image digest. */
  readonly imageDigestEnv?: string;
}

/** The lister's plan: a step plus the batch bounds it enforces. */
export interface ListerPlan extends StepPlan {
  readonly scansPerPod: number;
  readonly maxScans: number;
}

/** The whole pipeline with every decision made. */
export interface PipelinePlan {
  readonly cluster: ClusterSettings;
  /** The pipeline's steps, in DAG order. */
  readonly steps: readonly StepPlan[];
  readonly lister?: ListerPlan;
  readonly gate?: StepPlan;
  readonly volumes: Readonly<Record<string, Volume>>;
  /** Declared parameters plus the resume force parameter. */
  readonly parameters: Readonly<Record<string, PipelineParameter>>;
  readonly policy: Required<PipelinePolicy>;
  readonly workflow: WorkflowOptions;
  readonly activeDeadlineSeconds: number;
  readonly resumeEnabled: boolean;
  readonly fanOut?: FanOutOptions;
  readonly concurrency?: ConcurrencyOptions & { readonly configMapName: string };
  /** Where outcomes are recorded, when they are. */
  readonly outcomes?: { readonly volume: string; readonly runDir: string };
  /** Annotations on the pipeline WorkflowTemplate object. */
  readonly templateAnnotations: Readonly<Record<string, string>>;
}

/** Every step template of a plan: the lister, the steps, the gate. */
export function allSteps(plan: PipelinePlan): readonly StepPlan[] {
  return [...(plan.lister ? [plan.lister] : []), ...plan.steps, ...(plan.gate ? [plan.gate] : [])];
}
