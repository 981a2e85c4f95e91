/**
 * The cdk8s app: synthesizes every environment in environments/ into dist/<env>/.
 *
 *   npx cdk8s synth                      (what users run; see cdk8s.yaml)
 *   node build/main.js [--environments DIR] [--outdir DIR] [--check]
 *
 * Bad configuration prints every problem (file:line: field: what is wrong) and exits 1 without
 * touching the output folder; a good one replaces the output folder whole. `--check` writes
 * nothing and exits 1 when the output folder differs from what would be written (for CI).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { listEnvironmentFiles, loadEnvironments } from './lib/config/load';
import { ConfigError, FileError, formatProblems, type ConfigProblem } from './lib/config/problems';
import { diffTree, leftoverLines, recoverInterruptedWrite, synthesizeAll, writeTreeAtomically, type SynthesizedFile } from './lib/synth';
import { version } from './package.json';

/**
 * Exit codes: 0 done; 1 bad configuration (every problem printed) or `--check` found the output
 * stale; 2 anything else (one line `error: <file or folder>: <message>`, never a stack trace).
 */
function main(): number {
  let where = 'arguments';
  try {
    const { values } = parseArgs({
      options: {
        environments: { type: 'string', default: 'environments' },
        outdir: { type: 'string', default: 'dist' },
        check: { type: 'boolean', default: false },
      },
    });
    const envDir = values.environments as string;
    const outdir = values.outdir as string;
    try {
      return run(envDir, outdir, values.check === true, (w) => (where = w));
    } catch (e) {
      if (e instanceof ConfigError) {
        process.stderr.write(`error: ${e.problems.length} problem${e.problems.length === 1 ? '' : 's'}; ${outdir}/ was not changed\n${e.message}\n`);
        return 1;
      }
      throw e;
    }
  } catch (e) {
    process.stderr.write(`error: ${failureLine(e, where)}\n`);
    return 2;
  }
}

function run(envDir: string, outdir: string, check: boolean, at: (where: string) => void): number {
  if (!check) {
    at(outdir);
    for (const line of recoverInterruptedWrite(outdir)) process.stderr.write(`${line}\n`);
  }
  at(envDir);
  const envFiles = listEnvironmentFiles(envDir);
  if (envFiles.length === 0) {
    process.stderr.write(`error: no environment files (*.yaml) in ${envDir}\n`);
    return 1;
  }
  const onWarning = (w: ConfigProblem) => process.stderr.write(`warning: ${formatProblems([w]).trim()}\n`);
  const files = synthesizeAll(loadEnvironments(envFiles), { version, onWarning });

  at(outdir);
  if (check) {
    const stale = [...diffTree(outdir, files), ...leftoverLines(outdir)];
    if (stale.length > 0) {
      process.stderr.write(`error: ${outdir}/ is stale; run 'npx cdk8s synth' and commit it:\n${stale.map((s) => `  ${s}`).join('\n')}\n`);
      return 1;
    }
    process.stdout.write(`${outdir}/ is up to date (${files.length} files)\n`);
    return 0;
  }

  const changed = writeTreeAtomically(outdir, files);
  // cdk8s-cli empties its output folder before running the app and lists what it finds there
  // afterwards; ours is a separate scratch folder (cdk8s.yaml) so that a failed synth never
  // touches dist/. Point it at dist/ for that listing.
  const cliOut = process.env.CDK8S_OUTDIR;
  if (cliOut && path.resolve(cliOut) !== path.resolve(outdir)) {
    at(cliOut);
    mirror(cliOut, outdir, files);
  }
  const envs = [...new Set(files.map((f) => f.path.split('/')[0]))];
  // stderr: cdk8s-cli captures the app's stdout.
  process.stderr.write(`${changed ? 'wrote' : 'unchanged:'} ${files.length} files in ${outdir}/ for ${envs.join(', ')}\n`);
  return 0;
}

/** `<file or folder>: <message>`, one line: the file a failure is about, else where main was. */
function failureLine(e: unknown, where: string): string {
  const err = e as (NodeJS.ErrnoException & FileError) | undefined;
  const file = e instanceof FileError ? err!.file : typeof err?.path === 'string' ? err.path : where;
  const message = String(err?.message ?? e).split('\n').find((l) => l.trim() !== '') ?? String(e);
  return `${file}: ${message}`;
}

/** Makes `link` show `target`'s files: a symbolic link where the system allows one, else a copy. */
function mirror(link: string, target: string, files: readonly SynthesizedFile[]): void {
  fs.rmSync(link, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(path.resolve(link)), { recursive: true });
  try {
    fs.symlinkSync(path.relative(path.dirname(path.resolve(link)), path.resolve(target)), link, 'dir');
  } catch {
    writeTreeAtomically(link, files);
  }
}

process.exitCode = main();
