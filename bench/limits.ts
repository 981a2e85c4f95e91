/**
 * What one batch of 10, 1,000 and 100,000 scans makes Argo and etcd hold with environments/runai,
 * beside each limit (lib/build/scale.ts says where each limit comes from): the largest step result,
 * the largest pod argument, the largest object (the Workflow with its status, as Argo packs it),
 * and the pods and status nodes of one run. The lister and the gate are run for real under
 * /bin/sh over folders of that many scans (their result is measured, not modelled); the gate
 * judges outcome files of every scan.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { loadEnvironment, parseEnvironment } from '../lib/config/load';
import { ARGO_LIMITS, footprint, type DesignView, type WorkflowTemplateJson } from '../lib/build/scale';
import { shellScript } from '../lib/steps/scripts';
import { buildEnvironment } from '../lib/synth';

const ENV_FILE = path.join(__dirname, '..', 'environments', 'runai.yaml');

function viewOf(text: string): DesignView {
  const { pipeline } = buildEnvironment(parseEnvironment('environments/runai.yaml', text));
  return { pipeline: pipeline.template.toJson() as WorkflowTemplateJson, steps: pipeline.objects.steps.map((s) => s.resource.toJson() as WorkflowTemplateJson) };
}

function sh(script: string, args: string[], env: Record<string, string>): { out: string; err: string; seconds: number } {
  const t = process.hrtime.bigint();
  const r = spawnSync('/bin/sh', ['-c', script, 'bench', ...args], { encoding: 'utf8', maxBuffer: 1 << 30, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
  if (r.status !== 0) throw new Error(`script failed: ${r.stderr}`);
  return { out: r.stdout, err: r.stderr, seconds: Number(process.hrtime.bigint() - t) / 1e9 };
}

const pct = (b: number, l: number) => `${b < 1024 ? `${b} B` : `${(b / 1024).toFixed(b < 10_240 ? 1 : 0)} KiB`} (${((b / l) * 100).toFixed(1)}%)`;

const env = loadEnvironment(ENV_FILE);
const perPod = env.config.fanOut?.scansPerPod ?? 1;
const view = viewOf(fs.readFileSync(ENV_FILE, 'utf8'));
console.log(`environments/runai.yaml: ${perPod} scans per pod, fanOut.maxScans ${env.config.fanOut?.maxScans}; limits: result ${ARGO_LIMITS.resultBytes / 1024} KiB, argument ${ARGO_LIMITS.argumentBytes / 1024} KiB, object ${ARGO_LIMITS.objectBytes / 1024} KiB`);
console.log('     scans   lister result      largest argument    largest object (Workflow+status)   pods    status nodes   lister s   gate s');
for (const n of [10, 1_000, 100_000]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sleap-bench-'));
  try {
    const images = path.join(dir, 'images');
    fs.mkdirSync(images);
    for (let i = 0; i < n; i++) fs.mkdirSync(path.join(images, `scan-${String(i).padStart(6, '0')}`));
    const runDir = path.join(dir, 'run');
    const lister = sh(shellScript('list-scans'), ['folder', images], { SLEAP_ROOTS_RUN_DIR: runDir, SLEAP_ROOTS_SCANS_PER_POD: String(perPod), SLEAP_ROOTS_MESSAGE_FILE: path.join(dir, 'msg') });
    const chunks = Number(lister.out.trim());
    // Every scan recorded 0 by both fanned-out steps, as the wrapper writes them.
    for (const step of ['predictor', 'trait-extractor']) {
      fs.mkdirSync(path.join(runDir, 'outcomes', step), { recursive: true });
      for (let c = 0; c < chunks; c++) {
        const names = fs.readFileSync(path.join(runDir, 'chunks', String(c)), 'utf8').trim().split('\n');
        fs.writeFileSync(path.join(runDir, 'outcomes', step, String(c)), names.map((s) => `0\t${s}\n`).join(''));
      }
    }
    const gate = sh(shellScript('gate'), [], { SLEAP_ROOTS_RUN_DIR: runDir, SLEAP_ROOTS_SCAN_STEPS: 'predictor=0,3 trait-extractor=0,3', SLEAP_ROOTS_MESSAGE_FILE: path.join(dir, 'msg') });
    if (!gate.out.includes(`${n} scans: ${n} succeeded`)) throw new Error(`gate: ${gate.out}`);
    const f = footprint(view, n);
    const result = Buffer.byteLength(lister.out.replace(/\n$/, '')); // Argo trims one newline
    console.log(
      `${String(n).padStart(10)}   ${pct(result, ARGO_LIMITS.resultBytes).padStart(14)}   ${pct(f.argument.bytes, f.argument.limit).padStart(17)}   ${pct(f.object.bytes, f.object.limit).padStart(32)}   ${String(f.pods).padStart(5)}   ${String(f.statusNodes).padStart(12)}   ${lister.seconds.toFixed(2).padStart(8)}   ${gate.seconds.toFixed(2).padStart(6)}`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// The same batch with one pod per scan, and with the scans named in a workflow parameter.
const config = parse(fs.readFileSync(ENV_FILE, 'utf8'));
const onePerScan = viewOf(stringify({ ...config, fanOut: { ...config.fanOut, scansPerPod: 1, maxScans: 1000 } }));
const byParameter = viewOf(stringify({ ...config, parameters: { 'scan-ids': { value: '' } }, fanOut: { ...config.fanOut, source: { parameter: 'scan-ids' }, maxScans: 1000 } }));
for (const [what, v] of [['one pod per scan', onePerScan], ['scans named in a parameter', byParameter]] as const) {
  const f = footprint(v, 100_000);
  console.log(`100,000 scans, ${what}: ${f.object.what} ${pct(f.object.bytes, f.object.limit)}, ${f.statusNodes} status nodes: ${f.object.bytes > f.object.limit ? 'over the limit' : 'within the limits'}`);
}
console.log('goal: every measure of the 100,000-scan row under 100% of its limit (lists and outcomes stay on the shared volume; Argo holds only chunk numbers).');
