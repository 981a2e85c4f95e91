/**
 * Following one workflow until it finishes: the watch stream of that single object (list+watch
 * by name), each change handed to the caller at once, for as long as the workflow runs (the
 * reconnect rule is listWatch's, watch.ts).
 */
import { UserError } from './errors';
import type { KubeClient } from './http';
import { KINDS, resourcePath } from './resources';
import { listWatch, type ReconnectNotice } from './watch';
import { isCompleted, type Workflow } from './workflow';

/** Options of {@link followWorkflow}. */
export interface FollowWorkflowOptions {
  readonly namespace: string;
  readonly name: string;
  /** Stops following (the workflow keeps running). */
  readonly signal?: AbortSignal;
  /** Every state seen, first the current one. */
  readonly onChange: (wf: Workflow) => void;
  /** Every reopening of the watch: normal ends (`ended`), failures, re-lists. @default - nothing */
  readonly onReconnect?: (notice: ReconnectNotice) => void;
  /**
   * Failures in a row before giving up (see watch.ts for what is one); the server's normal ends
   * of the watch are not failures, so a quiet workflow is followed as long as it runs. @default 10
   */
  readonly maxReconnects?: number;
}

/** The outcome of following. */
export type FollowResult =
  | { readonly type: 'completed'; readonly workflow: Workflow }
  | { readonly type: 'detached'; readonly workflow?: Workflow };

/**
 * Watches the workflow until it completes (or the signal aborts: detached).
 * @throws UserError when the workflow does not exist or is deleted while watched
 */
export async function followWorkflow(client: KubeClient, options: FollowWorkflowOptions): Promise<FollowResult> {
  let latest: Workflow | undefined;
  const events = listWatch<Workflow>(client, {
    path: resourcePath(KINDS.Workflow, options.namespace),
    fieldSelector: `metadata.name=${options.name}`,
    signal: options.signal,
    onReconnect: options.onReconnect,
    maxReconnects: options.maxReconnects,
  });
  for await (const ev of events) {
    if (ev.type === 'SYNC') {
      const wf = ev.items.find((w) => w.metadata.name === options.name);
      if (!wf) {
        if (latest) throw new UserError(`workflow "${options.name}" was deleted while it was watched`);
        throw new UserError(`workflow "${options.name}" is not in namespace "${options.namespace}"`, 'list recent ones: npx sleap-roots list');
      }
      latest = wf;
    } else if (ev.object.metadata.name !== options.name) {
      continue;
    } else if (ev.type === 'DELETED') {
      throw new UserError(`workflow "${options.name}" was deleted while it was watched`);
    } else {
      latest = ev.object;
    }
    options.onChange(latest);
    if (isCompleted(latest)) return { type: 'completed', workflow: latest };
  }
  return { type: 'detached', workflow: latest };
}
