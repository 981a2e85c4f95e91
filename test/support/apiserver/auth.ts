/**
 * Authentication (an optional bearer token) and authorization (RBAC-like allow rules), plus the self-review
 * endpoints kubectl uses: `auth whoami` (SelfSubjectReview) and `auth can-i` (SelfSubjectAccessReview).
 */
import type { IncomingMessage } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { badRequest, forbidden, type ApiError } from './errors';
import type { AccessRule, UserInfo } from './types';

export interface RequestAttributes {
  verb: string;
  apiGroup?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** Set for non-resource requests instead of apiGroup/resource. */
  path?: string;
}

function listMatches(list: string[] | undefined, value: string): boolean {
  return list === undefined || list.includes('*') || list.includes(value);
}

function resourceMatches(list: string[] | undefined, resource: string, subresource?: string): boolean {
  if (list === undefined || list.includes('*')) return true;
  if (!subresource) return list.includes(resource);
  return list.includes(`${resource}/${subresource}`) || list.includes(`*/${subresource}`) || list.includes(`${resource}/*`);
}

export function ruleAllows(rule: AccessRule, a: RequestAttributes): boolean {
  if (!listMatches(rule.verbs, a.verb)) return false;
  if (a.path !== undefined) {
    return (rule.nonResourceURLs ?? []).some((u) => u === '*' || u === a.path || (u.endsWith('*') && a.path!.startsWith(u.slice(0, -1))));
  }
  if (rule.nonResourceURLs && !rule.apiGroups && !rule.resources) return false;
  if (!listMatches(rule.apiGroups, a.apiGroup ?? '')) return false;
  if (!resourceMatches(rule.resources, a.resource ?? '', a.subresource)) return false;
  if (!listMatches(rule.namespaces, a.namespace ?? '')) return false;
  if (rule.resourceNames && rule.resourceNames.length && !(a.name && rule.resourceNames.includes(a.name))) return false;
  return true;
}

export class Access {
  /** null: everything is allowed. */
  rules: AccessRule[] | null = null;

  constructor(
    readonly user: UserInfo,
    private readonly token: string | undefined,
  ) {}

  /** True when no token is configured or the request carries `Authorization: Bearer <token>`. */
  authenticate(req: IncomingMessage): boolean {
    if (this.token === undefined) return true;
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (!m) return false;
    const a = Buffer.from(m[1].trim());
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  allows(a: RequestAttributes): boolean {
    return this.rules === null || this.rules.some((r) => ruleAllows(r, a));
  }

  forbiddenError(a: RequestAttributes): ApiError {
    const user = JSON.stringify(this.user.username);
    if (a.path !== undefined) return forbidden(`forbidden: User ${user} cannot ${a.verb} path ${JSON.stringify(a.path)}`, {});
    const group = a.apiGroup ?? '';
    const resource = a.resource ?? '';
    const qualified = group ? `${resource}.${group}` : resource;
    const subject = a.name ? `${qualified} ${JSON.stringify(a.name)}` : qualified;
    const full = a.subresource ? `${resource}/${a.subresource}` : resource;
    const scope = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
    return forbidden(`${subject} is forbidden: User ${user} cannot ${a.verb} resource ${JSON.stringify(full)} in API group ${JSON.stringify(group)} ${scope}`, {
      name: a.name,
      group,
      kind: resource,
    });
  }

  selfSubjectReview(): Record<string, unknown> {
    const userInfo: Record<string, unknown> = { username: this.user.username };
    if (this.user.uid) userInfo.uid = this.user.uid;
    userInfo.groups = this.user.groups ?? ['system:authenticated'];
    if (this.user.extra) userInfo.extra = this.user.extra;
    return { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null }, status: { userInfo } };
  }

  selfSubjectAccessReview(body: unknown): Record<string, unknown> {
    const spec = (body as { spec?: Record<string, any> } | null)?.spec;
    if (!spec || (!spec.resourceAttributes && !spec.nonResourceAttributes)) {
      throw badRequest('SelfSubjectAccessReview is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified');
    }
    let attrs: RequestAttributes;
    if (spec.resourceAttributes) {
      const r = spec.resourceAttributes;
      attrs = { verb: r.verb ?? '', apiGroup: r.group ?? '', resource: r.resource ?? '', subresource: r.subresource || undefined, namespace: r.namespace || undefined, name: r.name || undefined };
    } else {
      attrs = { verb: spec.nonResourceAttributes.verb ?? '', path: spec.nonResourceAttributes.path ?? '' };
    }
    const allowed = this.allows(attrs);
    return {
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec,
      status: allowed ? { allowed: true } : { allowed: false },
    };
  }
}
