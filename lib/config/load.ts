/**
 * Reading environment files: YAML in, a validated {@link EnvironmentConfig} out, or every
 * problem at once with file, line, field path, what was given and what was expected.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { core } from 'zod';
import { DNS_LABEL } from '../names';
import { environmentSchema, type EnvironmentConfig } from './schema';
import { ConfigError, describeValue, formatPath, type ConfigProblem } from './problems';

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

/** The file names (`<name>.yaml`) of the environments in a folder, sorted. */
export function listEnvironmentFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((f) => path.join(dir, f));
}

/**
 * Parses and validates one environment file's text.
 * @param file the name used in messages (and from which the environment's name is taken)
 * @throws ConfigError with every problem found
 */
export function parseEnvironment(file: string, text: string): LoadedEnvironment {
  const name = path.basename(file).replace(/\.ya?ml$/, '');
  const problems: ConfigProblem[] = [];
  if (!DNS_LABEL.test(name) || name.length > 63) {
    problems.push({ file, path: '', message: `the file name gives the environment name ${describeValue(name)}; expected a DNS-1123 label (lowercase letters, digits and "-")` });
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  for (const err of doc.errors) {
    const line = err.linePos?.[0]?.line;
    problems.push({ file, path: '', line, message: `invalid YAML: ${err.message.split('\n')[0]}` });
  }
  const lineOf = (p: readonly PropertyKey[]): number | undefined => findLine(doc, lineCounter, p);
  if (doc.errors.length > 0) throw new ConfigError(problems);

  const data: unknown = doc.toJS() ?? {};
  const result = environmentSchema.safeParse(data, { reportInput: true });
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(...fromIssue(file, issue, lineOf));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { name, file, config: result.data as EnvironmentConfig, lineOf };
}

/** Reads and validates one environment file. @throws ConfigError */
export function loadEnvironment(file: string): LoadedEnvironment {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([{ file, path: '', message: `cannot read the file: ${(e as NodeJS.ErrnoException).code ?? String(e)}` }]);
  }
  return parseEnvironment(file, text);
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
      problems.push(...e.problems);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return loaded;
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

function findLine(doc: Document, lc: LineCounter, p: readonly PropertyKey[]): number | undefined {
  // Walk down as far as the path exists; report the deepest node found (the field or its parent).
  for (let n = p.length; n >= 0; n--) {
    const keys = p.slice(0, n) as (string | number)[];
    const node = n === 0 ? doc.contents : doc.getIn(keys, true);
    if (n > 0) {
      // Prefer the key's line for map entries: it is where the user looks.
      const parent = n === 1 ? doc.contents : doc.getIn(keys.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((it) => isScalar(it.key) && String(it.key.value) === String(keys[n - 1]));
        if (pair && isScalar(pair.key) && pair.key.range) return lc.linePos(pair.key.range[0]).line;
      }
    }
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return lc.linePos(range[0]).line;
  }
  return undefined;
}
