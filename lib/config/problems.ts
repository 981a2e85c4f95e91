/**
 * Configuration problems: every one names the file, the field path, what was given and what
 * was expected, and they are reported all at once.
 */

/** One thing wrong with an environment file or with what it would synthesize. */
export interface ConfigProblem {
  /** The file the problem is in, as the user named it (e.g. environments/runai.yaml). */
  readonly file: string;
  /** Dotted field path inside the file (e.g. steps.predictor.gpu.fraction); '' for the whole file. */
  readonly path: string;
  /** What is wrong and what is expected. */
  readonly message: string;
  /** 1-based line of the field in the file, when known. */
  readonly line?: number;
  /** 1-based column (with `line`), when known: YAML syntax errors carry it. */
  readonly column?: number;
}

/**
 * Thrown for a failure that is not a configuration problem (a folder that cannot be written, an
 * internal error): `main` prints `error: <file>: <message>` and exits 2, never a stack trace.
 */
export class FileError extends Error {
  public readonly file: string;

  public constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FileError';
    this.file = file;
  }
}

/** How many problems {@link formatProblems} prints; the rest are counted ("and N more"). */
export const MAX_REPORTED_PROBLEMS = 50;

/** Thrown when configuration cannot be synthesized; carries every problem found. */
export class ConfigError extends Error {
  public readonly problems: readonly ConfigProblem[];

  public constructor(problems: readonly ConfigProblem[]) {
    super(formatProblems(problems));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Renders a path array as the dotted/indexed form users see: steps.predictor.env[0].name. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') {
      out += `[${part}]`;
    } else {
      const key = String(part);
      out += out === '' ? key : `.${key}`;
    }
  }
  return out;
}

/** Renders a value the user gave, short enough for one line. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * One line per problem: `file:line[:column]: path: message`; at most {@link MAX_REPORTED_PROBLEMS}
 * lines, then `... and N more problems`.
 */
export function formatProblems(problems: readonly ConfigProblem[], max = MAX_REPORTED_PROBLEMS): string {
  const lines = problems.slice(0, max).map((p) => {
    let where = p.file;
    if (p.line !== undefined) where += p.column !== undefined ? `:${p.line}:${p.column}` : `:${p.line}`;
    return p.path ? `${where}: ${p.path}: ${p.message}` : `${where}: ${p.message}`;
  });
  if (problems.length > max) lines.push(`... and ${problems.length - max} more problem${problems.length - max === 1 ? '' : 's'} (the first ${max} are shown)`);
  return lines.join('\n');
}
