/**
 * `sleap-roots deploy --env <name>`: server-side apply of dist/<env>/.
 */
import { deploy } from '../../cluster/apply';
import { withNamespace } from '../../cluster/manifests';
import { distStaleness } from '../../cluster/staleness';
import { DeployView } from '../deploy-view';
import type { Session } from '../session';

/** Options of the deploy command. */
export interface DeployCommandOptions {
  readonly env: string;
  readonly dryRun?: boolean;
  readonly forceConflicts?: boolean;
  readonly prune?: boolean;
  readonly resetSemaphores?: boolean;
}

/** Runs deploy; returns the exit code. */
export async function deployCommand(s: Session, o: DeployCommandOptions): Promise<number> {
  const dist = s.readDist(o.env);
  const namespace = s.opts.namespace ?? dist.namespace;
  const objects = dist.objects.map((m) => ({ file: m.file, object: withNamespace(m.object, dist.namespace, namespace) }));
  const envFile = s.environmentFile(o.env);
  if (envFile && !s.json) {
    const stale = await distStaleness(dist, envFile, s.io.version);
    if (stale.differences.length > 0) s.io.stderr.write(`note: ${dist.dir}/ is not what ${envFile} synthesizes (${stale.differences.length} file${stale.differences.length === 1 ? '' : 's'} differ); run 'npx cdk8s synth' first if that change should be deployed\n`);
  }
  const client = await s.client();
  if (!s.json) {
    s.io.stdout.write(
      `Deploying ${dist.dir}/ (${objects.length} objects) to namespace "${namespace}" on ${client.connection.describe()}${o.dryRun ? ' — dry run: the server checks everything and stores nothing' : ''}\n`,
    );
  }
  const view = new DeployView(s.io, s.style, s.mode, !!o.dryRun);
  try {
    const result = await deploy(client, objects, {
      environment: o.env,
      namespace,
      dryRun: o.dryRun,
      forceConflicts: o.forceConflicts,
      prune: o.prune,
      resetSemaphores: o.resetSemaphores,
      signal: s.io.signal,
      onEvent: (e) => view.onEvent(e),
    });
    view.finish(result, { environment: o.env, namespace, dryRun: !!o.dryRun });
    if (!result.ok && !s.json) {
      const failed = result.results.find((r) => r.outcome === 'failed');
      if (failed) s.io.stderr.write(`error: ${failed.kind}/${failed.name}${failed.file ? ` (${failed.file})` : ''}: ${failed.detail}\n`);
    }
    return result.ok ? 0 : 1;
  } catch (e) {
    view.abort();
    throw e;
  }
}
