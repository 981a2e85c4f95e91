/**
 * The POSIX shell scripts the synthesized pods run, kept as `.sh` files beside this module
 * (lib/steps/scripts/) so that shellcheck can lint them and the tests can run them directly
 * under /bin/sh and busybox sh. They are read when a construct first needs one (never on import),
 * and shipped without their comment lines: the text ends up in every WorkflowTemplate and in each
 * workflow's status (`storedTemplates`), which Argo keeps under 1 MiB.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The scripts: the step wrapper, the scan lister, the batch gate, and their shared helpers. */
export type ShellScriptName = 'step' | 'list-scans' | 'gate' | 'common';

/** Helpers shipped ahead of a script (a pod runs one script and cannot source another file). */
const PRELUDE: Readonly<Record<ShellScriptName, readonly ShellScriptName[]>> = { step: ['common'], gate: ['common'], 'list-scans': [], common: [] };

const cache = new Map<ShellScriptName, string>();

/**
 * Where the `.sh` files are: beside this module, or in the nearest `lib/steps/scripts` above it
 * (from a bundle in build/, or the compiled package in build/package/lib/steps/).
 */
export function shellScriptPath(name: ShellScriptName): string {
  const beside = path.join(__dirname, 'scripts', `${name}.sh`);
  if (fs.existsSync(beside)) return beside;
  for (let dir = path.dirname(__dirname); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'lib', 'steps', 'scripts', `${name}.sh`);
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`cannot find ${name}.sh beside ${__dirname} or in a lib/steps/scripts folder above it`);
  }
}

/** A script as shipped: its helpers, then its own text, without full-line comments and blank lines. */
export function shellScript(name: ShellScriptName): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = [...PRELUDE[name], name].map((n) => stripComments(fs.readFileSync(shellScriptPath(n), 'utf8'))).join('\n');
    cache.set(name, text);
  }
  return text;
}

/** Drops lines that hold only a comment (or nothing); a `#` inside a line is left alone. */
export function stripComments(source: string): string {
  return source
    .split('\n')
    .filter((line) => line.trim() !== '' && !/^\s*#/.test(line))
    .join('\n');
}
