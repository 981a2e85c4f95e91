/**
 * `import` as one pure function: the texts of hand-written Argo YAML files in, the environment
 * file's text out, checked the way `npx cdk8s synth` checks it (the schema, then a full synthesis
 * with policy and manifest schemas) before anyone writes it.
 */
import { parseEnvironment, type LoadedEnvironment } from '../config/load';
import { ConfigError } from '../config/problems';
import { synthesizeEnvironment } from '../synth';
import type { Correction } from './context';
import { parseSourceFile, type SourceObject } from './documents';
import { ImportError, type Finding } from './findings';
import { renderEnvironment } from './render';
import { translate, type TranslateOptions } from './translate';

/** One input file. */
export interface SourceFile {
  /** The name used in every message (as the user gave it). */
  readonly file: string;
  readonly text: string;
}

/** Options of {@link importSeed}. */
export interface ImportOptions extends TranslateOptions {
  /**
   * The environment file the text is meant for (its name is the environment's name, used to check
   * that the text synthesizes).
   * @default 'environments/imported.yaml'
   */
  readonly target?: string;
  /**
   * The other environments of the target's folder: one in the same namespace would emit the same
   * objects (the pipeline template's name is fixed), which the synth refuses.
   * @default []
   */
  readonly siblings?: readonly LoadedEnvironment[];
}

/** What `import` produced. */
export interface ImportResult {
  /** The environment file's text. */
  readonly text: string;
  readonly corrections: readonly Correction[];
  readonly unexpressed: readonly Finding[];
}

/**
 * Imports the files.
 * @throws ImportError naming every problem of the input (file:line: field: message), or, should
 *   the written file not synthesize, every problem the synth found in it
 */
export function importSeed(files: readonly SourceFile[], options: ImportOptions = {}): ImportResult {
  const objects: SourceObject[] = [];
  const problems: Finding[] = [];
  for (const f of files) {
    try {
      for (const o of parseSourceFile(f.file, f.text)) objects.push(o);
    } catch (e) {
      if (!(e instanceof ImportError)) throw e;
      for (const p of e.problems) problems.push(p);
    }
  }
  if (problems.length > 0) throw new ImportError(problems);
  const { config, context } = translate(objects, options);
  const text = renderEnvironment(config, context.corrections, context.unexpressed, files.map((f) => f.file));
  const target = options.target ?? 'environments/imported.yaml';
  try {
    synthesizeEnvironment(parseEnvironment(target, text));
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    throw new ImportError(e.problems.map((p) => ({
      file: `${target} (as imported)`,
      line: p.line,
      field: p.path,
      message: `${p.message} (the imported file would not synthesize; nothing was written)`,
    })));
  }
  const clash = (options.siblings ?? []).find((e) => e.config.namespace === config.namespace);
  if (clash) {
    throw new ImportError([{
      file: target,
      field: 'namespace',
      message: `${clash.file} deploys to namespace ${config.namespace} too: both would emit the same objects (sleap-roots-pipeline, ...) and the synth refuses that; give another --namespace, or replace that file (-o ${clash.file} --force); nothing was written`,
    }]);
  }
  return { text, corrections: context.corrections, unexpressed: context.unexpressed };
}
