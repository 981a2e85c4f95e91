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
  type WorkflowTemplateSpecVolumes,
  type WorkflowTemplateSpecArgumentsParameters,
} from '../imports/argoproj.io';
import type { EnvironmentConfig, VolumeConfig } from './config/schema';
import type { ClusterSettings } from './scheduling/cluster';
import { checkPipeline, formatPolicyProblem } from './policy';
import { toEnum } from './values/enum';
import { ContainerStep, type ContainerStepProps } from './steps/container-step';
import { ModelsDownloader } from './steps/models-downloader';
import { Predictor } from './steps/predictor';
import { TraitExtractor } from './steps/trait-extractor';

/** Name of the WorkflowTemplate holding the DAG (what `argo submit --from` and runs refer to). */
export const PIPELINE_TEMPLATE_NAME = 'sleap-roots-pipeline';
/** Name of the DAG template inside it (its entrypoint). */
export const PIPELINE_ENTRYPOINT = 'pipeline';
/** Label every object carries, naming this project (what `deploy --prune` selects on). */
export const PART_OF_LABEL = 'app.kubernetes.io/part-of';
/** Label naming the environment an object was synthesized for. */
export const ENVIRONMENT_LABEL = 'sleap-roots.io/environment';
/** Value of {@link PART_OF_LABEL}. */
export const PROJECT_NAME = 'sleap-roots-pipeline';

/** A step as an environment configures it: {@link ContainerStepProps} without the cluster, plus on/off. */
export interface StepOptions extends Partial<Omit<ContainerStepProps, 'cluster'>> {
  /** false drops the step. @default true */
  readonly enabled?: boolean;
}

/** The built-in steps, in DAG order; any other step name is a plain {@link ContainerStep}. */
const BUILT_IN_STEPS: Record<string, (scope: Construct, props: ContainerStepProps) => ContainerStep> = {
  [ModelsDownloader.STEP_NAME]: (scope, props) => new ModelsDownloader(scope, props),
  [Predictor.STEP_NAME]: (scope, props) => new Predictor(scope, props),
  [TraitExtractor.STEP_NAME]: (scope, props) => new TraitExtractor(scope, props),
};

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
  public readonly parameters: Readonly<Record<string, PipelineParameter>>;
  public readonly policy: Required<PipelinePolicy>;
  public readonly template: WorkflowTemplate;
  public readonly serviceAccount: kplus.ServiceAccount;
  public readonly role: kplus.Role;
  public readonly roleBinding: kplus.RoleBinding;
  /** The executor's token Secret, present when step pods do not automount a token. */
  public readonly executorToken?: kplus.ServiceAccountTokenSecret;

  public constructor(scope: Construct, id: string, props: SleapRootsPipelineProps) {
    super(scope, id, {
      ...props,
      namespace: props.namespace ?? props.cluster.namespace,
      labels: {
        [PART_OF_LABEL]: PROJECT_NAME,
        [ENVIRONMENT_LABEL]: props.environment,
        ...(props.version ? { 'app.kubernetes.io/version': props.version } : {}),
        ...(props.labels ?? {}),
      },
    });
    this.environment = props.environment;
    this.cluster = props.cluster;
    this.volumes = props.volumes ?? {};
    this.parameters = props.parameters ?? {};
    this.policy = {
      allowUnpinnedImages: props.policy?.allowUnpinnedImages ?? false,
      allowPrivileged: props.policy?.allowPrivileged ?? false,
      allowDirectoryOrCreate: props.policy?.allowDirectoryOrCreate ?? false,
    };

    const saName = props.cluster.serviceAccountName;
    this.serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', {
      metadata: { name: saName },
      automountToken: props.cluster.automountServiceAccountToken,
    });
    // Argo's executor reports step results through workflowtaskresults (pipeline-facts item 6).
    this.role = new kplus.Role(this, 'Role', { metadata: { name: saName } });
    this.role.allow(['create', 'patch'], kplus.ApiResource.custom({ apiGroup: 'argoproj.io', resourceType: 'workflowtaskresults' }));
    this.roleBinding = new kplus.RoleBinding(this, 'RoleBinding', { metadata: { name: saName }, role: this.role });
    this.roleBinding.addSubjects(this.serviceAccount);
    if (!props.cluster.automountServiceAccountToken) {
      // With automount off, Argo mounts the executor's token from this Secret into `wait` only.
      this.executorToken = new kplus.ServiceAccountTokenSecret(this, 'ExecutorToken', {
        metadata: { name: `${saName}.service-account-token` },
        serviceAccount: this.serviceAccount,
      });
    }

    const requested = props.steps ?? Object.fromEntries(BUILT_IN_STEP_NAMES.map((n) => [n, {}]));
    const ordered = [
      ...BUILT_IN_STEP_NAMES.filter((n) => n in requested),
      ...Object.keys(requested).filter((n) => !(n in BUILT_IN_STEPS)),
    ];
    const steps: ContainerStep[] = [];
    const disabled: string[] = [];
    for (const name of ordered) {
      const { enabled, ...options }: StepOptions = requested[name];
      if (enabled === false) {
        disabled.push(name);
        continue;
      }
      const stepProps = { ...options, cluster: props.cluster } as ContainerStepProps;
      const build = BUILT_IN_STEPS[name];
      steps.push(build ? build(this, stepProps) : new ContainerStep(this, name, stepProps));
    }
    this.steps = steps;
    this.disabledSteps = disabled;

    this.template = new WorkflowTemplate(this, 'Pipeline', {
      metadata: { name: PIPELINE_TEMPLATE_NAME },
      spec: {
        entrypoint: PIPELINE_ENTRYPOINT,
        serviceAccountName: saName,
        automountServiceAccountToken: props.cluster.automountServiceAccountToken ? undefined : false,
        executor: props.cluster.automountServiceAccountToken ? undefined : { serviceAccountName: saName },
        arguments: Object.keys(this.parameters).length > 0 ? { parameters: this.renderParameters() } : undefined,
        volumes: this.renderVolumes(),
        workflowMetadata: { labels: { [PART_OF_LABEL]: PROJECT_NAME, [ENVIRONMENT_LABEL]: props.environment } },
        activeDeadlineSeconds: props.workflow?.activeDeadlineSeconds,
        ttlStrategy: props.workflow?.ttlStrategy,
        podGc: props.workflow?.podGC
          ? { strategy: toEnum(WorkflowTemplateSpecPodGcStrategy, props.workflow.podGC.strategy), deleteDelayDuration: props.workflow.podGC.deleteDelayDuration }
          : undefined,
        parallelism: props.workflow?.parallelism,
        templates: [
          {
            name: PIPELINE_ENTRYPOINT,
            dag: {
              tasks: steps.map((s) => ({
                name: s.name,
                templateRef: s.templateRef,
                dependencies: s.dependencies.length > 0 ? [...s.dependencies] : undefined,
              })),
            },
          },
        ],
      },
    });
    // Step templates and identities before the template that refers to them.
    for (const s of steps) this.template.addDependency(s.resource);

    this.node.addValidation({ validate: () => checkPipeline(this).map(formatPolicyProblem) });
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
