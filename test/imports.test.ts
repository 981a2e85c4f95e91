/** imports/ is generated from the pinned CRDs and never edited by hand: regenerate and compare. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/envs';

describe('imports/', () => {
  it('equals what `npm run import` generates from the vendored CRD, which leaves cdk8s.yaml alone', () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'imports-'));
    try {
      fs.copyFileSync(path.join(ROOT, 'cdk8s.yaml'), path.join(work, 'cdk8s.yaml'));
      fs.cpSync(path.join(ROOT, 'imports', 'crds'), path.join(work, 'imports', 'crds'), { recursive: true });
      // The cdk8s part of the package.json script, run as npm would (node_modules/.bin on PATH).
      const script = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.import as string;
      const cdk8sImport = script.split('&&')[0].trim();
      expect(cdk8sImport).toMatch(/^cdk8s import /);
      const r = spawnSync('sh', ['-c', cdk8sImport], {
        cwd: work,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, PATH: `${path.join(ROOT, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH ?? ''}` },
      });
      expect(r.status, r.stderr).toBe(0);
      const regenerated = fs.readFileSync(path.join(work, 'imports', 'argoproj.io.ts'), 'utf8');
      const committed = fs.readFileSync(path.join(ROOT, 'imports', 'argoproj.io.ts'), 'utf8');
      expect(regenerated === committed, 'imports/argoproj.io.ts differs from its generator: run npm run import').toBe(true);
      expect(fs.readFileSync(path.join(work, 'cdk8s.yaml'), 'utf8')).toBe(fs.readFileSync(path.join(ROOT, 'cdk8s.yaml'), 'utf8'));
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  it('pins the CRD it was generated from to Argo Workflows v4.1.2', () => {
    const crd = fs.readFileSync(path.join(ROOT, 'imports', 'crds', 'argoproj.io_workflowtemplates.yaml'), 'utf8');
    expect(crd).toMatch(/name: workflowtemplates\.argoproj\.io/);
    const cdk8sYaml = fs.readFileSync(path.join(ROOT, 'cdk8s.yaml'), 'utf8');
    expect(cdk8sYaml).toContain('argo-workflows/v4.1.2/manifests/base/crds/full/argoproj.io_workflowtemplates.yaml');
  });
});
