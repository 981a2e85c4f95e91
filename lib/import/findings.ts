/**
 * What `import` says about the hand-written YAML: pitfalls it corrected, things it could not
 * express (listed, the import goes on, as kubectl warns and continues), and problems that stop it
 * (something the pipeline cannot be built without: no DAG, a templateRef to no template...).
 */

/** One remark about one field of one input file. */
export interface Finding {
  readonly file: string;
  /** 1-based line, when known. */
  readonly line?: number;
  /** Dotted field path inside the object (e.g. metadata.annotations.gpu-fraction); '' for the whole object. */
  readonly field: string;
  /** What was given, what it does, what was written instead and why. */
  readonly message: string;
}

/** `file:line: field: message`, as the environment file loader writes its problems. */
export function formatFinding(f: Finding): string {
  const where = f.line === undefined ? f.file : `${f.file}:${f.line}`;
  return f.field ? `${where}: ${f.field}: ${f.message}` : `${where}: ${f.message}`;
}

/** Thrown when the input cannot become an environment file; carries every problem found. */
export class ImportError extends Error {
  public readonly problems: readonly Finding[];

  public constructor(problems: readonly Finding[]) {
    super(problems.map(formatFinding).join('\n'));
    this.name = 'ImportError';
    this.problems = problems;
  }
}

/** Renders a field path: spec.templates[0].container.image. */
export function fieldPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out;
}
