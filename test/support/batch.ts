/**
 * A batch of scans run through the synthesized pipeline on this machine: the lister, a pod per
 * chunk of each fanned-out step and the gate, each run from its synthesized template by
 * test/support/pods.ts, in the order Argo's DAG runs them. Stand-in lab images: a shell command
 * per step that does what `behaviours` says for each scan (exit 0 or 3, crash, hang, die...).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { baseConfig, envFrom, synth } from './envs';
import { runPod, type PodResult, type PodTemplate } from './pods';

/** What the stand-in step does for one scan. */
export type Behaviour = 'ok' | 'partial' | 'crash' | 'usage' | 'hang' | 'killed';

/** The stand-in lab command: `$1` its input folder, `$2` its output folder, `$3` the behaviours folder. */
const STAND_IN = [
  'b=$(cat "$3/$SLEAP_ROOTS_SCAN.$STEP" 2>/dev/null || echo ok)',
  'echo "$STEP $SLEAP_ROOTS_SCAN" >> "$3/../runs.log"',
  'case "$b" in',
  '  ok) echo "$STEP of $SLEAP_ROOTS_SCAN" > "$2/$STEP.txt"; exit 0 ;;',
  '  partial) echo "part of $SLEAP_ROOTS_SCAN" > "$2/$STEP.txt"; exit 3 ;;',
  '  crash) echo "crash on $SLEAP_ROOTS_SCAN" >&2; exit 1 ;;',
  '  usage) exit 2 ;;',
  '  hang) : > "$3/../started.$SLEAP_ROOTS_SCAN.$STEP"; sleep 30; exit 0 ;;',
  '  killed) kill -9 $$ ;;',
  'esac',
].join('\n');

const VOLUMES = ['models-input', 'models-output', 'images-input', 'predictions-output', 'traits-output', 'behaviours'] as const;

/** Options of a {@link Batch}. */
export interface BatchOptions {
  /** Scans by name, each with its behaviour per step (`predictor`, `trait-extractor`). @default ok */
  readonly scans: Readonly<Record<string, Partial<Record<'predictor' | 'trait-extractor', Behaviour>>>>;
  readonly shell: readonly string[];
  /** @default 1 */
  readonly scansPerPod?: number;
  /** fanOut.scanTimeout @default none */
  readonly scanTimeout?: string;
  /** fanOut.maxScans @default 1000 */
  readonly maxScans?: number;
  /** A folder put before PATH in every pod. @default - none */
  readonly pathPrefix?: string;
}

/** The synthesized test pipeline and its folders. */
export class Batch {
  public readonly root: string;
  public readonly dirs: Record<(typeof VOLUMES)[number], string>;
  /** The workflow's name; set another to run the same folders as a resubmission. */
  public workflow = 'sleap-roots-pipeline-t3st1';
  private readonly templates: Map<string, PodTemplate>;
  private readonly messageFile: string;
  private chunks = 0;

  public constructor(private readonly o: BatchOptions) {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'sleap-batch-'));
    this.dirs = Object.fromEntries(VOLUMES.map((v) => [v, path.join(this.root, v)])) as Batch['dirs'];
    for (const d of Object.values(this.dirs)) fs.mkdirSync(d);
    for (const [scan, b] of Object.entries(o.scans)) {
      fs.mkdirSync(path.join(this.dirs['images-input'], scan));
      for (const [step, what] of Object.entries(b)) fs.writeFileSync(path.join(this.dirs.behaviours, `${scan}.${step}`), `${what}\n`);
    }
    this.messageFile = path.join(this.root, 'termination-log');
    this.templates = new Map(Batch.manifests(o).map((t) => [t.name, t]));
  }

  /** The environment the batch runs: the lab's fan-out shape with stand-in commands. */
  public static config(o: Omit<BatchOptions, 'scans' | 'shell'> = {}): Record<string, any> {
    const c = baseConfig();
    c.volumes.behaviours = { hostPath: '/nfs/behaviours' };
    const mount = { volume: 'behaviours', path: '/behaviours', readOnly: true };
    const step = (name: string, input: string, output: string) => ({
      args: ['sh', '-c', STAND_IN, name, input, output, '/behaviours'],
      env: [{ name: 'STEP', value: name }],
      partialExitCodes: [3],
      timeout: '1h',
      resources: { requests: { cpu: 1, memory: '1Gi' } },
    });
    c.steps['models-downloader'] = { enabled: false };
    c.steps.predictor = {
      ...c.steps.predictor,
      ...step('predictor', '/workspace/images_input', '/workspace/output'),
      dependencies: [],
      mounts: [
        { volume: 'images-input', path: '/workspace/images_input', readOnly: true },
        { volume: 'predictions-output', path: '/workspace/output' },
        mount,
      ],
    };
    c.steps['trait-extractor'] = {
      ...c.steps['trait-extractor'],
      ...step('trait-extractor', '/workspace/input', '/workspace/output'),
      mounts: [
        { volume: 'predictions-output', path: '/workspace/input', readOnly: true },
        { volume: 'traits-output', path: '/workspace/output' },
        mount,
      ],
    };
    c.resume = { enabled: true };
    c.fanOut = {
      steps: ['predictor', 'trait-extractor'],
      source: { subdirectoriesOf: 'images-input' },
      scansPerPod: o.scansPerPod ?? 1,
      ...(o.maxScans ? { maxScans: o.maxScans } : {}),
      ...(o.scanTimeout ? { scanTimeout: o.scanTimeout } : {}),
    };
    c.workflow = { activeDeadlineSeconds: 3600 };
    return c;
  }

  /** The synthesized templates of the batch's environment, by step. */
  public static manifests(o: Omit<BatchOptions, 'scans' | 'shell'> = {}): PodTemplate[] {
    return synth(envFrom(Batch.config(o)))
      .manifests.filter((m) => m.obj.kind === 'WorkflowTemplate' && m.obj.metadata.name !== 'sleap-roots-pipeline')
      .map((m) => m.obj.spec.templates[0]);
  }

  private pod(step: string, variables: Record<string, string>, stopWhenExists?: string): Promise<PodResult> {
    const t = this.templates.get(step);
    if (!t) throw new Error(`no template ${step}`);
    return runPod(t, {
      volumes: this.dirs,
      variables: { 'workflow.name': this.workflow, 'workflow.parameters.force-rerun': 'false', ...variables },
      shell: this.o.shell,
      messageFile: this.messageFile,
      stopWhenExists,
      pathPrefix: this.o.pathPrefix,
    });
  }

  /** The lister's pod; its stdout is the number of chunks. */
  public async list(): Promise<PodResult> {
    const r = await this.pod('list-image-sets', {});
    this.chunks = r.code === 0 ? Number(r.stdout.trim()) : 0;
    return r;
  }

  /** One chunk's pod of a fanned-out step (an attempt). */
  public chunk(step: 'predictor' | 'trait-extractor', chunk: number, stopWhenExists?: string): Promise<PodResult> {
    return this.pod(step, { 'inputs.parameters.chunk': String(chunk) }, stopWhenExists);
  }

  /** Every chunk of a step, one after another; returns their exit codes. */
  public async step(step: 'predictor' | 'trait-extractor', skip: readonly number[] = []): Promise<number[]> {
    const codes: number[] = [];
    for (let i = 0; i < this.chunks; i++) if (!skip.includes(i)) codes.push((await this.chunk(step, i)).code);
    return codes;
  }

  /** The gate (exit handler) with the workflow's status so far. */
  public gate(status = 'Succeeded'): Promise<PodResult> {
    return this.pod('gate', { 'workflow.status': status });
  }

  /** lister, predictor, trait-extractor, gate: the whole DAG with nothing lost. */
  public async run(): Promise<PodResult> {
    const l = await this.list();
    if (l.code !== 0) return this.gate('Failed');
    await this.step('predictor');
    await this.step('trait-extractor');
    return this.gate();
  }

  /** The run folder of this workflow. */
  public get runDir(): string {
    return path.join(this.dirs['traits-output'], '.sleap-roots', 'runs', this.workflow);
  }

  /** report.tsv as rows (scan, result, detail). */
  public report(): string[][] {
    return fs.readFileSync(path.join(this.runDir, 'report.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
  }

  /** How many times each step ran each scan (`step scan` lines). */
  public runs(): string[] {
    const f = path.join(this.root, 'runs.log');
    return fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trim().split('\n').filter(Boolean) : [];
  }

  public close(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}
