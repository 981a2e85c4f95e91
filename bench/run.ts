/** `npm run bench`: every benchmark, one after another, printing results (no pass/fail on time). */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const here = __dirname;
const benches = [
  'synth.ts',
  'load.ts',
  'limits.ts',
  'validation.bench.ts',
  ...(fs.existsSync(path.join(here, 'cli')) ? fs.readdirSync(path.join(here, 'cli')).filter((f) => f.endsWith('.ts')).sort().map((f) => path.join('cli', f)) : []),
];
let failed = 0;
for (const b of benches) {
  console.log(`\n== bench/${b}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, b)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exitCode = failed > 0 ? 1 : 0;
