/**
 * Names and labels that the synthesized manifests and the command line share. This module loads
 * nothing (no cdk8s), so the CLI can use it without paying for the constructs.
 */

/** Label every object carries, naming this project (what `deploy --prune` and `list` select on). */
export const PART_OF_LABEL = 'app.kubernetes.io/part-of';
/** Value of {@link PART_OF_LABEL}. */
export const PROJECT_NAME = 'sleap-roots-pipeline';
/** Label naming the environment an object was synthesized for. */
export const ENVIRONMENT_LABEL = 'sleap-roots.io/environment';
/** Label with the pipeline's version (objects and workflows). */
export const VERSION_LABEL = 'app.kubernetes.io/version';
/** Name of the WorkflowTemplate holding the DAG (what `argo submit --from` and runs refer to). */
export const PIPELINE_TEMPLATE_NAME = 'sleap-roots-pipeline';
/** Subfolder of dist/<env>/ holding manifests for `kubectl create` (not `apply`). */
export const RUN_FOLDER = 'run';
/**
 * The kustomization file that makes dist/<env>/ a kustomize root for Argo CD and Flux. Named
 * without an extension so that `kubectl apply -f dist/<env>/` skips it (lib/synth.ts,
 * `kustomizationFile`, cites the sources).
 */
export const KUSTOMIZATION_FILE = 'Kustomization';
/** Every name kustomize takes for a kustomization file (kustomize api/konfig `RecognizedKustomizationFileNames`). */
export const KUSTOMIZATION_FILE_NAMES: readonly string[] = ['kustomization.yaml', 'kustomization.yml', KUSTOMIZATION_FILE];
/** Output parameter of the gate (the workflow's exit handler) holding its summary of the batch. */
export const OUTCOME_OUTPUT = 'outcome';
/** Workflow parameter that makes every step run again despite success markers (resume). */
export const FORCE_RERUN_PARAMETER = 'force-rerun';

/**
 * Apply order by kind: identities and config before the templates that use them (semaphore
 * ConfigMaps must exist before a gated node runs). WorkflowTemplates come last; among them the
 * pipeline template follows the step templates it calls.
 */
export const KIND_ORDER: Readonly<Record<string, number>> = {
  Namespace: 0,
  ServiceAccount: 10,
  Secret: 15,
  Role: 20,
  RoleBinding: 30,
  ConfigMap: 40,
  WorkflowTemplate: 50,
};
/** Prefix of every step WorkflowTemplate's name. */
export const STEP_TEMPLATE_PREFIX = 'sleap-roots-';
/** Name of the DAG template inside the pipeline template (its entrypoint). */
export const PIPELINE_ENTRYPOINT = 'pipeline';
/** The scan lister's step name (it cuts a batch into chunks). */
export const LISTER_STEP = 'list-image-sets';
/** The gate's step name (the exit handler that judges the batch). */
export const GATE_STEP = 'gate';
/** A DNS-1123 label: lowercase alphanumerics and '-', starting and ending alphanumeric (at most 63: checked apart). */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
