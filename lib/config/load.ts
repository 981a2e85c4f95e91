/**
 * Reading environment files: YAML in, a validated {@link EnvironmentConfig} out, or every
 * problem at once with file, line, field path, what was given and what was expected.
 *
 * What is refused, each with a message naming the file: a `.yml` file (rename it to `.yaml`:
 * one environment name, one file), a file name that is not a DNS label of at most 63 characters,
 * anything that is not a regular file (a FIFO, a folder; a symbolic link to a regular file is
 * fine), a file over {@link MAX_ENVIRONMENT_FILE_BYTES}, YAML syntax errors, duplicate keys,
 * unresolved or circular aliases and alias bombs (all with line and column).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isAlias, isCollection, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Alias, type Document, type Node, type YAMLMap } from 'yaml';
import type { core } from 'zod';
import { DNS_LABEL } from '../names';
import { environmentSchema, type EnvironmentConfig } from './schema';
import { ConfigError, describeValue, formatPath, type ConfigProblem } from './problems';

/** The largest environment file read (bytes). */
export const MAX_ENVIRONMENT_FILE_BYTES = 1024 * 1024;
/** yaml's `maxAliasCount`: how far aliases may expand before the file is refused as an alias bomb. */
export const MAX_ALIAS_COUNT = 100;
/** The extension of environment files. */
export const ENVIRONMENT_EXTENSION = '.yaml';

/** An environment as loaded from its file. */
export interface LoadedEnvironment {
  /** The environment's name: its file name without `.yaml`. */
  readonly name: string;
  /** The file it came from, as given (used in every message about it). */
  readonly file: string;
  readonly config: EnvironmentConfig;
  /** Finds the 1-based line of a field path in the file, when it is there. */
  readonly lineOf: (path: readonly PropertyKey[]) => number | undefined;
}

/**
 * The environment files (`<name>.yaml`) of a folder, sorted.
 * @throws ConfigError when the folder cannot be read, or names a file `*.yml` (or `.YAML`, ...):
 *   one environment name must be one file, so those are refused with "rename it to .yaml"
 */
export function listEnvironmentFiles(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    throw new ConfigError([{ file: dir, path: '', message: `cannot read the environments folder: ${errorCode(e)}` }]);
  }
  const files: string[] = [];
  const problems: ConfigProblem[] = [];
  const names_ = new Set(names);
  for (const f of names) {
    if (f.endsWith(ENVIRONMENT_EXTENSION)) {
      files.push(f);
    } else if (/\.ya?ml$/i.test(f)) {
      const base = f.replace(/\.ya?ml$/i, '');
      const rename = `${base}${ENVIRONMENT_EXTENSION}`;
      const clash = names_.has(rename) ? ` (${rename} exists too: merge the two into ${rename})` : '';
      problems.push({ file: path.join(dir, f), path: '', message: `environment files must end in ${ENVIRONMENT_EXTENSION}: rename it to ${rename}${clash}` });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems.sort((a, b) => compare(a.file, b.file)));
  return files.sort(compare).map((f) => path.join(dir, f));
}

/** Options of {@link parseEnvironment}. */
export interface ParseOptions {
  /**
   * The largest text accepted, in UTF-8 bytes. Files are limited by {@link loadEnvironment}
   * ({@link MAX_ENVIRONMENT_FILE_BYTES}); text built by programs (tests) is not, by default.
   * @default - no limit
   */
  readonly maxBytes?: number;
}

/**
 * Parses and validates one environment file's text.
 * @param file the name used in messages (and from which the environment's name is taken)
 * @throws ConfigError with every problem found
 */
export function parseEnvironment(file: string, text: string, options: ParseOptions = {}): LoadedEnvironment {
  const maxBytes = options.maxBytes ?? Infinity;
  const name = path.basename(file).replace(/\.ya?ml$/i, '');
  const problems: ConfigProblem[] = [];
  if (!DNS_LABEL.test(name) || name.length > 63) {
    problems.push({
      file,
      path: '',
      message: `the file name gives the environment name ${describeValue(name)}; expected a DNS-1123 label (at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit): it becomes a label value, a folder of dist/ and part of object names; rename the file`,
    });
  }
  if (text.length > maxBytes || Buffer.byteLength(text, 'utf8') > maxBytes) {
    problems.push({ file, path: '', message: tooLarge(Buffer.byteLength(text, 'utf8'), maxBytes) });
    throw new ConfigError(problems);
  }
  const lineCounter = new LineCounter();
  const at = (node: { range?: readonly number[] | null } | null | undefined, message: string): ConfigProblem => {
    const offset = node?.range?.[0];
    if (offset === undefined) return { file, path: '', message };
    const { line, col } = lineCounter.linePos(offset);
    return { file, path: '', line, column: col, message };
  };

  let doc: Document.Parsed;
  try {
    // uniqueKeys: false: yaml compares each key with every earlier one (quadratic); checked below.
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  } catch (e) {
    // e.g. nesting too deep for the parser's recursion
    problems.push({ file, path: '', message: `invalid YAML: ${firstLine(e)}` });
    throw new ConfigError(problems);
  }
  for (const err of doc.errors) {
    const offset = err.pos?.[0];
    const pos = offset === undefined ? undefined : lineCounter.linePos(offset);
    problems.push({ file, path: '', line: pos?.line, column: pos?.col, message: `invalid YAML: ${err.message.split('\n')[0]}` });
  }
  if (doc.errors.length > 0) throw new ConfigError(problems);

  const structural: ConfigProblem[] = [];
  const targets = checkStructure(doc, (node, message) => structural.push(at(node, `invalid YAML: ${message}`)));
  // in file order (the walk meets a map's keys before the maps inside it)
  structural.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  for (const p of structural) problems.push(p);
  if (problems.length > 0) throw new ConfigError(problems);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (e) {
    if (/alias count|resource exhaustion/i.test(firstLine(e))) {
      problems.push(at(largestAlias(targets), `invalid YAML: aliases expand too far (yaml maxAliasCount ${MAX_ALIAS_COUNT}): refused as an alias bomb; write the values out or use fewer aliases`));
    } else {
      problems.push({ file, path: '', message: `invalid YAML: ${firstLine(e)}` });
    }
    throw new ConfigError(problems);
  }
  const lineOf = lineFinder(doc, lineCounter);
  const result = environmentSchema.safeParse(data, { reportInput: true });
  if (!result.success) {
    for (const issue of result.error.issues) for (const p of fromIssue(file, issue, lineOf)) problems.push(p); // no spread: an issue can name 200,000 keys
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { name, file, config: result.data as EnvironmentConfig, lineOf };
}

/**
 * Reads and validates one environment file. Only regular files are read (a symbolic link to one
 * is followed); a FIFO, a device or a folder is refused without being opened, and so is a file
 * over {@link MAX_ENVIRONMENT_FILE_BYTES}.
 * @throws ConfigError
 */
export function loadEnvironment(file: string): LoadedEnvironment {
  const refuse = (message: string): never => {
    throw new ConfigError([{ file, path: '', message }]);
  };
  let st: fs.Stats;
  try {
    st = fs.statSync(file); // follows symbolic links; never opens the file
  } catch (e) {
    return refuse(`cannot read the file: ${errorCode(e)}`);
  }
  if (!st.isFile()) refuse(`not a regular file (${fileKind(st)}); an environment file must be a regular file (a symbolic link to one is fine)`);
  if (st.size > MAX_ENVIRONMENT_FILE_BYTES) refuse(tooLarge(st.size));
  let text = '';
  let fd: number | undefined;
  try {
    // O_NONBLOCK: should the file have been swapped for a FIFO since the stat, opening it does not wait.
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
    const opened = fs.fstatSync(fd);
    if (!opened.isFile()) refuse(`not a regular file (${fileKind(opened)}); an environment file must be a regular file (a symbolic link to one is fine)`);
    const buf = Buffer.alloc(MAX_ENVIRONMENT_FILE_BYTES + 1);
    let n = 0;
    for (let r = 1; r > 0 && n < buf.length; n += r) r = fs.readSync(fd, buf, n, buf.length - n, null);
    if (n > MAX_ENVIRONMENT_FILE_BYTES) refuse(tooLarge(Math.max(n, fs.fstatSync(fd).size)));
    text = buf.toString('utf8', 0, n);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    refuse(`cannot read the file: ${errorCode(e)}`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  return parseEnvironment(file, text, { maxBytes: MAX_ENVIRONMENT_FILE_BYTES });
}

/**
 * Loads every environment file given; problems of all files are collected before throwing.
 * @throws ConfigError
 */
export function loadEnvironments(files: readonly string[]): LoadedEnvironment[] {
  const loaded: LoadedEnvironment[] = [];
  const problems: ConfigProblem[] = [];
  for (const file of files) {
    try {
      loaded.push(loadEnvironment(file));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      for (const p of e.problems) problems.push(p); // no spread: there can be 100,000
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return loaded;
}

function tooLarge(bytes: number, limit = MAX_ENVIRONMENT_FILE_BYTES): string {
  const mib = limit === MAX_ENVIRONMENT_FILE_BYTES ? ', 1 MiB' : '';
  return `the file is too large (${bytes} bytes; the limit is ${limit} bytes${mib}): keep environment files small`;
}

function fileKind(st: fs.Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isDirectory()) return 'a folder';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a file';
}

function errorCode(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? firstLine(e);
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0];
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * One pass over the document: duplicate keys (a Set per map, where yaml's `uniqueKeys` compares
 * every pair), aliases without an earlier anchor, and aliases inside the node they name (circular).
 * @returns every alias with the node it stands for
 */
function checkStructure(doc: Document.Parsed, report: (node: Node, message: string) => void): Map<Alias, Node> {
  const anchors = new Map<string, Node>();
  const targets = new Map<Alias, Node>();
  visit(doc, {
    Node(_key, node, ancestors) {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        if (target === undefined) report(node, `unresolved alias *${node.source}: no anchor &${node.source} before it`);
        else if (ancestors.includes(target as never)) report(node, `circular alias *${node.source}: it is inside the node anchored &${node.source}`);
        else targets.set(node, target);
        return;
      }
      if (node.anchor) anchors.set(node.anchor, node);
      if (isMap(node)) {
        const seen = new Set<string>();
        for (const pair of node.items) {
          if (!isScalar(pair.key)) continue;
          const key = String(pair.key.value);
          if (seen.has(key)) report(pair.key, `duplicate key ${describeValue(key)} (map keys must be unique)`);
          seen.add(key);
        }
      }
    },
  });
  return targets;
}

/** The alias that expands to the most nodes (where an alias bomb is reported). */
function largestAlias(targets: ReadonlyMap<Alias, Node>): Alias | undefined {
  const sizes = new Map<unknown, number>();
  const size = (node: unknown): number => {
    if (node === null || node === undefined || isScalar(node)) return 1;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    let n = 1;
    if (isAlias(node)) n = size(targets.get(node));
    else if (isPair(node)) n = size(node.key) + size(node.value);
    else if (isCollection(node)) for (const it of node.items) n += size(it);
    sizes.set(node, n);
    return n;
  };
  let best: Alias | undefined;
  let bestSize = -1;
  for (const alias of targets.keys()) {
    const s = size(alias);
    if (s > bestSize) [best, bestSize] = [alias, s];
  }
  return best;
}

/**
 * Finds the line of a field path: the key's line for a map entry, the item's for a list item; the
 * deepest part of the path that exists. Each map is indexed once (a Map of its keys, so any name,
 * `constructor` or `__proto__` too, is just a key), so a lookup costs the path's length.
 */
function lineFinder(doc: Document.Parsed, lc: LineCounter): LoadedEnvironment['lineOf'] {
  const indexes = new WeakMap<YAMLMap, Map<string, { key: unknown; value: unknown }>>();
  const keysOf = (map: YAMLMap) => {
    let index = indexes.get(map);
    if (!index) {
      index = new Map();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        if (!index.has(key)) index.set(key, pair);
      }
      indexes.set(map, index);
    }
    return index;
  };
  return (p) => {
    let node: unknown = doc.contents;
    let offset = (node as Node | null)?.range?.[0];
    for (const part of p) {
      if (isMap(node)) {
        const pair = keysOf(node).get(String(part));
        if (!pair) break;
        const keyOffset = (pair.key as Node | null)?.range?.[0];
        if (keyOffset !== undefined) offset = keyOffset;
        node = pair.value;
      } else if (isSeq(node) && typeof part === 'number') {
        const item = node.items[part] as Node | undefined;
        if (!item) break;
        if (item.range) offset = item.range[0];
        node = item;
      } else {
        break;
      }
    }
    return offset === undefined ? undefined : lc.linePos(offset).line;
  };
}

function fromIssue(file: string, issue: core.$ZodIssue, lineOf: LoadedEnvironment['lineOf']): ConfigProblem[] {
  const given = (issue as { input?: unknown }).input;
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const p = [...issue.path, key];
      return { file, path: formatPath(p), line: lineOf(p), message: 'unknown field; check its spelling and level (see the environment schema in lib/config/schema.ts)' };
    });
  }
  let message = issue.message.replace(/^Invalid input: /, '');
  if (issue.code === 'invalid_type' && given === undefined) {
    message = `required field is missing (${message})`;
  } else {
    message = `${message}; given ${describeValue(given)}`;
  }
  return [{ file, path: formatPath(issue.path), line: lineOf(issue.path), message }];
}
