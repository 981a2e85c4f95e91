/**
 * Read verbs: get, list (selectors, paging, Table output) and watch.
 */
import { badRequest } from './errors';
import { queryBool, sendJson } from './http';
import { groupVersion } from './resources';
import { parseFieldSelector, parseLabelSelector, selectedName } from './selectors';
import type { RequestContext, ServerState } from './state';
import { parseIncludeObject, toTable } from './table';
import type { KObject } from './types';
import { listItem, mustGet, respondObject, selectFor, type ResourceRoute } from './common';

export function handleGet(state: ServerState, ctx: RequestContext, route: ResourceRoute): void {
  respondObject(state, ctx, route.rt, 200, mustGet(state, route));
}

interface ContinueToken {
  rv: number;
  after: string;
}

function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: t.rv, start: t.after })).toString('base64url');
}

function decodeContinue(text: string): ContinueToken {
  try {
    const parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (typeof parsed.start !== 'string' || typeof parsed.rv !== 'number') throw new Error('bad token');
    return { rv: parsed.rv, after: parsed.start };
  } catch {
    throw badRequest('continue key is not valid: illegal base64 data at input byte 0');
  }
}

export function handleList(state: ServerState, ctx: RequestContext, route: ResourceRoute): void {
  const { rt } = route;
  const select = selectFor(route, ctx);
  let items = state.store.list(rt, route.namespace).filter(select);
  const limitText = ctx.query.get('limit');
  const limit = limitText ? Number(limitText) : 0;
  const cont = ctx.query.get('continue');
  const key = (o: KObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  if (cont) {
    const token = decodeContinue(cont);
    items = items.filter((o) => key(o) > token.after);
  }
  const meta: Record<string, unknown> = { resourceVersion: String(state.store.resourceVersion) };
  let continueToken: string | undefined;
  if (limit > 0 && items.length > limit) {
    const remaining = items.length - limit;
    items = items.slice(0, limit);
    continueToken = encodeContinue({ rv: state.store.resourceVersion, after: key(items[items.length - 1]) });
    meta.continue = continueToken;
    meta.remainingItemCount = remaining;
  }
  if (ctx.accept.table) {
    sendJson(
      ctx.res,
      200,
      toTable(rt, items, {
        include: parseIncludeObject(ctx.query.get('includeObject')),
        now: state.now(),
        resourceVersion: String(state.store.resourceVersion),
        continueToken,
      }),
    );
    return;
  }
  sendJson(ctx.res, 200, { kind: `${rt.kind}List`, apiVersion: groupVersion(rt), metadata: meta, items: items.map((o) => listItem(rt, o)) });
}

export function handleWatch(state: ServerState, ctx: RequestContext, route: ResourceRoute): void {
  const q = ctx.query;
  const timeout = q.get('timeoutSeconds');
  const sendInitial = q.get('sendInitialEvents');
  state.watches.open(ctx.res, {
    rt: route.rt,
    namespace: route.namespace,
    name: route.name ?? selectedName(q.get('fieldSelector')),
    labels: parseLabelSelector(q.get('labelSelector')),
    fields: parseFieldSelector(q.get('fieldSelector'), route.rt),
    resourceVersion: q.get('resourceVersion'),
    allowBookmarks: queryBool(q.get('allowWatchBookmarks')),
    sendInitialEvents: sendInitial === null ? undefined : queryBool(sendInitial),
    timeoutSeconds: timeout ? Number(timeout) : undefined,
    table: ctx.accept.table,
    include: parseIncludeObject(q.get('includeObject')),
    fault: state.faults.take('watch', ctx.faultRequest),
  });
}
