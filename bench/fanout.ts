/**
 * Fan-out scale: synth time and manifest bytes for batches of 10, 1,000 and 100,000 image sets
 * (goal: flat within 10%), and the largest Workflow object against etcd's 1 MB limit, for both
 * ways of naming the sets: discovered by the lister (sub-directories) or passed as a parameter.
 */
import * as path from 'node:path';
import { App } from 'cdk8s';
import { stringify } from 'yaml';
import { loadEnvironment } from '../lib/config/load';
import { synthesizeEnvironment } from '../lib/synth';
import { SleapRootsRun } from '../lib/run';

const ETCD_LIMIT = 1024 * 1024;
const env = loadEnvironment(path.join(__dirname, '..', 'environments', 'runai.yaml'));
const REPEAT = 31;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function runManifest(parameters: Record<string, string>): string {
  const app = new App({ outdir: '/nonexistent' });
  const run = new SleapRootsRun(app, 'run', { environment: env.name, namespace: env.config.namespace, parameters });
  return stringify(run.toJson()[0], { lineWidth: 0 });
}

for (let i = 0; i < 30; i++) synthesizeEnvironment(env); // warm up (schema loading, JIT)
const rows: { n: number; ms: number; bytes: number; wfListed: number; wfParam: number }[] = [];
for (const n of [10, 1_000, 100_000]) {
  const names = Array.from({ length: n }, (_, i) => `scan-${String(i).padStart(6, '0')}`);
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < REPEAT; i++) {
    const t = process.hrtime.bigint();
    const files = synthesizeEnvironment(env);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
    bytes = files.reduce((sum, f) => sum + Buffer.byteLength(f.content), 0);
  }
  // Sets discovered at run time: the submitted Workflow does not name them.
  const wfListed = Buffer.byteLength(runManifest({}));
  // Sets passed at submit time: the Workflow carries the list.
  const wfParam = Buffer.byteLength(runManifest({ 'image-sets': names.join(',') }));
  rows.push({ n, ms: median(times), bytes, wfListed, wfParam });
}

const base = rows[0];
console.log('image sets   synth ms   dist bytes   vs 10 sets   Workflow (listed)   Workflow (-p image-sets)');
for (const r of rows) {
  const drift = Math.max(Math.abs(r.ms / base.ms - 1), Math.abs(r.bytes / base.bytes - 1));
  console.log(
    `${String(r.n).padStart(10)}   ${r.ms.toFixed(1).padStart(8)}   ${String(r.bytes).padStart(10)}   ${`${(drift * 100).toFixed(1)}%`.padStart(10)}   ${`${r.wfListed} B`.padStart(17)}   ${`${r.wfParam} B (${((r.wfParam / ETCD_LIMIT) * 100).toFixed(1)}% of 1 MiB)`.padStart(24)}`,
  );
}
console.log('goal: synth time and bytes flat within 10%; a Workflow object far below the 1 MiB etcd limit (list the sets by sub-directory for large batches).');
