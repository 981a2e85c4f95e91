/** The README's examples are true: its environment example synthesizes as described. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pipelineTemplate, ROOT, stepTemplate, synth } from './support/envs';
import { parseEnvironment } from '../lib/config/load';

const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

describe('README', () => {
  it('its complete environment example synthesizes, with the effects its comments claim', () => {
    const section = readme.slice(readme.indexOf('### Add an environment'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1];
    const { manifests } = synth(parseEnvironment('environments/kai.yaml', yaml));
    const tasks = pipelineTemplate(manifests).spec.templates[0].dag.tasks.map((t: any) => t.name);
    expect(tasks).toEqual(['predictor', 'trait-extractor', 'images-downloader']);
    const p = stepTemplate(manifests, 'predictor');
    expect(p.metadata.annotations['gpu-memory']).toBe('8192');
    expect(p.schedulerName).toBe('kai-scheduler');
    expect(p.metadata.labels).toEqual({ 'kai.scheduler/queue': 'talmo-lab' });
    expect(p.retryStrategy.limit).toBe(5);
    expect(p.securityContext).toMatchObject({ runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, runAsNonRoot: true });
    const img = stepTemplate(manifests, 'images-downloader');
    expect(img.container.env).toContainEqual({ name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'bloom-api', key: 'key' } } });
    expect(JSON.stringify(manifests)).not.toContain('bloom-api-value');
  });

  it('shows only sleap-roots commands and flags that exist', () => {
    const uses = new Map<string, Set<string>>();
    for (const line of readme.split('\n')) {
      const m = /^(?:\S+=\S+ )*npx sleap-roots (\w+)(.*)$/.exec(line.trim());
      if (!m) continue;
      const flags = uses.get(m[1]) ?? new Set<string>();
      for (const f of m[2].split('#')[0].matchAll(/(?:^|\s)(--[a-z-]+)/g)) flags.add(f[1]);
      uses.set(m[1], flags);
    }
    expect([...uses.keys()].sort()).toEqual(['deploy', 'diff', 'doctor', 'import', 'list', 'logs', 'report', 'resubmit', 'retry', 'status', 'submit', 'watch']);
    for (const [command, flags] of uses) {
      const help = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'sleap-roots.cjs'), command, '--help'], { encoding: 'utf8', timeout: 60_000 });
      expect(help.status, help.stderr).toBe(0);
      for (const flag of flags) expect(help.stdout, `${command} ${flag}`).toContain(flag);
    }
  });

  it('names the two fresh-machine commands that package.json provides', () => {
    expect(readme).toContain('npm ci && npm run synth');
    expect(readme).toContain('npm test');
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    for (const script of ['synth', 'synth:check', 'test', 'import', 'bench']) expect(pkg.scripts[script], script).toBeDefined();
  });
});
