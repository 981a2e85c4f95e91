/**
 * Reading hand-written Argo YAML for `import`: every document of every file, each with the
 * line of any field in it (documents of one multi-document file count lines from the file's start,
 * through one yaml LineCounter per file).
 */
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import { ImportError, type Finding } from './findings';

/** One Kubernetes object read from a file. */
export interface SourceObject {
  /** The file, as given. */
  readonly file: string;
  readonly kind: string;
  readonly name: string;
  /** The object as plain data. */
  readonly data: Record<string, unknown>;
  /** 1-based line of a field path in the file (the nearest enclosing field that exists). */
  readonly lineOf: (path: readonly (string | number)[]) => number | undefined;
}

/** The objects of one file's text; every problem of it is thrown at once. */
export function parseSourceFile(file: string, text: string): SourceObject[] {
  const lineCounter = new LineCounter();
  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, { lineCounter, prettyErrors: false }) as Document.Parsed[];
  } catch (e) {
    throw new ImportError([{ file, field: '', message: `invalid YAML: ${(e as Error).message.split('\n')[0]}` }]);
  }
  if (!Array.isArray(docs)) docs = []; // an empty stream
  const problems: Finding[] = [];
  const lineAt = (offset: number | undefined) => (offset === undefined ? undefined : lineCounter.linePos(offset).line);
  for (const doc of docs) {
    for (const err of [...doc.errors]) problems.push({ file, line: lineAt(err.pos?.[0]), field: '', message: `invalid YAML: ${err.message.split('\n')[0]}` });
  }
  if (problems.length > 0) throw new ImportError(problems);

  const out: SourceObject[] = [];
  for (const doc of docs) {
    const data: unknown = doc.toJS({ maxAliasCount: 100 });
    if (data === null || data === undefined) continue; // an empty document (`---` at the end)
    const docLine = lineAt(doc.contents?.range?.[0]);
    if (typeof data !== 'object' || Array.isArray(data)) {
      problems.push({ file, line: docLine, field: '', message: `expected a Kubernetes object (a map with apiVersion, kind, metadata); given ${Array.isArray(data) ? 'a list' : JSON.stringify(data)}` });
      continue;
    }
    const obj = data as Record<string, unknown>;
    const lineOf = (path: readonly (string | number)[]) => {
      for (let n = path.length; n >= 0; n--) {
        const node = nodeAt(doc.contents, path.slice(0, n));
        if (node?.range) return lineAt(node.range[0]);
      }
      return docLine;
    };
    const meta = (obj.metadata ?? {}) as Record<string, unknown>;
    const name = typeof meta.name === 'string' ? meta.name : typeof meta.generateName === 'string' ? meta.generateName : '';
    if (typeof obj.kind !== 'string') {
      problems.push({ file, line: docLine, field: 'kind', message: 'expected a kind (WorkflowTemplate or Workflow); given nothing' });
      continue;
    }
    out.push({ file, kind: obj.kind, name, data: obj, lineOf });
  }
  if (problems.length > 0) throw new ImportError(problems);
  return out;
}

/** The node at a path of keys and indexes, or undefined. For a map key, the key's node (its line is the field's). */
function nodeAt(root: Node | null | undefined, path: readonly (string | number)[]): Node | undefined {
  let node: Node | null | undefined = root;
  for (let i = 0; i < path.length; i++) {
    const part = path[i];
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(part));
      if (!pair) return undefined;
      if (i === path.length - 1) return (pair.key as Node) ?? undefined;
      node = pair.value as Node | null;
    } else if (isSeq(node) && typeof part === 'number') {
      node = node.items[part] as Node | null;
    } else {
      return undefined;
    }
  }
  return node ?? undefined;
}
