/**
 * Server-side printing: meta.k8s.io/v1 Table responses, as `kubectl get` asks for them.
 */
import type { PrinterColumn, ResourceType } from './resources';
import type { KObject } from './types';

export interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

const NAME_COL: ColumnDefinition = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  priority: 0,
};

const AGE_DESC =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

function col(name: string, type = 'string', priority = 0, description = '', format = ''): ColumnDefinition {
  return { name, type, format, description, priority };
}

/** Go's duration.HumanDuration, as the apiserver prints ages. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

function age(ts: string | undefined, now: Date): string {
  if (!ts) return '<unknown>';
  const t = Date.parse(ts);
  return Number.isNaN(t) ? '<unknown>' : humanDuration(now.getTime() - t);
}

function podStatus(pod: KObject): { ready: string; status: string; restarts: number } {
  const specContainers: any[] = pod.spec?.containers ?? [];
  const statuses: any[] = pod.status?.containerStatuses ?? [];
  let reason: string = pod.status?.reason || pod.status?.phase || 'Unknown';
  let restarts = 0;
  let ready = 0;
  for (const cs of [...statuses].reverse()) {
    restarts += cs.restartCount ?? 0;
    if (cs.ready && cs.state?.running) ready++;
    if (cs.state?.waiting?.reason) reason = cs.state.waiting.reason;
    else if (cs.state?.terminated?.reason) reason = cs.state.terminated.reason;
    else if (cs.state?.terminated) {
      const t = cs.state.terminated;
      reason = t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode ?? 0}`;
    }
  }
  if (pod.metadata.deletionTimestamp) reason = 'Terminating';
  return { ready: `${ready}/${specContainers.length}`, status: reason, restarts };
}

interface Printer {
  columns: ColumnDefinition[];
  cells(obj: KObject, now: Date): unknown[];
}

/** Evaluates the simple JSONPaths CRDs use for printer columns (`.status.phase`, `.spec.items[0].name`). */
function jsonPathValue(obj: unknown, path: string): unknown {
  let cur: any = obj;
  for (const part of path.replace(/^\./, '').split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== '')) {
    if (cur === null || cur === undefined) return undefined;
    cur = cur[part];
  }
  return cur;
}

function crdPrinter(columns: PrinterColumn[]): Printer {
  return {
    columns: [NAME_COL, ...columns.map((c) => col(c.name, c.type, c.priority ?? 0, c.description ?? '', c.format ?? ''))],
    cells: (o, now) => [
      o.metadata.name,
      ...columns.map((c) => {
        const v = jsonPathValue(o, c.jsonPath);
        if (v === undefined || v === null) return null;
        if (c.type === 'date') return age(String(v), now);
        return typeof v === 'object' ? JSON.stringify(v) : v;
      }),
    ],
  };
}

function printerFor(rt: ResourceType): Printer {
  if (rt.columns) return crdPrinter(rt.columns);
  switch (rt.printer) {
    case 'pod':
      return {
        columns: [
          NAME_COL,
          col('Ready', 'string', 0, 'The aggregate readiness state of this pod for accepting traffic.'),
          col('Status', 'string', 0, 'The aggregate status of the containers in this pod.'),
          col('Restarts', 'string', 0, 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
          col('Age', 'string', 0, AGE_DESC),
          col('IP', 'string', 1, 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.'),
          col('Node', 'string', 1, 'NodeName is a request to schedule this pod onto a specific node.'),
        ],
        cells: (o, now) => {
          const s = podStatus(o);
          return [o.metadata.name, s.ready, s.status, String(s.restarts), age(o.metadata.creationTimestamp, now), o.status?.podIP || '<none>', o.spec?.nodeName || '<none>'];
        },
      };
    case 'namespace':
      return {
        columns: [NAME_COL, col('Status', 'string', 0, 'The status of the namespace'), col('Age', 'string', 0, AGE_DESC)],
        cells: (o, now) => [o.metadata.name, o.status?.phase ?? 'Active', age(o.metadata.creationTimestamp, now)],
      };
    case 'configmap':
      return {
        columns: [NAME_COL, col('Data', 'string', 0, 'Data contains the configuration data.'), col('Age', 'string', 0, AGE_DESC)],
        cells: (o, now) => [o.metadata.name, Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length, age(o.metadata.creationTimestamp, now)],
      };
    case 'secret':
      return {
        columns: [NAME_COL, col('Type', 'string', 0, 'The type of the secret'), col('Data', 'string', 0, 'The number of entries in data'), col('Age', 'string', 0, AGE_DESC)],
        cells: (o, now) => [o.metadata.name, o.type ?? 'Opaque', Object.keys(o.data ?? {}).length, age(o.metadata.creationTimestamp, now)],
      };
    default:
      return {
        columns: [NAME_COL, col('Age', rt.custom ? 'date' : 'string', 0, AGE_DESC)],
        cells: (o, now) => [o.metadata.name, age(o.metadata.creationTimestamp, now)],
      };
  }
}

function rowObject(obj: KObject, include: IncludeObject): unknown {
  if (include === 'None') return undefined;
  if (include === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

export function toTable(
  rt: ResourceType,
  objects: KObject[],
  opts: { include: IncludeObject; now: Date; resourceVersion?: string; continueToken?: string; columns?: boolean },
): Record<string, unknown> {
  const printer = printerFor(rt);
  const metadata: Record<string, string> = {};
  if (opts.resourceVersion !== undefined) metadata.resourceVersion = opts.resourceVersion;
  if (opts.continueToken) metadata.continue = opts.continueToken;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: opts.columns === false ? null : printer.columns,
    rows: objects.map((o) => {
      const row: Record<string, unknown> = { cells: printer.cells(o, opts.now) };
      const object = rowObject(o, opts.include);
      if (object !== undefined) row.object = object;
      return row;
    }),
  };
}

export function parseIncludeObject(value: string | null): IncludeObject {
  return value === 'None' || value === 'Object' ? value : 'Metadata';
}
