/**
 * The shared state of one import: what was corrected, what could not be expressed, what stops it,
 * and small readers of untyped YAML data.
 */
import { fieldPath, type Finding } from './findings';
import type { SourceObject } from './documents';

/** A path in the written environment file (e.g. ['steps', 'predictor', 'gpu']). */
export type OutPath = readonly (string | number)[];

/** A pitfall the import corrected, and where the correction landed in the environment file. */
export interface Correction extends Finding {
  /** The field of the written file that carries the correction. */
  readonly at: OutPath;
  /** One line for the comment beside that field. */
  readonly short: string;
}

/** Collects what an import says. */
export class ImportContext {
  public readonly corrections: Correction[] = [];
  public readonly unexpressed: Finding[] = [];
  public readonly problems: Finding[] = [];

  /** A pitfall corrected: `message` says what the seed did, what it does on the cluster and what is written instead. */
  public corrected(src: SourceObject, path: readonly (string | number)[], at: OutPath, short: string, message: string): void {
    this.corrections.push({ file: src.file, line: src.lineOf(path), field: fieldPath(path), message, at, short });
  }

  /** Something the environment file has no field for: listed, the import goes on. */
  public cannotExpress(src: SourceObject, path: readonly (string | number)[], message: string): void {
    this.unexpressed.push({ file: src.file, line: src.lineOf(path), field: fieldPath(path), message });
  }

  /** Something the pipeline cannot be built without: the import stops (after collecting every such problem). */
  public fail(src: SourceObject, path: readonly (string | number)[], message: string): void {
    this.problems.push({ file: src.file, line: src.lineOf(path), field: fieldPath(path), message });
  }

  /** Lists every key of `obj` (at `path`) that is not in `known`, as not expressible. */
  public unknownKeys(src: SourceObject, path: readonly (string | number)[], obj: Record<string, unknown>, known: readonly string[], what: string): void {
    for (const key of Object.keys(obj).sort()) {
      if (!known.includes(key)) this.cannotExpress(src, [...path, key], `${what} has no counterpart in the environment file; left out (given ${short(obj[key])})`);
    }
  }
}

/** The value as a map, or undefined. */
export function asMap(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** The value as a list, or []. */
export function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** A map of strings (labels, annotations), or {}. */
export function asStrings(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(asMap(v) ?? {})) out[k] = String(x);
  return out;
}

/** A value, short enough for one line. */
export function short(v: unknown): string {
  const t = JSON.stringify(v) ?? String(v);
  return t.length > 60 ? `${t.slice(0, 57)}...` : t;
}
