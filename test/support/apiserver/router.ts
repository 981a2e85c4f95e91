/**
 * Maps request paths onto discovery documents or (resource type, namespace, name, subresource).
 */
import type { Catalog, ResourceType } from './resources';

export type Route =
  | { kind: 'version' }
  | { kind: 'apiVersions' }
  | { kind: 'apiGroupList' }
  | { kind: 'apiGroup'; group: string }
  | { kind: 'resourceList'; group: string; version: string }
  | { kind: 'nonResource'; path: string }
  | {
      kind: 'resource';
      rt: ResourceType;
      namespace?: string;
      name?: string;
      subresource?: string;
      /** Legacy `/watch/` path prefix. */
      watchPrefix: boolean;
    }
  | { kind: 'notFound' };

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export function route(catalog: Catalog, pathname: string): Route {
  const seg = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (pathname === '/version' || pathname === '/version/') return { kind: 'version' };
  let group: string;
  let version: string | undefined;
  let rest: string[];
  if (seg[0] === 'api') {
    if (seg.length === 1) return { kind: 'apiVersions' };
    group = '';
    version = seg[1];
    rest = seg.slice(2);
  } else if (seg[0] === 'apis') {
    if (seg.length === 1) return { kind: 'apiGroupList' };
    group = seg[1];
    if (seg.length === 2) return catalog.groups().has(group) ? { kind: 'apiGroup', group } : { kind: 'notFound' };
    version = seg[2];
    rest = seg.slice(3);
  } else {
    return { kind: 'nonResource', path: pathname };
  }
  if (!catalog.groups().get(group)?.includes(version)) return { kind: 'notFound' };
  if (rest.length === 0) return { kind: 'resourceList', group, version };

  let watchPrefix = false;
  if (rest[0] === 'watch') {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && NAMESPACE_SUBRESOURCES.has(rest[2]))) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  if (rest.length === 0 || rest.length > 3) return { kind: 'notFound' };
  const rt = catalog.byResource(group, version, rest[0]);
  if (!rt) return { kind: 'notFound' };
  if (namespace !== undefined && !rt.namespaced) return { kind: 'notFound' };
  const name = rest[1];
  const subresource = rest[2];
  // A namespaced object can only be addressed by name inside its namespace.
  if (rt.namespaced && namespace === undefined && name !== undefined) return { kind: 'notFound' };
  if (subresource !== undefined && !rt.subresources.includes(subresource)) return { kind: 'notFound' };
  return { kind: 'resource', rt, namespace, name, subresource, watchPrefix };
}
