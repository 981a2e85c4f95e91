/**
 * Synth-time rules about what the synthesized templates do on a real Argo v4.1 controller: the
 * outcome a batch reports, what stops it, and what Argo can hold. They read the rendered
 * templates (not the constructs), so no change to how the templates are built can bring these
 * mistakes back unnoticed; each problem names the environment-file field to change.
 */
import { GATE_STEP, LISTER_STEP } from '../names';
import type { PolicyProblem } from '../plan/policy';
import { ARGO_LIMITS, dagTasks, envOf, footprint, isFannedOut, overLimits, type DesignView, type TemplateJson } from './scale';

/** What the rules read. */
export interface RunTimeView extends DesignView {
  /** Names of the environment's own steps (`steps.<name>`); the others are the lister and the gate. */
  readonly userSteps: readonly string[];
  /** The declared largest batch, when the pipeline fans out. */
  readonly maxScans?: number;
  /** Whether the scheduler preempts (Run:AI, KAI). */
  readonly preemptiveScheduler: boolean;
  /** The cluster's non-preemptible priority class, when it has classes. */
  readonly nonPreemptibleClass?: string;
  /** Declared partial exit codes by step. */
  readonly partialExitCodes: Readonly<Record<string, readonly number[]>>;
}


/** The environment-file path of a step's field. */
function fieldOf(view: RunTimeView, step: string, ...field: string[]): string[] {
  if (view.userSteps.includes(step)) return ['steps', step, ...field];
  if (step === LISTER_STEP) return ['fanOut', 'lister', ...field];
  if (step === GATE_STEP) return ['partialSuccess', 'gate', ...field];
  return ['steps', step, ...field];
}

const kib = (b: number) => `${(b / 1024).toFixed(b < 10 * 1024 ? 1 : 0)} KiB`;

/** Every run-time problem of a pipeline's templates. */
export function checkRunTime(view: RunTimeView): PolicyProblem[] {
  return [...checkAggregates(view), ...checkContinueOn(view), ...checkDeadline(view), ...view.steps.flatMap((s) => (s.spec?.templates ?? []).flatMap((t) => checkTemplate(view, t))), ...checkSizes(view), ...checkObjectSizes(view)];
}

/**
 * `{{tasks.T.outputs.parameters}}`, `.outputs.result` and `.exitCode` of a fanned-out task T:
 * Argo aggregates only children in phase Succeeded (operator.go `processAggregateNodeOutputs`)
 * and never sets `exitCode` of an expanded task (`addNodeOutputsToLocalScope`), so a consumer
 * never sees the scans that failed.
 */
function checkAggregates(view: RunTimeView): PolicyProblem[] {
  const tasks = dagTasks(view.pipeline);
  const fanned = new Set(tasks.filter(isFannedOut).map((t) => t.name));
  const out: PolicyProblem[] = [];
  for (const t of tasks) {
    const texts = [t.when ?? '', t.depends ?? '', ...(t.arguments?.parameters ?? []).map((p) => p.value ?? '')];
    for (const text of texts) {
      for (const m of text.matchAll(/tasks\.([a-z0-9-]+)\.(outputs\.parameters|outputs\.result|exitCode)/g)) {
        if (!fanned.has(m[1])) continue;
        out.push({
          path: view.userSteps.includes(t.name) ? ['steps', t.name] : ['fanOut', 'steps'],
          message: `task ${t.name} reads {{tasks.${m[1]}.${m[2]}}} of the fanned-out task ${m[1]}; Argo ${m[2] === 'exitCode' ? 'never sets the exit code of an expanded task' : 'aggregates only the items that Succeeded, so failed and lost scans are missing from it'}; judge scans from their recorded outcomes (the gate) instead`,
        });
      }
    }
  }
  return out;
}

/**
 * A fanned-out task must continue on failed AND errored items: one Error child makes the whole
 * group Error (dag.go `executeDAGTask`), `continueOn.failed` alone does not cover it
 * (common/ancestry.go), and every dependent, the rest of the batch with it, is Omitted.
 */
function checkContinueOn(view: RunTimeView): PolicyProblem[] {
  return dagTasks(view.pipeline)
    .filter((t) => isFannedOut(t) && !(t.continueOn?.failed && t.continueOn?.error))
    .map((t) => ({
      path: ['fanOut', 'steps'],
      message: `fanned-out task ${t.name} has continueOn ${JSON.stringify(t.continueOn ?? {})}; one failed or preempted (Error) item would stop the batch; expected {failed: true, error: true}`,
    }));
}

/** Every workflow needs a deadline: nothing else ends a requeue loop or a pod that never gets a node. */
function checkDeadline(view: RunTimeView): PolicyProblem[] {
  if (view.pipeline.spec?.activeDeadlineSeconds) return [];
  return [{ path: ['workflow', 'activeDeadlineSeconds'], message: 'the workflow has no deadline; a pod that never gets a node or a workflow requeued on a missing variable would stay Running forever; set the longest a batch may take, in seconds' }];
}

/** Retryable exit codes listed in a retry expression, or undefined when it lists none. */
function retriedCodes(expression: string | undefined): string[] | undefined {
  const m = /lastRetry\.exitCode in \[([^\]]*)\]/.exec(expression ?? '');
  return m ? [...m[1].matchAll(/"(-?[0-9]+)"/g)].map((x) => x[1]) : undefined;
}

function checkTemplate(view: RunTimeView, t: TemplateJson): PolicyProblem[] {
  const name = t.name ?? '';
  const out: PolicyProblem[] = [];
  if (!t.timeout) {
    const nonPreemptible = view.preemptiveScheduler && t.priorityClassName !== undefined && t.priorityClassName === view.nonPreemptibleClass;
    out.push({
      path: fieldOf(view, name, 'timeout'),
      message: nonPreemptible
        ? `step ${name} is not preemptible (priority class ${t.priorityClassName}) and has no timeout: over quota it stays Pending, and only a timeout or the workflow deadline ends it; expected a duration such as 10m`
        : `step ${name} has no timeout; a hung or stuck pod would hold its slot until the workflow deadline; expected a duration such as 6h`,
    });
  }
  const requests = t.container?.resources?.requests ?? {};
  const missing = ['cpu', 'memory'].filter((r) => requests[r] === undefined);
  if (missing.length > 0) {
    out.push({ path: fieldOf(view, name, 'resources', 'requests'), message: `step ${name} requests no ${missing.join(' or ')}; a pod without requests is evicted first under pressure; expected e.g. {cpu: 500m, memory: 1Gi}` });
  }
  if (!t.retryStrategy) {
    out.push({ path: fieldOf(view, name, 'retry'), message: `step ${name} has no retry strategy; a pod lost to preemption or eviction would fail the batch; expected retry: {limit: 2} or more` });
  }
  // A declared partial code that reaches Argo as the pod's exit code, under a retry that takes it.
  const partial = Object.hasOwn(view.partialExitCodes, name) ? view.partialExitCodes[name] : [];
  const recorded = envOf(t, 'SLEAP_ROOTS_RUN_DIR') !== undefined && envOf(t, 'SLEAP_ROOTS_ACCEPTED') !== undefined;
  if (partial.length > 0 && !recorded && t.retryStrategy) {
    const codes = retriedCodes(t.retryStrategy.expression);
    const policy = t.retryStrategy.retryPolicy ?? 'OnFailure';
    const retried = codes ? partial.filter((c) => codes.includes(String(c))) : policy === 'Always' || policy === 'OnFailure' ? partial : [];
    if (retried.length > 0) {
      out.push({ path: fieldOf(view, name, 'retry'), message: `step ${name} would retry its declared partial exit code${retried.length > 1 ? 's' : ''} ${retried.join(', ')} (retryPolicy ${policy}${codes ? `, exit codes ${codes.join(', ')}` : ', no expression'}); a partial result is final; retry only preemption and infrastructure errors` });
    }
  } else if (partial.length > 0 && recorded) {
    const codes = retriedCodes(t.retryStrategy?.expression) ?? [];
    const retried = partial.filter((c) => codes.includes(String(c)));
    if (retried.length > 0) out.push({ path: fieldOf(view, name, 'retry', 'exitCodes'), message: `lists the declared partial exit code${retried.length > 1 ? 's' : ''} ${retried.join(', ')}; a partial result is final; expected codes that mean the pod was stopped from outside` });
  }
  return out;
}

/** The design at the declared largest batch must fit every Argo and etcd limit. */
function checkSizes(view: RunTimeView): PolicyProblem[] {
  if (!dagTasks(view.pipeline).some(isFannedOut) || view.maxScans === undefined) return [];
  const scans = view.maxScans;
  const f = footprint(view, scans);
  return overLimits(f).map((m) => ({
    path: ['fanOut', 'maxScans'],
    message: `at ${scans} scans, ${m.what} would be ${kib(m.bytes)}, over Argo's ${kib(m.limit)} (${m.limit === ARGO_LIMITS.resultBytes ? 'a step result keeps only its last 256 KiB' : m.limit === ARGO_LIMITS.argumentBytes ? 'larger arguments are offloaded and reach the command as a file name' : 'etcd and Argo refuse larger objects'}); raise fanOut.scansPerPod or lower fanOut.maxScans`,
  }));
}

/**
 * Every rendered object must fit what the cluster stores. A step's WorkflowTemplate is copied
 * whole into each Workflow that runs it (`status.storedTemplates`), and Argo refuses a Workflow
 * over 1 MiB that compressing its nodes cannot bring under (workflow/packer/packer.go
 * `getMaxWorkflowSize` = 1024 * 1024 unless MAX_WORKFLOW_SIZE is set, `CompressWorkflowIfNeeded`:
 * "workflow is longer than maximum allowed size"); etcd refuses requests over its
 * --max-request-bytes (1.5 MiB by default) anyway. So a template over 1 MiB can never run.
 */
function checkObjectSizes(view: RunTimeView): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  for (const wt of view.steps) {
    const bytes = Buffer.byteLength(JSON.stringify(wt));
    if (bytes <= ARGO_LIMITS.objectBytes) continue;
    const name = wt.spec?.templates?.[0]?.name ?? wt.metadata?.name ?? '';
    out.push({ path: fieldOf(view, name), message: `step ${name}'s WorkflowTemplate is ${kib(bytes)}; Argo refuses a workflow over ${kib(ARGO_LIMITS.objectBytes)} (1 MiB), and every workflow carries this template; expected far smaller command, args, env and annotations (large data belongs in a volume or a ConfigMap)` });
  }
  const bytes = Buffer.byteLength(JSON.stringify(view.pipeline));
  if (bytes > ARGO_LIMITS.objectBytes) {
    out.push({ path: ['parameters'], message: `the pipeline WorkflowTemplate is ${kib(bytes)}; Argo refuses a workflow over ${kib(ARGO_LIMITS.objectBytes)} (1 MiB); expected smaller parameters` });
  }
  return out;
}
