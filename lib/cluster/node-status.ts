/**
 * Where a Workflow's node status is, and reading it from there.
 *
 * Argo keeps the step list in `status.nodes` until the whole Workflow JSON passes its size limit
 * (Argo Workflows v4.1.2 workflow/packer/packer.go: `getMaxWorkflowSize`, 1 MiB unless the
 * controller's MAX_WORKFLOW_SIZE says otherwise; `CompressWorkflowIfNeeded` -> `compressWorkflow`).
 * Then the nodes' JSON is compressed and base64-encoded into `status.compressedNodes` and
 * `status.nodes` is emptied (`file.CompressEncodeString`, util/file/fileutil.go: gzip by default,
 * zstd or brotli when WORKFLOW_COMPRESSION_ALGORITHM says so; `DecompressContent` tells them apart
 * by the gzip and zstd magic bytes and takes anything else for brotli). Readers decode it only when
 * `status.nodes` is empty (packer.go `DecompressWorkflow`), and so does this.
 *
 * When even the compressed form is too large, or the controller sets ALWAYS_OFFLOAD_NODE_STATUS,
 * and node status offloading is configured, the nodes go to Argo's database instead
 * (workflow/hydrator/hydrator.go `Dehydrate`: `offloadNodeStatusRepo.Save`, persist/sqldb
 * offload_node_status_repo.go `Save`), `status.nodes` and `status.compressedNodes` are cleared and
 * `status.offloadNodeStatusVersion` names the saved version. Only the Argo Server (or the
 * controller) can read them back (hydrator.go `Hydrate`); the Kubernetes API cannot.
 */
import * as zlib from 'node:zlib';
import type { ArgoNode, Workflow } from './workflow';

/** Where the nodes were found, or why there are none to show. */
export type NodeSource =
  /** `status.nodes` (possibly empty: a workflow that has not started). */
  | { readonly from: 'nodes' }
  /** Decoded from `status.compressedNodes`. */
  | { readonly from: 'compressedNodes'; readonly algorithm: 'gzip' | 'zstd' | 'brotli' }
  /** In Argo's database (node status offloading): not readable through the Kubernetes API. */
  | { readonly from: 'offloaded'; readonly version: string }
  /** `status.compressedNodes` is there but could not be read. */
  | { readonly from: 'unreadable'; readonly problem: string };

/** The nodes of a workflow and where they came from. */
export interface NodeStatus {
  readonly nodes: Readonly<Record<string, ArgoNode>>;
  readonly source: NodeSource;
}

/** Decompressed node status larger than this is refused (a guard against a corrupt or hostile field). */
const MAX_DECODED_BYTES = 512 * 1024 * 1024;

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** Decoded results, per status object (a live view redraws the same state many times). */
const decoded = new WeakMap<object, NodeStatus>();

/** The workflow's nodes, wherever Argo put them; `{}` (with the reason in `source`) when they cannot be read. */
export function nodeStatusOf(wf: Workflow): NodeStatus {
  const status = wf.status;
  if (!status) return { nodes: {}, source: { from: 'nodes' } };
  const cached = decoded.get(status);
  if (cached) return cached;
  const result = readNodeStatus(status);
  decoded.set(status, result);
  return result;
}

/** The workflow's nodes (see {@link nodeStatusOf}). */
export function nodesOf(wf: Workflow): Readonly<Record<string, ArgoNode>> {
  return nodeStatusOf(wf).nodes;
}

function readNodeStatus(status: NonNullable<Workflow['status']>): NodeStatus {
  const inline = status.nodes ?? {};
  const compressed = status.compressedNodes;
  if (Object.keys(inline).length > 0 || typeof compressed !== 'string' || compressed === '') {
    const offloaded = status.offloadNodeStatusVersion;
    if (Object.keys(inline).length === 0 && typeof offloaded === 'string' && offloaded !== '') {
      return { nodes: {}, source: { from: 'offloaded', version: offloaded } };
    }
    return { nodes: inline, source: { from: 'nodes' } };
  }
  try {
    const { nodes, algorithm } = decodeCompressedNodes(compressed);
    return { nodes, source: { from: 'compressedNodes', algorithm } };
  } catch (e) {
    return { nodes: {}, source: { from: 'unreadable', problem: (e as Error).message } };
  }
}

/**
 * Decodes `status.compressedNodes` as Argo encodes it: base64 (standard alphabet) of the
 * gzip, zstd or brotli compression of the nodes' JSON map.
 * @throws Error saying what is wrong with the data
 */
export function decodeCompressedNodes(encoded: string): { nodes: Record<string, ArgoNode>; algorithm: 'gzip' | 'zstd' | 'brotli' } {
  const text = encoded.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new Error('status.compressedNodes is not base64');
  }
  const raw = Buffer.from(text, 'base64');
  const opts = { maxOutputLength: MAX_DECODED_BYTES };
  let algorithm: 'gzip' | 'zstd' | 'brotli';
  let json: Buffer;
  try {
    if (raw.subarray(0, 2).equals(GZIP_MAGIC)) {
      algorithm = 'gzip';
      json = zlib.gunzipSync(raw, opts);
    } else if (raw.subarray(0, 4).equals(ZSTD_MAGIC)) {
      algorithm = 'zstd';
      json = zstdDecompress(raw, opts);
    } else {
      algorithm = 'brotli';
      json = zlib.brotliDecompressSync(raw, opts);
    }
  } catch (e) {
    const why = (e as Error).message;
    throw new Error(`status.compressedNodes could not be decompressed (${why})`);
  }
  let nodes: unknown;
  try {
    nodes = JSON.parse(json.toString('utf8'));
  } catch {
    throw new Error(`status.compressedNodes holds ${algorithm} data that is not JSON`);
  }
  if (nodes === null || typeof nodes !== 'object' || Array.isArray(nodes)) {
    throw new Error('status.compressedNodes does not hold a map of nodes');
  }
  return { nodes: nodes as Record<string, ArgoNode>, algorithm };
}

/** zstd, where this Node.js has it (zlib.zstdDecompressSync: Node 22.15 / 23.8 and later). */
function zstdDecompress(raw: Buffer, opts: { maxOutputLength: number }): Buffer {
  const fn = (zlib as unknown as { zstdDecompressSync?: (b: Buffer, o: { maxOutputLength: number }) => Buffer }).zstdDecompressSync;
  if (typeof fn !== 'function') {
    throw new Error("it is zstd (the controller's WORKFLOW_COMPRESSION_ALGORITHM=zstd), which this Node.js cannot decompress; Node.js 22.15 or later can");
  }
  return fn(raw, opts);
}
