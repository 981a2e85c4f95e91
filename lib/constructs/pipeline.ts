/**
 * The SleapRootsPipeline chart: the pipeline's steps (the three built-in ones unless told
 * otherwise, and any the user adds), planned, rendered and wired into the step WorkflowTemplates,
 * the `sleap-roots-pipeline` WorkflowTemplate holding the DAG, and the identity its pods run as.
 *
 * Steps are declared first (in the constructor and by `new ContainerStep(pipeline, ...)`); the
 * first synthesis, validation or read of a wired object plans every step at once, renders and
 * wires them. Steps cannot be added after that.
 */
import { Chart, type ChartProps } from 'cdk8s';
import type { Construct } from 'constructs';
import type { WorkflowTemplate } from '../../imports/argoproj.io';
import { checkRunTime, type RunTimeView } from '../build/runtime-rules';
import type { WorkflowTemplateJson } from '../build/scale';
import { ENVIRONMENT_LABEL, PART_OF_LABEL, PROJECT_NAME, VERSION_LABEL } from '../names';
import { planPipeline } from '../plan/plan';
import { checkPipeline, formatPolicyProblem, isError, type PolicyProblem } from '../plan/policy';
import type { PipelineOptions, PipelinePlan } from '../plan/types';
import { resolveCluster, type ClusterSettings, type GpuClusterOptions, type IdentityOptions, type Scheduler, type SecurityOptions } from '../scheduling/cluster';
import { wirePipeline, type Wiring } from '../wire/wire';
import type { ContainerStep } from './container-step';
import { markStepHost, type StepHost } from './host';
import { ModelsDownloader, type ModelsDownloaderProps } from './models-downloader';
import { Predictor, type PredictorProps } from './predictor';
import { TraitExtractor, type TraitExtractorProps } from './trait-extractor';

/** Props of {@link SleapRootsPipeline}. */
export interface SleapRootsPipelineProps extends ChartProps, PipelineOptions {
  /** The namespace everything is deployed to and runs in. @default - `runai-<project>` with a Run:AI scheduler; required otherwise */
  readonly namespace?: string;
  /** The environment's name, labelling every object. @default - the construct id */
  readonly environment?: string;
  /** The pipeline's version, as the `app.kubernetes.io/version` label. @default - no label */
  readonly version?: string;
  /** @default Scheduler.kubernetes() */
  readonly scheduler?: Scheduler;
  /** How the cluster's pods get GPUs. @default - `nvidia.com/gpu`, available */
  readonly gpu?: GpuClusterOptions;
  /** Pod security defaults of every step. @default - the image's user, no token in step containers */
  readonly security?: SecurityOptions;
  /** The service account the pods run as, and whether the pipeline creates it. @default - `sleap-roots-step`, created with its Role, RoleBinding and token Secret */
  readonly identity?: IdentityOptions;
  /**
   * Service account the pods run as.
   * @deprecated use `identity.serviceAccountName` (this is read when that is not set)
   * @default 'sleap-roots-step'
   */
  readonly serviceAccountName?: string;
  /** The built-in models downloader (`models-downloader`); false leaves it out. @default - with its defaults */
  readonly modelsDownloader?: ModelsDownloaderProps | false;
  /** The built-in predictor (`predictor`), after the models downloader; false leaves it out. @default - with its defaults */
  readonly predictor?: PredictorProps | false;
  /** The built-in trait extractor (`trait-extractor`), after the predictor; false leaves it out. @default - with its defaults */
  readonly traitExtractor?: TraitExtractorProps | false;
}

/**
 * The whole pipeline in one chart. Policy problems (see plan/policy.ts and build/runtime-rules.ts)
 * are reported by `node.validate()` / `App.synth()`, all together.
 */
export class SleapRootsPipeline extends Chart implements StepHost<ContainerStep> {
  /** The environment's name (the `sleap-roots.io/environment` label). */
  public readonly environment: string;
  /** The cluster's settings, every default applied. */
  public readonly cluster: ClusterSettings;
  /** The built-in steps, when present. */
  public readonly modelsDownloader?: ModelsDownloader;
  public readonly predictor?: Predictor;
  public readonly traitExtractor?: TraitExtractor;
  private readonly options: PipelineOptions;
  private readonly version?: string;
  private readonly declared: ContainerStep[] = [];
  private wiring?: { readonly plan: PipelinePlan; readonly objects: Wiring };
  private checked?: readonly PolicyProblem[];
  private allChecked?: readonly PolicyProblem[];
  private planned?: PipelinePlan;

  public constructor(scope: Construct, id: string, props: SleapRootsPipelineProps = {}) {
    const environment = props.environment ?? id;
    const project = props.scheduler?.name === 'runai-scheduler' ? props.scheduler.project : undefined;
    const namespace = props.namespace ?? (project ? `runai-${project}` : undefined);
    if (!namespace) throw new Error(`SleapRootsPipeline ${id}: set namespace (only a Run:AI scheduler implies one, runai-<project>)`);
    super(scope, id, {
      ...props,
      namespace,
      labels: {
        [PART_OF_LABEL]: PROJECT_NAME,
        [ENVIRONMENT_LABEL]: environment,
        ...(props.version ? { [VERSION_LABEL]: props.version } : {}),
        ...(props.labels ?? {}),
      },
    });
    markStepHost<ContainerStep>(this);
    this.environment = environment;
    this.version = props.version;
    this.options = props;
    this.cluster = resolveCluster({ namespace, scheduler: props.scheduler, gpu: props.gpu, security: props.security, identity: { ...props.identity, serviceAccountName: props.identity?.serviceAccountName ?? props.serviceAccountName } });
    const md = props.modelsDownloader === false ? undefined : new ModelsDownloader(this, ModelsDownloader.STEP_NAME, props.modelsDownloader);
    const p = props.predictor === false ? undefined : new Predictor(this, Predictor.STEP_NAME, { ...props.predictor, dependencies: props.predictor?.dependencies ?? (md ? [md] : []) });
    const t = props.traitExtractor === false ? undefined : new TraitExtractor(this, TraitExtractor.STEP_NAME, { ...props.traitExtractor, dependencies: props.traitExtractor?.dependencies ?? (p ? [p] : []) });
    this.modelsDownloader = md;
    this.predictor = p;
    this.traitExtractor = t;
    this.node.addValidation({ validate: () => this.problems().map(formatPolicyProblem) });
  }

  /** The pipeline's steps, in the order they were added (DAG order in the template). */
  public get steps(): readonly ContainerStep[] {
    return [...this.declared];
  }

  /** @internal Steps register here when created inside the pipeline. */
  public addStep(step: ContainerStep): void {
    if (this.planned) throw new Error(`step "${step.name}" was added to pipeline ${this.node.id} after the pipeline was synthesized; add every step first`);
    this.declared.push(step);
  }

  /** The plan: every decision the manifests are rendered from (pure data). */
  public get plan(): PipelinePlan {
    return this.planOnce();
  }

  /** The pipeline WorkflowTemplate (escape hatch). */
  public get template(): WorkflowTemplate {
    return this.wire().objects.template;
  }

  /** The wired objects: identity, semaphores, every step template. */
  public get objects(): Wiring {
    return this.wire().objects;
  }

  /** Policy warnings: reported, but the pipeline synthesizes (see {@link problems}). */
  public warnings(): PolicyProblem[] {
    this.problems();
    return this.allChecked!.filter((p) => !isError(p));
  }

  /**
   * Every policy problem (warnings aside): the plan's (plan/policy.ts) and the rendered templates' run-time rules.
   * Worked out once (cdk8s validates the whole app at every chart's synthesis).
   */
  public problems(): PolicyProblem[] {
    if (!this.checked) {
      const plan = this.planOnce();
      const all = checkPipeline({ ...plan, labels: this.labels });
      const policy = all.filter(isError);
      let runTime: PolicyProblem[] = [];
      try {
        runTime = checkRunTime(runTimeView(plan, this.wire().objects));
      } catch (e) {
        // A plan policy refuses may not render (a path the wrapper cannot list): its problems say why.
        if (policy.length === 0) throw e;
      }
      this.allChecked = [...all, ...runTime];
      this.checked = this.allChecked.filter(isError);
    }
    return [...this.checked];
  }

  public override toJson(): unknown[] {
    this.wire();
    return super.toJson();
  }

  /** Plans, renders and wires every step, once. */
  public wire(): { readonly plan: PipelinePlan; readonly objects: Wiring } {
    if (!this.wiring) {
      const plan = this.planOnce();
      const byName = new Map(this.declared.map((s) => [s.name, s]));
      const objects = wirePipeline(this, plan, (name) => byName.get(name), { environment: this.environment, version: this.version });
      for (const { rendered, resource } of objects.steps) byName.get(rendered.plan.name)?._wire({ templateName: rendered.templateName, resource });
      this.wiring = { plan, objects };
    }
    return this.wiring;
  }

  private planOnce(): PipelinePlan {
    this.planned ??= planPipeline({ ...this.options, cluster: this.cluster, steps: this.declared.map((s) => s.toSpec()) });
    return this.planned;
  }
}

/** What the run-time rules read: the rendered templates and the batch settings. */
function runTimeView(plan: PipelinePlan, objects: Wiring): RunTimeView {
  return {
    pipeline: objects.template.toJson() as WorkflowTemplateJson,
    steps: objects.steps.map((s) => s.resource.toJson() as WorkflowTemplateJson),
    userSteps: plan.steps.map((s) => s.name),
    maxScans: plan.lister?.maxScans,
    preemptiveScheduler: plan.cluster.scheduler !== 'default-scheduler',
    nonPreemptibleClass: plan.cluster.priorityClasses?.nonPreemptible,
    partialExitCodes: Object.fromEntries(plan.steps.map((s) => [s.name, s.partialExitCodes])),
  };
}
