/**
 * The environment file `import` writes: the data as YAML, a header that lists every correction
 * and everything left out (file:line: field: message), and beside each corrected field a
 * one-line comment. Deterministic: the same input gives the same bytes.
 */
import { Document, isCollection, isMap, isScalar, isSeq, type Node, type Pair, type YAMLMap } from 'yaml';
import type { EnvironmentConfig } from '../config/schema';
import type { Correction } from './context';
import { formatFinding, type Finding } from './findings';

/** Comment lines are wrapped at this width. */
const WIDTH = 100;

/** The environment file's text. */
export function renderEnvironment(config: EnvironmentConfig, corrections: readonly Correction[], unexpressed: readonly Finding[], sources: readonly string[]): string {
  // The description first, then the file's fields in the README's order.
  const { description, ...rest } = config;
  const doc = new Document(description === undefined ? rest : { description, ...rest });
  const byPath = new Map<string, Correction[]>();
  for (const c of corrections) {
    const key = JSON.stringify(c.at);
    byPath.set(key, [...(byPath.get(key) ?? []), c]);
  }
  for (const list of byPath.values()) {
    const pair = nearestPair(doc, list[0].at);
    if (!pair || !isScalar(pair.key)) continue;
    const shorts = new Map<string, string[]>();
    for (const c of list) shorts.set(c.short, [...(shorts.get(c.short) ?? []), c.line === undefined ? c.file : `${c.file}:${c.line}`]);
    const lines = [...shorts].map(([text, where]) => ` corrected: ${text} (${where.join(', ')})`);
    const before = pair.key.commentBefore ? `${pair.key.commentBefore}\n` : '';
    pair.key.commentBefore = before + lines.join('\n');
  }
  flowLeaves(doc.contents);

  const header: string[] = [
    ` Written by \`sleap-roots import\` from ${sources.join(', ')}.`,
    ' Review it, then run `npx cdk8s synth`: it synthesizes as written.',
    '',
    ` Corrected (${corrections.length}):`,
    ...(corrections.length === 0 ? ['   nothing'] : grouped(corrections)),
    '',
    ` Not expressed, left out (${unexpressed.length}):`,
    ...(unexpressed.length === 0 ? ['   nothing'] : unexpressed.flatMap((f) => wrap(formatFinding(f), '   - ', '     '))),
  ];
  doc.commentBefore = header.join('\n');
  return doc.toString({ lineWidth: 0 });
}

/** The map pair at `path`, or at the nearest ancestor that exists in the output. */
function nearestPair(doc: Document, path: readonly (string | number)[]): Pair | undefined {
  for (let n = path.length; n > 0; n--) {
    const parent = n === 1 ? doc.contents : doc.getIn(path.slice(0, n - 1), true);
    if (!isMap(parent)) continue;
    const pair = (parent as YAMLMap).items.find((p) => isScalar(p.key) && p.key.value === path[n - 1]);
    if (pair) return pair as Pair;
  }
  return undefined;
}

/** Short collections of scalars are written inline ({hostPath: /x}, [a, b]) when no key inside carries a comment. */
function flowLeaves(node: unknown): void {
  if (!isCollection(node)) return;
  const items = (node as { items: unknown[] }).items;
  const values = isMap(node) ? (node.items as Pair[]).map((p) => p.value) : items;
  for (const v of values) flowLeaves(v);
  const commented = isMap(node) && (node.items as Pair[]).some((p) => isScalar(p.key) && p.key.commentBefore);
  const leafy = values.every((v) => isScalar(v) || (isCollection(v) && (v as { flow?: boolean }).flow === true));
  if (!commented && leafy && values.length > 0 && JSON.stringify((node as Node).toJSON()).length <= 90) (node as { flow?: boolean }).flow = true;
  if (isSeq(node) && items.length === 0) (node as { flow?: boolean }).flow = true;
}

/** One entry per distinct message, with every place it was found: `- message` then `at: file:line field, ...`. */
function grouped(corrections: readonly Correction[]): string[] {
  const byMessage = new Map<string, Correction[]>();
  for (const c of corrections) byMessage.set(c.message, [...(byMessage.get(c.message) ?? []), c]);
  return [...byMessage].flatMap(([message, list]) => [
    ...wrap(message, '   - ', '     '),
    ...wrap(`at ${list.map((c) => `${c.line === undefined ? c.file : `${c.file}:${c.line}`} ${c.field}`.trim()).join(', ')}`, '     ', '       '),
  ]);
}

function wrap(text: string, first: string, rest: string): string[] {
  const out: string[] = [];
  let line = first;
  for (const word of text.split(' ')) {
    if (line.length + word.length + 1 > WIDTH && line.trim() !== '-' && line !== rest) {
      out.push(line.trimEnd());
      line = rest;
    }
    line += (line === first || line === rest ? '' : ' ') + word;
  }
  out.push(line.trimEnd());
  return out;
}
