/**
 * Shared setup of the opt-in real-cluster suites: the connection from SLEAP_ROOTS_E2E_*, a
 * throw-away namespace, a scratch folder holding dist/, and the CLI run in-process against them.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connect } from '../../lib/cluster/connection';
import { KubeClient } from '../../lib/cluster/http';
import { runCli } from '../../lib/cli/program';
import type { CliIO } from '../../lib/cli/io';

export const KUBECONFIG = process.env.SLEAP_ROOTS_E2E_KUBECONFIG;
export const CONTEXT = process.env.SLEAP_ROOTS_E2E_CONTEXT;

/** A finished CLI run. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** One suite's cluster session: call `open` in beforeAll and `close` in afterAll. */
export class E2eSession {
  public readonly namespace = `sleap-roots-e2e-${Math.random().toString(36).slice(2, 7)}`;
  public dir = '';
  public client?: KubeClient;

  /** Creates the scratch folder (files: path under dist/ -> text) and the namespace. */
  public async open(distFiles: Readonly<Record<string, string>>): Promise<void> {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sleap-roots-e2e-'));
    for (const [file, text] of Object.entries(distFiles)) {
      const full = path.join(this.dir, 'dist', file);
      fs.mkdirSync(path.dirname(full), { recursive: true });
      fs.writeFileSync(full, text);
    }
    this.client = new KubeClient(await connect({ kubeconfigFiles: [KUBECONFIG as string], context: CONTEXT }));
    await this.client.json({ method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: this.namespace } } });
  }

  /** Deletes the namespace and the scratch folder. */
  public async close(): Promise<void> {
    if (this.client) {
      await this.client.json({ method: 'DELETE', path: `/api/v1/namespaces/${this.namespace}` }).catch(() => undefined);
      this.client.connection.close();
    }
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Runs `sleap-roots ARGS` against the cluster and the scratch dist/. */
  public async sleapRoots(...args: string[]): Promise<Run> {
    let stdout = '';
    let stderr = '';
    const io: CliIO = {
      stdout: { write: (t) => void (stdout += t) },
      stderr: { write: (t) => void (stderr += t) },
      isTTY: false,
      env: {},
      cwd: this.dir,
      now: () => Date.now(),
      version: 'e2e',
      localUser: os.userInfo().username,
      hostName: os.hostname(),
    };
    const conn = ['--kubeconfig', KUBECONFIG as string, ...(CONTEXT ? ['--context', CONTEXT] : []), '--dist', path.join(this.dir, 'dist')];
    const code = await runCli([...args, ...conn], io);
    return { code, stdout, stderr };
  }
}
