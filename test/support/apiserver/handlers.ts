/**
 * Resource verbs over HTTP: get, list, watch, create, update, patch (incl. server-side apply), delete,
 * deletecollection, and the status subresource.
 */
import { methodNotAllowed } from './errors';
import type { ResourceRoute } from './common';
import { handleDelete, handleDeleteCollection } from './delete';
import { handleGet, handleList, handleWatch } from './read';
import type { RequestContext, ServerState } from './state';
import { handleCreate, handlePatch, handleUpdate } from './write';

export type { ResourceRoute } from './common';

// ---- dispatch --------------------------------------------------------------------------------------------------

export async function handleResource(state: ServerState, ctx: RequestContext, route: ResourceRoute): Promise<void> {
  const named = route.name !== undefined;
  switch (ctx.method) {
    case 'GET':
      if (route.watch) return handleWatch(state, ctx, route);
      return named ? handleGet(state, ctx, route) : handleList(state, ctx, route);
    case 'POST':
      if (named) throw methodNotAllowed();
      return handleCreate(state, ctx, route);
    case 'PUT':
      if (!named) throw methodNotAllowed();
      return handleUpdate(state, ctx, route);
    case 'PATCH':
      if (!named) throw methodNotAllowed();
      return handlePatch(state, ctx, route);
    case 'DELETE':
      return named ? handleDelete(state, ctx, route) : handleDeleteCollection(state, ctx, route);
    default:
      throw methodNotAllowed();
  }
}

/** The authorization verb of a resource request. */
export function verbOf(method: string, named: boolean, watch: boolean): string {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return watch ? 'watch' : named ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return named ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}
