/**
 * Reading the synthesized tree dist/<env>/ and putting its objects in a safe apply order.
 *
 * The order comes from the objects, not from file names: identities first (ServiceAccount, its
 * token Secret, Role, RoleBinding), then ConfigMaps (semaphores must exist before templates that
 * use them), then WorkflowTemplates, each after every WorkflowTemplate it calls by `templateRef`
 * (so the step templates precede the pipeline template). File names only break ties.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { KIND_ORDER, KUSTOMIZATION_FILE_NAMES, RUN_FOLDER } from '../names';
import { UserError } from './errors';
import { kindOf, type KubeObject } from './resources';

/** One object of dist/<env>/, with the file it came from. */
export interface Manifest {
  /** Path of the file, as given to {@link readDist} plus the file's name. */
  readonly file: string;
  readonly object: KubeObject;
}

/** The contents of dist/<env>/. */
export interface DistTree {
  readonly dir: string;
  readonly environment: string;
  /** The namespace the objects are synthesized for. */
  readonly namespace: string;
  /** Everything `deploy` applies, in apply order. */
  readonly objects: readonly Manifest[];
  /** The Workflow of `run/` (what `submit` creates), when present. */
  readonly run?: Manifest;
}


/**
 * Reads dist/<env>/.
 * @throws UserError when the folder is missing, a file does not parse, or holds an unknown kind
 */
export function readDist(distRoot: string, environment: string): DistTree {
  const dir = path.join(distRoot, environment);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    const known = fs.existsSync(distRoot) ? fs.readdirSync(distRoot).filter((d) => fs.statSync(path.join(distRoot, d)).isDirectory()) : [];
    throw new UserError(
      `${dir}/ does not exist`,
      known.length > 0 ? `environments synthesized in ${distRoot}/: ${known.join(', ')}; for a new one run 'npx cdk8s synth'` : "run 'npx cdk8s synth' first (it writes dist/<env>/ for each environments/<env>.yaml)",
    );
  }
  const objects = readFolder(dir);
  if (objects.length === 0) throw new UserError(`${dir}/ holds no manifests`, "run 'npx cdk8s synth'");
  const runDir = path.join(dir, RUN_FOLDER);
  const runs = fs.existsSync(runDir) ? readFolder(runDir).filter((m) => m.object.kind === 'Workflow') : [];
  const namespaces = [...new Set(objects.map((m) => m.object.metadata.namespace).filter((n): n is string => !!n))];
  if (namespaces.length !== 1) {
    throw new UserError(`${dir}/: expected every object in one namespace, found ${namespaces.length === 0 ? 'none' : namespaces.join(', ')}`);
  }
  return { dir, environment, namespace: namespaces[0], objects: applyOrder(objects), run: runs[0] };
}

function readFolder(dir: string): Manifest[] {
  const out: Manifest[] = [];
  for (const name of fs.readdirSync(dir).sort()) {
    // The kustomization file (dist/<env>/Kustomization, for GitOps tools) lists the objects; it is
    // none itself. Any name kustomize takes is skipped, so a hand-made kustomization.yaml is too.
    if (KUSTOMIZATION_FILE_NAMES.includes(name)) continue;
    if (!/\.ya?ml$/.test(name)) continue;
    const file = path.join(dir, name);
    if (!fs.statSync(file).isFile()) continue;
    const text = fs.readFileSync(file, 'utf8');
    for (const doc of parseAllDocuments(text)) {
      if ('errors' in doc && doc.errors.length > 0) throw new UserError(`${file}: invalid YAML: ${doc.errors[0].message.split('\n')[0]}`);
      const obj = doc.toJS() as unknown;
      if (obj === null || obj === undefined) continue;
      out.push({ file, object: checkObject(obj, file) });
    }
  }
  return out;
}

function checkObject(obj: unknown, file: string): KubeObject {
  const o = obj as Partial<KubeObject>;
  if (typeof o !== 'object' || typeof o.apiVersion !== 'string' || typeof o.kind !== 'string' || typeof o.metadata !== 'object' || o.metadata === null) {
    throw new UserError(`${file}: not a Kubernetes object (apiVersion, kind and metadata are required)`);
  }
  if (!o.metadata.name && !o.metadata.generateName) throw new UserError(`${file}: ${o.kind} has no metadata.name`);
  try {
    kindOf(o as KubeObject);
  } catch (e) {
    throw new UserError(`${file}: ${(e as Error).message}`);
  }
  return o as KubeObject;
}

/** Names of the WorkflowTemplates an object calls through `templateRef` (not cluster-scoped ones). */
export function templateRefsOf(obj: KubeObject): Set<string> {
  const refs = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) walk(x);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'templateRef' && x && typeof x === 'object') {
          const ref = x as { name?: unknown; clusterScope?: unknown };
          if (typeof ref.name === 'string' && ref.clusterScope !== true) refs.add(ref.name);
        } else walk(x);
      }
    }
  };
  walk(obj.spec);
  return refs;
}

/**
 * Sorts objects into apply order (see the file comment).
 * @throws UserError when WorkflowTemplates call each other in a cycle
 */
export function applyOrder(manifests: readonly Manifest[]): Manifest[] {
  const byFile = [...manifests].sort((a, b) => compare(a.file, b.file));
  const rankOf = (m: Manifest) => KIND_ORDER[m.object.kind] ?? 90;
  const templates = byFile.filter((m) => m.object.kind === 'WorkflowTemplate');
  const others = byFile.filter((m) => m.object.kind !== 'WorkflowTemplate').sort((a, b) => rankOf(a) - rankOf(b));

  // Kahn's algorithm over templateRef edges, ties kept in file order.
  const names = new Map(templates.map((m) => [m.object.metadata.name as string, m]));
  const deps = new Map(templates.map((m) => [m, [...templateRefsOf(m.object)].filter((n) => names.has(n) && n !== m.object.metadata.name)]));
  const done = new Set<string>();
  const ordered: Manifest[] = [];
  while (ordered.length < templates.length) {
    const next = templates.find((m) => !done.has(m.object.metadata.name as string) && (deps.get(m) ?? []).every((d) => done.has(d)));
    if (!next) {
      const left = templates.filter((m) => !done.has(m.object.metadata.name as string)).map((m) => m.object.metadata.name);
      throw new UserError(`WorkflowTemplates call each other in a cycle: ${left.join(', ')}`);
    }
    done.add(next.object.metadata.name as string);
    ordered.push(next);
  }
  const before = others.filter((m) => rankOf(m) < KIND_ORDER.WorkflowTemplate);
  const after = others.filter((m) => rankOf(m) >= KIND_ORDER.WorkflowTemplate);
  return [...before, ...ordered, ...after];
}

/**
 * The object moved to another namespace (`-n`): metadata.namespace, and RoleBinding subjects
 * that pointed at the synthesized namespace.
 */
export function withNamespace(obj: KubeObject, from: string, to: string): KubeObject {
  if (from === to) return obj;
  const copy = structuredClone(obj);
  if (copy.metadata.namespace) copy.metadata.namespace = to;
  if (copy.kind === 'RoleBinding' && Array.isArray(copy.subjects)) {
    for (const s of copy.subjects as { namespace?: string }[]) if (s.namespace === from) s.namespace = to;
  }
  return copy;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
