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
}

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

/** One line per problem: `file:line: path: message`. */
export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems
    .map((p) => {
      const where = p.line !== undefined ? `${p.file}:${p.line}` : p.file;
      return p.path ? `${where}: ${p.path}: ${p.message}` : `${where}: ${p.message}`;
    })
    .join('\n');
}
