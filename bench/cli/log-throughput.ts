/**
 * Log capture throughput: 1,000,000 lines of one step pod through `sleap-roots logs --follow`
 * into the log file, compared with a raw HTTP read of the same stream; and again with the stream
 * cut three times (resume with sinceTime). Every run checks the file: each line exactly once, in
 * order.
 *
 *   npx tsx bench/cli/log-throughput.ts [lines]
 *
 * The stand-in API server runs in this process (its serving costs the same for both readers).
 * The terminal side of the CLI writes to a sink that drops the text (as `> /dev/null` would).
 * Goal: the CLI at >= 50 % of the raw read. Results are printed; nothing asserts on time.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runCli } from '../../lib/cli/program';
import type { CliIO } from '../../lib/cli/io';
import { startApiServer, type FakeApiServer } from '../../test/support/apiserver/index';
import { FakeArgo, putWorkflow } from '../../test/cli/support/harness';

const NS = 'bench';

function rawRead(server: FakeApiServer, pod: string): Promise<{ ms: number; lines: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const url = `${server.url}/api/v1/namespaces/${NS}/pods/${pod}/log?container=main&timestamps=true&follow=true`;
    http
      .get(url, (res) => {
        let lines = 0;
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          for (let i = c.indexOf(10); i >= 0; i = c.indexOf(10, i + 1)) lines++;
        });
        res.on('end', () => resolve({ ms: performance.now() - t0, lines, bytes }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

async function cliRead(dir: string, kubeconfig: string, file: string): Promise<{ ms: number; code: number; stderr: string }> {
  let stderr = '';
  const io: CliIO = {
    stdout: { write: () => undefined },
    stderr: { write: (t) => void (stderr += t) },
    isTTY: false,
    env: { NO_COLOR: '1' },
    cwd: dir,
    now: () => Date.now(),
    version: 'bench',
  };
  const t0 = performance.now();
  const code = await runCli(['logs', 'wf-bench', '--follow', '-n', NS, '--kubeconfig', kubeconfig, '--log-file', file], io);
  return { ms: performance.now() - t0, code, stderr };
}

/** Each line exactly once and in order. */
function verify(file: string, n: number): string {
  const text = fs.readFileSync(file, 'utf8');
  let expected = 0;
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) break;
    const line = text.slice(start, nl);
    start = nl + 1;
    if (line !== `predictor: line ${expected} of the bench log`) return `line ${expected + 1} is ${JSON.stringify(line.slice(0, 80))}`;
    expected++;
  }
  if (start !== text.length) return 'a partial last line';
  return expected === n ? 'ok: every line exactly once, in order' : `${expected} lines instead of ${n}`;
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 1_000_000);
  const server = await startApiServer({ namespaces: [NS] });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sleap-roots-bench-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  fs.writeFileSync(kubeconfig, server.kubeconfig({ namespace: NS }));
  try {
    putWorkflow(server, 'wf-bench', NS);
    const argo = new FakeArgo(server, 'wf-bench', NS);
    argo.start();
    const pod = argo.startPod('predictor');
    const batch = 100_000;
    for (let i = 0; i < n; i += batch) argo.log(pod, Array.from({ length: Math.min(batch, n - i) }, (_, j) => `line ${i + j} of the bench log`));
    argo.finishPod(pod);
    argo.complete('Succeeded');

    console.log(`log capture of ${n.toLocaleString('en')} lines (goal: CLI >= 50 % of a raw HTTP read)`);
    const raw = await rawRead(server, pod);
    if (raw.lines !== n) throw new Error(`raw read got ${raw.lines} lines`);
    const rate = (ms: number) => `${((n / ms) * 1000).toLocaleString('en', { maximumFractionDigits: 0 })} lines/s`;
    console.log(`  raw HTTP read            ${raw.ms.toFixed(0).padStart(6)} ms  ${rate(raw.ms)}  (${(raw.bytes / 1e6).toFixed(1)} MB)`);

    const file = path.join(dir, 'follow.log');
    const ours = await cliRead(dir, kubeconfig, file);
    if (ours.code !== 0) throw new Error(`sleap-roots logs exited ${ours.code}: ${ours.stderr}`);
    console.log(`  sleap-roots logs -f      ${ours.ms.toFixed(0).padStart(6)} ms  ${rate(ours.ms)}  ${((raw.ms / ours.ms) * 100).toFixed(0)} % of raw  ${raw.ms / ours.ms >= 0.5 ? 'goal met' : 'GOAL MISSED'}`);
    console.log(`    file check: ${verify(file, n)}`);

    const cut = Math.floor(n / 4);
    server.inject({ path: /\/log$/, action: { type: 'dropLog', afterLines: cut }, times: 3 });
    const file2 = path.join(dir, 'follow-cut.log');
    const cutRun = await cliRead(dir, kubeconfig, file2);
    if (cutRun.code !== 0) throw new Error(`sleap-roots logs exited ${cutRun.code}: ${cutRun.stderr}`);
    const resumes = server.requests.filter((q) => q.path.endsWith('/log') && q.query.sinceTime).length;
    console.log(`  ... stream cut 3 times   ${cutRun.ms.toFixed(0).padStart(6)} ms  ${rate(cutRun.ms)}  (${resumes} resumes with sinceTime)`);
    console.log(`    file check: ${verify(file2, n)}`);
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
