/**
 * `sleap-roots diff --env <name>`: what `deploy` would change, as a unified diff of each live
 * object against a server-side dry-run apply of dist/<env>/ (see lib/cluster/diff.ts).
 *
 * Exit codes, as `kubectl diff`: 0 no differences, 1 differences found, 2 on any error (the
 * caller maps thrown errors to 2).
 */
import { diffObjects, type ObjectDiff } from '../../cluster/diff';
import { withNamespace } from '../../cluster/manifests';
import type { Session } from '../session';
import type { Style } from '../style';

/** Options of the diff command. */
export interface DiffCommandOptions {
  readonly env: string;
  readonly forceConflicts?: boolean;
}

/** Exit code when some object differs. */
export const EXIT_DIFFERENCES = 1;
/** Exit code of any error (a bad flag, an unknown environment, the API failing), as kubectl diff. */
export const EXIT_DIFF_ERROR = 2;

/** Runs diff; returns 0 (no differences) or 1 (differences). */
export async function diffCommand(s: Session, o: DiffCommandOptions): Promise<number> {
  const dist = s.readDist(o.env);
  const namespace = s.opts.namespace ?? dist.namespace;
  const objects = dist.objects.map((m) => ({ file: m.file, object: withNamespace(m.object, dist.namespace, namespace) }));
  const client = await s.client();
  const diffs = await diffObjects(client, objects, { forceConflicts: o.forceConflicts, signal: s.io.signal });
  const differing = diffs.filter((d) => d.change !== 'none');
  if (s.json) {
    const list = diffs.map((d) => ({ kind: d.kind, name: d.name, namespace: d.namespace ?? null, change: d.change, diff: d.diff }));
    s.io.stdout.write(JSON.stringify(list, null, 2) + '\n');
  } else {
    for (const d of differing) s.io.stdout.write(colorDiff(d.diff, s.style));
    s.io.stderr.write(`${summary(diffs)} (${dist.dir}/ against namespace "${namespace}" on ${client.connection.describe()})\n`);
  }
  return differing.length > 0 ? EXIT_DIFFERENCES : 0;
}

/** `2 to create, 1 to update, 8 unchanged`, or `no differences: 11 objects unchanged`. */
export function summary(diffs: readonly ObjectDiff[]): string {
  const n = (c: ObjectDiff['change']) => diffs.filter((d) => d.change === c).length;
  if (n('none') === diffs.length) return `no differences: ${diffs.length} object${diffs.length === 1 ? '' : 's'} unchanged`;
  return [`${n('create')} to create`, `${n('update')} to update`, `${n('none')} unchanged`].join(', ');
}

/** Colours a unified diff line by line: file headers bold, hunk ranges cyan, removals red, additions green. */
function colorDiff(text: string, style: Style): string {
  if (!style.color) return text;
  let header = false;
  const color = (l: string): string => {
    if (l.startsWith('diff ')) header = true;
    else if (l.startsWith('@@')) header = false;
    if (header) return style.bold(l);
    if (l.startsWith('@@')) return style.cyan(l);
    if (l.startsWith('-')) return style.red(l);
    if (l.startsWith('+')) return style.green(l);
    return l;
  };
  return text.split('\n').map((l) => (l === '' ? l : color(l))).join('\n');
}
