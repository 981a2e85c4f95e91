/**
 * `import FILE|DIR... [-o FILE] [-n NAMESPACE] [--no-gpu] [--force]`: hand-written WorkflowTemplates and
 * a DAG Workflow in the seed's layout as an environment file (lib/import).
 *
 * Like kubectl: what was corrected and what was left out are warnings on stderr and the import goes
 * on; only a missing essential (no DAG, a templateRef to nothing, broken YAML) stops it, exit 1,
 * with nothing written. The file goes to stdout, or to `-o` atomically (written beside it, then
 * linked into place: an existing file is refused unless --force, and a reader never sees half a file).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../../cluster/errors';
import { formatFinding, ImportError } from '../../import/findings';
import type { LoadedEnvironment } from '../../config/load';
import type { ImportResult, SourceFile } from '../../import/import';
import type { Session } from '../session';

/** The largest input file read (bytes), as for environment files. */
const MAX_INPUT_BYTES = 1024 * 1024;

/** Options of {@link importCommand}. */
export interface ImportCommandOptions {
  /** Where to write the environment file. @default - stdout */
  readonly outputFile?: string;
  readonly namespace?: string;
  /** false with --no-gpu. @default true */
  readonly gpu?: boolean;
  readonly force?: boolean;
}

export async function importCommand(s: Session, files: readonly string[], o: ImportCommandOptions): Promise<number> {
  const cwd = s.io.cwd;
  const out = o.outputFile === undefined || o.outputFile === '-' ? undefined : path.resolve(cwd, o.outputFile);
  if (out && !o.force && fs.existsSync(out)) throw new UserError(`${o.outputFile} exists; not overwritten`, 'add --force to replace it, or choose another -o');
  const sources: SourceFile[] = files.flatMap((f) => inputsOf(path.resolve(cwd, f), f)).map((f) => ({ file: f.shown, text: readInput(f.file, f.shown) }));
  if (sources.length === 0) throw new UserError(`no .yaml, .yml or .json files in ${files.join(', ')}`);
  // Loaded here, not at start-up: it brings the synth (cdk8s, the manifest schemas), which no other command needs.
  const { importSeed } = await import('../../import/import.js');
  const { loadEnvironment } = await import('../../config/load.js');
  let result: ImportResult;
  try {
    result = importSeed(sources, {
      namespace: o.namespace,
      gpuAvailable: o.gpu === false ? false : undefined,
      target: o.outputFile && o.outputFile !== '-' ? o.outputFile : undefined,
      siblings: out ? siblingsOf(out, cwd, loadEnvironment) : [],
    });
  } catch (e) {
    if (!(e instanceof ImportError)) throw e;
    for (const p of e.problems) s.io.stderr.write(`error: ${formatFinding(p)}\n`);
    s.io.stderr.write(`error: ${e.problems.length} problem${e.problems.length === 1 ? '' : 's'}; nothing was written\n`);
    return 1;
  }
  for (const c of result.corrections) s.io.stderr.write(`corrected: ${formatFinding(c)}\n`);
  for (const u of result.unexpressed) s.io.stderr.write(`warning: not expressed: ${formatFinding(u)}\n`);
  if (out) writeAtomically(out, result.text, o.force === true);
  else s.io.stdout.write(result.text);
  s.io.stderr.write(`${out ? `wrote ${o.outputFile}` : 'imported'}: ${result.corrections.length} correction${result.corrections.length === 1 ? '' : 's'}, ${result.unexpressed.length} thing${result.unexpressed.length === 1 ? '' : 's'} not expressed (listed in the file's header)\n`);
  return 0;
}

/** The environment files beside `target` (`*.yaml`, not itself) that load; a file that does not is no concern of this import. */
function siblingsOf(target: string, cwd: string, load: (file: string) => LoadedEnvironment): LoadedEnvironment[] {
  const dir = path.dirname(target);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: LoadedEnvironment[] = [];
  for (const n of names.filter((x) => x.endsWith('.yaml')).sort()) {
    const file = path.join(dir, n);
    if (file === target) continue;
    try {
      out.push({ ...load(file), file: path.relative(cwd, file) }); // read by absolute path, named as the user sees it
    } catch {
      // not an environment file (or a broken one): the synth reports it, not the import
    }
  }
  return out;
}

/** A file, or the .yaml/.yml/.json files of a folder (not its sub-folders), sorted, as `kubectl apply -f DIR` reads them. */
function inputsOf(file: string, shown: string): { file: string; shown: string }[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new UserError(`${shown}: cannot read the file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!st.isDirectory()) return [{ file, shown }];
  return fs.readdirSync(file).filter((n) => /\.(ya?ml|json)$/i.test(n)).sort().map((n) => ({ file: path.join(file, n), shown: path.join(shown, n) }))
    .filter((f) => fs.statSync(f.file).isFile());
}

function readInput(file: string, shown: string): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new UserError(`${shown}: cannot read the file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!st.isFile()) throw new UserError(`${shown}: not a regular file`);
  if (st.size > MAX_INPUT_BYTES) throw new UserError(`${shown}: the file is too large (${st.size} bytes; the limit is ${MAX_INPUT_BYTES} bytes, 1 MiB)`);
  return fs.readFileSync(file, 'utf8');
}

/** Writes beside the target, then links (no --force: refuses an existing file, atomically) or renames into place. */
function writeAtomically(target: string, text: string, force: boolean): void {
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.import-${crypto.randomBytes(4).toString('hex')}`);
  try {
    fs.writeFileSync(tmp, text, { flag: 'wx', mode: 0o644 });
    if (force) {
      fs.renameSync(tmp, target);
      return;
    }
    fs.linkSync(tmp, target);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new UserError(`${target} exists; not overwritten`, 'add --force to replace it');
    throw new UserError(`${target}: cannot write: ${code ?? (e as Error).message}`);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}
