/**
 * A run's request: scan ids read from a file (one per line), cut into batches, each with a digest
 * of its scan list. Pure: same text and batch size, same batches and digests.
 */
import { createHash } from 'node:crypto';
import { UserError } from '../errors';

/** One batch of a run. */
export interface Batch {
  /** 0-based. */
  readonly index: number;
  readonly scans: readonly string[];
  /** `sha256:<hex>` of the scans, one per line. */
  readonly digest: string;
}

/**
 * Why a scan id cannot travel in the lister's comma-separated list or name a folder under the
 * per-scan mounts (lib/steps/scripts/list-scans.sh skips these; here they are refused instead, so
 * no scan is silently left out of a batch).
 */
function badScan(id: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(id)) return 'holds a control character';
  if (id.includes('/')) return 'holds a /';
  if (id.includes(',')) return 'holds a comma (the list is comma-separated)';
  if (id.includes('"') || id.includes('\\')) return 'holds a quote or a backslash';
  if (id.startsWith('.')) return 'starts with a dot';
  return undefined;
}

/**
 * Scan ids of a request: one per line; blank lines and lines starting with `#` are skipped, and
 * each id loses its surrounding blanks.
 * @param source how to name the input in errors (a file name, or `stdin`)
 * @throws UserError naming the lines of a duplicate or a bad id, or when there is none
 */
export function parseScanList(text: string, source: string): string[] {
  const scans: string[] = [];
  const firstLine = new Map<string, number>();
  const problems: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const id = lines[i].trim();
    if (id === '' || id.startsWith('#')) continue;
    const line = i + 1;
    const bad = badScan(id);
    if (bad) {
      problems.push(`line ${line}: ${JSON.stringify(id)} ${bad}`);
      continue;
    }
    const first = firstLine.get(id);
    if (first !== undefined) {
      problems.push(`line ${line}: ${JSON.stringify(id)} repeats line ${first}`);
      continue;
    }
    firstLine.set(id, line);
    scans.push(id);
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 10).join('\n  ');
    throw new UserError(`${source}: ${problems.length} bad scan id${problems.length === 1 ? '' : 's'}:\n  ${shown}${problems.length > 10 ? `\n  ... and ${problems.length - 10} more` : ''}`, 'each scan once, one per line');
  }
  if (scans.length === 0) throw new UserError(`${source}: no scan ids (one per line; blank lines and # comments are skipped)`);
  return scans;
}

/** The digest of a batch's scan list. */
export function scanDigest(scans: readonly string[]): string {
  return `sha256:${createHash('sha256').update(scans.join('\n')).digest('hex')}`;
}

/** Cuts scans into batches of `size` (the last may be smaller). @throws UserError for a bad size */
export function cutBatches(scans: readonly string[], size: number): Batch[] {
  if (!Number.isInteger(size) || size < 1) throw new UserError(`--batch-size ${size}: expected a whole number >= 1`);
  const out: Batch[] = [];
  for (let i = 0; i * size < scans.length; i++) {
    const part = scans.slice(i * size, (i + 1) * size);
    out.push({ index: i, scans: part, digest: scanDigest(part) });
  }
  return out;
}
