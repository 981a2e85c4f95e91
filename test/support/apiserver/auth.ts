/**
 * Authentication (an optional bearer token, tokens a test adds, revokes or limits, and, in TLS mode, client
 * certificates) and authorization (RBAC-like allow rules), plus the self-review
 * endpoints kubectl uses: `auth whoami` (SelfSubjectReview) and `auth can-i` (SelfSubjectAccessReview).
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
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

/** A bearer token a test registered: who it authenticates, and how many more requests it is good for. */
export interface TokenGrant {
  user: UserInfo;
  /** Requests left before it stops authenticating (then 401, as a revoked token). Infinity: no limit. */
  usesLeft: number;
}

export class Access {
  /** null: everything is allowed. */
  rules: AccessRule[] | null = null;
  /** Tokens added by the test (besides the static one). */
  readonly tokens = new Map<string, TokenGrant>();

  constructor(
    readonly user: UserInfo,
    private readonly token: string | undefined,
  ) {}

  /** True when some credential is required (a static token or tokens added by the test). */
  get required(): boolean {
    return this.token !== undefined || this.tokens.size > 0;
  }

  /**
   * Who sent the request, or undefined when it does not authenticate. Like the kube-apiserver's union
   * authenticator, a verified client certificate is tried first (CN is the user, O the groups), then the
   * bearer token. Without any configured credential every request is the configured user.
   */
  authenticate(req: IncomingMessage): UserInfo | undefined {
    const socket = req.socket as TLSSocket;
    if (socket.encrypted && socket.authorized) {
      const subject = socket.getPeerCertificate().subject as unknown as Record<string, string | string[]> | undefined;
      const cn = subject?.CN;
      const o = subject?.O;
      if (typeof cn === 'string') return { username: cn, groups: [...(o === undefined ? [] : Array.isArray(o) ? o : [o]), 'system:authenticated'] };
    }
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    const presented = m?.[1].trim();
    if (presented !== undefined) {
      const grant = this.tokens.get(presented);
      if (grant && grant.usesLeft > 0) {
        grant.usesLeft--;
        return grant.user;
      }
      if (this.token !== undefined) {
        const a = Buffer.from(presented);
        const b = Buffer.from(this.token);
        if (a.length === b.length && timingSafeEqual(a, b)) return this.user;
      }
    }
    return this.required ? undefined : this.user;
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

  selfSubjectReview(user: UserInfo = this.user): Record<string, unknown> {
    const userInfo: Record<string, unknown> = { username: user.username };
    if (user.uid) userInfo.uid = user.uid;
    userInfo.groups = user.groups ?? ['system:authenticated'];
    if (user.extra) userInfo.extra = user.extra;
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
