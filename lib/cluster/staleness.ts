/**
 * Whether dist/<env>/ is what its environment file synthesizes: the same comparison as
 * `npm run synth:check`, by content (file times say nothing after a `git checkout`). Loads the
 * constructs only when called.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DistTree } from './manifests';

/** What differs, or why the environment file could not be synthesized. */
export interface Staleness {
  /** `missing`, `differs` or `extra` lines (paths under dist/), as synth --check prints them. */
  readonly differences: readonly string[];
  /** The environment file's problems, when it does not synthesize. */
  readonly problems?: string;
}

/**
 * Synthesizes `envFile` in memory and compares it with `dist`.
 * @param version the pipeline version dist/ is labelled with (the package's)
 */
export async function distStaleness(dist: DistTree, envFile: string, version: string | undefined): Promise<Staleness> {
  // Loaded here, not imported above: commands that never compare pay nothing for the constructs.
  const [{ parseEnvironment }, { ConfigError }, { diffTree, synthesizeEnvironment }] = await Promise.all([
    import('../config/load.js'),
    import('../config/problems.js'),
    import('../synth.js'),
  ]);
  const distRoot = path.dirname(dist.dir);
  // Named as `npx cdk8s synth` names it (relative to the project), so headers compare equal.
  const label = path.relative(path.dirname(distRoot), envFile).split(path.sep).join('/');
  try {
    const env = parseEnvironment(label, fs.readFileSync(envFile, 'utf8'));
    const files = synthesizeEnvironment({ ...env, name: dist.environment }, { version });
    const prefix = `${dist.environment}/`;
    return { differences: diffTree(distRoot, files).filter((line) => line.slice(8).startsWith(prefix)) };
  } catch (e) {
    if (e instanceof ConfigError) return { differences: [], problems: `${e.problems.length} problem${e.problems.length === 1 ? '' : 's'}, first: ${e.message.split('\n')[0]}` };
    throw e;
  }
}
