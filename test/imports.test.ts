/** imports/ is generated from the pinned CRDs and never edited by hand: regenerate and compare. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/envs';

describe('imports/', () => {
  it('equals what cdk8s import generates from the vendored Argo v4.1.2 CRD', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'imports-'));
    try {
      const cli = path.join(ROOT, 'node_modules', 'cdk8s-cli', 'bin', 'cdk8s');
      const crd = path.join(ROOT, 'imports', 'crds', 'argoproj.io_workflowtemplates.yaml');
      const r = spawnSync(process.execPath, [cli, 'import', crd, '--output', out, '--language', 'typescript', '--check-upgrade=false'], { cwd: out, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      const regenerated = fs.readFileSync(path.join(out, 'argoproj.io.ts'), 'utf8');
      const committed = fs.readFileSync(path.join(ROOT, 'imports', 'argoproj.io.ts'), 'utf8');
      expect(regenerated === committed, 'imports/argoproj.io.ts differs from its generator: run npm run import').toBe(true);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('pins the CRD it was generated from to Argo Workflows v4.1.2', () => {
    const crd = fs.readFileSync(path.join(ROOT, 'imports', 'crds', 'argoproj.io_workflowtemplates.yaml'), 'utf8');
    expect(crd).toMatch(/name: workflowtemplates\.argoproj\.io/);
    const cdk8sYaml = fs.readFileSync(path.join(ROOT, 'cdk8s.yaml'), 'utf8');
    expect(cdk8sYaml).toContain('argo-workflows/v4.1.2/manifests/base/crds/full/argoproj.io_workflowtemplates.yaml');
  });
});
