/**
 * Rendering the pipeline: the `sleap-roots-pipeline` WorkflowTemplate's spec (the DAG, its
 * parameters, volumes and workflow-level settings) from the plan and the rendered steps.
 */
import {
  WorkflowTemplateSpecPodGcStrategy,
  type WorkflowTemplateSpec,
  type WorkflowTemplateSpecArgumentsParameters,
  type WorkflowTemplateSpecVolumes,
} from '../../imports/argoproj.io';
import { ENVIRONMENT_LABEL, PART_OF_LABEL, PIPELINE_ENTRYPOINT, PROJECT_NAME, VERSION_LABEL } from '../names';
import type { PipelinePlan } from '../plan/types';
import { toEnum } from '../values/enum';
import { renderTask, type RenderedStep } from './step-template';

/** Labels of the workflows the template creates. */
export interface WorkflowLabels {
  readonly environment: string;
  readonly version?: string;
}

/**
 * The pipeline template's spec.
 * @param dagSteps the lister and the steps, rendered, in DAG order
 * @param gate the gate, rendered, when there is one
 */
export function renderPipelineSpec(plan: PipelinePlan, dagSteps: readonly RenderedStep[], gate: RenderedStep | undefined, labels: WorkflowLabels): WorkflowTemplateSpec {
  const cluster = plan.cluster;
  const sa = cluster.serviceAccountName;
  const w = plan.workflow;
  return {
    entrypoint: PIPELINE_ENTRYPOINT,
    serviceAccountName: sa,
    automountServiceAccountToken: cluster.automountServiceAccountToken ? undefined : false,
    executor: cluster.automountServiceAccountToken ? undefined : { serviceAccountName: sa },
    arguments: Object.keys(plan.parameters).length > 0 ? { parameters: renderParameters(plan) } : undefined,
    volumes: renderVolumes(plan),
    workflowMetadata: {
      labels: {
        [PART_OF_LABEL]: PROJECT_NAME,
        [ENVIRONMENT_LABEL]: labels.environment,
        ...(labels.version ? { [VERSION_LABEL]: labels.version } : {}),
      },
    },
    // Bounds everything, requeue loops and pods that never get a node included (operator.go
    // failNodesWithoutCreatedPodsAfterDeadlineOrShutdown); the exit handler still runs after
    // it (workflowpod.go getDeadline skips onExit pods).
    activeDeadlineSeconds: plan.activeDeadlineSeconds,
    // The gate runs after every other node whatever their phase; when the DAG succeeded, its
    // failure fails the workflow with its message (operator.go operate, onExitNode).
    hooks: gate ? { exit: { templateRef: { name: gate.templateName, template: gate.plan.name } } } : undefined,
    ttlStrategy: w.ttlStrategy,
    podGc: w.podGC ? { strategy: toEnum(WorkflowTemplateSpecPodGcStrategy, w.podGC.strategy), deleteDelayDuration: w.podGC.deleteDelayDuration } : undefined,
    parallelism: w.parallelism,
    templates: [
      {
        name: PIPELINE_ENTRYPOINT,
        parallelism: plan.fanOut?.parallelism,
        dag: { tasks: dagSteps.map((s) => renderTask(s, plan)) },
      },
    ],
  };
}

function renderParameters(plan: PipelinePlan): WorkflowTemplateSpecArgumentsParameters[] {
  return Object.entries(plan.parameters).map(([name, p]) => ({
    name,
    value: p.value ?? '',
    description: p.description,
    enum: p.enum ? [...p.enum] : undefined,
  }));
}

function renderVolumes(plan: PipelinePlan): WorkflowTemplateSpecVolumes[] | undefined {
  const entries = Object.entries(plan.volumes);
  if (entries.length === 0) return undefined;
  return entries.map(([name, v]) =>
    'hostPath' in v
      ? { name, hostPath: { path: v.hostPath, type: v.type ?? 'Directory' } }
      : { name, persistentVolumeClaim: { claimName: v.persistentVolumeClaim, readOnly: v.readOnly } },
  );
}
