/**
 * Wiring: the cdk8s objects of a planned and rendered pipeline, in its chart. The identity the
 * step pods run as, the semaphore ConfigMap, one WorkflowTemplate per step and the pipeline
 * WorkflowTemplate, with the dependencies that order them when applied.
 */
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { WorkflowTemplate } from '../../imports/argoproj.io';
import { renderPipelineSpec, type WorkflowLabels } from '../build/pipeline-template';
import { renderStep, type RenderedStep } from '../build/step-template';
import { PIPELINE_TEMPLATE_NAME } from '../names';
import { allSteps, type PipelinePlan } from '../plan/types';
import type { ClusterSettings } from '../scheduling/cluster';

/** Annotations telling Argo CD and Flux not to prune an object that left the repository. */
export const GITOPS_KEEP_ANNOTATIONS: Readonly<Record<string, string>> = {
  'argocd.argoproj.io/sync-options': 'Prune=false',
  'kustomize.toolkit.fluxcd.io/prune': 'disabled',
};

/** The identity the step pods run as, when the pipeline creates it (`identity.create`, the default). */
export interface Identity {
  readonly serviceAccount?: kplus.ServiceAccount;
  readonly role?: kplus.Role;
  readonly roleBinding?: kplus.RoleBinding;
  /** The executor's token Secret, present when step pods do not automount a token. */
  readonly executorToken?: kplus.ServiceAccountTokenSecret;
}

/** Everything wired for a pipeline. */
export interface Wiring extends Identity {
  /** The pipeline WorkflowTemplate (the DAG). */
  readonly template: WorkflowTemplate;
  /** The semaphore ConfigMap, when the pipeline has semaphores. */
  readonly semaphores?: kplus.ConfigMap;
  /** Each step's rendering and WorkflowTemplate, the lister first and the gate last. */
  readonly steps: readonly { readonly rendered: RenderedStep; readonly resource: WorkflowTemplate }[];
}

/**
 * Adds a pipeline's objects to `chart`.
 * @param scopeOf the construct a step's WorkflowTemplate goes in (the step's own, for the pipeline's steps)
 */
export function wirePipeline(chart: Construct, plan: PipelinePlan, scopeOf: (step: string) => Construct | undefined, labels: WorkflowLabels): Wiring {
  const identity = addIdentity(chart, plan.cluster);
  const c = plan.concurrency;
  // Applied before the templates (file order), so gated nodes never miss it (pipeline-facts item 13).
  const semaphores = c
    ? new kplus.ConfigMap(chart, 'Semaphores', {
      metadata: { name: c.configMapName },
      data: Object.fromEntries(Object.entries(c.semaphores).map(([k, v]) => [k, String(v)])),
    })
    : undefined;
  const steps = allSteps(plan).map((s) => {
    const rendered = renderStep(s, plan.cluster);
    const resource = new WorkflowTemplate(scopeOf(s.name) ?? chart, scopeOf(s.name) ? 'Resource' : `${s.role}-template`, {
      // A versioned template may be resolved by a running workflow after dist/ dropped it: GitOps
      // tools must not prune it (`sleap-roots deploy --prune` removes it once unused).
      metadata: { name: rendered.templateName, annotations: orUndefined({ ...s.templateAnnotations, ...(s.versioned ? GITOPS_KEEP_ANNOTATIONS : {}) }) },
      spec: { templates: [rendered.template] },
    });
    return { rendered, resource };
  });
  const gate = plan.gate ? steps[steps.length - 1].rendered : undefined;
  const dag = steps.map((s) => s.rendered).filter((r) => r !== gate);
  const template = new WorkflowTemplate(chart, 'Pipeline', {
    metadata: { name: PIPELINE_TEMPLATE_NAME, annotations: orUndefined({ ...plan.templateAnnotations }) },
    spec: renderPipelineSpec(plan, dag, gate, labels),
  });
  // Step templates and identities before the template that refers to them.
  for (const s of steps) template.addDependency(s.resource);
  if (semaphores) for (const s of steps) s.resource.addDependency(semaphores);
  return { ...identity, template, semaphores, steps };
}

/**
 * The identity the step pods run as: a ServiceAccount, a Role with exactly create/patch on
 * workflowtaskresults (Argo's executor reports results through them, pipeline-facts item 6),
 * its RoleBinding, and with automount off the token Secret Argo mounts into `wait` only; nothing
 * when the account is an existing one.
 */
function addIdentity(chart: Construct, cluster: ClusterSettings): Identity {
  // An existing account (identity.create: false): the admin grants EXISTING_IDENTITY_GRANTS.
  if (!cluster.createIdentity) return {};
  const name = cluster.serviceAccountName;
  const serviceAccount = new kplus.ServiceAccount(chart, 'ServiceAccount', { metadata: { name }, automountToken: cluster.automountServiceAccountToken });
  const role = new kplus.Role(chart, 'Role', { metadata: { name } });
  role.allow(['create', 'patch'], kplus.ApiResource.custom({ apiGroup: 'argoproj.io', resourceType: 'workflowtaskresults' }));
  const roleBinding = new kplus.RoleBinding(chart, 'RoleBinding', { metadata: { name }, role });
  roleBinding.addSubjects(serviceAccount);
  const executorToken = cluster.automountServiceAccountToken
    ? undefined
    : new kplus.ServiceAccountTokenSecret(chart, 'ExecutorToken', { metadata: { name: `${name}.service-account-token` }, serviceAccount });
  return { serviceAccount, role, roleBinding, executorToken };
}

function orUndefined(o: Record<string, string>): Record<string, string> | undefined {
  return Object.keys(o).length > 0 ? o : undefined;
}
