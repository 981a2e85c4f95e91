/**
 * The generic pipeline step: one container run as a task of the pipeline's DAG, in its own
 * WorkflowTemplate. ModelsDownloader, Predictor and TraitExtractor are this construct with the
 * seed's defaults; a pipeline adds further steps with it as they are.
 *
 * A step only declares: the pipeline plans every step together when it is synthesized (resume
 * markers, fan-out and the gate depend on the other steps), then renders and wires them.
 */
import { Construct } from 'constructs';
import type { WorkflowTemplate } from '../../imports/argoproj.io';
import type { StepSettings, StepSpec } from '../plan/types';
import { findStepHost } from './host';

/** Props of {@link ContainerStep}. */
export interface ContainerStepProps extends StepSettings {
  /** Container image; pin a tag or digest (an unpinned one is a policy error unless the pipeline allows it). */
  readonly image: string;
  /** Steps this one runs after (their WorkflowTemplates are applied first, too). @default [] */
  readonly dependencies?: readonly ContainerStep[];
}

/** What the pipeline attaches to a step when it wires it. */
export interface WiredStep {
  readonly templateName: string;
  readonly resource: WorkflowTemplate;
}

/**
 * One container step of a {@link SleapRootsPipeline}: create it inside the pipeline (or inside a
 * construct inside it). The construct id is the step's name: the DAG task, and the template in
 * the WorkflowTemplate `sleap-roots-<id>`.
 */
export class ContainerStep extends Construct {
  /** The step's name: its DAG task and template. */
  public readonly name: string;
  /** The settings as declared, defaults of the step's kind applied. */
  public readonly settings: StepSettings;
  private readonly upstream: ContainerStep[];
  private wired?: WiredStep;

  public constructor(scope: Construct, id: string, props: ContainerStepProps) {
    // constructs keeps children in a plain object and looks ids up with `obj[id]`, so an id that
    // is a property of Object.prototype (a step named `constructor`) would collide with it: such a
    // step gets another construct id (not a DNS label, so no step can have it); its name is kept.
    super(scope, Object.hasOwn(Object.prototype, id) ? `${id}.step` : id);
    this.name = id;
    const { dependencies, ...settings } = props;
    this.settings = settings;
    this.upstream = [];
    const host = findStepHost<ContainerStep>(this);
    if (!host) throw new Error(`step "${id}" (${this.node.path}) must be created inside a SleapRootsPipeline`);
    host.addStep(this);
    this.after(...(dependencies ?? []));
  }

  /** Makes this step run after `steps` (in addition to its dependencies so far). */
  public after(...steps: ContainerStep[]): this {
    for (const s of steps) {
      if (s === this) throw new Error(`step "${this.name}" cannot run after itself`);
      if (!this.upstream.includes(s)) this.upstream.push(s);
    }
    return this;
  }

  /** The steps this one runs after. */
  public get dependencies(): readonly ContainerStep[] {
    return [...this.upstream];
  }

  /** What the planner reads. */
  public toSpec(): StepSpec {
    return { ...this.settings, name: this.name, dependencies: this.upstream.map((s) => s.name) };
  }

  /**
   * The step's WorkflowTemplate (escape hatch, e.g. for `addJsonPatch`). Reading it synthesizes
   * the pipeline's plan: add every step first.
   */
  public get resource(): WorkflowTemplate {
    return this.wiring().resource;
  }

  /** The WorkflowTemplate's name (with the content hash when the pipeline versions templates). */
  public get templateName(): string {
    return this.wiring().templateName;
  }

  /** @internal Called by the pipeline when it wires this step. */
  public _wire(w: WiredStep): void {
    this.wired = w;
  }

  private wiring(): WiredStep {
    if (!this.wired) findStepHost<ContainerStep>(this)!.wire();
    return this.wired!;
  }
}

/**
 * Merges props over defaults, ignoring props that are `undefined` (so an absent field never
 * erases a default).
 */
export function withDefaults<T extends object>(defaults: Partial<T>, props: Partial<T>): T {
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(props)) if (v !== undefined) out[k] = v;
  return out as T;
}
