/**
 * GitOps consumption of dist/: the example Argo CD and Flux objects of examples/gitops/ point at
 * dist/<env>/ (a kustomize root, never run/), with the namespace dist/ says and a prune setting
 * that the versioned templates' keep annotations make safe. Each object is also checked against
 * the schema of its kind (@kubernetes-models/argo-cd and /flux-cd, generated from the projects'
 * API types: types, enums and required fields; like a CRD, they do not reject unknown fields).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Application, ApplicationSet } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1';
import { Kustomization } from '@kubernetes-models/flux-cd/kustomize.toolkit.fluxcd.io/v1';
import { GitRepository } from '@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { readDist } from '../lib/cluster/manifests';
import { KUSTOMIZATION_FILE } from '../lib/names';
import { GITOPS_KEEP_ANNOTATIONS } from '../lib/wire/wire';
import { ROOT, SHIPPED } from './support/envs';

const EXAMPLES = path.join(ROOT, 'examples', 'gitops');
const DIST = path.join(ROOT, 'dist');
const REPO_URL = 'https://github.com/example-lab/sleap-roots-pipeline.git';

function docs(file: string): any[] {
  const all = parseAllDocuments(fs.readFileSync(path.join(EXAMPLES, file), 'utf8'));
  for (const d of all) expect(d.errors, file).toEqual([]);
  return all.map((d) => d.toJS());
}

/** The environment a source path names (`dist/<env>` or `./dist/<env>`), checked to be a kustomize root. */
function environmentAt(sourcePath: string): string {
  const m = /^(?:\.\/)?dist\/([a-z0-9-]+)\/?$/.exec(sourcePath);
  expect(m, sourcePath).not.toBeNull();
  const env = m![1];
  expect(SHIPPED as readonly string[]).toContain(env);
  expect(fs.existsSync(path.join(DIST, env, KUSTOMIZATION_FILE)), `dist/${env}/${KUSTOMIZATION_FILE}`).toBe(true);
  return env;
}

/**
 * Pruning is safe for an environment when every versioned step template (hashed name) carries
 * both keep annotations and nothing else does: those are kept, everything else is pruned.
 */
function expectPruneSafe(env: string): void {
  for (const m of readDist(DIST, env).objects) {
    const versioned = m.object.kind === 'WorkflowTemplate' && /-[0-9a-f]{8}$/.test(m.object.metadata.name as string);
    const annotations = m.object.metadata.annotations ?? {};
    for (const [key, value] of Object.entries(GITOPS_KEEP_ANNOTATIONS)) {
      expect(annotations[key], `${m.file}: ${key}`).toBe(versioned ? value : undefined);
    }
  }
}

/** What Argo CD must not do with a source: recurse into run/, or move the objects to another namespace. */
function expectArgoSource(source: any): void {
  expect(source.repoURL).toBe(REPO_URL);
  expect(source.directory?.recurse ?? false).toBe(false);
  expect(source.directory?.include).toBeUndefined();
  expect(source.kustomize?.namespace).toBeUndefined();
  expect(source.helm ?? source.plugin).toBeUndefined();
}

describe('examples/gitops/argocd-application.yaml', () => {
  const [app, ...rest] = docs('argocd-application.yaml');

  it('is one valid Argo CD Application', () => {
    expect(rest).toEqual([]);
    expect(app).toMatchObject({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application' });
    expect(() => new Application(app).validate()).not.toThrow();
  });

  it('points at a dist/<env>/ kustomize root, without recursion, in the namespace dist/ says', () => {
    const env = environmentAt(app.spec.source.path);
    expectArgoSource(app.spec.source);
    expect(app.spec.sources).toBeUndefined();
    expect(app.spec.destination.namespace).toBe(readDist(DIST, env).namespace);
  });

  it('prunes, which the versioned templates survive', () => {
    expect(app.spec.syncPolicy.automated.prune).toBe(true);
    expectPruneSafe(environmentAt(app.spec.source.path));
  });
});

describe('examples/gitops/argocd-applicationset.yaml', () => {
  const [set, ...rest] = docs('argocd-applicationset.yaml');
  const elements: Record<string, string>[] = set.spec.generators[0]?.list?.elements ?? [];
  /** The template with one element's values filled in (Go templates of the form `{{.key}}`). */
  const render = (element: Record<string, string>) =>
    JSON.parse(JSON.stringify(set.spec.template).replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_, k: string) => {
      expect(element, k).toHaveProperty(k);
      return element[k];
    }));

  it('is one valid Argo CD ApplicationSet with a list generator', () => {
    expect(rest).toEqual([]);
    expect(set).toMatchObject({ apiVersion: 'argoproj.io/v1alpha1', kind: 'ApplicationSet' });
    expect(() => new ApplicationSet(set).validate()).not.toThrow();
    expect(set.spec.goTemplate).toBe(true);
    expect(set.spec.generators).toHaveLength(1);
  });

  it('has one Application per shipped environment, each at dist/<env>/ in the namespace dist/ says', () => {
    expect(elements.map((e) => e.env).sort()).toEqual([...SHIPPED].sort());
    for (const element of elements) {
      const app = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', ...render(element) };
      expect(() => new Application(app).validate(), element.env).not.toThrow();
      expect(environmentAt(app.spec.source.path)).toBe(element.env);
      expectArgoSource(app.spec.source);
      expect(app.spec.destination.namespace, element.env).toBe(readDist(DIST, element.env).namespace);
      expect(app.metadata.name).toBe(`sleap-roots-${element.env}`);
    }
  });

  it('prunes, which the versioned templates survive', () => {
    expect(set.spec.template.spec.syncPolicy.automated.prune).toBe(true);
    for (const env of SHIPPED) expectPruneSafe(env);
  });
});

describe('examples/gitops/flux-kustomization.yaml', () => {
  const all = docs('flux-kustomization.yaml');
  const repo = all.find((d) => d.kind === 'GitRepository');
  const ks = all.find((d) => d.kind === 'Kustomization');

  it('is a valid Flux GitRepository and Kustomization (kustomize.toolkit.fluxcd.io/v1)', () => {
    expect(all.map((d) => `${d.apiVersion} ${d.kind}`)).toEqual(['source.toolkit.fluxcd.io/v1 GitRepository', 'kustomize.toolkit.fluxcd.io/v1 Kustomization']);
    expect(() => new GitRepository(repo).validate()).not.toThrow();
    expect(() => new Kustomization(ks).validate()).not.toThrow();
  });

  it('builds dist/<env>/ of this repository as it is: no namespace, prefix or patches of its own', () => {
    expect(repo.spec.url).toBe(REPO_URL);
    expect(ks.spec.sourceRef.kind).toBe('GitRepository');
    expect(ks.spec.sourceRef.name).toBe(repo.metadata.name);
    expect(ks.spec.sourceRef.namespace ?? ks.metadata.namespace).toBe(repo.metadata.namespace);
    environmentAt(ks.spec.path);
    // The objects keep the namespace dist/ gives them (Flux's targetNamespace would rewrite it).
    for (const transform of ['targetNamespace', 'namePrefix', 'nameSuffix', 'patches', 'images', 'components', 'commonMetadata', 'postBuild']) {
      expect(ks.spec, transform).not.toHaveProperty(transform);
    }
  });

  it('keeps dist/ in the artifact when it ignores the rest of the repository', () => {
    const patterns: string[] = (repo.spec.ignore ?? '').split('\n').map((l: string) => l.trim()).filter((l: string) => l && !l.startsWith('#'));
    if (patterns.includes('/*')) expect(patterns).toContain('!/dist/');
  });

  it('prunes (prune is required in v1), which the versioned templates survive', () => {
    expect(ks.spec.prune).toBe(true);
    expectPruneSafe(environmentAt(ks.spec.path));
  });
});

describe('.gitignore', () => {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8', timeout: 10_000 });
  const inRepo = git('rev-parse', '--is-inside-work-tree').stdout?.trim() === 'true';

  // cdk8s-cli's output folder is a symbolic link to dist/ after `npx cdk8s synth` (main.ts
  // `mirror`): git sees a file there, which a folders-only pattern (`.cdk8s.out/`) does not match.
  it.skipIf(!inRepo)('ignores .cdk8s.out, a symbolic link as well as a folder', () => {
    const r = git('check-ignore', '--no-index', '-v', '.cdk8s.out');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\.gitignore:\d+:\.cdk8s\.out\t\.cdk8s\.out$/m);
  });
});
