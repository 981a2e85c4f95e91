/**
 * The SleapRootsPipeline chart: the step WorkflowTemplates, the `sleap-roots-pipeline`
 * WorkflowTemplate holding the DAG, and the identity its pods run as.
 */
import { Chart, type ChartProps } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import {
  WorkflowTemplate,
  WorkflowTemplateSpecPodGcStrategy,
  WorkflowTemplateSpecTemplatesDagTasksWithSequenceCount as SequenceCount,
  type WorkflowTemplateSpecVolumes,
  type WorkflowTemplateSpecArgumentsParameters,
} from '../imports/argoproj.io';
import type { EnvironmentConfig, VolumeConfig } from './config/schema';
import type { ClusterSettings } from './scheduling/cluster';
import { ENVIRONMENT_LABEL, FORCE_RERUN_PARAMETER, PART_OF_LABEL, PIPELINE_TEMPLATE_NAME, PROJECT_NAME, VERSION_LABEL } from './names';
import { checkPipeline, formatPolicyProblem, type PolicyProblem } from './policy';
import { toEnum } from './values/enum';
import { ContainerStep, DEFAULT_MARKER_DIR, STATE_MOUNT, withDefaults, type ContainerStepProps, type FanOutOptions, type OutcomeOptions, type ResumeOptions } from './steps/container-step';
import { inputMarkersOf } from './steps/resume';
import { checkRunTime, type RunTimeView } from './runtime-rules';
import type { WorkflowTemplateJson } from './scale';
import { durationSeconds } from './values/duration';
import { ModelsDownloader } from './steps/models-downloader';
import { Predictor } from './steps/predictor';
import { TraitExtractor } from './steps/trait-extractor';
import { BatchGate, ImageSetLister } from './steps/utility';
import { Volumes } from './steps/volumes';

export { ENVIRONMENT_LABEL, PART_OF_LABEL, PIPELINE_TEMPLATE_NAME, PROJECT_NAME, VERSION_LABEL } from './names';

/** Name of the DAG template inside the pipeline template (its entrypoint). */
export const PIPELINE_ENTRYPOINT = 'pipeline';

/**
 * A step as an environment configures it: {@link ContainerStepProps} without what the pipeline
 * derives (cluster, resume, fan-out, inputs), plus on/off and a semaphore by name.
 */
export interface StepOptions extends Partial<Omit<ContainerStepProps, 'cluster' | 'semaphore' | 'resume' | 'fanOut' | 'inputs' | 'versioned'>> {
  /** false drops the step. @default true */
  readonly enabled?: boolean;
  /** Name of a semaphore in `concurrency.semaphores` the step acquires. @default - none (GPU steps: `concurrency.gpuSemaphore`) */
  readonly semaphore?: string;
}

/** The built-in steps, in DAG order, with their defaults; any other name is a plain {@link ContainerStep}. */
const BUILT_IN_STEPS: Record<string, { defaults: () => Partial<ContainerStepProps>; build: (scope: Construct, props: ContainerStepProps) => ContainerStep }> = {
  [ModelsDownloader.STEP_NAME]: { defaults: () => ModelsDownloader.defaults(), build: (scope, props) => new ModelsDownloader(scope, props) },
  [Predictor.STEP_NAME]: { defaults: () => Predictor.defaults(), build: (scope, props) => new Predictor(scope, props) },
  [TraitExtractor.STEP_NAME]: { defaults: () => TraitExtractor.defaults(), build: (scope, props) => new TraitExtractor(scope, props) },
};

/** Resume defaults: markers `.sleap-roots/<step>.done` in each output directory; `force-rerun=true` reruns all. */
export const RESUME_DEFAULTS = { markerDir: DEFAULT_MARKER_DIR, markerName: '{step}.done', forceParameter: FORCE_RERUN_PARAMETER } as const;
/**
 * Fan-out defaults: the chunk parameter, the volumes with a folder per scan, scans per pod, and
 * the largest batch the synth-time size checks and the lister allow.
 */
export const FAN_OUT_DEFAULTS = {
  parameter: 'chunk',
  itemVolumes: [Volumes.IMAGES_INPUT, Volumes.PREDICTIONS_OUTPUT, Volumes.TRAITS_OUTPUT] as readonly string[],
  scansPerPod: 1,
  maxScans: 1_000,
} as const;
/** Where each workflow's run folder (scan list, chunks, outcomes, report) lives by default. */
export const RUN_FOLDER_DEFAULTS = { volume: Volumes.TRAITS_OUTPUT, path: '.sleap-roots/runs' } as const;
/** The workflow deadline when the environment sets none: 48 hours. */
export const DEFAULT_ACTIVE_DEADLINE_SECONDS = 172_800;
/** Default name of the semaphore ConfigMap. */
export const DEFAULT_SEMAPHORE_CONFIGMAP = 'sleap-roots-semaphores';

/** Names of the built-in steps, in order. */
export const BUILT_IN_STEP_NAMES: readonly string[] = Object.keys(BUILT_IN_STEPS);

/** A workflow parameter with its default. */
export interface PipelineParameter {
  /** @default '' */
  readonly value?: string;
  readonly description?: string;
  readonly enum?: readonly string[];
}

/** What policies an environment explicitly relaxes. All default to false (strict). */
export interface PipelinePolicy {
  readonly allowUnpinnedImages?: boolean;
  readonly allowPrivileged?: boolean;
  readonly allowDirectoryOrCreate?: boolean;
}

/** Props of {@link SleapRootsPipeline}. */
export interface SleapRootsPipelineProps extends ChartProps {
  /** The environment's name (labels every object). */
  readonly environment: string;
  /** The cluster's scheduling and identity settings. */
  readonly cluster: ClusterSettings;
  /**
   * Steps by name. Built-in names get their construct's defaults; other names need an image.
   * @default - the three built-in steps with their defaults
   */
  readonly steps?: Readonly<Record<string, StepOptions>>;
  /** Volumes by name, mounted by the steps. @default {} */
  readonly volumes?: Readonly<Record<string, VolumeConfig>>;
  /** Workflow parameters (`{{workflow.parameters.NAME}}`) with their defaults. @default {} */
  readonly parameters?: Readonly<Record<string, PipelineParameter>>;
  /** Workflow-level options of the pipeline template. @default {} */
  readonly workflow?: EnvironmentConfig['workflow'];
  /** Policies the environment relaxes. @default {} (all strict) */
  readonly policy?: PipelinePolicy;
  /** The pipeline's version, as the `app.kubernetes.io/version` label. @default - no label */
  readonly version?: string;
  /** Skip finished stages by success markers. @default - off */
  readonly resume?: EnvironmentConfig['resume'];
  /** Run some steps once per image set. @default - off */
  readonly fanOut?: EnvironmentConfig['fanOut'];
  /** ConfigMap semaphores bounding concurrency across workflows. @default - none */
  readonly concurrency?: EnvironmentConfig['concurrency'];
  /** The gate's image, resources and timeout. @default - busybox, tiny, 10m */
  readonly partialSuccess?: EnvironmentConfig['partialSuccess'];
  /** Where run folders are kept. @default RUN_FOLDER_DEFAULTS */
  readonly runFolder?: EnvironmentConfig['runFolder'];
  /** Env var receiving the image digest of digest-pinned steps. @default - none */
  readonly imageDigestEnv?: string;
  /** Name step templates with a content hash. @default false */
  readonly versionedTemplates?: boolean;
}

/**
 * The whole pipeline for one environment. Policy violations (see `policy.ts`) are reported by
 * `node.validate()` / `App.synth()`, all together.
 */
export class SleapRootsPipeline extends Chart {
  public readonly environment: string;
  public readonly cluster: ClusterSettings;
  /** The enabled steps, built-in ones first, then the environment's own in file order. */
  public readonly steps: readonly ContainerStep[];
  /** Steps that an environment disabled. */
  public readonly disabledSteps: readonly string[];
  public readonly volumes: Readonly<Record<string, VolumeConfig>>;
  /** Workflow parameters: the environment's, plus `force-rerun` when resume is on. */
  public readonly parameters: Readonly<Record<string, PipelineParameter>>;
  public readonly policy: Required<PipelinePolicy>;
  public readonly template: WorkflowTemplate;
  public readonly serviceAccount: kplus.ServiceAccount;
  public readonly role: kplus.Role;
  public readonly roleBinding: kplus.RoleBinding;
  /** The executor's token Secret, present when step pods do not automount a token. */
  public readonly executorToken?: kplus.ServiceAccountTokenSecret;
  /** The semaphore ConfigMap, when the environment has semaphores. */
  public readonly semaphores?: kplus.ConfigMap;
  /** The concurrency settings (semaphore names and limits). */
  public readonly concurrency?: EnvironmentConfig['concurrency'];
  /** Fan-out settings, when on. */
  public readonly fanOutConfig?: EnvironmentConfig['fanOut'];
  /** The scan lister, when a fan-out is on. */
  public readonly lister?: ImageSetLister;
  /** The gate (the workflow's exit handler), when outcomes are recorded. */
  public readonly gate?: BatchGate;
  /** Where the steps record outcomes, when a fan-out is on or a step declares partial exit codes. */
  public readonly outcomes?: OutcomeOptions;
  /** The workflow deadline, in seconds. */
  public readonly activeDeadlineSeconds: number;
  /** Whether steps skip finished work. */
  public readonly resumeEnabled: boolean;

  public constructor(scope: Construct, id: string, props: SleapRootsPipelineProps) {
    super(scope, id, {
      ...props,
      namespace: props.namespace ?? props.cluster.namespace,
      labels: {
        [PART_OF_LABEL]: PROJECT_NAME,
        [ENVIRONMENT_LABEL]: props.environment,
        ...(props.version ? { [VERSION_LABEL]: props.version } : {}),
        ...(props.labels ?? {}),
      },
    });
    this.environment = props.environment;
    this.cluster = props.cluster;
    this.volumes = props.volumes ?? {};
    this.policy = {
      allowUnpinnedImages: props.policy?.allowUnpinnedImages ?? false,
      allowPrivileged: props.policy?.allowPrivileged ?? false,
      allowDirectoryOrCreate: props.policy?.allowDirectoryOrCreate ?? false,
    };

    const saName = props.cluster.serviceAccountName;
    const identity = this.addIdentity(props.cluster);
    this.serviceAccount = identity.serviceAccount;
    this.role = identity.role;
    this.roleBinding = identity.roleBinding;
    this.executorToken = identity.executorToken;

    this.concurrency = props.concurrency;
    this.fanOutConfig = props.fanOut;
    const configMapName = props.concurrency?.configMapName ?? DEFAULT_SEMAPHORE_CONFIGMAP;
    if (props.concurrency) {
      // Applied before the templates (file order), so gated nodes never miss it (pipeline-facts item 13).
      this.semaphores = new kplus.ConfigMap(this, 'Semaphores', {
        metadata: { name: configMapName },
        data: Object.fromEntries(Object.entries(props.concurrency.semaphores).map(([k, v]) => [k, String(v)])),
      });
    }

    const requested: Readonly<Record<string, StepOptions>> = props.steps ?? Object.fromEntries(BUILT_IN_STEP_NAMES.map((n) => [n, {}]));
    const ordered = [
      ...BUILT_IN_STEP_NAMES.filter((n) => n in requested),
      ...Object.keys(requested).filter((n) => !(n in BUILT_IN_STEPS)),
    ];
    const disabled = ordered.filter((n) => requested[n].enabled === false);
    const enabled = ordered.filter((n) => requested[n].enabled !== false);
    this.disabledSteps = disabled;

    // Effective props of every step (defaults applied) before any is built: resume needs to know
    // where each step's dependencies write.
    const effective = new Map<string, ContainerStepProps>();
    for (const name of enabled) {
      const { enabled: _ignored, semaphore, ...options } = requested[name];
      const defaults = BUILT_IN_STEPS[name]?.defaults() ?? {};
      const merged = withDefaults<ContainerStepProps>(defaults, { ...options, cluster: props.cluster } as ContainerStepProps);
      const semaphoreKey = semaphore ?? (merged.gpu?.requestsGpu ? props.concurrency?.gpuSemaphore : undefined);
      effective.set(name, {
        ...merged,
        semaphore: semaphoreKey ? { configMap: configMapName, key: semaphoreKey } : undefined,
        imageDigestEnv: props.imageDigestEnv,
        versioned: props.versionedTemplates,
      });
    }

    // Outcomes: with a fan-out, or a step with partial codes, the steps record what happened to
    // every scan in a run folder per workflow, and the gate judges the batch from it.
    const fanned = new Set((props.fanOut?.steps ?? []).filter((n) => effective.has(n)));
    const partial = new Set([...effective].filter(([, p]) => (p.partialExitCodes ?? []).length > 0).map(([n]) => n));
    const runFolder = { ...RUN_FOLDER_DEFAULTS, ...withDefaults({}, props.runFolder ?? {}) };
    this.outcomes = fanned.size > 0 || partial.size > 0
      ? { volume: runFolder.volume, runDir: `${STATE_MOUNT}/${runFolder.path}/{{workflow.name}}` }
      : undefined;

    // Fan-out: the lister cuts the batch into chunks; `withSequence` runs a pod per chunk.
    if (props.fanOut && fanned.size > 0) {
      const source = props.fanOut.source;
      const volume = 'subdirectoriesOf' in source ? this.volumes[source.subdirectoriesOf] : undefined;
      this.lister = new ImageSetLister(this, {
        cluster: props.cluster,
        source: 'subdirectoriesOf' in source
          ? { subdirectoriesOf: source.subdirectoriesOf, display: volume && 'hostPath' in volume ? volume.hostPath : undefined }
          : source,
        outcomes: this.outcomes!,
        scansPerPod: props.fanOut.scansPerPod ?? FAN_OUT_DEFAULTS.scansPerPod,
        maxScans: props.fanOut.maxScans ?? FAN_OUT_DEFAULTS.maxScans,
        image: props.fanOut.lister?.image,
        resources: props.fanOut.lister?.resources,
        timeout: props.fanOut.lister?.timeout,
        versioned: props.versionedTemplates,
      });
    }
    const scanTimeout = props.fanOut?.scanTimeout ? durationSeconds(props.fanOut.scanTimeout) : undefined;
    const fanOutOf = (name: string, p: ContainerStepProps): FanOutOptions | undefined => fanned.has(name)
      ? {
        parameter: FAN_OUT_DEFAULTS.parameter,
        itemVolumes: props.fanOut?.itemVolumes ?? FAN_OUT_DEFAULTS.itemVolumes,
        upstream: (p.dependencies ?? []).filter((d) => fanned.has(d)).map((d) => ({ step: d, accepted: [0, ...(effective.get(d)!.partialExitCodes ?? [])] })),
        scanTimeoutSeconds: scanTimeout,
      }
      : undefined;

    // Resume: each step's marker, and the markers of the inputs it reads.
    this.resumeEnabled = props.resume?.enabled ?? false;
    type Markers = Pick<ResumeOptions, 'markerDir' | 'markerName' | 'forceParameter'>;
    const resume = this.resumeEnabled ? withDefaults<Markers>(RESUME_DEFAULTS, (props.resume ?? {}) as Markers) : undefined;

    const steps: ContainerStep[] = [];
    for (const name of enabled) {
      const p = effective.get(name)!;
      const stepResume: ResumeOptions | undefined = resume ? { ...resume, inputMarkers: inputMarkersOf(name, effective, fanned, resume) } : undefined;
      const deps = p.dependencies ?? [];
      const stepProps: ContainerStepProps = {
        ...p,
        resume: stepResume,
        fanOut: fanOutOf(name, p),
        outcomes: fanned.has(name) || partial.has(name) ? this.outcomes : undefined,
        // With a fan-out everything starts after the lister, so an empty batch ends at once.
        dependencies: this.lister && (fanned.has(name) || deps.length === 0) ? [...deps, this.lister.name] : deps,
      };
      const builtIn = BUILT_IN_STEPS[name];
      steps.push(builtIn ? builtIn.build(this, stepProps) : new ContainerStep(this, name, stepProps));
    }

    this.gate = this.outcomes
      ? new BatchGate(this, {
        cluster: props.cluster,
        outcomes: this.outcomes,
        scanSteps: steps.filter((s) => s.fanOut),
        wholeSteps: steps.filter((s) => !s.fanOut && s.recordsOutcomes),
        image: props.partialSuccess?.gate?.image,
        resources: props.partialSuccess?.gate?.resources,
        timeout: props.partialSuccess?.gate?.timeout,
        versioned: props.versionedTemplates,
      })
      : undefined;
    this.steps = steps;
    this.activeDeadlineSeconds = props.workflow?.activeDeadlineSeconds ?? DEFAULT_ACTIVE_DEADLINE_SECONDS;
    const allSteps = [...(this.lister ? [this.lister] : []), ...steps, ...(this.gate ? [this.gate] : [])];
    const dagSteps = allSteps.filter((s) => s !== this.gate);
    const parameters: Record<string, PipelineParameter> = { ...(props.parameters ?? {}) };
    if (resume && !(resume.forceParameter in parameters)) {
      parameters[resume.forceParameter] = { value: 'false', enum: ['false', 'true'], description: 'true: run every step again, ignoring success markers' };
    }
    this.parameters = parameters;

    this.template = new WorkflowTemplate(this, 'Pipeline', {
      metadata: { name: PIPELINE_TEMPLATE_NAME },
      spec: {
        entrypoint: PIPELINE_ENTRYPOINT,
        serviceAccountName: saName,
        automountServiceAccountToken: props.cluster.automountServiceAccountToken ? undefined : false,
        executor: props.cluster.automountServiceAccountToken ? undefined : { serviceAccountName: saName },
        arguments: Object.keys(this.parameters).length > 0 ? { parameters: this.renderParameters() } : undefined,
        volumes: this.renderVolumes(),
        workflowMetadata: {
          labels: {
            [PART_OF_LABEL]: PROJECT_NAME,
            [ENVIRONMENT_LABEL]: props.environment,
            ...(props.version ? { [VERSION_LABEL]: props.version } : {}),
          },
        },
        // Bounds everything, requeue loops and pods that never get a node included (operator.go
        // failNodesWithoutCreatedPodsAfterDeadlineOrShutdown); the exit handler still runs after
        // it (workflowpod.go getDeadline skips onExit pods).
        activeDeadlineSeconds: this.activeDeadlineSeconds,
        // The gate runs after every other node whatever their phase; when the DAG succeeded, its
        // failure fails the workflow with its message (operator.go operate, onExitNode).
        hooks: this.gate ? { exit: { templateRef: this.gate.templateRef } } : undefined,
        ttlStrategy: props.workflow?.ttlStrategy,
        podGc: props.workflow?.podGC
          ? { strategy: toEnum(WorkflowTemplateSpecPodGcStrategy, props.workflow.podGC.strategy), deleteDelayDuration: props.workflow.podGC.deleteDelayDuration }
          : undefined,
        parallelism: props.workflow?.parallelism,
        templates: [
          {
            name: PIPELINE_ENTRYPOINT,
            parallelism: props.fanOut?.parallelism,
            dag: { tasks: dagSteps.map((s) => this.renderTask(s)) },
          },
        ],
      },
    });
    // Step templates and identities before the template that refers to them.
    for (const s of allSteps) this.template.addDependency(s.resource);
    if (this.semaphores) for (const s of allSteps) s.resource.addDependency(this.semaphores);

    this.node.addValidation({ validate: () => this.problems().map(formatPolicyProblem) });
  }

  /** Every policy problem: the construct rules (policy.ts) and the run-time rules on the rendered templates. */
  public problems(): PolicyProblem[] {
    return [...checkPipeline(this), ...checkRunTime(this.runTimeView())];
  }

  /** What the run-time rules read: the rendered templates and the batch settings. */
  private runTimeView(): RunTimeView {
    return {
      pipeline: this.template.toJson() as WorkflowTemplateJson,
      steps: this.allSteps.map((s) => s.resource.toJson() as WorkflowTemplateJson),
      userSteps: this.steps.map((s) => s.name),
      maxScans: this.lister?.maxScans,
      preemptiveScheduler: this.cluster.scheduler !== 'default-scheduler',
      nonPreemptibleClass: this.cluster.priorityClasses?.nonPreemptible,
      partialExitCodes: Object.fromEntries(this.steps.map((s) => [s.name, s.partialExitCodes])),
    };
  }

  /**
   * The identity the step pods run as: a ServiceAccount, a Role with exactly create/patch on
   * workflowtaskresults (Argo's executor reports results through them, pipeline-facts item 6),
   * its RoleBinding, and with automount off the token Secret Argo mounts into `wait` only.
   */
  private addIdentity(cluster: ClusterSettings) {
    const name = cluster.serviceAccountName;
    const serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', { metadata: { name }, automountToken: cluster.automountServiceAccountToken });
    const role = new kplus.Role(this, 'Role', { metadata: { name } });
    role.allow(['create', 'patch'], kplus.ApiResource.custom({ apiGroup: 'argoproj.io', resourceType: 'workflowtaskresults' }));
    const roleBinding = new kplus.RoleBinding(this, 'RoleBinding', { metadata: { name }, role });
    roleBinding.addSubjects(serviceAccount);
    const executorToken = cluster.automountServiceAccountToken
      ? undefined
      : new kplus.ServiceAccountTokenSecret(this, 'ExecutorToken', { metadata: { name: `${name}.service-account-token` }, serviceAccount });
    return { serviceAccount, role, roleBinding, executorToken };
  }

  /** All step templates: the lister, the steps, the gate. */
  public get allSteps(): ContainerStep[] {
    return [...(this.lister ? [this.lister] : []), ...this.steps, ...(this.gate ? [this.gate] : [])];
  }

  private renderTask(s: ContainerStep) {
    const args = [
      ...(s.fanOut ? [{ name: s.fanOut.parameter, value: '{{item}}' }] : []),
      ...Object.entries(s.inputs).map(([name, value]) => ({ name, value })),
    ];
    const fanned = s.fanOut && this.lister;
    return {
      name: s.name,
      templateRef: s.templateRef,
      dependencies: s.dependencies.length > 0 ? [...s.dependencies] : undefined,
      // The lister prints the number of chunks: a few bytes whatever the batch (Argo keeps the
      // last 256 KiB of stdout, executor.go CaptureScriptResult; operator.go expandSequence).
      withSequence: fanned ? { count: SequenceCount.fromString(`{{tasks.${this.lister!.name}.outputs.result}}`) } : undefined,
      arguments: args.length > 0 ? { parameters: args } : undefined,
      // One lost chunk must not stop the others: without `error`, an Error child makes the whole
      // group Error and every dependent Omitted (dag.go; ancestry.go expandDependency).
      continueOn: fanned ? { failed: true, error: true } : undefined,
    };
  }

  private renderParameters(): WorkflowTemplateSpecArgumentsParameters[] {
    return Object.entries(this.parameters).map(([name, p]) => ({
      name,
      value: p.value ?? '',
      description: p.description,
      enum: p.enum ? [...p.enum] : undefined,
    }));
  }

  private renderVolumes(): WorkflowTemplateSpecVolumes[] | undefined {
    const entries = Object.entries(this.volumes);
    if (entries.length === 0) return undefined;
    return entries.map(([name, v]) =>
      'hostPath' in v
        ? { name, hostPath: { path: v.hostPath, type: v.type ?? 'Directory' } }
        : { name, persistentVolumeClaim: { claimName: v.persistentVolumeClaim, readOnly: v.readOnly } },
    );
  }
}
