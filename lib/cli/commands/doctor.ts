/**
 * `doctor --env <name>`: checks the cluster against what dist/<env>/ needs, one line per check.
 */
import { runDoctor, type CheckResult } from '../../cluster/doctor';
import { formatError, isAbortError } from '../../cluster/errors';
import type { Session } from '../session';
import { checkLine, doctorSummary } from '../doctor-view';

/** Runs doctor; 0 when no check failed. */
export async function doctorCommand(s: Session, o: { env: string; gpuResource?: string }): Promise<number> {
  const dist = s.readDist(o.env);
  const namespace = s.opts.namespace ?? dist.namespace;
  const print = (r: CheckResult) => !s.json && s.io.stdout.write(checkLine(r, s.style) + '\n');
  let results: CheckResult[];
  try {
    const client = await s.client();
    if (!s.json) s.io.stdout.write(`Checking ${client.connection.describe()} for ${dist.dir}/ (namespace "${namespace}")\n`);
    results = await runDoctor(client, {
      namespace,
      dist,
      environmentFile: s.environmentFile(o.env),
      version: s.io.version,
      gpuResourceName: o.gpuResource,
      target: client.connection.describe(),
      signal: s.io.signal,
      onResult: print,
    });
  } catch (e) {
    if (isAbortError(e)) throw e;
    // The connection could not even be configured: that is the first check's failure.
    const r: CheckResult = { name: 'API reachable', ok: false, level: 'fail', detail: formatError(e, s.redactor), fix: 'pass --kubeconfig/--context, or --server URL with --token (or SLEAP_ROOTS_TOKEN)' };
    print(r);
    results = [r];
  }
  const ok = results.every((r) => r.ok);
  if (s.json) s.io.stdout.write(JSON.stringify({ environment: o.env, namespace, ok, checks: results }, null, 2) + '\n');
  else s.io.stdout.write(`${ok ? s.style.green('ok') : s.style.red('problems found')}: ${doctorSummary(results)}\n`);
  return ok ? 0 : 1;
}
