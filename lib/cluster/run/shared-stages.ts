/**
 * Steps whose output every workflow shares (exclusive steps: the models-downloader by default),
 * read from the templates of dist/<env>/. Their pods hold an Argo mutex, so the batches of a run
 * write such a folder one at a time; with resume the first batch writes its marker and the others
 * skip, so none reads the folder while another writes it. Without resume, or with --force-rerun,
 * every batch would rewrite the folder while other batches read it: a run refuses both.
 */
import { UserError } from '../errors';
import type { DistTree } from '../manifests';

/** The wrapper's variable naming a step's success marker (lib/plan/resume.ts; set only with resume). */
const MARKER_ENV = 'SLEAP_ROOTS_MARKER';

interface TemplateSpec {
  readonly templates?: readonly {
    readonly name?: string;
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
}

/** The exclusive steps in dist/. */
export function sharedStagesOf(dist: DistTree): SharedStage[] {
  const out: SharedStage[] = [];
  for (const m of dist.objects) {
    if (m.object.kind !== 'WorkflowTemplate') continue;
    for (const t of (m.object as { spec?: TemplateSpec }).spec?.templates ?? []) {
      const mutex = t.synchronization?.mutexes?.[0]?.name;
      if (!mutex || !t.name) continue;
      out.push({ step: t.name, mutex, resumes: (t.container?.env ?? []).some((e) => e.name === MARKER_ENV) });
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
