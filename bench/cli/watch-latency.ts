/**
 * How long from a workflow status change on the API server to the CLI showing it.
 *
 *   npx tsx bench/cli/watch-latency.ts [changes]
 *
 * The stand-in API server (test/support/apiserver) and `sleap-roots watch` run in this process
 * over real HTTP on 127.0.0.1. For each change the workflow's status.message is updated through
 * the server's control API (which emits the watch event), and the clock stops when the CLI's
 * output contains the new message: plain lines (stdout not a terminal) and the live terminal view.
 * Goal: <= 100 ms. Results are printed; nothing asserts on time.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runCli } from '../../lib/cli/program';
import type { CliIO } from '../../lib/cli/io';
import { startApiServer } from '../../test/support/apiserver/index';
import { FakeArgo, putWorkflow } from '../../test/cli/support/harness';

const NS = 'bench';

async function measure(mode: 'plain' | 'tty', changes: number): Promise<number[]> {
  const server = await startApiServer({ namespaces: [NS] });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sleap-roots-bench-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  fs.writeFileSync(kubeconfig, server.kubeconfig({ namespace: NS }));
  putWorkflow(server, 'wf-latency', NS);
  const argo = new FakeArgo(server, 'wf-latency', NS);
  argo.start();
  argo.startPod('predictor');

  let output = '';
  let waiting: { marker: string; resolve: () => void } | undefined;
  const io: CliIO = {
    stdout: {
      write: (t) => {
        output += t;
        if (output.length > 1_000_000) output = output.slice(-10_000);
        if (waiting && output.includes(waiting.marker)) {
          const w = waiting;
          waiting = undefined;
          w.resolve();
        }
      },
    },
    stderr: { write: () => undefined },
    isTTY: mode === 'tty',
    columns: 120,
    env: { NO_COLOR: '1' },
    cwd: dir,
    now: () => Date.now(),
    version: 'bench',
  };
  const cli = runCli(['watch', 'wf-latency', '-n', NS, '--kubeconfig', kubeconfig], io);
  while (server.openWatches === 0) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 50));

  const samples: number[] = [];
  for (let i = 0; i < changes; i++) {
    const marker = `change-${mode}-${i}-done`;
    const seen = new Promise<void>((resolve) => (waiting = { marker, resolve }));
    const t0 = performance.now();
    argo.setMessage(marker);
    await seen;
    samples.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 10));
  }
  argo.complete('Succeeded');
  await cli;
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return samples;
}

function stats(samples: number[]): { median: number; p95: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return { median: at(0.5), p95: at(0.95), max: s[s.length - 1] };
}

async function main(): Promise<void> {
  const changes = Number(process.argv[2] ?? 50);
  console.log(`status change -> CLI output latency, ${changes} changes each (goal <= 100 ms)`);
  for (const mode of ['plain', 'tty'] as const) {
    const r = stats(await measure(mode, changes));
    console.log(`  ${mode.padEnd(5)} median ${r.median.toFixed(2)} ms   p95 ${r.p95.toFixed(2)} ms   max ${r.max.toFixed(2)} ms   ${r.p95 <= 100 ? 'goal met' : 'GOAL MISSED'}`);
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
