/**
 * `submit` and `resubmit`: create a Workflow that runs the pipeline WorkflowTemplate, labelled
 * with who and what submitted it.
 *
 * The name is chosen here (`sleap-roots-pipeline-xxxxx`, as generateName would) together with a
 * random submission id, so that a create retried after a connection reset cannot start the
 * pipeline twice: an AlreadyExists answer that carries our submission id is our own first try.
 */
import { ApiError, UserError, isStatus } from './errors';
import type { KubeClient } from './http';
import { FORCE_RERUN_PARAMETER } from '../names';
import {
  ENVIRONMENT_LABEL,
  PART_OF_LABEL,
  PIPELINE_TEMPLATE_NAME,
  PROJECT_NAME,
  RESUBMITTED_FROM,
  SUBMISSION_ID,
  SUBMITTED_BY,
  SUBMITTED_WITH,
  toLabelValue,
} from './labels';
import { FIELD_VALIDATION } from './apply';
import { KINDS, resourcePath, type KubeObject } from './resources';
import type { Parameter, Workflow } from './workflow';

/** Who and what submits. */
export interface Submitter {
  /** The Kubernetes user name (SelfSubjectReview), when known. */
  readonly kubernetesUser?: string;
  /** The local account and host, e.g. `alice@lab-pc`. */
  readonly localUser?: string;
  /** The tool, e.g. `sleap-roots-cli 0.1.0`. */
  readonly tool: string;
}

/** Options of {@link submit}. */
export interface SubmitOptions {
  readonly namespace: string;
  /** The environment label of the new workflow. @default - the base manifest's label */
  readonly environment?: string;
  /**
   * The Workflow to create (dist/<env>/run/sleap-roots-pipeline.yaml); its name is replaced.
   * @default - a Workflow referring to `template`
   */
  readonly base?: KubeObject;
  /** @default 'sleap-roots-pipeline' */
  readonly template?: string;
  /** Parameter values; others keep the template's defaults. @default {} */
  readonly parameters?: Readonly<Record<string, string>>;
  readonly submitter: Submitter;
  /** Extra labels (e.g. resubmitted-from). @default {} */
  readonly labels?: Readonly<Record<string, string>>;
  /** Checks the parameters against the deployed template first. @default true */
  readonly checkTemplate?: boolean;
  /** `dryRun=All`. @default false */
  readonly dryRun?: boolean;
  /** @default Math.random */
  readonly random?: () => number;
  readonly signal?: AbortSignal;
}

/** Characters Kubernetes uses for generateName suffixes (no vowels, no look-alikes). */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** A workflow name like generateName would give: `<prefix><5 characters>`. */
export function generateName(prefix: string, random: () => number = Math.random): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += SUFFIX_ALPHABET[Math.floor(random() * SUFFIX_ALPHABET.length)];
  return `${prefix.slice(0, 58)}${s}`;
}

/** Parses `key=value` arguments of `-p`. @throws UserError naming the bad argument */
export function parseParameters(args: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of args) {
    const i = a.indexOf('=');
    if (i <= 0) throw new UserError(`-p ${JSON.stringify(a)}: expected key=value`);
    out[a.slice(0, i)] = a.slice(i + 1);
  }
  return out;
}

/**
 * The calls submit and resubmit make, for doctor (lib/cluster/access.ts). The SelfSubjectReview of
 * {@link whoAmI} is not among them: every authenticated user may create it (system:basic-user),
 * and submit goes on without it.
 */
export const SUBMIT_CALLS = [
  { kind: 'WorkflowTemplate', verb: 'get', by: 'submit.ts templateParameters (parameter names checked against it)' },
  { kind: 'Workflow', verb: 'create', by: 'submit.ts submit' },
  { kind: 'Workflow', verb: 'get', by: 'submit.ts submit (after a 409 on a retried create), resubmit' },
] as const;

/** The Kubernetes user the credentials belong to (SelfSubjectReview), or undefined when the API cannot say. */
export async function whoAmI(client: KubeClient, signal?: AbortSignal): Promise<string | undefined> {
  for (const version of ['v1', 'v1beta1']) {
    try {
      const review = await client.json<{ status?: { userInfo?: { username?: string } } }>({
        method: 'POST',
        path: `/apis/authentication.k8s.io/${version}/selfsubjectreviews`,
        body: { apiVersion: `authentication.k8s.io/${version}`, kind: 'SelfSubjectReview' },
        maxAttempts: 2,
        signal,
      });
      return review?.status?.userInfo?.username || undefined;
    } catch (e) {
      signal?.throwIfAborted();
      if (isStatus(e, 404)) continue;
      return undefined;
    }
  }
  return undefined;
}

interface TemplateParameter {
  readonly name: string;
  readonly value?: string;
  readonly enum?: readonly string[];
  readonly description?: string;
}

/** Reads the pipeline template's parameters; undefined when it cannot be read (forbidden). @throws UserError when it is not deployed */
async function templateParameters(client: KubeClient, namespace: string, template: string, signal?: AbortSignal): Promise<TemplateParameter[] | undefined> {
  try {
    const wt = await client.json<{ spec?: { arguments?: { parameters?: TemplateParameter[] } } }>({ path: resourcePath(KINDS.WorkflowTemplate, namespace, template), signal });
    return wt?.spec?.arguments?.parameters ?? [];
  } catch (e) {
    if (isStatus(e, 404)) {
      throw new UserError(`WorkflowTemplate "${template}" is not in namespace "${namespace}"`, 'deploy it first: npx sleap-roots deploy --env <env>');
    }
    if (isStatus(e, 403)) return undefined;
    throw e;
  }
}

/** Checks parameter names (and enum values) against the template's. @throws UserError */
export function checkParameters(given: Readonly<Record<string, string>>, declared: readonly TemplateParameter[], template: string): void {
  const known = new Map(declared.map((p) => [p.name, p]));
  const describe = () =>
    declared.length === 0 ? `"${template}" takes no parameters` : `parameters of "${template}": ${declared.map((p) => `${p.name}${p.value !== undefined ? ` (default ${JSON.stringify(p.value)})` : ''}`).join(', ')}`;
  for (const [name, value] of Object.entries(given)) {
    const p = known.get(name);
    if (!p) throw new UserError(`unknown parameter "${name}"`, describe());
    if (p.enum && p.enum.length > 0 && !p.enum.includes(value)) {
      throw new UserError(`parameter "${name}" is ${JSON.stringify(value)}; expected one of ${p.enum.map((v) => JSON.stringify(v)).join(', ')}`);
    }
  }
}

/** Creates the workflow. @throws UserError | ApiError */
export async function submit(client: KubeClient, options: SubmitOptions): Promise<Workflow> {
  const template = options.template ?? (options.base as Workflow | undefined)?.spec?.workflowTemplateRef?.name ?? PIPELINE_TEMPLATE_NAME;
  const parameters = options.parameters ?? {};
  if (options.checkTemplate ?? true) {
    const declared = await templateParameters(client, options.namespace, template, options.signal);
    if (declared) checkParameters(parameters, declared, template);
  }
  const base: Workflow = options.base
    ? (structuredClone(options.base) as Workflow)
    : { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: {}, spec: { workflowTemplateRef: { name: template } } };
  const spec = { ...(base.spec ?? {}) };
  const merged = mergeParameters(spec.arguments?.parameters ?? [], parameters);
  if (merged.length > 0) spec.arguments = { ...(spec.arguments ?? {}), parameters: merged };
  const random = options.random ?? Math.random;
  const submissionId = generateName('', random) + generateName('', random);
  const who = options.submitter.kubernetesUser ?? options.submitter.localUser ?? 'unknown';
  const labels: Record<string, string> = {
    ...(base.metadata.labels ?? {}),
    [PART_OF_LABEL]: PROJECT_NAME,
    ...(options.environment ? { [ENVIRONMENT_LABEL]: options.environment } : {}),
    [SUBMITTED_BY]: toLabelValue(who) || 'unknown',
    [SUBMITTED_WITH]: 'sleap-roots-cli',
    ...(options.labels ?? {}),
  };
  const annotations: Record<string, string> = {
    ...(base.metadata.annotations ?? {}),
    [SUBMITTED_BY]: [options.submitter.kubernetesUser, options.submitter.localUser && `local ${options.submitter.localUser}`].filter(Boolean).join('; ') || 'unknown',
    [SUBMITTED_WITH]: options.submitter.tool,
    [SUBMISSION_ID]: submissionId,
  };
  const prefix = base.metadata.generateName ?? `${template}-`;
  for (let attempt = 0; attempt < 3; attempt++) {
    const name = generateName(prefix, random);
    const wf: Workflow = {
      ...base,
      metadata: { name, namespace: options.namespace, labels, annotations },
      spec,
    };
    try {
      return await client.json<Workflow>({
        method: 'POST',
        path: resourcePath(KINDS.Workflow, options.namespace),
        // Strict, as kubectl create does by default (and deploy): a Workflow field the cluster's CRD
        // does not know is refused instead of silently dropped.
        query: { dryRun: options.dryRun ? 'All' : undefined, fieldValidation: FIELD_VALIDATION },
        body: wf,
        signal: options.signal,
      });
    } catch (e) {
      if (!(e instanceof ApiError) || e.statusCode !== 409) throw e;
      // Our own earlier try (its answer was lost), or a name taken by someone else.
      const existing = await client.json<Workflow>({ path: resourcePath(KINDS.Workflow, options.namespace, name), signal: options.signal }).catch(() => undefined);
      if (existing?.metadata.annotations?.[SUBMISSION_ID] === submissionId) return existing;
    }
  }
  throw new UserError(`could not find a free workflow name with prefix "${prefix}" after 3 tries`);
}

function mergeParameters(base: readonly Parameter[], given: Readonly<Record<string, string>>): Parameter[] {
  const out = base.map((p) => (p.name in given ? { name: p.name, value: given[p.name] } : { ...p }));
  for (const [name, value] of Object.entries(given)) if (!base.some((p) => p.name === name)) out.push({ name, value });
  return out;
}

/** Labels and annotations that belong to one run, not to its repetition. */
const RUN_SPECIFIC = /^(workflows\.argoproj\.io\/|sleap-roots\.io\/(submitted-by|submitted-with|submission-id|resubmitted-from))/;

/** Options of {@link resubmit}. */
export interface ResubmitOptions extends Omit<SubmitOptions, 'base' | 'template' | 'environment' | 'checkTemplate' | 'labels'> {
  /** The workflow to repeat. */
  readonly name: string;
  /**
   * Run every step again despite success markers (`force-rerun=true`). Without it a repetition
   * reuses finished work: a `force-rerun=true` of the earlier run is not carried over.
   * @default false
   */
  readonly forceRerun?: boolean;
}

/** Creates a new workflow with the template, spec and parameters of an earlier one. @throws UserError | ApiError */
export async function resubmit(client: KubeClient, options: ResubmitOptions): Promise<Workflow> {
  let old: Workflow;
  try {
    old = await client.json<Workflow>({ path: resourcePath(KINDS.Workflow, options.namespace, options.name), signal: options.signal });
  } catch (e) {
    if (isStatus(e, 404)) throw new UserError(`workflow "${options.name}" is not in namespace "${options.namespace}"`, 'list recent ones: npx sleap-roots list');
    throw e;
  }
  const spec = structuredClone(old.spec ?? {});
  delete spec.shutdown;
  delete spec.suspend;
  const parameters = { ...(options.parameters ?? {}) };
  const hadForce = (spec.arguments?.parameters ?? []).some((p) => p.name === FORCE_RERUN_PARAMETER);
  if (!(FORCE_RERUN_PARAMETER in parameters) && (options.forceRerun || hadForce)) {
    parameters[FORCE_RERUN_PARAMETER] = options.forceRerun ? 'true' : 'false';
  }
  const keep = (m: Record<string, string> | undefined) => Object.fromEntries(Object.entries(m ?? {}).filter(([k]) => !RUN_SPECIFIC.test(k)));
  const base: Workflow = {
    apiVersion: old.apiVersion,
    kind: old.kind,
    metadata: {
      generateName: `${spec.workflowTemplateRef?.name ?? old.metadata.generateName?.replace(/-$/, '') ?? 'workflow'}-`,
      labels: keep(old.metadata.labels),
      annotations: keep(old.metadata.annotations),
    },
    spec,
  };
  return submit(client, {
    ...options,
    parameters,
    base,
    environment: old.metadata.labels?.[ENVIRONMENT_LABEL],
    checkTemplate: !!spec.workflowTemplateRef && Object.keys(options.parameters ?? {}).length + (options.forceRerun ? 1 : 0) > 0,
    labels: { [RESUBMITTED_FROM]: toLabelValue(options.name) },
  });
}
