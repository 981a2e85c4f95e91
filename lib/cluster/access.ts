/**
 * What each command's cluster calls need from RBAC: one verb on one resource per entry, with the
 * commands that need it. `doctor` asks a SelfSubjectAccessReview for every entry, so a Role that
 * grants exactly what doctor checks lets every command run.
 *
 * The entries come from the modules that make the calls: deploy's from {@link APPLY_VERBS} and
 * {@link PRUNE_KINDS} (apply.ts, which applies and prunes by the same lists), submit's from
 * {@link SUBMIT_CALLS} (submit.ts). watch and logs run code of lib/cluster/workflow-watch.ts and
 * logs.ts; {@link WATCH_CALLS} and {@link LOGS_CALLS} name each call of theirs beside its verb.
 *
 * Not listed: the self reviews (SelfSubjectReview, SelfSubjectAccessReview). Every authenticated
 * user may create them through the `system:basic-user` ClusterRole the API server bootstraps
 * (kubernetes plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go `ClusterRoles`,
 * "system:basic-user": create selfsubjectaccessreviews, selfsubjectrulesreviews,
 * selfsubjectreviews), and doctor's own use of them shows they work.
 */
import { APPLY_VERBS, PRUNE_KINDS, PRUNE_LIST_WORKFLOWS } from './apply';
import { KINDS, type ResourceKind } from './resources';
import { SUBMIT_CALLS } from './submit';

/** A verb on a resource (optionally a subresource), as a Role rule names it. */
export interface AccessNeed {
  readonly verb: string;
  /** '' for the core group. */
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
}

/** One call a command makes: what it needs and which code makes it. */
export interface ClusterCall {
  readonly kind: string;
  readonly verb: string;
  readonly subresource?: string;
  /** The function making the call, for readers checking this list against the code. */
  readonly by: string;
}

/** An access need with the commands that need it. */
export interface Permission extends AccessNeed {
  readonly neededBy: readonly string[];
}

/** The commands whose access doctor checks, in the order they are named. */
export const COMMANDS = ['deploy', 'deploy --prune', 'submit', 'watch', 'logs'] as const;
export type CommandName = (typeof COMMANDS)[number];

/** `watch <workflow>` (and `submit --watch`): lib/cli/commands/run.ts and workflow-watch.ts. */
export const WATCH_CALLS: readonly ClusterCall[] = [
  { kind: 'Workflow', verb: 'get', by: 'run.ts mustExist' },
  { kind: 'WorkflowTemplate', verb: 'get', by: 'run.ts readTemplate (the steps not started yet)' },
  { kind: 'Workflow', verb: 'list', by: 'workflow-watch.ts followWorkflow -> watch.ts listWatch (list)' },
  { kind: 'Workflow', verb: 'watch', by: 'workflow-watch.ts followWorkflow -> watch.ts listWatch (watch)' },
];

/** `logs <workflow>` (and `--follow`, `submit --logs`, `watch --logs`): logs.ts. */
export const LOGS_CALLS: readonly ClusterCall[] = [
  { kind: 'Workflow', verb: 'get', by: 'run.ts mustExist, logs.ts getWorkflow' },
  { kind: 'Workflow', verb: 'list', by: 'logs.ts watchWorkflow -> listWatch (list)' },
  { kind: 'Workflow', verb: 'watch', by: 'logs.ts watchWorkflow -> listWatch (watch)' },
  { kind: 'Pod', verb: 'list', by: 'logs.ts listPods, watchPods -> listWatch (list)' },
  { kind: 'Pod', verb: 'watch', by: 'logs.ts watchPods -> listWatch (watch)' },
  { kind: 'Pod', verb: 'get', by: 'logs.ts containerState' },
  { kind: 'Pod', verb: 'get', subresource: 'log', by: 'logs.ts follow (pods/log stream)' },
];

function groupOf(k: ResourceKind): string {
  return k.apiVersion.includes('/') ? k.apiVersion.split('/')[0] : '';
}

function need(call: Pick<ClusterCall, 'kind' | 'verb' | 'subresource'>): AccessNeed {
  const k = KINDS[call.kind];
  if (!k) throw new Error(`access: unknown kind ${JSON.stringify(call.kind)} (known: ${Object.keys(KINDS).join(', ')})`);
  return { verb: call.verb, group: groupOf(k), resource: k.plural, subresource: call.subresource };
}

/** What one command needs, for the objects `deploy` applies (their kinds). */
export function commandAccess(command: CommandName, deployKinds: readonly string[]): AccessNeed[] {
  switch (command) {
    case 'deploy':
      return [...new Set(deployKinds)].flatMap((kind) => APPLY_VERBS.map((verb) => need({ kind, verb })));
    case 'deploy --prune':
      return [need(PRUNE_LIST_WORKFLOWS), ...PRUNE_KINDS.flatMap((kind) => ['list', 'delete'].map((verb) => need({ kind, verb })))];
    case 'submit':
      return SUBMIT_CALLS.map(need);
    case 'watch':
      return WATCH_CALLS.map(need);
    case 'logs':
      return LOGS_CALLS.map(need);
  }
}

/** `get pods/log`, `patch workflowtemplates.argoproj.io`: how a need is named in doctor's lines. */
export function describeNeed(n: AccessNeed): string {
  return `${n.verb} ${n.resource}${n.subresource ? `/${n.subresource}` : ''}${n.group ? `.${n.group}` : ''}`;
}

/** Every need of every command, each once, with the commands needing it (in first-use order). */
export function requiredPermissions(deployKinds: readonly string[]): Permission[] {
  const byName = new Map<string, { need: AccessNeed; neededBy: string[] }>();
  for (const command of COMMANDS) {
    for (const n of commandAccess(command, deployKinds)) {
      const key = describeNeed(n);
      const entry = byName.get(key) ?? { need: n, neededBy: [] };
      if (!entry.neededBy.includes(command)) entry.neededBy.push(command);
      byName.set(key, entry);
    }
  }
  return [...byName.values()].map((e) => ({ ...e.need, neededBy: e.neededBy }));
}
