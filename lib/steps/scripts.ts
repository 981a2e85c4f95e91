/**
 * The POSIX shell scripts the synthesized pods run, kept as `.sh` files beside this module
 * (lib/steps/scripts/) so that shellcheck can lint them and the tests can run them directly
 * under /bin/sh and busybox sh. They are read when a construct first needs one (never on import),
 * and shipped without their comment lines: the text ends up in every WorkflowTemplate and in each
 * workflow's status (`storedTemplates`), which Argo keeps under 1 MiB.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The scripts: the step wrapper, the scan lister and the batch gate. */
export type ShellScriptName = 'step' | 'list-scans' | 'gate';

const cache = new Map<ShellScriptName, string>();

/** Where the `.sh` files are: beside this module, or (from a bundle in build/) under lib/steps/. */
export function shellScriptPath(name: ShellScriptName): string {
  const candidates = [path.join(__dirname, 'scripts'), path.join(__dirname, '..', 'lib', 'steps', 'scripts')];
  const dir = candidates.find((d) => fs.existsSync(path.join(d, `${name}.sh`)));
  if (!dir) throw new Error(`cannot find ${name}.sh (looked in ${candidates.join(', ')})`);
  return path.join(dir, `${name}.sh`);
}

/** A script as shipped: its text without full-line comments and blank lines. */
export function shellScript(name: ShellScriptName): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = stripComments(fs.readFileSync(shellScriptPath(name), 'utf8'));
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
