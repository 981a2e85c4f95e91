/**
 * Synth wall time: `cdk8s synth` of every environment vs. a trivial cdk8s chart synthesized the
 * same way (goal: within 1.3x), and our app without cdk8s-cli. Writes only to a temp folder.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sleap-bench-'));
const cli = path.join(ROOT, 'node_modules', 'cdk8s-cli', 'bin', 'cdk8s');
const node = process.execPath;

function time(label: string, argv: string[]): number {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(argv[0], argv.slice(1), { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CDK8S_CHECK_UPGRADE: 'false' } });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (r.status !== 0) throw new Error(`${label} failed: ${r.stderr}`);
    samples.push(ms);
  }
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)];
  console.log(`${label.padEnd(58)} median ${median.toFixed(0).padStart(5)} ms  (min ${samples[0].toFixed(0)}, max ${samples[samples.length - 1].toFixed(0)}, n=${RUNS})`);
  return median;
}

try {
  const out = path.join(tmp, 'dist');
  const app = `${node} scripts/app.cjs --outdir ${out}`;
  const ours = time('npx cdk8s synth, all environments', [node, cli, 'synth', '--check-upgrade=false', '--app', app, '--output', path.join(tmp, 'cli-out')]);
  const trivial = time('npx cdk8s synth, trivial chart (same runner)', [node, cli, 'synth', '--check-upgrade=false', '--app', `${node} bench/trivial-app.cjs`, '--output', path.join(tmp, 'trivial-out')]);
  time('app without cdk8s-cli (node scripts/app.cjs, bundle cached)', [node, 'scripts/app.cjs', '--outdir', out]);
  time('app without cdk8s-cli, prebundled (node build/main.js)', [node, 'build/main.js', '--outdir', out]);
  const bytes = fs.readdirSync(out, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).reduce((n, d) => n + fs.statSync(path.join(d.parentPath, d.name)).size, 0);
  console.log(`ratio cdk8s synth ours / trivial: ${(ours / trivial).toFixed(2)}x (goal <= 1.30x); dist/ total ${bytes} bytes`);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
