/**
 * A 100,000-scan request in batches of 25 (4,000 Workflows) against the stand-in API server.
 *
 *   npx tsx bench/cli/run-batches.ts [scans] [batch-size] [max-in-flight] [tail-seconds]
 *
 * The stand-in and a stand-in controller (test/cli/support/runs.ts: every batch runs a short
 * while, then succeeds with its gate's summary) run in this process; `sleap-roots submit
 * --scans --watch` runs in a child process over real HTTP, so its peak memory (maxRSS) is its
 * own. Once every batch is submitted the last ones are held running for `tail-seconds`, and the
 * CLI's requests in that window give the rate once all batches are submitted: a watching CLI
 * sends next to nothing then, where polling would send a request per batch per interval.
 * Goals: peak memory under 300 MB; requests that grow with batches started and finished.
 * Results are printed; nothing asserts on time.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

import { runCli } from '../../lib/cli/program';
import { startApiServer } from '../../test/support/apiserver/index';
import { batchDist, simulateBatches } from '../../test/cli/support/runs';

/** Loaded into the CLI's process before it starts: reports its peak memory when it exits. */
const REPORT_RSS = "process.on('exit', () => process.stderr.write('\\nmaxRSS ' + process.resourceUsage().maxRSS + '\\n'));\n";

async function main(): Promise<void> {
  const [scans = 100_000, batchSize = 25, maxInFlight = 200, tailSeconds = 30] = process.argv.slice(2).map(Number);
  const NS = 'runai-talmo-lab';
  const server = await startApiServer({ namespaces: [NS] });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sleap-roots-bench-runs-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  fs.writeFileSync(kubeconfig, server.kubeconfig({ namespace: NS }));
  const dist = batchDist();
  const quiet = { write: () => undefined };
  const io = { stdout: quiet, stderr: quiet, isTTY: false, env: {}, cwd: dir, now: () => Date.now(), version: 'bench' };
  if ((await runCli(['deploy', '--env', 'runai', '--kubeconfig', kubeconfig, '--dist', dist], io)) !== 0) throw new Error('deploy failed');
  const file = path.join(dir, 'scans.txt');
  fs.writeFileSync(file, Array.from({ length: scans }, (_, i) => `scan-${String(i).padStart(6, '0')}`).join('\n') + '\n');
  const batches = Math.ceil(scans / batchSize);
  server.clearRequests();

  let allSubmittedAt: number | undefined;
  let releasedAt: number | undefined;
  const count = () => server.list('argoproj.io/v1alpha1', 'Workflow', NS).length;
  const sim = simulateBatches(server, {
    startMs: 5,
    runMs: 100,
    proceed: () => {
      if (allSubmittedAt === undefined) return true;
      return releasedAt !== undefined;
    },
  });
  const oursNow = () => server.requests.filter((r) => (r.userAgent ?? '').startsWith('sleap-roots/')).length;
  let tailStart = 0;
  let tailEnd = 0;
  let created = 0;
  const offCount = server.onChange((ev) => {
    if (ev.type !== 'ADDED' || ev.rt.kind !== 'Workflow') return;
    created++;
    if (created === batches && allSubmittedAt === undefined) {
      allSubmittedAt = performance.now();
      // The create's own answer may still be on its way: start counting a moment later.
      setTimeout(() => (tailStart = oursNow()), 200);
      setTimeout(() => {
        tailEnd = oursNow();
        releasedAt = performance.now();
      }, tailSeconds * 1000);
    }
  });

  const t0 = performance.now();
  let firstProgress: number | undefined;
  let lastLine = '';
  let stderr = '';
  const cliArgs = ['submit', '--env', 'runai', '--scans', file, '--batch-size', String(batchSize), '--max-in-flight', String(maxInFlight), '--run', 'bench', '--watch', '--kubeconfig', kubeconfig, '--dist', dist, '--no-color'];
  // The CLI as users run it: bin/sleap-roots.cjs (its esbuild bundle), in a process of its own.
  const preload = path.join(dir, 'report-rss.cjs');
  fs.writeFileSync(preload, REPORT_RSS);
  const bin = path.join(__dirname, '..', '..', 'bin', 'sleap-roots.cjs');
  const proc = spawn(process.execPath, ['--require', preload, bin, ...cliArgs], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let carry = '';
  proc.stdout.on('data', (d: Buffer) => {
    carry += d.toString('utf8');
    const lines = carry.split('\n');
    carry = lines.pop() ?? '';
    for (const l of lines) {
      if (l.startsWith('run bench:')) {
        firstProgress ??= performance.now();
        lastLine = l;
      }
    }
  });
  proc.stderr.on('data', (d: Buffer) => void (stderr += d.toString('utf8')));
  const code = await new Promise<number>((resolve) => proc.on('exit', (c) => resolve(c ?? 1)));
  const end = performance.now();
  sim.stop();
  offCount();

  const ours = server.requests.filter((r) => (r.userAgent ?? '').startsWith('sleap-roots/'));
  const creates = ours.filter((r) => r.method === 'POST' && r.path.endsWith('/workflows')).length;
  const watches = ours.filter((r) => r.query.watch !== undefined).length;
  const maxRss = Number(/maxRSS (\d+)/.exec(stderr)?.[1] ?? NaN) / 1024;
  console.log(`${scans} scans in ${batches} batches of ${batchSize}, at most ${maxInFlight} in flight (CLI exit code ${code}, ${count()} workflows on the stand-in)`);
  console.log(`  CLI peak memory (maxRSS)              ${maxRss.toFixed(0)} MB   goal < 300 MB: ${maxRss < 300 ? 'met' : 'MISSED'}`);
  console.log(`  time to the first progress line       ${firstProgress !== undefined ? ((firstProgress - t0) / 1000).toFixed(2) : '-'} s (from spawning the CLI, node start included)`);
  console.log(`  time to submit every batch            ${allSubmittedAt !== undefined ? ((allSubmittedAt - t0) / 1000).toFixed(1) : '-'} s; whole run ${((end - t0) / 1000).toFixed(1)} s`);
  console.log(`  requests in all                       ${ours.length} (${creates} creates, ${watches} watch requests, ${ours.length - creates - watches} other)`);
  if (allSubmittedAt !== undefined && releasedAt !== undefined) {
    const minutes = (releasedAt - allSubmittedAt - 200) / 60_000;
    console.log(`  requests per minute once all were submitted  ${((tailEnd - tailStart) / minutes).toFixed(1)} (${tailEnd - tailStart} in ${(minutes * 60).toFixed(0)} s with ${maxInFlight} batches unfinished; polling each every 10 s would be ${(maxInFlight * 6).toFixed(0)}/min)`);
  }
  console.log(`  last progress line: ${lastLine}`);
  if (code !== 0) console.log(stderr.split('\n').slice(-20).join('\n'));
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
