/**
 * What request handlers share: the server-wide state and the per-request context.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Access } from './auth';
import type { VersionInfo } from './discovery';
import type { FaultRequest, Faults } from './faults';
import type { AcceptInfo } from './http';
import type { Ids } from './ids';
import type { LogStore } from './logs';
import type { Catalog } from './resources';
import type { Store } from './store';
import type { UserInfo } from './types';
import type { WatchHub } from './watch';

export interface ServerState {
  catalog: Catalog;
  store: Store;
  ids: Ids;
  now: () => Date;
  logs: LogStore;
  faults: Faults;
  access: Access;
  watches: WatchHub;
  version: VersionInfo;
  aggregatedDiscovery: boolean;
  openapi: boolean;
}

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  path: string;
  query: URLSearchParams;
  accept: AcceptInfo;
  /** Who the request authenticated as (set once authenticated). */
  user?: UserInfo;
  faultRequest: FaultRequest;
}
