/**
 * Large workflows: node status that Argo compressed into status.compressedNodes (shown as if it
 * were status.nodes) or offloaded to its database (explained, with what to do).
 */
import * as zlib from 'node:zlib';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ENV, FakeArgo, NS, putWorkflow, startCluster, type TestCluster } from './support/harness';

const WF = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow' };

/** What Argo's packer does past its size limit: the nodes' JSON, compressed, base64, into compressedNodes. */
function compressNodes(c: TestCluster, name: string, compress: (b: Buffer) => Buffer): void {
  c.server.modify({ ...WF, namespace: NS, name }, (d) => {
    d.status.compressedNodes = compress(Buffer.from(JSON.stringify(d.status.nodes))).toString('base64');
    delete d.status.nodes;
  });
}

/** A finished workflow whose predictor failed. */
function failedWorkflow(c: TestCluster, name: string): void {
  putWorkflow(c.server, name);
  const argo = new FakeArgo(c.server, name);
  argo.start();
  argo.finishPod(argo.startPod('models-downloader'));
  argo.finishPod(argo.startPod('predictor'), { exitCode: 1, message: 'CUDA out of memory' });
  argo.complete('Failed', 'child failed');
}

describe('status and watch of large workflows', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster();
    expect((await cli(['deploy', '--env', ENV], { cluster: c })).code).toBe(0);
  });
  afterAll(async () => {
    await c.close();
  });

  for (const [algorithm, compress] of [
    ['gzip', (b: Buffer) => gzipSync(b)],
    ['brotli', (b: Buffer) => brotliCompressSync(b)],
  ] as const) {
    it(`status shows the steps of status.compressedNodes (${algorithm}), the failed one with its message`, async () => {
      const name = `big-${algorithm}`;
      failedWorkflow(c, name);
      compressNodes(c, name, compress);
      expect(c.server.get({ ...WF, namespace: NS, name })?.status.nodes).toBeUndefined();
      const r = await cli(['status', name], { cluster: c });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^models-downloader\s+Succeeded/m);
      expect(r.stdout).toMatch(/^predictor\s+Failed\s+\d+s\s+CUDA out of memory$/m);
      expect(r.stdout).not.toMatch(/^predictor\s+Waiting/m);
      expect(r.stdout).toMatch(new RegExp(`^Step list:\\s+decoded from status\\.compressedNodes \\(${algorithm}\\)`, 'm'));
    });
  }

  it('watch of a compressed workflow exits by its outcome, naming the failed step', async () => {
    failedWorkflow(c, 'big-watch');
    compressNodes(c, 'big-watch', (b) => gzipSync(b));
    const r = await cli(['watch', 'big-watch'], { cluster: c });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/step predictor failed: CUDA out of memory/);
  });

  it('status of an offloaded workflow says where its steps are and what to do, and lists none as Waiting', async () => {
    failedWorkflow(c, 'huge');
    c.server.modify({ ...WF, namespace: NS, name: 'huge' }, (d) => {
      delete d.status.nodes;
      d.status.offloadNodeStatusVersion = 'fnv:1234567890';
    });
    const r = await cli(['status', 'huge'], { cluster: c });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Argo keeps this workflow's step list in its database \(node status offloading, version fnv:1234567890\); the Kubernetes API cannot read it/);
    expect(r.stdout).toContain(`argo get huge -n ${NS}`);
    expect(r.stdout).toMatch(/Argo UI/);
    expect(r.stdout).toMatch(/fanOut\.scansPerPod/);
    expect(r.stdout).not.toMatch(/Waiting/);
    const w = await cli(['watch', 'huge'], { cluster: c });
    expect(w.code).toBe(1);
    expect(w.stdout).toMatch(/Argo keeps this workflow's step list in its database/);
    const json = JSON.parse((await cli(['status', 'huge', '-o', 'json'], { cluster: c })).stdout) as { nodeSource: unknown; steps: unknown[] };
    expect(json.nodeSource).toEqual({ from: 'offloaded', version: 'fnv:1234567890' });
    expect(json.steps).toEqual([]);
  });

  it('status says what is wrong with compressedNodes that cannot be decoded, instead of crashing', async () => {
    const cases: [string, string, RegExp][] = [
      ['bad-b64', 'this is not base64!', /No steps to show: status\.compressedNodes is not base64\./],
      ['bad-gzip', Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from('garbage')]).toString('base64'), /No steps to show: status\.compressedNodes could not be decompressed \(/],
      ['bad-json', gzipSync(Buffer.from('{"a":')).toString('base64'), /No steps to show: status\.compressedNodes holds gzip data that is not JSON\./],
      // zstd (WORKFLOW_COMPRESSION_ALGORITHM=zstd): Node.js without zlib zstd says so; with it, this frame is corrupt.
      [
        'bad-zstd',
        Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3]).toString('base64'),
        'zstdDecompressSync' in zlib ? /could not be decompressed \(/ : /could not be decompressed \(it is zstd .*which this Node\.js cannot decompress; Node\.js 22\.15 or later can\)/,
      ],
    ];
    for (const [name, data, message] of cases) {
      failedWorkflow(c, name);
      c.server.modify({ ...WF, namespace: NS, name }, (d) => {
        delete d.status.nodes;
        d.status.compressedNodes = data;
      });
      const r = await cli(['status', name], { cluster: c });
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      expect(r.stdout, name).toMatch(message);
      expect(r.stdout, name).toContain(`argo get ${name} -n ${NS}`);
      expect(r.stdout, name).not.toMatch(/Waiting/);
    }
  });
});
