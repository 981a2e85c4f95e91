/**
 * A minimal OpenAPI v3 surface: the /openapi/v3 index and one document per group-version listing each resource's
 * operations with their query parameters and x-kubernetes-group-version-kind, but no schemas. That is what
 * kubectl reads to learn that the server does field validation itself (`fieldValidation` on PATCH), so
 * `kubectl apply`/`create` work without `--validate=false`. Not enough for `kubectl explain`.
 */
import { createHash } from 'node:crypto';
import type { Catalog, ResourceType } from './resources';

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

function param(name: string): Record<string, unknown> {
  return { name, in: 'query', schema: { type: 'string', uniqueItems: true } };
}

const WRITE_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'pretty'].map(param);
const LIST_PARAMS = ['allowWatchBookmarks', 'continue', 'fieldSelector', 'labelSelector', 'limit', 'resourceVersion', 'resourceVersionMatch', 'sendInitialEvents', 'timeoutSeconds', 'watch', 'pretty'].map(param);

function op(rt: ResourceType, action: string, params: Record<string, unknown>[]): Record<string, unknown> {
  return {
    operationId: `${action}${rt.kind}`,
    parameters: params,
    responses: { '200': { description: 'OK' } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: rt.group, version: rt.version, kind: rt.kind },
  };
}

export function openApiGroupVersionDoc(catalog: Catalog, group: string, version: string, gitVersion: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const rt of catalog.inGroupVersion(group, version)) {
    const base = `/${gvPath(group, version)}${rt.namespaced ? '/namespaces/{namespace}' : ''}/${rt.resource}`;
    if (rt.virtual) {
      paths[base] = { post: op(rt, 'post', WRITE_PARAMS) };
      continue;
    }
    paths[base] = { get: op(rt, 'list', LIST_PARAMS), post: op(rt, 'post', WRITE_PARAMS), delete: op(rt, 'deletecollection', LIST_PARAMS) };
    paths[`${base}/{name}`] = {
      get: op(rt, 'get', [param('pretty')]),
      put: op(rt, 'put', WRITE_PARAMS),
      patch: op(rt, 'patch', [...WRITE_PARAMS, param('force')]),
      delete: op(rt, 'delete', [param('dryRun'), param('gracePeriodSeconds'), param('propagationPolicy')]),
    };
    for (const sub of rt.subresources) {
      paths[`${base}/{name}/${sub}`] =
        sub === 'log' ? { get: op(rt, 'connect', [param('container'), param('follow')]) } : { get: op(rt, 'get', []), put: op(rt, 'put', WRITE_PARAMS), patch: op(rt, 'patch', [...WRITE_PARAMS, param('force')]) };
    }
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: gitVersion }, paths, components: { schemas: {} } };
}

export function openApiIndex(catalog: Catalog, gitVersion: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const [group, versions] of catalog.groups()) {
    for (const version of versions) {
      const doc = JSON.stringify(openApiGroupVersionDoc(catalog, group, version, gitVersion));
      const hash = createHash('sha512').update(doc).digest('hex').slice(0, 128).toUpperCase();
      paths[gvPath(group, version)] = { serverRelativeURL: `/openapi/v3/${gvPath(group, version)}?hash=${hash}` };
    }
  }
  return { paths };
}
