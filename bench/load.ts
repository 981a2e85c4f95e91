/**
 * Loading large or hostile environment files: must stay linear in the file's size. Prints wall
 * times (no pass/fail on time). The 200,000-key text is over the 1 MiB file limit (which
 * loadEnvironment applies), so it is parsed directly: this measures the parser and the problem reporting, not the
 * limit. (Before: yaml's `uniqueKeys` compared every key with every earlier one: 20,000 keys took
 * 13 s and 200,000 never finished.)
 */
import { parseEnvironment } from '../lib/config/load';
import { ConfigError } from '../lib/config/problems';

function time(label: string, text: string): void {
  const t = process.hrtime.bigint();
  let outcome = 'accepted';
  try {
    parseEnvironment('environments/bench.yaml', text); // no size limit: that is loadEnvironment's
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    outcome = `${e.problems.length} problems, ${e.message.split('\n').length} lines shown`;
  }
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  console.log(`${label.padEnd(46)} ${ms.toFixed(0).padStart(6)} ms  (${(text.length / 1e6).toFixed(1)} MB; ${outcome})`);
}

const keys = (n: number) => `namespace: argo\n${Array.from({ length: n }, (_, i) => `k${i}: 1\n`).join('')}`;
time('parseEnvironment, 20,000 unknown keys', keys(20_000));
time('parseEnvironment, 50,000 unknown keys', keys(50_000));
time('parseEnvironment, 200,000 unknown keys', keys(200_000));
time('parseEnvironment, 100,000 labels', `namespace: argo\nlabels:\n${Array.from({ length: 100_000 }, (_, i) => `  k${i}: v\n`).join('')}`);
time('parseEnvironment, 100,000 bad label values', `namespace: argo\nlabels:\n${Array.from({ length: 100_000 }, (_, i) => `  k${i}: "-"\n`).join('')}`);
