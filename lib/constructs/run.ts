/**
 * The run manifest: a Workflow created from the pipeline template. It has only `generateName`,
 * so it is for `kubectl create -f` (apply cannot create it) and lives apart from what
 * `kubectl apply -f dist/<env>/` installs.
 */
import { ApiObject, Chart, JsonPatch, type ChartProps } from 'cdk8s';
import type { Construct } from 'constructs';
import { ENVIRONMENT_LABEL, PART_OF_LABEL, PIPELINE_TEMPLATE_NAME, PROJECT_NAME } from '../names';

/** Props of {@link SleapRootsRun}. */
export interface SleapRootsRunProps extends ChartProps {
  readonly environment: string;
  readonly namespace: string;
  /** Parameter values for this run; omitted ones take the template's defaults. @default {} */
  readonly parameters?: Readonly<Record<string, string>>;
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
    const parameters = Object.entries(props.parameters ?? {}).map(([name, value]) => ({ name, value }));
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
