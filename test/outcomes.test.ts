/**
 * Batch outcomes, run for real: the synthesized lister, step wrapper and gate, under /bin/sh
 * (dash) and busybox sh, over folders standing in for the shared volumes, in the order Argo's
 * DAG runs them (test/support/batch.ts). What Argo itself does around them (which pods run,
 * retries, continueOn, the exit handler) is cited beside the code that relies on it; here the
 * pods' side is asserted: what each scan's outcome is and what the gate makes of it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseGateLog } from '../lib/report/logs';
import { shellScript, shellScriptPath, type ShellScriptName } from '../lib/steps/scripts';
import { Batch, type BatchOptions } from './support/batch';
import { SHELLS } from './support/pods';

const batches: Batch[] = [];
const batch = (o: BatchOptions) => {
  const b = new Batch(o);
  batches.push(b);
  return b;
};
afterEach(() => {
  for (const b of batches.splice(0)) b.close();
});

const scans = (n: number, behaviour: Record<string, BatchOptions['scans'][string]> = {}) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => `scan-${String(i + 1).padStart(3, '0')}`).map((s) => [s, behaviour[s] ?? {}]));

describe.each(SHELLS.map((s) => [s.join(' '), s] as const))('under %s', (_name, shell) => {
  it('all scans exit 0: the gate passes and says how many', async () => {
    const b = batch({ shell, scans: scans(5), scansPerPod: 2 });
    const gate = await b.run();
    expect(gate.code, gate.stderr).toBe(0);
    expect(gate.message.trim()).toBe('5 scans: 5 succeeded, 0 partial, 0 failed');
    expect(b.report().map((r) => r[1])).toEqual(Array(5).fill('succeeded'));
    expect(fs.readFileSync(path.join(b.dirs['traits-output'], 'scan-003', 'trait-extractor.txt'), 'utf8')).toBe('trait-extractor of scan-003\n');
  });

  it('some scans exit 3: partial, and the batch passes', async () => {
    const b = batch({ shell, scans: scans(4, { 'scan-002': { predictor: 'partial' }, 'scan-004': { 'trait-extractor': 'partial' } }), scansPerPod: 3 });
    const gate = await b.run();
    expect(gate.code).toBe(0);
    expect(gate.message.trim()).toBe('4 scans: 2 succeeded, 2 partial, 0 failed');
    expect(Object.fromEntries(b.report().map((r) => [r[0], r.slice(1)]))).toMatchObject({
      'scan-002': ['partial', 'predictor exited 3'],
      'scan-004': ['partial', 'trait-extractor exited 3'],
    });
    // A partial scan's predictions are still used.
    expect(b.runs()).toContain('trait-extractor scan-002');
  });

  it('one crash fails the batch and names the scan; the other scans are kept and its traits never run', async () => {
    const b = batch({ shell, scans: scans(3, { 'scan-002': { predictor: 'crash' } }), scansPerPod: 3 });
    const gate = await b.run();
    expect(gate.code).toBe(1);
    expect(gate.message.trim()).toMatch(/^3 scans: 2 succeeded, 0 partial, 1 failed: scan-002 \(predictor exited 1\) \(all in .*report\.tsv\)$/);
    expect(b.runs()).not.toContain('trait-extractor scan-002');
    expect(b.runs().filter((r) => r.startsWith('trait-extractor'))).toHaveLength(2);
  });

  it('every step pod of a chunk with failed scans still exits 0: nothing for Argo to retry or to stop the batch on', async () => {
    const b = batch({ shell, scans: scans(2, { 'scan-001': { predictor: 'crash' }, 'scan-002': { predictor: 'usage' } }), scansPerPod: 2 });
    await b.list();
    expect(await b.step('predictor')).toEqual([0]);
    expect(await b.step('trait-extractor')).toEqual([0]);
    expect((await b.gate()).message).toContain('0 succeeded, 0 partial, 2 failed: scan-001 (predictor exited 1), scan-002 (predictor exited 2)');
  });

  it('a scan with no recorded outcome (its pod was lost) is a failure', async () => {
    const b = batch({ shell, scans: scans(4), scansPerPod: 2 });
    await b.list();
    await b.step('predictor');
    await b.step('trait-extractor', [1]); // chunk 1 ended Error after its retries: no pod finished
    const gate = await b.gate();
    expect(gate.code).toBe(1);
    expect(gate.message).toContain('4 scans: 2 succeeded, 0 partial, 2 failed: scan-003 (trait-extractor: no outcome recorded), scan-004 (trait-extractor: no outcome recorded)');
  });

  it('all scans crashed: the batch fails with every scan named (Argo would aggregate [] here)', async () => {
    const crash = { predictor: 'crash' as const };
    const b = batch({ shell, scans: scans(3, { 'scan-001': crash, 'scan-002': crash, 'scan-003': crash }), scansPerPod: 1 });
    const gate = await b.run();
    expect(gate.code).toBe(1);
    expect(gate.message).toMatch(/^3 scans: 0 succeeded, 0 partial, 3 failed: scan-001 .*, scan-002 .*, scan-003 /);
  });

  it('zero scans: the lister fails at once with a message, and the gate fails too', async () => {
    const b = batch({ shell, scans: {} });
    fs.mkdirSync(path.join(b.dirs['images-input'], '.hidden'));
    const l = await b.list();
    expect(l.code).toBe(1);
    expect(l.message.trim()).toBe('sleap-roots: no image sets under /nfs/images_input');
    const gate = await b.gate('Failed');
    expect(gate.code).toBe(1);
    expect(gate.message).toContain('workflow Failed before the gate; no scan list in');
  });

  it('a chunk stopped mid-run (preemption) keeps its finished scans; the retry runs only the rest', async () => {
    const b = batch({ shell, scans: scans(3, { 'scan-002': { predictor: 'hang' } }), scansPerPod: 3 });
    await b.list();
    const started = path.join(b.root, 'started.scan-002.predictor');
    const first = await b.chunk('predictor', 0, started);
    expect(first.stopped).toBe(true);
    expect(first.code).toBe(143); // Argo retries it: Failed with 143 (retry expression)
    expect(first.stderr).toContain('stopped during scan-002; its outcome is not recorded');
    fs.writeFileSync(path.join(b.dirs.behaviours, 'scan-002.predictor'), 'ok\n'); // the retry lands on a healthy node
    const second = await b.chunk('predictor', 0);
    expect(second.code).toBe(0);
    expect(b.runs().filter((r) => r.startsWith('predictor'))).toEqual(['predictor scan-001', 'predictor scan-002', 'predictor scan-002', 'predictor scan-003']);
    await b.step('trait-extractor');
    expect((await b.gate()).message.trim()).toBe('3 scans: 3 succeeded, 0 partial, 0 failed');
  });

  it('a poison scan is stopped after fanOut.scanTimeout and fails alone; the rest of its chunk runs', async () => {
    const b = batch({ shell, scans: scans(3, { 'scan-001': { predictor: 'hang' } }), scansPerPod: 3, scanTimeout: '1s' });
    await b.list();
    const r = await b.chunk('predictor', 0);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('scan-001 ran longer than 1s');
    await b.step('trait-extractor');
    const gate = await b.gate();
    expect(gate.code).toBe(1);
    expect(gate.message).toContain('2 succeeded, 0 partial, 1 failed: scan-001 (predictor exited 124 (scan timeout))');
  });

  it('a poison scan is stopped even when the first TERM reaches it before its process group exists', async () => {
    // Under load the watchdog can fire while the scan's process is still on its way to setsid: the
    // group TERM finds no group, and a TERM to the pid can be lost (a shell that has forked but not
    // yet exec'd still runs the wrapper's trap). This setsid loses that TERM and makes its group 2 s
    // late; the wrapper must still stop the scan long before the 30 s KILL grace.
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'slow-setsid-'));
    const real = ['/usr/bin/setsid', '/bin/setsid'].find((f) => fs.existsSync(f)) as string;
    fs.writeFileSync(path.join(bin, 'setsid'), `#!/bin/sh\ntrap ': lost' TERM\nsleep 2\ntrap - TERM\nexec ${real} "$@"\n`, { mode: 0o755 });
    const b = batch({ shell, scans: scans(2, { 'scan-001': { predictor: 'hang' } }), scansPerPod: 2, scanTimeout: '1s', pathPrefix: bin });
    await b.list();
    const started = Date.now();
    const r = await b.chunk('predictor', 0);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('scan-001 ran longer than 1s');
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('a scan whose command is killed (OOM) is a failure, recorded, not an endless retry', async () => {
    const b = batch({ shell, scans: scans(2, { 'scan-002': { predictor: 'killed' } }), scansPerPod: 2 });
    await b.list();
    expect(await b.step('predictor')).toEqual([0]);
    await b.step('trait-extractor');
    expect((await b.gate()).message).toContain('scan-002 (predictor exited 137)');
  });

  it('the gate prints every judged scan to its log in the marked form sleap-roots report reads, with chunk, deciding step and code', async () => {
    const b = batch({ shell, scans: scans(4, { 'scan-002': { predictor: 'partial' }, 'scan-003': { predictor: 'crash' } }), scansPerPod: 2 });
    await b.list();
    await b.step('predictor');
    await b.step('trait-extractor', [1]);
    const gate = await b.gate();
    expect(gate.code).toBe(1);
    const log = parseGateLog(gate.stderr.split('\n'));
    expect(log.end).toEqual({ printed: 4, judged: 4 });
    expect(log.rows).toEqual([
      { chunk: 0, scan: 'scan-001', result: 'succeeded', step: undefined, code: undefined, detail: '' },
      { chunk: 0, scan: 'scan-002', result: 'partial', step: 'predictor', code: '3', detail: 'predictor exited 3' },
      { chunk: 1, scan: 'scan-003', result: 'failed', step: 'predictor', code: '1', detail: 'predictor exited 1' },
      { chunk: 1, scan: 'scan-004', result: 'failed', step: 'trait-extractor', code: undefined, detail: 'trait-extractor: no outcome recorded' },
    ]);
    // The same rows as report.tsv, and nothing of them on stdout (which Argo may keep as the result).
    expect(log.rows.map((r) => [r.scan, r.result, r.detail])).toEqual(b.report());
    expect(gate.stdout).not.toContain('sleap-roots-report/v1');
  });

  it('the gate logs at most SLEAP_ROOTS_REPORT_LOG_LIMIT rows and says how many it judged', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-limit-'));
    try {
      fs.mkdirSync(path.join(dir, 'chunks'));
      fs.mkdirSync(path.join(dir, 'outcomes', 'predictor'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'chunk-count'), '1\n');
      fs.writeFileSync(path.join(dir, 'chunks', '0'), 's1\ns2\ns3\n');
      fs.writeFileSync(path.join(dir, 'outcomes', 'predictor', '0'), '0\ts1\n1\ts2\n0\ts3\n');
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', SLEAP_ROOTS_RUN_DIR: dir, SLEAP_ROOTS_SCAN_STEPS: 'predictor=0,3', SLEAP_ROOTS_MESSAGE_FILE: path.join(dir, 'message'), SLEAP_ROOTS_REPORT_LOG_LIMIT: '2' };
      const r = spawnSync(shell[0], [...shell.slice(1), '-c', shellScript('gate'), 'gate'], { env, encoding: 'utf8' });
      expect(r.status).toBe(1);
      const log = parseGateLog(r.stderr.split('\n'));
      expect(log.rows.map((x) => x.scan)).toEqual(['s1', 's2']);
      expect(log.end).toEqual({ printed: 2, judged: 3 });
      // report.tsv still has every scan.
      expect(fs.readFileSync(path.join(dir, 'report.tsv'), 'utf8').trim().split('\n')).toHaveLength(4);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a workflow that did not succeed never passes the gate, even with every scan done', async () => {
    const b = batch({ shell, scans: scans(2) });
    await b.list();
    await b.step('predictor');
    await b.step('trait-extractor');
    const gate = await b.gate('Failed');
    expect(gate.code).toBe(1);
    expect(gate.message).toMatch(/^workflow Failed before the gate; 2 scans: 2 succeeded/);
  });

  it('a resubmitted batch skips finished scans by their markers and records them as done', async () => {
    const b = batch({ shell, scans: scans(2, { 'scan-002': { predictor: 'crash' } }), scansPerPod: 2 });
    expect((await b.run()).code).toBe(1);
    fs.writeFileSync(path.join(b.dirs.behaviours, 'scan-002.predictor'), 'ok\n');
    b.workflow = 'sleap-roots-pipeline-r3sub'; // same folders, a new workflow: a resubmission
    const gate = await b.run();
    expect(gate.code, gate.message).toBe(0);
    expect(b.runs().filter((r) => r === 'predictor scan-001')).toHaveLength(1);
    expect(b.runs().filter((r) => r === 'predictor scan-002')).toHaveLength(2);
  });

  it('a folder named with a newline, tab or other control character is skipped with its name escaped; the rest run', async () => {
    const b = batch({ shell, scans: scans(2) });
    for (const bad of ['bad\nname', 'tab\tname', 'esc\u001bname']) fs.mkdirSync(path.join(b.dirs['images-input'], bad));
    const l = await b.list();
    expect(l.code, l.stderr).toBe(0);
    expect(l.stderr).toContain('skipping "bad\\nname" (a control character');
    expect(l.stderr).toContain('skipping "tab\\tname"');
    expect(l.stderr).toContain('skipping "esc\\033name"');
    await b.step('predictor');
    await b.step('trait-extractor');
    const gate = await b.gate();
    expect(gate.code, gate.message).toBe(0);
    expect(gate.message.trim()).toBe('2 scans: 2 succeeded, 0 partial, 0 failed');
  });

  it('a scan folder with blanks and glob characters runs through every step, and a resubmission skips it', async () => {
    const b = batch({ shell, scans: { 'scan 1': {}, 'plate [2] *': {} }, scansPerPod: 2 });
    expect((await b.run()).code).toBe(0);
    expect(b.report().map((r) => r[0]).sort()).toEqual(['plate [2] *', 'scan 1']);
    expect(fs.readFileSync(path.join(b.dirs['traits-output'], 'scan 1', 'trait-extractor.txt'), 'utf8')).toBe('trait-extractor of scan 1\n');
    b.workflow = 'sleap-roots-pipeline-r3sub';
    expect((await b.run()).code).toBe(0);
    expect(b.runs().filter((r) => r === 'predictor scan 1')).toHaveLength(1);
    expect(b.runs().filter((r) => r === 'trait-extractor plate [2] *')).toHaveLength(1);
  });

  it('more scans than fanOut.maxScans: the lister refuses the batch', async () => {
    const b = batch({ shell, scans: scans(3), maxScans: 2 });
    const l = await b.list();
    expect(l.code).toBe(1);
    expect(l.message).toContain('more than 2 scans in /nfs/images_input (fanOut.maxScans)');
  });
});

describe.each(SHELLS.map((s) => [s.join(' '), s] as const))('the wrapper around a whole step, under %s', (_name, shell) => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sleap-step-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const wrap = (args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync(shell[0], [...shell.slice(1), '-c', shellScript('step'), 'sleap-roots-step', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SLEAP_ROOTS_STEP: 'predictor', ...env } });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  it('runs, writes the marker atomically on 0, and skips a second time unless forced', () => {
    const marker = path.join(dir, 'out', '.sleap-roots', 'step.done');
    const count = path.join(dir, 'runs');
    const cmd = ['/bin/sh', '-c', `echo run >> ${count}`];
    const env = { SLEAP_ROOTS_MARKER: marker, SLEAP_ROOTS_INPUT_MARKERS: '', ARGO_WORKFLOW_NAME: 'wf-1' };
    expect(wrap(cmd, env).code).toBe(0);
    expect(fs.readFileSync(marker, 'utf8')).toBe('wf-1\n');
    expect(fs.readdirSync(path.dirname(marker))).toEqual(['step.done']); // no temp file left
    expect(wrap(cmd, env).out).toContain('already done, skipping');
    expect(fs.readFileSync(count, 'utf8')).toBe('run\n');
    expect(wrap(cmd, { ...env, SLEAP_ROOTS_FORCE: 'true' }).code).toBe(0);
    expect(fs.readFileSync(count, 'utf8')).toBe('run\nrun\n');
  });

  it('reruns when an input marker is newer or missing, and never marks a failure', () => {
    const marker = path.join(dir, 'step.done');
    const input = path.join(dir, 'input.done');
    fs.writeFileSync(marker, 'old\n');
    fs.writeFileSync(input, 'x\n');
    const past = new Date(Date.now() - 60_000);
    fs.utimesSync(marker, past, past);
    const r = wrap(['/bin/sh', '-c', 'exit 3'], { SLEAP_ROOTS_MARKER: marker, SLEAP_ROOTS_INPUT_MARKERS: input });
    expect(r.code).toBe(3); // no outcomes recorded: the code goes to Argo as it is
    expect(r.out).toContain('running again');
    expect(fs.readFileSync(marker, 'utf8')).toBe('old\n');
    expect(wrap(['true'], { SLEAP_ROOTS_MARKER: marker, SLEAP_ROOTS_INPUT_MARKERS: path.join(dir, 'nope') }).out).toContain('missing or newer');
  });

  it('skips by input markers whose paths hold blanks and glob characters (one path per line)', () => {
    const marker = path.join(dir, 'out put', '.sleap-roots', 'step.done');
    const inputs = [path.join(dir, 'in put *', 'a.done'), path.join(dir, 'other [in]', 'b.done')];
    for (const f of inputs) {
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, 'x\n');
    }
    fs.writeFileSync(path.join(dir, 'in put x'), 'a file the pattern would match'); // globbing would find it
    const past = new Date(Date.now() - 60_000);
    for (const f of inputs) fs.utimesSync(f, past, past);
    const count = path.join(dir, 'runs');
    const cmd = ['/bin/sh', '-c', `echo run >> '${count}'`];
    const env = { SLEAP_ROOTS_MARKER: marker, SLEAP_ROOTS_INPUT_MARKERS: inputs.join('\n') };
    expect(wrap(cmd, env).code).toBe(0);
    const again = wrap(cmd, env);
    expect(again.out).toContain('already done, skipping');
    expect(fs.readFileSync(count, 'utf8')).toBe('run\n');
    const future = new Date(Date.now() + 60_000);
    fs.utimesSync(inputs[1], future, future);
    expect(wrap(cmd, env).out).toContain(`input marker ${inputs[1]} is missing or newer`);
    expect(fs.readFileSync(count, 'utf8')).toBe('run\nrun\n');
  });

  it('points arguments at each scan under per-scan mounts with blanks, and makes its output folders', () => {
    const run = path.join(dir, 'run');
    fs.mkdirSync(path.join(run, 'chunks'), { recursive: true });
    fs.writeFileSync(path.join(run, 'chunks', '0'), 'scan 1\n');
    const input = path.join(dir, 'images in');
    const output = path.join(dir, 'out put');
    const args = path.join(dir, 'args');
    const env = { SLEAP_ROOTS_RUN_DIR: run, SLEAP_ROOTS_CHUNK: '0', SLEAP_ROOTS_ITEM_MOUNTS: `${input}\n${output}`, SLEAP_ROOTS_ITEM_OUTPUTS: output };
    const r = wrap(['/bin/sh', '-c', `printf '%s|' "$@" > '${args}'`, 'x', input, `${output}/traits.csv`, '/elsewhere'], env);
    expect(r.code, r.err).toBe(0);
    expect(fs.readFileSync(args, 'utf8')).toBe(`${input}/scan 1|${output}/scan 1/traits.csv|/elsewhere|`);
    expect(fs.statSync(path.join(output, 'scan 1')).isDirectory()).toBe(true);
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false); // not split at the blank
    expect(fs.readFileSync(path.join(run, 'outcomes', 'predictor', '0'), 'utf8')).toBe('0\tscan 1\n');
  });

  it('passes arguments through unquoted and untouched', () => {
    const out = path.join(dir, 'args');
    const r = wrap(['/bin/sh', '-c', `printf '%s|' "$@" > ${out}`, 'x', 'a b', '$HOME', '*'], { SLEAP_ROOTS_MARKER: path.join(dir, 'm') });
    expect(r.code).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe('a b|$HOME|*|');
  });

  it('records the outcome; an accepted partial code exits 0, anything else keeps its code', () => {
    const env = { SLEAP_ROOTS_RUN_DIR: path.join(dir, 'run'), SLEAP_ROOTS_ACCEPTED: '0 3' };
    const outcome = path.join(dir, 'run', 'outcomes', 'predictor', 'all');
    expect(wrap(['/bin/sh', '-c', 'exit 3'], env).code).toBe(0);
    expect(fs.readFileSync(outcome, 'utf8')).toBe('3\t*\n');
    fs.rmSync(outcome);
    expect(wrap(['/bin/sh', '-c', 'exit 1'], env).code).toBe(1);
    expect(fs.readFileSync(outcome, 'utf8')).toBe('1\t*\n');
  });

  it('exits 75 (retried) when it cannot record the outcome', () => {
    fs.writeFileSync(path.join(dir, 'run'), 'a file where the run folder should be');
    const r = wrap(['true'], { SLEAP_ROOTS_RUN_DIR: path.join(dir, 'run'), SLEAP_ROOTS_ACCEPTED: '0' });
    expect(r.code).toBe(75);
    expect(r.err).toContain('could not record the outcome');
  });
});

describe.each(SHELLS.map((s) => [s.join(' '), s] as const))('the lister on a parameter, under %s', (_name, shell) => {
  const list = (value: string, perPod = 2) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sleap-list-'));
    for (const f of ['file-a', 'file-b']) fs.writeFileSync(path.join(dir, f), ''); // what `*` would expand to
    const r = spawnSync(shell[0], [...shell.slice(1), '-c', shellScript('list-scans'), 'list-image-sets', 'list'], {
      encoding: 'utf8',
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SLEAP_ROOTS_RUN_DIR: path.join(dir, 'run'), SLEAP_ROOTS_SCANS: value, SLEAP_ROOTS_SCANS_PER_POD: String(perPod), SLEAP_ROOTS_SOURCE_NAME: 'parameter scan-ids', SLEAP_ROOTS_MESSAGE_FILE: path.join(dir, 'message') },
    });
    const read = (f: string) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), 'utf8') : undefined);
    const out = { code: r.status, stdout: r.stdout, stderr: r.stderr, scans: read('run/scans'), chunk0: read('run/chunks/0'), chunk1: read('run/chunks/1'), message: read('message') };
    fs.rmSync(dir, { recursive: true, force: true });
    return out;
  };

  it('takes a comma-separated list, blanks trimmed and empty items dropped, in chunks', () => {
    const r = list(' a, b,,c ');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('2\n'); // only the number of chunks: the result Argo keeps
    expect(r.scans).toBe('a\nb\nc\n');
    expect([r.chunk0, r.chunk1]).toEqual(['a\nb\n', 'c\n']);
  });

  it('takes a JSON list of names', () => {
    expect(list('["x", "y"]', 5)).toMatchObject({ code: 0, stdout: '1\n', scans: 'x\ny\n' });
  });

  it('keeps inner blanks and takes glob characters literally', () => {
    expect(list('scan 1, *, plate?[2]', 5)).toMatchObject({ code: 0, scans: 'scan 1\n*\nplate?[2]\n' });
    expect(list('["scan 1", "*"]', 5)).toMatchObject({ code: 0, scans: 'scan 1\n*\n' });
  });

  it('takes a pretty-printed JSON list (newlines, tabs and CRs around the names)', () => {
    expect(list('[\r\n\t"a",\n  "b c"\n]\n', 5)).toMatchObject({ code: 0, scans: 'a\nb c\n' });
  });

  it('skips names with control characters, slashes or a leading dot, naming each escaped, and lists the rest', () => {
    const r = list('ok,x\ty,"line\nbreak",a/b,..,.hidden,e\u0007f,fine', 5);
    expect(r.code).toBe(0);
    expect(r.scans).toBe('ok\nfine\n');
    expect(r.stderr).toContain('skipping "x\\ty" (a control character');
    expect(r.stderr).toContain('skipping "line\\nbreak" (a control character');
    expect(r.stderr).toContain('skipping "e\\007f" (a control character');
    expect(r.stderr).toContain('skipping "a/b" (a / in the name)');
    expect(r.stderr).toContain('skipping ".." (a name starting with a dot)');
    expect(r.stderr).toContain('skipping ".hidden" (a name starting with a dot)');
    expect(r.stderr.split('\n').filter((l) => l.includes('skipping'))).toHaveLength(6); // one line each
  });

  it('skips names it cannot pass on safely, and fails on an empty list', () => {
    const r = list('ok,"bad\\name",fine');
    expect(r.scans).toBe('ok\nfine\n');
    expect(r.stderr).toContain('skipping');
    const empty = list('');
    expect(empty.code).toBe(1);
    expect(empty.message).toBe('sleap-roots: no image sets in parameter scan-ids\n');
  });
});

describe('the wrapper environment', () => {
  it('lists paths one per line, so a path may hold blanks', () => {
    const predictor = Batch.manifests().find((t) => t.name === 'predictor')!;
    const env = Object.fromEntries((predictor.container.env ?? []).map((e) => [e.name, e.value]));
    expect(env.SLEAP_ROOTS_ITEM_MOUNTS).toBe('/workspace/images_input\n/workspace/output');
    expect(env.SLEAP_ROOTS_ITEM_OUTPUTS).toBe('/workspace/output');
    const traits = Batch.manifests().find((t) => t.name === 'trait-extractor')!;
    expect(traits.container.env?.find((e) => e.name === 'SLEAP_ROOTS_INPUT_MARKERS')?.value).toBe('/workspace/input/.sleap-roots/predictor.done');
  });
});

describe('the scripts as files', () => {
  it.each(['common', 'step', 'list-scans', 'gate'] as ShellScriptName[])('%s.sh passes shellcheck as POSIX sh', (name) => {
    const r = spawnSync('shellcheck', ['-s', 'sh', shellScriptPath(name)], { encoding: 'utf8' });
    expect(r.error, 'shellcheck is installed by .ci/run (apt-get install shellcheck)').toBeUndefined();
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  // Every optional check but the two that are style or not POSIX (require-variable-braces,
  // require-double-brackets).
  const OPTIONAL = 'add-default-case,avoid-nullary-conditions,check-extra-masked-returns,check-set-e-suppressed,check-unassigned-uppercase,deprecate-which,quote-safe-variables';
  it.each(['common', 'step', 'list-scans', 'gate'] as ShellScriptName[])('%s.sh passes shellcheck with the optional checks', (name) => {
    const r = spawnSync('shellcheck', ['-s', 'sh', '-o', OPTIONAL, shellScriptPath(name)], { encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
