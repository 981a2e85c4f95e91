/**
 * The run manifest: a Workflow created from the pipeline template. It has only `generateName`,
 * so it is for `kubectl create -f` (apply cannot create it) and lives apart from what
 * `kubectl apply -f dist/<env>/` installs.
 */
import { ApiObject, Chart, JsonPatch, type ChartProps } from 'cdk8s';
import type { Construct } from 'constructs';
import type { PipelineParameter } from '../values/shapes';
import { ENVIRONMENT_LABEL, PART_OF_LABEL, PIPELINE_TEMPLATE_NAME, PROJECT_NAME } from '../names';

/** Props of {@link SleapRootsRun}. */
export interface SleapRootsRunProps extends ChartProps {
  readonly environment: string;
  readonly namespace: string;
  /**
   * The run's `spec.arguments.parameters`: a value, or a parameter with its default, enum and
   * description (what a dispatcher that sets spec.arguments.parameters[...] edits). A listed
   * parameter replaces the template's entry of that name whole, enum included, so a declared one
   * is listed as declared (Argo workflow/util/merge.go JoinWorkflowSpec: the Workflow's
   * parameters take precedence over the WorkflowTemplate's, by name); omitted ones take the
   * template's defaults.
   * @default {}
   */
  readonly parameters?: Readonly<Record<string, string | PipelineParameter>>;
  /** @default 'sleap-roots-pipeline' */
  readonly templateName?: string;
}

/** A chart holding one Workflow that runs the pipeline template. */
export class SleapRootsRun extends Chart {
  public readonly workflow: ApiObject;

  public constructor(scope: Construct, id: string, props: SleapRootsRunProps) {
    super(scope, id, {
      ...props,
      labels: { [PART_OF_LABEL]: PROJECT_NAME, [ENVIRONMENT_LABEL]: props.environment, ...(props.labels ?? {}) },
    });
    const templateName = props.templateName ?? PIPELINE_TEMPLATE_NAME;
    const parameters = Object.entries(props.parameters ?? {}).map(([name, p]) => (typeof p === 'string'
      ? { name, value: p }
      // Argo validate.go validateArgumentsValues: a parameter with an enum needs a value in it.
      : { name, value: p.value ?? '', ...(p.description !== undefined ? { description: p.description } : {}), ...(p.enum ? { enum: [...p.enum] } : {}) }));
    this.workflow = new ApiObject(this, 'Workflow', {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Workflow',
      metadata: { generateName: `${templateName}-` },
      spec: {
        workflowTemplateRef: { name: templateName },
        ...(parameters.length > 0 ? { arguments: { parameters } } : {}),
      },
    });
    // ApiObject always names objects; a generateName-only Workflow must not have a name.
    this.workflow.addJsonPatch(JsonPatch.remove('/metadata/name'));
  }
}
