/**
 * A stand-in Kubernetes API server for tests: a Node http server on 127.0.0.1 speaking enough of the real wire
 * protocol that kubectl and @kubernetes/client-node work against it unchanged.
 *
 *   const server = await startApiServer({ namespaces: ['argo'] });
 *   // kubectl --server server.url ...   |   kc.loadFromOptions({ clusters: [{ name: 'x', server: server.url }], ... })
 *   server.put({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: 'wf', namespace: 'argo' } });
 *   await server.close();
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Access } from './auth';
import { tlsMaterial, type TlsMaterial } from './tls';
import { serveCrds } from './crds';
import {
  controlDelete,
  controlGet,
  controlList,
  controlModify,
  controlRetryPod,
  controlTerminate,
  controlWrite,
  type RetryOptions,
  type TerminateOptions,
  type WriteOptions,
} from './control';
import {
  AGGREGATED_DISCOVERY_TYPE,
  aggregatedDoc,
  apiGroupDoc,
  apiGroupListDoc,
  apiVersionsDoc,
  resourceListDoc,
  versionDoc,
  type VersionInfo,
} from './discovery';
import { ApiError, asApiError, conflict, internalError, methodNotAllowed, pathNotFound, tooManyRequests, unauthorized } from './errors';
import { Faults, type FaultAction, type FaultHandle, type FaultSpec } from './faults';
import { handleResource, verbOf } from './handlers';
import { addWarning, mediaType, parseAccept, queryBool, readBody, sendError, sendJson } from './http';
import { openApiGroupVersionDoc, openApiIndex } from './openapi';
import { PROTOBUF, decodeSelfSubjectAccessReview } from './protobuf';
import { Ids, NanoClock } from './ids';
import { LogStore, type LogInput } from './logs';
import { Catalog, defaultCatalog, type ResourceType } from './resources';
import { route, type Route } from './router';
import type { RequestContext, ServerState } from './state';
import { Store, type ChangeListener } from './store';
import type { AccessRule, KObject, ObjectRef, RequestRecord, UserInfo } from './types';
import { WatchHub, type WatchParams } from './watch';

export type { AccessRule, KObject, ObjectRef, RequestRecord, UserInfo } from './types';
export type { FaultAction, FaultHandle, FaultSpec, FaultRequest } from './faults';
export type { LogInput } from './logs';
export type { ResourceType } from './resources';
export type { RetryOptions, TerminateOptions, WriteOptions } from './control';
export type { WatchParams } from './watch';
export { clientCertificate, tlsMaterial, type CertPair, type TlsMaterial } from './tls';

export interface ApiServerOptions {
  /** Require `Authorization: Bearer <token>` on every request (401 otherwise). */
  token?: string;
  /** Who the caller is (SelfSubjectReview, Forbidden messages). Default `test-user` in `system:authenticated`. */
  user?: UserInfo;
  /** Initial access rules (default: everything allowed). */
  access?: AccessRule[] | null;
  /** Makes uids and generateName suffixes deterministic. */
  seed?: number;
  /** Clock for timestamps (creationTimestamp, managedFields, log lines, ages). */
  now?: () => Date;
  /** Namespaces to create at start, besides default, kube-system, kube-public and kube-node-lease. */
  namespaces?: string[];
  /** Objects to put() at start. */
  objects?: KObject[];
  /** Change events retained for watch resumption (default 1000). */
  watchHistory?: number;
  /** Interval of BOOKMARK events on watches with allowWatchBookmarks (default 60000 ms; 0 disables). */
  bookmarkIntervalMs?: number;
  /** Answer watches from a too-old resourceVersion with HTTP 410 instead of the watch cache's 200 + ERROR event. */
  expiredWatchAsHttp410?: boolean;
  /** The apiserver's --min-request-timeout: a watch without timeoutSeconds ends at a random time in [this, 2 * this) s (default 1800). */
  minRequestTimeoutSeconds?: number;
  /**
   * End every watch cleanly after this many ms, whatever timeoutSeconds asked (a server-side timeout
   * with time compressed: with bookmarks allowed and enabled, the pre-timeout BOOKMARK comes just before). Default 0: never.
   */
  endWatchesAfterMs?: number;
  /** End every follow=true log stream cleanly after this many ms while the container still runs (default 0: never). */
  endLogFollowsAfterMs?: number;
  /**
   * Precision of pods/log `sinceTime`. 'second' (default) is what a real cluster does: the apiserver forwards
   * sinceTime to the kubelet formatted as RFC3339, dropping fractional seconds. 'nanosecond' keeps them.
   */
  logSinceTimePrecision?: 'second' | 'nanosecond';
  /** Serve aggregated discovery (apidiscovery.k8s.io/v2) when asked (default true). */
  aggregatedDiscovery?: boolean;
  /** What /version reports (default v1.32.0, which also selects kubectl 1.32 through the gcloud kubectl dispatcher). */
  version?: VersionInfo;
  /** Serve workflows/status as a subresource (default false, as the Argo CRD in imports/crds declares `subresources: {}`: status is written with the object). */
  workflowStatusSubresource?: boolean;
  /** More resource types to serve. */
  resources?: ResourceType[];
  /**
   * Serve the minimal OpenAPI v3 index and per-group-version documents (default true) so kubectl's default
   * validation works. With false, /openapi/* is 404 and kubectl create/apply need --validate=false.
   */
  openapi?: boolean;
  /**
   * Serve https with a CA and server certificate made at test time (tls.ts), and accept client certificates
   * from that CA (CN is the user, O the groups). Default false: plain http.
   */
  tls?: boolean;
}

export interface FakeApiServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The bearer token required, if any. */
  readonly token?: string;
  /** Every request received, in order. */
  readonly requests: RequestRecord[];
  /** The current resourceVersion (the last one handed out). */
  readonly resourceVersion: string;
  /** Open watch streams. */
  readonly openWatches: number;
  /** The CA and server certificate in TLS mode. */
  readonly tls?: TlsMaterial;
  /** A kubeconfig (YAML) pointing at this server, with the token and a default namespace. */
  kubeconfig(opts?: { namespace?: string; token?: string }): string;
  /**
   * Accepts `token` as `user` (a name, or full UserInfo) for `uses` requests (default: no limit); after that
   * it answers 401 as for a revoked token. Once any token is added, requests without a credential get 401.
   */
  addToken(token: string, user: string | UserInfo, uses?: number): void;
  /** Stops accepting a token added with addToken: the next request with it gets 401. */
  revokeToken(token: string): void;

  put(obj: KObject, opts?: WriteOptions): KObject;
  get(ref: ObjectRef): KObject | undefined;
  list(apiVersion: string, kind: string, namespace?: string): KObject[];
  update(obj: KObject, opts?: WriteOptions): KObject;
  modify(ref: ObjectRef, fn: (draft: KObject) => KObject | void, opts?: WriteOptions): KObject;
  delete(ref: ObjectRef): KObject | undefined;

  appendLog(namespace: string, pod: string, container: string, lines: LogInput | LogInput[]): void;
  terminateContainer(namespace: string, pod: string, container: string, opts?: TerminateOptions): void;
  logLines(namespace: string, pod: string, container: string): string[];

  setAccess(rules: AccessRule[] | null): void;

  inject(spec: FaultSpec): FaultHandle;
  /** Calls `listener` synchronously after every change of the store (as the watch cache sees them); returns its removal. */
  onChange(listener: ChangeListener): () => void;
  clearFaults(): void;
  replacePodWithRetry(namespace: string, name: string, opts?: RetryOptions): { deleted?: KObject; created: KObject };
  /** Sends ERROR 410 Expired on open watches (optionally filtered) and ends them; returns how many. */
  expireWatches(filter?: (p: WatchParams) => boolean): number;
  /** Ends open watches abruptly; returns how many. */
  dropWatches(filter?: (p: WatchParams) => boolean): number;
  sendBookmarks(): void;
  /** Forgets watch history: resuming from any earlier resourceVersion now gets 410 Expired. */
  compactHistory(): void;
  clearRequests(): void;

  /** Stops listening, ends every watch and log stream and closes every connection. */
  close(): Promise<void>;
}

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function startApiServer(options: ApiServerOptions = {}): Promise<FakeApiServer> {
  const now = options.now ?? (() => new Date());
  const catalog = new Catalog(defaultCatalog({ workflowStatusSubresource: options.workflowStatusSubresource, extraResources: options.resources }));
  const store = new Store(options.watchHistory ?? 1000);
  const access = new Access(options.user ?? { username: 'test-user', groups: ['system:authenticated'] }, options.token);
  access.rules = options.access ?? null;
  const state: ServerState = {
    catalog,
    store,
    ids: new Ids(options.seed),
    now,
    logs: new LogStore(new NanoClock(now), now, options.logSinceTimePrecision ?? 'second', options.endLogFollowsAfterMs ?? 0),
    faults: new Faults(),
    access,
    watches: new WatchHub({
      store,
      now,
      bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
      expiredAsHttp410: options.expiredWatchAsHttp410 ?? false,
      minRequestTimeoutSeconds: options.minRequestTimeoutSeconds ?? 1800,
      endAfterMs: options.endWatchesAfterMs ?? 0,
    }),
    version: options.version ?? { major: '1', minor: '32', gitVersion: 'v1.32.0' },
    aggregatedDiscovery: options.aggregatedDiscovery ?? true,
    openapi: options.openapi ?? true,
  };
  const requests: RequestRecord[] = [];
  serveCrds(store, catalog);

  for (const ns of [...SYSTEM_NAMESPACES, ...(options.namespaces ?? [])]) {
    if (!controlGet(state, { apiVersion: 'v1', kind: 'Namespace', name: ns })) {
      controlWrite(state, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } }, {}, false);
    }
  }
  for (const obj of options.objects ?? []) controlWrite(state, obj, {}, false);

  const tls = options.tls ? tlsMaterial() : undefined;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    void onRequest(state, requests, req, res);
  };
  // requestCert without rejectUnauthorized: a client certificate is optional, and verified against the CA.
  const server = tls
    ? https.createServer({ key: tls.server.key, cert: tls.server.cert, ca: tls.ca.cert, requestCert: true, rejectUnauthorized: false }, handler)
    : http.createServer(handler);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  let closed: Promise<void> | undefined;

  return {
    url,
    port,
    token: options.token,
    tls,
    requests,
    get resourceVersion() {
      return String(store.resourceVersion);
    },
    get openWatches() {
      return state.watches.streams.size;
    },
    kubeconfig(opts = {}) {
      const token = opts.token ?? options.token;
      return [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: stand-in',
        '  cluster:',
        `    server: ${url}`,
        // Plain http: client-node refuses http:// unless TLS verification is marked skipped; kubectl ignores it.
        tls ? `    certificate-authority-data: ${Buffer.from(tls.ca.cert).toString('base64')}` : '    insecure-skip-tls-verify: true',
        'users:',
        '- name: stand-in',
        `  user: ${token ? `{token: ${JSON.stringify(token)}}` : '{}'}`,
        'contexts:',
        '- name: stand-in',
        '  context:',
        '    cluster: stand-in',
        '    user: stand-in',
        `    namespace: ${opts.namespace ?? 'default'}`,
        'current-context: stand-in',
        '',
      ].join('\n');
    },
    put: (obj, opts = {}) => controlWrite(state, obj, opts, false),
    get: (ref) => controlGet(state, ref),
    list: (apiVersion, kind, namespace) => controlList(state, apiVersion, kind, namespace),
    update: (obj, opts = {}) => controlWrite(state, obj, opts, true),
    modify: (ref, fn, opts = {}) => controlModify(state, ref, fn, opts),
    delete: (ref) => controlDelete(state, ref),
    appendLog: (ns, pod, container, lines) => state.logs.append(ns, pod, container, lines),
    terminateContainer: (ns, pod, container, opts = {}) => controlTerminate(state, ns, pod, container, opts),
    logLines: (ns, pod, container) => state.logs.lines(ns, pod, container),
    setAccess: (rules) => {
      access.rules = rules;
    },
    addToken: (token, user, uses = Infinity) => {
      access.tokens.set(token, { user: typeof user === 'string' ? { username: user, groups: ['system:authenticated'] } : user, usesLeft: uses });
    },
    revokeToken: (token) => {
      const grant = access.tokens.get(token);
      if (grant) grant.usesLeft = 0;
    },
    inject: (spec) => state.faults.add(spec),
    onChange: (listener) => state.store.subscribe(listener),
    clearFaults: () => state.faults.clear(),
    replacePodWithRetry: (ns, name, opts = {}) => controlRetryPod(state, ns, name, opts),
    expireWatches: (filter) => state.watches.expireAll(filter),
    dropWatches: (filter) => state.watches.dropAll(filter),
    sendBookmarks: () => state.watches.bookmarkAll(),
    compactHistory: () => store.compact(),
    clearRequests: () => {
      requests.length = 0;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        state.watches.closeAll();
        state.logs.closeAll();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

// ---- request handling --------------------------------------------------------------------------------------------

async function onRequest(state: ServerState, requests: RequestRecord[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://stand-in.invalid');
  const method = (req.method ?? 'GET').toUpperCase();
  const record: RequestRecord = {
    method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    search: url.search.replace(/^\?/, ''),
    contentType: req.headers['content-type'],
    accept: req.headers.accept,
    userAgent: req.headers['user-agent'],
    bearer: /^Bearer\s/i.test(req.headers.authorization ?? ''),
  };
  requests.push(record);
  res.on('close', () => {
    if (res.headersSent) record.status = res.statusCode;
  });

  const r = route(state.catalog, url.pathname);
  const isWatch = r.kind === 'resource' && method === 'GET' && (r.watchPrefix || queryBool(url.searchParams.get('watch')));
  const ctx: RequestContext = {
    req,
    res,
    method,
    path: url.pathname,
    query: url.searchParams,
    accept: parseAccept(req.headers.accept),
    faultRequest: {
      method,
      path: url.pathname,
      query: url.searchParams,
      watch: isWatch,
      log: r.kind === 'resource' && r.subresource === 'log',
    },
  };

  try {
    const user = state.access.authenticate(req);
    if (!user) throw unauthorized();
    record.user = user.username;
    ctx.user = user;
    const action = state.faults.take('request', ctx.faultRequest);
    if (action) {
      const handled = await applyRequestFault(action, r, ctx);
      if (handled) return;
    }
    await dispatch(state, ctx, r, isWatch);
  } catch (e) {
    const err = asApiError(e);
    if (!res.headersSent && !res.destroyed) sendError(res, err);
    else if (!res.writableEnded) res.destroy();
  }
}

/** Performs a request-stage fault; true when the request has been answered (or killed). */
async function applyRequestFault(action: FaultAction, r: Route, ctx: RequestContext): Promise<boolean> {
  switch (action.type) {
    case 'reset':
      ctx.req.socket.destroy();
      return true;
    case 'loseResponse': {
      // The handler runs as usual; its answer never leaves: the socket is destroyed instead.
      const res = ctx.res;
      res.writeHead = (() => res) as unknown as typeof res.writeHead;
      res.end = (() => {
        ctx.req.socket.destroy();
        return res;
      }) as unknown as typeof res.end;
      return false;
    }
    case 'delay':
      await sleep(action.ms);
      return false;
    case 'warning':
      addWarning(ctx.res, action.text);
      return false;
    case 'conflict': {
      const err =
        r.kind === 'resource'
          ? conflict(r.rt, r.name ?? '', action.message)
          : new ApiError(409, 'Conflict', action.message ?? 'Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again');
      throw err;
    }
    case 'tooManyRequests':
      throw tooManyRequests(action.retryAfterSeconds ?? 1);
    case 'internalError':
      throw internalError(action.message ?? 'injected fault');
    case 'status':
      throw new ApiError(action.code, action.reason, action.message, r.kind === 'resource' ? { name: r.name, group: r.rt.group, kind: r.rt.resource } : undefined);
    default:
      return false;
  }
}

async function dispatch(state: ServerState, ctx: RequestContext, r: Route, isWatch: boolean): Promise<void> {
  const { res } = ctx;
  const host = ctx.req.headers.host ?? '127.0.0.1';
  const discovery = (body: unknown, aggregated = false) =>
    sendJson(res, 200, body, { Vary: 'Accept' }, aggregated ? AGGREGATED_DISCOVERY_TYPE : 'application/json');
  const wantsAggregated = state.aggregatedDiscovery && ctx.accept.aggregatedDiscovery;
  switch (r.kind) {
    case 'version':
      return sendJson(res, 200, versionDoc(state.version));
    case 'apiVersions':
      return wantsAggregated ? discovery(aggregatedDoc(state.catalog, true), true) : discovery(apiVersionsDoc(host));
    case 'apiGroupList':
      return wantsAggregated ? discovery(aggregatedDoc(state.catalog, false), true) : discovery(apiGroupListDoc(state.catalog));
    case 'apiGroup':
      return discovery(apiGroupDoc(state.catalog, r.group));
    case 'resourceList':
      return discovery(resourceListDoc(state.catalog, r.group, r.version));
    case 'nonResource':
      if (state.openapi && r.path === '/openapi/v3') return sendJson(res, 200, openApiIndex(state.catalog, state.version.gitVersion));
      if (state.openapi && r.path.startsWith('/openapi/v3/')) {
        const m = /^\/openapi\/v3\/(?:api\/([^/]+)|apis\/([^/]+)\/([^/]+))$/.exec(r.path);
        const group = m ? (m[1] ? '' : m[2]) : undefined;
        const version = m ? (m[1] ?? m[3]) : undefined;
        if (group !== undefined && version !== undefined && state.catalog.groups().get(group)?.includes(version)) {
          return sendJson(res, 200, openApiGroupVersionDoc(state.catalog, group, version, state.version.gitVersion));
        }
        throw pathNotFound();
      }
      if (['/healthz', '/livez', '/readyz'].includes(r.path)) {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('ok');
        return;
      }
      throw pathNotFound();
    case 'notFound':
      throw pathNotFound();
    case 'resource': {
      const { rt } = r;
      if (rt.virtual) return handleReview(state, ctx, rt);
      const attrs = {
        verb: verbOf(ctx.method, r.name !== undefined, isWatch),
        apiGroup: rt.group,
        resource: rt.resource,
        subresource: r.subresource,
        namespace: r.namespace,
        name: r.name,
      };
      if (!state.access.allows(attrs)) throw state.access.forbiddenError(attrs);
      if (r.subresource === 'log') {
        if (ctx.method !== 'GET') throw methodNotAllowed();
        state.logs.serve(state.store, res, {
          rt,
          namespace: r.namespace!,
          pod: r.name!,
          query: ctx.query,
          fault: state.faults.take('log', ctx.faultRequest),
        });
        return;
      }
      if (r.subresource && !['GET', 'PUT', 'PATCH'].includes(ctx.method)) throw methodNotAllowed();
      return handleResource(state, ctx, { rt, namespace: r.namespace, name: r.name, subresource: r.subresource, watch: isWatch });
    }
  }
}

/** SelfSubjectReview / SelfSubjectAccessReview: create-only, answered from the configured user and rules. */
async function handleReview(state: ServerState, ctx: RequestContext, rt: ResourceType): Promise<void> {
  if (ctx.method !== 'POST') throw methodNotAllowed();
  const raw = await readBody(ctx.req);
  let body: unknown = {};
  if (mediaType(ctx.req.headers['content-type']) === PROTOBUF) {
    if (rt.kind === 'SelfSubjectAccessReview') body = decodeSelfSubjectAccessReview(raw);
  } else if (raw.length) {
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (e) {
      throw new ApiError(400, 'BadRequest', `couldn't get version/kind; json parse error: ${(e as Error).message}`);
    }
  }
  if (rt.kind === 'SelfSubjectReview') return sendJson(ctx.res, 201, state.access.selfSubjectReview(ctx.user));
  if (rt.kind === 'SelfSubjectAccessReview') return sendJson(ctx.res, 201, state.access.selfSubjectAccessReview(body));
  throw pathNotFound();
}
