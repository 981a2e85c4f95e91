/**
 * Semaphore limits are the lab's to retune while batches run (`kubectl patch`; Argo re-reads them,
 * lib/cluster/apply.ts semaphoreConfigMaps): deploy creates the ConfigMap, adds keys dist/ has and
 * the cluster lacks, keeps every live limit, and says so; `--reset-semaphores` applies dist/'s.
 * The retune is made by the real kubectl against the stand-in.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli, ENV, NS, startCluster, type TestCluster } from './support/harness';
import { KUBECTL, kubectlPath } from '../support/kubectl';

const CM = { apiVersion: 'v1', kind: 'ConfigMap', namespace: NS, name: 'sleap-roots-semaphores' };

describe.skipIf(!KUBECTL)('semaphore limits on deploy', () => {
  let c: TestCluster;
  beforeEach(async () => {
    c = await startCluster();
    expect((await cli(['deploy', '--env', ENV], { cluster: c })).code).toBe(0);
  });
  afterEach(async () => {
    await c.close();
  });
  const data = () => (c.server.get(CM) as unknown as { data: Record<string, string> }).data;
  // Asynchronously: the stand-in answers from this process.
  const retune = (patch: object) =>
    promisify(execFile)(kubectlPath(), ['--kubeconfig', c.kubeconfig, '-n', NS, 'patch', 'configmap', CM.name, '--type', 'merge', '-p', JSON.stringify(patch)], { env: { PATH: process.env.PATH ?? '', HOME: c.dir }, timeout: 20_000 });

  it('creates the ConfigMap with dist/\'s limits when it is absent', async () => {
    expect(data()).toEqual({ 'pipeline-gpu': '4' });
  });

  it('keeps a live retune, reports it, and the next deploy changes nothing', async () => {
    await retune({ data: { 'pipeline-gpu': '2' } });
    const r = await cli(['deploy', '--env', ENV], { cluster: c });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^kept +ConfigMap\/sleap-roots-semaphores.*live limits kept \(pipeline-gpu: 2 live, 4 in dist\/\); --reset-semaphores applies dist\/'s/m);
    expect(data()['pipeline-gpu']).toBe('2');
    // The first deploy's apply and kubectl's patch; the second deploy wrote nothing to it.
    expect(c.server.requests.filter((q) => q.method === 'PATCH' && q.path.endsWith(`/configmaps/${CM.name}`)).map((q) => q.contentType)).toEqual(['application/apply-patch+yaml', 'application/merge-patch+json']);
  });

  it('adds a limit dist/ has and the cluster lacks, leaving the lab\'s own keys', async () => {
    await retune({ data: { 'pipeline-gpu': null, 'lab-extra': '3' } });
    const r = await cli(['deploy', '--env', ENV], { cluster: c });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^changed +ConfigMap\/sleap-roots-semaphores.*added pipeline-gpu=4/m);
    expect(data()).toEqual({ 'pipeline-gpu': '4', 'lab-extra': '3' });
  });

  it('--reset-semaphores takes dist/\'s limits back from the retune', async () => {
    await retune({ data: { 'pipeline-gpu': '2' } });
    const r = await cli(['deploy', '--env', ENV, '--reset-semaphores'], { cluster: c });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(data()['pipeline-gpu']).toBe('4');
  });

  it('doctor warns about a retuned limit instead of failing', async () => {
    await retune({ data: { 'pipeline-gpu': '2' } });
    const r = await cli(['doctor', '--env', ENV], { cluster: c });
    const line = r.stdout.split('\n').find((l) => l.includes('config maps and semaphores')) ?? '';
    expect(line).toMatch(/^WARN .*retuned on the cluster: sleap-roots-semaphores\.pipeline-gpu is 2 live, 4 in dist\/ → fix: deploy keeps live limits; 'sleap-roots deploy --reset-semaphores' applies dist\/'s/);
  });
});
