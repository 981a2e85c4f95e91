/** Label and annotation keys the CLI reads and writes (the project's own come from lib/names.ts). */
import { ENVIRONMENT_LABEL, PART_OF_LABEL, PROJECT_NAME } from '../names';

export { ENVIRONMENT_LABEL, PART_OF_LABEL, PIPELINE_TEMPLATE_NAME, PROJECT_NAME } from '../names';

/** Who submitted a workflow (label: sanitized; annotation: in full). */
export const SUBMITTED_BY = 'sleap-roots.io/submitted-by';
/** What submitted it (label `sleap-roots-cli`; annotation with version). */
export const SUBMITTED_WITH = 'sleap-roots.io/submitted-with';
/** Random id of one submission: makes a retried create recognisable as our own. */
export const SUBMISSION_ID = 'sleap-roots.io/submission-id';
/** The workflow a resubmission repeats. */
export const RESUBMITTED_FROM = 'sleap-roots.io/resubmitted-from';

/** Argo: the workflow a pod belongs to. */
export const ARGO_WORKFLOW_LABEL = 'workflows.argoproj.io/workflow';
/** Argo: the node a pod runs (its full node name, e.g. `wf.predictor(1)`). */
export const ARGO_NODE_NAME_ANNOTATION = 'workflows.argoproj.io/node-name';
/** Argo: the node id a pod runs (newer versions). */
export const ARGO_NODE_ID_ANNOTATION = 'workflows.argoproj.io/node-id';
/** Argo: `true` once a workflow finished. */
export const ARGO_COMPLETED_LABEL = 'workflows.argoproj.io/completed';

/** The label selector of everything this project deployed for one environment. */
export function ownedSelector(environment?: string): string {
  return environment ? `${PART_OF_LABEL}=${PROJECT_NAME},${ENVIRONMENT_LABEL}=${environment}` : `${PART_OF_LABEL}=${PROJECT_NAME}`;
}

/** Makes any text a valid label value (63 characters of [A-Za-z0-9._-], alphanumeric at both ends). */
export function toLabelValue(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 63).replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '');
}
