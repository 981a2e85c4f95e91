/**
 * Discovery documents: /version, /api, /apis, /apis/<group>, /api(s)/<group>/<version>, in both the legacy
 * form and the aggregated form (apidiscovery.k8s.io/v2) that kubectl asks for first.
 */
import type { Catalog, ResourceType } from './resources';

export const AGGREGATED_DISCOVERY_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

export interface VersionInfo {
  major: string;
  minor: string;
  gitVersion: string;
}

export function versionDoc(v: VersionInfo): Record<string, string> {
  return {
    major: v.major,
    minor: v.minor,
    gitVersion: v.gitVersion,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2025-01-01T00:00:00Z',
    goVersion: 'go1.23.0',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

export function apiVersionsDoc(host: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: host }] };
}

function groupDoc(name: string, versions: string[]): Record<string, unknown> {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

export function apiGroupListDoc(catalog: Catalog): Record<string, unknown> {
  const groups = [...catalog.groups()].filter(([g]) => g !== '').map(([g, vs]) => groupDoc(g, vs));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

export function apiGroupDoc(catalog: Catalog, group: string): Record<string, unknown> {
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(group, catalog.groups().get(group) ?? []) };
}

function subresourceVerbs(sub: string): string[] {
  if (sub === 'log') return ['get'];
  if (sub === 'finalize') return ['update'];
  return ['get', 'patch', 'update'];
}

export function resourceListDoc(catalog: Catalog, group: string, version: string): Record<string, unknown> {
  const resources: Record<string, unknown>[] = [];
  for (const rt of catalog.inGroupVersion(group, version)) {
    const r: Record<string, unknown> = { name: rt.resource, singularName: rt.singular, namespaced: rt.namespaced, kind: rt.kind, verbs: rt.verbs };
    if (rt.shortNames?.length) r.shortNames = rt.shortNames;
    if (rt.categories?.length) r.categories = rt.categories;
    resources.push(r);
    for (const sub of rt.subresources) {
      resources.push({ name: `${rt.resource}/${sub}`, singularName: '', namespaced: rt.namespaced, kind: rt.kind, verbs: subresourceVerbs(sub) });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

function aggregatedResource(rt: ResourceType): Record<string, unknown> {
  const r: Record<string, unknown> = {
    resource: rt.resource,
    responseKind: { group: rt.group, version: rt.version, kind: rt.kind },
    scope: rt.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: rt.singular,
    verbs: rt.verbs,
  };
  if (rt.shortNames?.length) r.shortNames = rt.shortNames;
  if (rt.categories?.length) r.categories = rt.categories;
  if (rt.subresources.length) {
    r.subresources = rt.subresources.map((sub) => ({
      subresource: sub,
      responseKind: { group: rt.group, version: rt.version, kind: rt.kind },
      verbs: subresourceVerbs(sub),
    }));
  }
  return r;
}

/** `/api` (core only) or `/apis` (every named group) as an APIGroupDiscoveryList. */
export function aggregatedDoc(catalog: Catalog, core: boolean): Record<string, unknown> {
  const items = [...catalog.groups()]
    .filter(([g]) => (core ? g === '' : g !== ''))
    .map(([g, versions]) => ({
      metadata: { name: g, creationTimestamp: null },
      versions: versions.map((v) => ({ version: v, resources: catalog.inGroupVersion(g, v).map(aggregatedResource), freshness: 'Current' })),
    }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items };
}
