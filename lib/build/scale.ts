/**
 * What a batch of N scans makes Argo and etcd hold, computed from the synthesized templates: the
 * largest step result, the largest pod argument, the largest objects, and the number of pods and
 * status nodes. The synth-time size rule (runtime-rules.ts) and `npm run bench` both use it.
 *
 * The limits, read from Argo Workflows v4.1.2:
 * - result: workflow/executor/executor.go `CaptureScriptResult` keeps the last 256 KiB of stdout;
 *   a cut JSON list then fails `withParam` parsing (workflow/controller/dag.go `expandTask`).
 * - argument: workflow/common/common.go `MaxEnvVarLen` = 128 KiB; above it workflowpod.go moves
 *   the args (and ARGO_TEMPLATE) to a ConfigMap, and cmd/argoexec/commands/emissary.go hands any
 *   single argument over it to the command as `@/tmp/argo_arg_N.txt`.
 * - object: workflow/packer/packer.go `getMaxWorkflowSize` = 1 MiB for the whole Workflow JSON;
 *   above it the nodes are gzipped and base64-encoded into `status.compressedNodes`, and if that
 *   is still too large the workflow fails "workflow is longer than maximum allowed size" (unless
 *   node status offloading to a database is configured). A ConfigMap (offloaded args) is limited
 *   to 1 MiB by the API server.
 *
 * Status nodes follow Argo's layout (operator.go `executeTemplate`, dag.go `executeDAGTask`): the
 * DAG node; per task a node, or with a retryStrategy a Retry node plus one Pod node per attempt;
 * per fanned-out task a TaskGroup node plus that per item; the exit handler likewise. The bytes of
 * each node are those of a NodeStatus with the fields Argo fills for a finished pod
 * (pkg/apis/workflow/v1alpha1/workflow_types.go `NodeStatus`), with node ids made as Argo makes
 * them (`Workflow.NodeID`: the workflow name and the FNV-32a hash of the node name).
 */
import { gzipSync } from 'node:zlib';

/** Argo's and the API server's limits (see the module comment for where each comes from). */
export const ARGO_LIMITS = {
  resultBytes: 256 * 1024,
  argumentBytes: 128 * 1024,
  objectBytes: 1024 * 1024,
} as const;

/** Bytes assumed per scan name where names travel through Argo (a list parameter, a JSON result). */
export const ASSUMED_SCAN_NAME_BYTES = 32;

/** A DAG task, as far as these checks read it. */
export interface TaskJson {
  readonly name: string;
  readonly templateRef?: { readonly name: string; readonly template: string };
  readonly withParam?: string;
  readonly withItems?: readonly unknown[];
  readonly withSequence?: { readonly count?: string | number };
  readonly dependencies?: readonly string[];
  readonly arguments?: { readonly parameters?: readonly { readonly name: string; readonly value?: string }[] };
  readonly continueOn?: { readonly failed?: boolean; readonly error?: boolean };
  readonly when?: string;
  readonly depends?: string;
}

/** An Argo template, as far as these checks read it. */
export interface TemplateJson {
  readonly name?: string;
  readonly container?: {
    readonly command?: readonly string[];
    readonly args?: readonly string[];
    readonly env?: readonly { readonly name: string; readonly value?: string }[];
    readonly resources?: { readonly requests?: Readonly<Record<string, unknown>>; readonly limits?: Readonly<Record<string, unknown>> };
  };
  readonly retryStrategy?: { readonly limit?: unknown; readonly retryPolicy?: string; readonly expression?: string };
  readonly timeout?: string;
  readonly priorityClassName?: string;
  readonly schedulerName?: string;
  readonly dag?: { readonly tasks?: readonly TaskJson[] };
}

/** A WorkflowTemplate, as far as these checks read it. */
export interface WorkflowTemplateJson {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly spec?: {
    readonly entrypoint?: string;
    readonly templates?: readonly TemplateJson[];
    readonly hooks?: { readonly exit?: { readonly templateRef?: { readonly name: string; readonly template: string } } };
    readonly workflowMetadata?: { readonly labels?: Readonly<Record<string, string>> };
    readonly activeDeadlineSeconds?: number;
  };
}

/** The synthesized templates a footprint is computed from. */
export interface DesignView {
  /** The pipeline WorkflowTemplate. */
  readonly pipeline: WorkflowTemplateJson;
  /** The step WorkflowTemplates (each with one template). */
  readonly steps: readonly WorkflowTemplateJson[];
}

/** One measured size beside its limit. */
export interface Measure {
  readonly what: string;
  readonly bytes: number;
  readonly limit: number;
}

/** What a batch makes Argo hold. */
export interface Footprint {
  readonly scans: number;
  /** Items of each fanned-out task (chunks, or scans when there is one pod per scan). */
  readonly items: number;
  readonly result: Measure;
  readonly argument: Measure;
  /** The largest object, and every object measured. */
  readonly object: Measure;
  readonly objects: readonly Measure[];
  /** Pods of one run without retries. */
  readonly pods: number;
  /** Nodes in the workflow's status without retries. */
  readonly statusNodes: number;
}

type Task = TaskJson;
/** A node of a workflow's status, as built here. */
type NodeJson = Record<string, unknown> & { readonly id: string; readonly type: string };

/** The DAG tasks of the pipeline template. */
export function dagTasks(pipeline: WorkflowTemplateJson): readonly TaskJson[] {
  const spec = pipeline.spec ?? {};
  const entry = spec.templates?.find((t) => t.name === spec.entrypoint) ?? spec.templates?.[0];
  return entry?.dag?.tasks ?? [];
}

/** The one template of the step WorkflowTemplate a task (or hook) refers to. */
export function templateOf(view: DesignView, ref: { readonly name?: string; readonly template?: string } | undefined): TemplateJson | undefined {
  if (!ref) return undefined;
  const wt = view.steps.find((s) => s.metadata?.name === ref.name);
  return wt?.spec?.templates?.find((t) => t.name === ref.template);
}

/** True when a task runs once per item. */
export function isFannedOut(t: TaskJson): boolean {
  return t.withParam !== undefined || t.withItems !== undefined || t.withSequence !== undefined;
}

/** The value of a container env var of a template. */
export function envOf(template: TemplateJson | undefined, name: string): string | undefined {
  return template?.container?.env?.find((e) => e.name === name)?.value;
}

/** Scans per item: the lister's SLEAP_ROOTS_SCANS_PER_POD, else one scan per item. */
function scansPerItem(view: DesignView, tasks: readonly Task[]): number {
  for (const t of tasks) {
    const v = envOf(templateOf(view, t.templateRef), 'SLEAP_ROOTS_SCANS_PER_POD');
    if (v) return Math.max(1, Number(v));
  }
  return 1;
}

/** The workflow parameter the scan list comes from, when it comes from one. */
function listParameter(view: DesignView, tasks: readonly Task[]): string | undefined {
  const feeders = new Set(tasks.filter(isFannedOut).flatMap((t) => [...String(t.withParam ?? t.withSequence?.count ?? '').matchAll(/tasks\.([^.}]+)\./g)].map((m) => m[1])));
  for (const t of tasks.filter((x) => feeders.has(x.name))) {
    const tpl = templateOf(view, t.templateRef);
    const texts = [...(tpl?.container?.args ?? []), ...(tpl?.container?.env ?? []).map((e) => e.value ?? '')];
    for (const text of texts) {
      const m = /\{\{\s*workflow\.parameters\.([^}\s]+)\s*\}\}/.exec(String(text));
      if (m) return m[1];
    }
  }
  return undefined;
}

/** FNV-32a of a string, as Argo's node ids use it. */
function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const WORKFLOW_NAME = 'sleap-roots-pipeline-x7k2p';
const nodeId = (name: string) => `${WORKFLOW_NAME}-${fnv32a(name)}`;

/** The fields Argo fills for every finished node (timestamps and durations typical). */
function node(name: string, display: string, type: string, ref: Task['templateRef'], boundary: string, children: string[]): NodeJson {
  return {
    id: nodeId(name),
    name,
    displayName: display,
    type,
    templateRef: ref,
    templateScope: `namespaced/${WORKFLOW_NAME}`,
    phase: 'Succeeded',
    boundaryID: boundary,
    startedAt: '2026-12-01T09:26:39Z',
    finishedAt: '2026-12-01T12:41:07Z',
    progress: '1/1',
    resourcesDuration: { cpu: 23_412, memory: 93_648 },
    children: children.length > 0 ? children : undefined,
  };
}

/** A finished pod node: a node with its inputs, exit code, host and flags. */
function podNode(name: string, display: string, ref: Task['templateRef'], boundary: string, inputs: { name: string; value: string }[]): NodeJson {
  return {
    ...node(name, display, 'Pod', ref, boundary, []),
    resourcesDuration: { cpu: 23_412, memory: 93_648, 'nvidia.com/gpu': 11_706 },
    inputs: inputs.length > 0 ? { parameters: inputs } : undefined,
    outputs: { exitCode: '0' },
    hostNodeName: 'gpu-node-07.cluster.internal',
    nodeFlag: { retried: true },
  };
}

/** Status nodes per item of a fanned-out task: 2 with a retryStrategy (Retry + attempt), else 1. */
function nodesPerItem(view: DesignView, tasks: readonly Task[]): number {
  const t = tasks.find(isFannedOut);
  return t && templateOf(view, t.templateRef)?.retryStrategy !== undefined ? 2 : 1;
}

/** Pods and status nodes of one run without retries, counted without building them. */
function nodeCounts(view: DesignView, tasks: readonly Task[], items: number): { pods: number; nodes: number } {
  let pods = 0;
  let nodes = 1; // the DAG
  const call = (ref: Task['templateRef'], times: number) => {
    pods += times;
    nodes += times * (templateOf(view, ref)?.retryStrategy !== undefined ? 2 : 1);
  };
  for (const t of tasks) {
    if (isFannedOut(t)) {
      nodes += 1; // the TaskGroup
      call(t.templateRef, items);
    } else {
      call(t.templateRef, 1);
    }
  }
  const exit = view.pipeline.spec?.hooks?.exit?.templateRef;
  if (exit) call(exit, 1);
  return { pods, nodes };
}

/** The status nodes of one run (no retries). */
function statusNodes(view: DesignView, tasks: readonly Task[], items: number): Record<string, NodeJson> {
  const nodes: Record<string, NodeJson> = {};
  const root = WORKFLOW_NAME;
  const rootId = nodeId(root);
  const add = (n: NodeJson) => {
    nodes[n.id] = n;
    return n.id;
  };
  const taskHeads: string[] = [];
  /** One call of a template: a Pod node, or a Retry node with attempt (0). */
  const call = (name: string, display: string, ref: Task['templateRef'], inputs: { name: string; value: string }[]) => {
    const retried = templateOf(view, ref)?.retryStrategy !== undefined;
    if (!retried) return add(podNode(name, display, ref, rootId, inputs));
    const pod = add(podNode(`${name}(0)`, `${display}(0)`, ref, rootId, inputs));
    return add(node(name, display, 'Retry', ref, rootId, [pod]));
  };
  for (const t of tasks) {
    const name = `${root}.${t.name}`;
    if (!isFannedOut(t)) {
      taskHeads.push(call(name, t.name, t.templateRef, []));
      continue;
    }
    const children: string[] = [];
    for (let i = 0; i < items; i++) {
      const item = String(i);
      children.push(call(`${name}(${i}:${item})`, `${t.name}(${i}:${item})`, t.templateRef, (t.arguments?.parameters ?? []).map((p) => ({ name: p.name, value: item }))));
    }
    taskHeads.push(add(node(name, t.name, 'TaskGroup', t.templateRef, rootId, children)));
  }
  add(node(root, root, 'DAG', undefined, '', taskHeads));
  const exit = view.pipeline.spec?.hooks?.exit?.templateRef;
  if (exit) call(`${root}.onExit`, `${root}.onExit`, exit, []);
  return nodes;
}

/**
 * Items modelled node by node; above it the nodes' bytes are extrapolated linearly from this many,
 * which underestimates a little (each group's list of children grows too): such designs hold over
 * 20,000 nodes and are far over the limit anyway.
 */
export const MODELLED_ITEMS = 5_000;

/** The Workflow object of one finished run, as Argo stores it (nodes compressed when too large). */
function workflowObject(view: DesignView, nodes: Record<string, NodeJson>, parameters: { name: string; value: string }[], scale: number): object {
  const storedTemplates: Record<string, TemplateJson> = {};
  for (const s of view.steps) for (const t of s.spec?.templates ?? []) storedTemplates[`namespaced/${s.metadata?.name}/${t.name}`] = t;
  const podIds = Object.values(nodes).filter((n) => n.type === 'Pod').map((n) => n.id);
  const wf = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Workflow',
    metadata: { name: WORKFLOW_NAME, namespace: view.pipeline.metadata?.namespace, labels: view.pipeline.spec?.workflowMetadata?.labels },
    spec: { workflowTemplateRef: { name: view.pipeline.metadata?.name }, arguments: parameters.length > 0 ? { parameters } : undefined },
    status: {
      phase: 'Succeeded',
      startedAt: '2026-12-01T09:26:39Z',
      finishedAt: '2026-12-03T02:11:50Z',
      progress: `${podIds.length}/${podIds.length}`,
      nodes,
      storedTemplates,
      storedWorkflowTemplateSpec: view.pipeline.spec,
      taskResultsCompletionStatus: Object.fromEntries(podIds.map((id) => [id, true])),
      conditions: [{ type: 'PodRunning', status: 'False' }, { type: 'Completed', status: 'True' }],
      resourcesDuration: { cpu: 23_412_000, memory: 93_648_000 },
    },
  };
  const nodesBytes = Buffer.byteLength(JSON.stringify(nodes)) * scale;
  const rest = Buffer.byteLength(JSON.stringify({ ...wf, status: { ...wf.status, nodes: {} } }));
  if (rest + nodesBytes <= ARGO_LIMITS.objectBytes) return wf;
  // packer.go compressWorkflow: gzip + base64 of the nodes' JSON.
  const compressed = 'x'.repeat(Math.ceil(gzipSync(JSON.stringify(nodes)).toString('base64').length * scale));
  return { ...wf, status: { ...wf.status, nodes: undefined, compressedNodes: compressed } };
}

const bytes = (x: unknown) => Buffer.byteLength(typeof x === 'string' ? x : JSON.stringify(x));

/** What a batch of `scans` scans makes Argo hold with these templates. */
export function footprint(view: DesignView, scans: number): Footprint {
  const tasks = dagTasks(view.pipeline);
  const perItem = scansPerItem(view, tasks);
  const items = Math.ceil(scans / perItem);
  const listParam = listParameter(view, tasks);
  const listBytes = scans * (ASSUMED_SCAN_NAME_BYTES + 1);
  // withParam items are scan names; withSequence items are chunk numbers.
  const itemText = tasks.some((t) => t.withParam !== undefined) ? 'x'.repeat(ASSUMED_SCAN_NAME_BYTES) : String(items);

  // The result a fanned-out task is expanded from: a count, or a JSON list of names.
  let result: Measure = { what: 'no step result is read', bytes: 0, limit: ARGO_LIMITS.resultBytes };
  for (const t of tasks.filter(isFannedOut)) {
    const feeder = /tasks\.([^.}]+)\.outputs\.result/.exec(String(t.withParam ?? t.withSequence?.count ?? ''))?.[1];
    if (!feeder) continue;
    const b = t.withSequence ? String(items).length : scans * (ASSUMED_SCAN_NAME_BYTES + 3) + 1;
    if (b > result.bytes) result = { what: `${feeder} result (${t.withSequence ? 'number of chunks' : 'JSON list of scan names'})`, bytes: b, limit: ARGO_LIMITS.resultBytes };
  }

  // The largest single argument, and the largest args JSON, of any pod.
  let argument: Measure = { what: 'no argument', bytes: 0, limit: ARGO_LIMITS.argumentBytes };
  const fill = (text: string) => text
    .replace(/\{\{\s*workflow\.parameters\.([^}\s]+)\s*\}\}/g, (m, p: string) => (p === listParam ? 'x'.repeat(listBytes) : m))
    .replace(/\{\{\s*inputs\.parameters\.[^}]+\}\}/g, itemText);
  for (const s of view.steps) {
    for (const t of s.spec?.templates ?? []) {
      const args = (t.container?.args ?? []).map((a) => fill(a));
      // Each word of the command line the emissary runs (command, then args).
      const largest = Math.max(0, ...[...(t.container?.command ?? []), ...args].map((a) => Buffer.byteLength(a)));
      const json = bytes(args);
      if (largest > argument.bytes) argument = { what: `${t.name} argument`, bytes: largest, limit: ARGO_LIMITS.argumentBytes };
      if (json > argument.bytes) argument = { what: `${t.name} arguments (JSON)`, bytes: json, limit: ARGO_LIMITS.argumentBytes };
    }
  }

  const modelled = Math.min(items, MODELLED_ITEMS);
  const nodes = statusNodes(view, tasks, modelled);
  const fanned = tasks.filter(isFannedOut).length;
  const scale = modelled === items ? 1 : (Object.keys(nodes).length + (items - modelled) * fanned * nodesPerItem(view, tasks)) / Object.keys(nodes).length;
  const counts = nodeCounts(view, tasks, items);
  const parameters = listParam ? [{ name: listParam, value: 'x'.repeat(listBytes) }] : [];
  const objects: Measure[] = [
    { what: 'Workflow with its status', bytes: bytes(workflowObject(view, nodes, parameters, scale)), limit: ARGO_LIMITS.objectBytes },
    { what: `WorkflowTemplate ${view.pipeline.metadata?.name}`, bytes: bytes(view.pipeline), limit: ARGO_LIMITS.objectBytes },
    ...view.steps.map((s) => ({ what: `WorkflowTemplate ${s.metadata?.name}`, bytes: bytes(s), limit: ARGO_LIMITS.objectBytes })),
  ];
  // A template whose substituted form (ARGO_TEMPLATE) passes 128 KiB is offloaded to a ConfigMap.
  for (const s of view.steps) {
    for (const t of s.spec?.templates ?? []) {
      const filled = fill(JSON.stringify(t));
      if (Buffer.byteLength(filled) > ARGO_LIMITS.argumentBytes) objects.push({ what: `ConfigMap of ${t.name}'s offloaded template`, bytes: Buffer.byteLength(filled), limit: ARGO_LIMITS.objectBytes });
    }
  }
  const object = objects.reduce((a, b) => (b.bytes / b.limit > a.bytes / a.limit ? b : a));
  return { scans, items, result, argument, object, objects, pods: counts.pods, statusNodes: counts.nodes };
}

/** The measures of a footprint that pass their limit. */
export function overLimits(f: Footprint): Measure[] {
  return [f.result, f.argument, ...f.objects].filter((m) => m.bytes > m.limit);
}
