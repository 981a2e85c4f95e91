/**
 * "dist up to date" by content: doctor and deploy compare dist/<env>/ with what the environment
 * file synthesizes (what `npm run synth:check` computes), so a `git checkout` that leaves file
 * times in any order neither hides a stale dist/ nor reports a current one as stale.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseEnvironment } from '../../lib/config/load';
import { synthesizeEnvironment, writeTreeAtomically } from '../../lib/synth';
import { ROOT } from '../support/envs';
import { cli, ENV, startCluster, type TestCluster } from './support/harness';

/** The "dist up to date" line of doctor's output. */
const freshness = (stdout: string) => stdout.split('\n').find((l) => l.includes('dist up to date')) ?? '';

describe('dist up to date, by content', () => {
  let c: TestCluster;
  let project: string;
  let envFile: string;
  beforeEach(async () => {
    c = await startCluster();
    // A project as `npx cdk8s synth` leaves it: environments/ beside dist/, headers naming environments/<env>.yaml.
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'sleap-roots-project-'));
    envFile = path.join(project, 'environments', `${ENV}.yaml`);
    fs.mkdirSync(path.dirname(envFile));
    fs.copyFileSync(path.join(ROOT, 'environments', `${ENV}.yaml`), envFile);
    const env = parseEnvironment(`environments/${ENV}.yaml`, fs.readFileSync(envFile, 'utf8'));
    writeTreeAtomically(path.join(project, 'dist'), synthesizeEnvironment(env, { version: '0.1.0' }));
  });
  afterEach(async () => {
    await c.close();
    fs.rmSync(project, { recursive: true, force: true });
  });
  const run = (argv: string[]) => cli([...argv, '--kubeconfig', c.kubeconfig, '--dist', path.join(project, 'dist')], { cluster: c, connect: false });

  it('passes when dist/ is what the file synthesizes, whatever the file times say', async () => {
    const later = new Date(Date.now() + 3_600_000);
    fs.utimesSync(envFile, later, later);
    expect(freshness((await run(['doctor', '--env', ENV])).stdout)).toMatch(/PASS .*dist\/runai\/ is what .*environments\/runai\.yaml synthesizes/);
    const deploy = await run(['deploy', '--env', ENV, '--dry-run']);
    expect(deploy.stderr).not.toContain('note:');
  });

  it('warns, naming the files, when the file changed since dist/ was synthesized, even with older file times', async () => {
    const config = parse(fs.readFileSync(envFile, 'utf8'));
    // runai versions its templates: the predictor's gets a new name, the pipeline refers to it.
    config.steps.predictor.timeout = '20h';
    fs.writeFileSync(envFile, stringify(config));
    const earlier = new Date(Date.now() - 3_600_000);
    fs.utimesSync(envFile, earlier, earlier);
    expect(freshness((await run(['doctor', '--env', ENV])).stdout)).toMatch(/WARN .*dist\/runai\/ is not what .*environments\/runai\.yaml synthesizes: missing runai\/50-workflowtemplate-sleap-roots-predictor-[0-9a-f]{8}\.yaml, differs runai\/60-workflowtemplate-sleap-roots-pipeline\.yaml/);
    const deploy = await run(['deploy', '--env', ENV, '--dry-run']);
    expect(deploy.stderr).toMatch(/note: .*dist\/runai\/ is not what .*runai\.yaml synthesizes \(4 files differ\)/);
  });

  it('warns when the file no longer synthesizes', async () => {
    fs.appendFileSync(envFile, '\nnot-a-field: 1\n');
    expect(freshness((await run(['doctor', '--env', ENV])).stdout)).toMatch(/WARN .*runai\.yaml does not synthesize \(1 problem, first: .*not-a-field/);
  });
});
