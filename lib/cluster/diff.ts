/**
 * `diff`: what a deploy would change, shown the way `kubectl diff --server-side` shows it
 * (k8s.io/kubectl v0.32.4, pkg/cmd/diff/diff.go):
 *
 * - each object is read live (`DiffOptions.Run`: `info.Get()`, NotFound meaning "absent") and
 *   applied with dryRun=All by the same field manager as `deploy` (`InfoObject.Merged`:
 *   `helper.DryRun(true).WithFieldManager(...).Patch(..., types.ApplyPatchType, ...)`);
 * - both versions are printed as YAML (`Printer.Print`: sigs.k8s.io/yaml, keys sorted) into
 *   files named `<group>.<version>.<Kind>.<namespace>.<name>` (`InfoObject.Name`) under LIVE/
 *   and MERGED/, and compared as `diff -u -N` would (`DiffProgram.getCommand`): an absent live
 *   object is an empty file;
 * - Secret `data` values are masked (`Masker.run`): `***`, or `*** (before)` / `*** (after)`
 *   where a value changes, so a change shows without its value;
 * - managed fields are left out (`omitManagedFields`).
 *
 * Beyond kubectl, server-maintained metadata (resourceVersion, uid, generation,
 * creationTimestamp, selfLink), status and empty `labels: {}` / `annotations: {}` are left out of
 * both sides: they are not what a deploy changes. The first error stops the diff, as in kubectl
 * (`r.Visit` returns it before `differ.Run`).
 */
import { structuredPatch } from 'diff';
import { stringify } from 'yaml';
import { FIELD_MANAGER, FIELD_VALIDATION, failureDetail } from './apply';
import { NetworkError, UserError, isAbortError, isStatus } from './errors';
import type { KubeClient } from './http';
import { displayName, objectPath, type KubeObject } from './resources';

/** What a deploy would do to one object. */
export type DiffChange = 'create' | 'update' | 'none';

/** The difference for one object of dist/. */
export interface ObjectDiff {
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  /** The dist/ file it came from. */
  readonly file?: string;
  readonly change: DiffChange;
  /** A unified diff (live → would-be), '' when there is no change. */
  readonly diff: string;
}

/** Options of {@link diffObjects}. */
export interface DiffOptions {
  /** @default 'sleap-roots', the field manager of deploy */
  readonly fieldManager?: string;
  /** Take over fields another manager owns, as `deploy --force-conflicts` would. @default false */
  readonly forceConflicts?: boolean;
  readonly signal?: AbortSignal;
}

/** Why the diff of one object could not be made (the API's answer, with the object named). */
export class DiffError extends UserError {
  public readonly object: string;
  public readonly file?: string;
  /** The API's error. */
  public readonly error: unknown;
  public constructor(object: string, file: string | undefined, error: unknown) {
    super(`${object}${file ? ` (${file})` : ''}: ${failureDetail(error)}`);
    this.object = object;
    this.file = file;
    this.error = error;
  }
}

/**
 * Diffs the objects in the order given (deploy's order); stops at the first failure.
 * @throws DiffError naming the object for an API error about it; the error itself when the
 *   cluster cannot be reached or the run was aborted
 */
export async function diffObjects(client: KubeClient, objects: readonly { readonly object: KubeObject; readonly file?: string }[], options: DiffOptions = {}): Promise<ObjectDiff[]> {
  const out: ObjectDiff[] = [];
  for (const m of objects) {
    let pair: { live?: KubeObject; merged: KubeObject };
    try {
      pair = await liveAndMerged(client, m.object, options);
    } catch (e) {
      if (isAbortError(e) || isStatus(e, 401) || e instanceof NetworkError) throw e;
      throw new DiffError(displayName(m.object), m.file, e);
    }
    const { from, to } = diffText(pair.live, pair.merged);
    const text = unifiedDiff(diffFileName(m.object), from, to);
    out.push({
      kind: m.object.kind,
      name: m.object.metadata.name ?? '',
      namespace: m.object.metadata.namespace,
      file: m.file,
      change: !pair.live ? 'create' : text === '' ? 'none' : 'update',
      diff: text,
    });
  }
  return out;
}

/** The live object (absent: undefined) and what a server-side apply would make of it (dry run). */
async function liveAndMerged(client: KubeClient, obj: KubeObject, options: DiffOptions): Promise<{ live?: KubeObject; merged: KubeObject }> {
  const path = objectPath(obj);
  let live: KubeObject | undefined;
  try {
    live = await client.json<KubeObject>({ path, signal: options.signal });
  } catch (e) {
    if (!isStatus(e, 404)) throw e;
  }
  const merged = await client.json<KubeObject>({
    method: 'PATCH',
    path,
    query: { fieldManager: options.fieldManager ?? FIELD_MANAGER, force: options.forceConflicts ? true : undefined, dryRun: 'All', fieldValidation: FIELD_VALIDATION },
    // JSON is YAML: the apply-patch+yaml content type takes it as is.
    body: JSON.stringify(obj),
    contentType: 'application/apply-patch+yaml',
    signal: options.signal,
  });
  return { live, merged };
}

/**
 * `<group>.<version>.<Kind>.<namespace>.<name>`, the file name kubectl diff gives an object
 * (`InfoObject.Name`; no group for the core API, an empty namespace for cluster-scoped kinds).
 */
export function diffFileName(obj: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): string {
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/', 2) : ['', obj.apiVersion];
  return `${group ? `${group}.` : ''}${version}.${obj.kind}.${obj.metadata.namespace ?? ''}.${obj.metadata.name ?? ''}`;
}

/** Metadata the server maintains: it changes on every write, not because of dist/. */
const SERVER_METADATA = ['managedFields', 'resourceVersion', 'uid', 'generation', 'creationTimestamp', 'selfLink'];

/** The object as the diff shows it: no status, no server-maintained metadata, no empty labels/annotations. */
export function forDiff(obj: KubeObject): KubeObject {
  const { status: _status, ...rest } = structuredClone(obj);
  const metadata: Record<string, unknown> = { ...rest.metadata };
  for (const k of SERVER_METADATA) delete metadata[k];
  for (const k of ['labels', 'annotations']) {
    const v = metadata[k];
    if (v === null || (typeof v === 'object' && Object.keys(v).length === 0)) delete metadata[k];
  }
  return { ...rest, metadata };
}

const MASK = '***';
const MASK_BEFORE = '*** (before)';
const MASK_AFTER = '*** (after)';

/**
 * Masks the values of a Secret's `data` on both sides, as kubectl's `Masker.run` does: `***`
 * for a value, `*** (before)` / `*** (after)` for a key whose value changes. `stringData`, which
 * a server never returns but a Secret in dist/ may hold, is masked the same way.
 */
export function maskSecretPair(from: KubeObject | undefined, to: KubeObject): { from?: KubeObject; to: KubeObject } {
  if (to.apiVersion !== 'v1' || to.kind !== 'Secret') return { from, to };
  const f = from ? structuredClone(from) : undefined;
  const t = structuredClone(to);
  for (const field of ['data', 'stringData']) {
    const a = mapField(f, field);
    const b = mapField(t, field);
    if (a) {
      for (const k of Object.keys(a)) {
        if (b && Object.hasOwn(b, k)) {
          if (a[k] !== b[k]) {
            a[k] = MASK_BEFORE;
            b[k] = MASK_AFTER;
            continue;
          }
          b[k] = MASK;
        }
        a[k] = MASK;
      }
    }
    if (b) for (const k of Object.keys(b)) if (!a || !Object.hasOwn(a, k)) b[k] = MASK;
  }
  return { from: f, to: t };
}

function mapField(obj: KubeObject | undefined, field: string): Record<string, unknown> | undefined {
  const v = obj?.[field];
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** YAML as kubectl prints it for a diff: keys sorted, sequences not indented, no folding. */
export function toDiffYaml(obj: KubeObject | undefined): string {
  if (!obj) return '';
  return stringify(obj, { sortMapEntries: true, lineWidth: 0, indentSeq: false });
}

/** Both sides of one object's diff as text: cleaned, Secrets masked. */
export function diffText(live: KubeObject | undefined, merged: KubeObject): { from: string; to: string } {
  const masked = maskSecretPair(live && forDiff(live), forDiff(merged));
  return { from: toDiffYaml(masked.from), to: toDiffYaml(masked.to) };
}

/**
 * The unified diff of two texts as `diff -u -N LIVE/<name> MERGED/<name>` prints it (3 lines of
 * context, GNU hunk ranges: `-l` for one line, `-l,0` after line l for none), '' when equal.
 */
export function unifiedDiff(name: string, from: string, to: string): string {
  if (from === to) return '';
  const patch = structuredPatch(`LIVE/${name}`, `MERGED/${name}`, from, to, undefined, undefined, { context: 3 });
  const range = (start: number, count: number) => (count === 0 ? `${start - 1},0` : count === 1 ? `${start}` : `${start},${count}`);
  const lines = [`diff -u -N LIVE/${name} MERGED/${name}`, `--- LIVE/${name}`, `+++ MERGED/${name}`];
  for (const h of patch.hunks) {
    lines.push(`@@ -${range(h.oldStart, h.oldLines)} +${range(h.newStart, h.newLines)} @@`, ...h.lines);
  }
  return `${lines.join('\n')}\n`;
}
