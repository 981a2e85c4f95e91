/**
 * Steps whose output every workflow shares (exclusive steps: the models-downloader by default),
 * read from the templates of dist/<env>/. Their pods hold an Argo mutex, so the batches of a run
 * write such a folder one at a time; with resume the first batch writes its marker and the others
 * skip, so none reads the folder while another writes it. Without resume, or with --force-rerun,
 * every batch would rewrite the folder while other batches read it: a run refuses both.
 */
import { durationSeconds } from '../../values/duration';
import { UserError } from '../errors';
import type { DistTree } from '../manifests';

/** The wrapper's variable naming a step's success marker (lib/plan/resume.ts; set only with resume). */
const MARKER_ENV = 'SLEAP_ROOTS_MARKER';

interface TemplateSpec {
  readonly templates?: readonly {
    readonly name?: string;
    readonly timeout?: string;
    readonly synchronization?: { readonly mutexes?: readonly { readonly name?: string }[] };
    readonly container?: { readonly env?: readonly { readonly name?: string }[] };
  }[];
}

/** One exclusive step of the pipeline. */
export interface SharedStage {
  readonly step: string;
  readonly mutex: string;
  /** Whether it skips by a success marker (resume). */
  readonly resumes: boolean;
  /** The template's `timeout`, in seconds, when it has one. */
  readonly timeoutSeconds?: number;
}

/** The exclusive steps in dist/. */
export function sharedStagesOf(dist: DistTree): SharedStage[] {
  const out: SharedStage[] = [];
  for (const m of dist.objects) {
    if (m.object.kind !== 'WorkflowTemplate') continue;
    for (const t of (m.object as { spec?: TemplateSpec }).spec?.templates ?? []) {
      const mutex = t.synchronization?.mutexes?.[0]?.name;
      if (!mutex || !t.name) continue;
      const timeoutSeconds = t.timeout ? durationSeconds(t.timeout) : undefined;
      out.push({ step: t.name, mutex, resumes: (t.container?.env ?? []).some((e) => e.name === MARKER_ENV), ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}) });
    }
  }
  return out.sort((a, b) => a.step.localeCompare(b.step));
}

/** @throws UserError when the run's batches would write a shared folder while others read it */
export function checkSharedStages(dist: DistTree, forceRerun: boolean): void {
  const stages = sharedStagesOf(dist);
  if (stages.length === 0) return;
  const names = stages.map((s) => s.step).join(', ');
  if (forceRerun) {
    throw new UserError(
      `--force-rerun cannot be given to a run of batches: ${names} writes a folder every batch reads, and each batch would rewrite it while others read it`,
      `rerun ${names} once first (npx sleap-roots submit --env ${dist.environment} --force-rerun, with one batch's scans), then submit the run without --force-rerun`,
    );
  }
  const unmarked = stages.filter((s) => !s.resumes).map((s) => s.step);
  if (unmarked.length > 0) {
    throw new UserError(
      `environment "${dist.environment}" runs ${unmarked.join(', ')} in every workflow without success markers: each batch would rewrite the folder it writes while other batches read it`,
      'set resume: {enabled: true} in the environment file (the first batch then writes, the others skip), or remove the step from a pipeline that runs in batches',
    );
  }
}

/** A rough time one batch holds an exclusive step's lock when it only finds the marker and skips: a pod's start and end. */
export const SKIP_HOLD_SECONDS = 30;

/**
 * Warnings for a run of at most `maxInFlight` batches at once: the batches queue for an exclusive
 * step's mutex, and a node waiting for a lock is Pending with its start time set, so the wait
 * counts against the step's `timeout` (workflow/controller/operator.go checkTemplateTimeouts: the
 * deadline is node.StartedAt + timeout, and a node still Pending past it fails with ErrTimeout). Queued behind
 * maxInFlight - 1 others that each hold it about SKIP_HOLD_SECONDS, the last one may time out.
 */
export function sharedStageWarnings(dist: DistTree, maxInFlight: number): string[] {
  const out: string[] = [];
  for (const s of sharedStagesOf(dist)) {
    if (s.timeoutSeconds === undefined) continue;
    const queued = (maxInFlight - 1) * SKIP_HOLD_SECONDS;
    if (queued >= s.timeoutSeconds / 2) {
      out.push(
        `${s.step} is exclusive (one batch at a time) with timeout ${Math.round(s.timeoutSeconds / 60)}m: with up to ${maxInFlight} batches in flight the last may wait about ${Math.round(queued / 60)}m for its lock, which counts against that timeout; lower --max-in-flight or raise steps.${s.step}.timeout`,
      );
    }
  }
  return out;
}
