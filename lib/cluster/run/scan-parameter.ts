/**
 * Which workflow parameter carries a batch's scan list, read from the synthesized templates of
 * dist/<env>/ (what a deploy installs), not from the environment file: the lister's
 * `SLEAP_ROOTS_SCANS` is `{{workflow.parameters.<name>}}` exactly when the environment declares
 * `fanOut.source: {parameter: <name>}` (lib/plan/utility-steps.ts `planLister`).
 */
import { LISTER_STEP, PIPELINE_TEMPLATE_NAME } from '../../names';
import { UserError } from '../errors';
import type { DistTree } from '../manifests';

/** The lister's variable holding the scan list (lib/plan/utility-steps.ts `UtilityEnv.SCANS`). */
export const LISTER_SCANS_ENV = 'SLEAP_ROOTS_SCANS';
/** The lister's variable holding the largest batch (`UtilityEnv.MAX_SCANS`). */
export const LISTER_MAX_SCANS_ENV = 'SLEAP_ROOTS_MAX_SCANS';

/** Where a batch's scans go. */
export interface ScanParameter {
  /** The workflow parameter, e.g. `scan-ids`. */
  readonly name: string;
  /** The lister's `fanOut.maxScans`, when the templates say. */
  readonly maxScans?: number;
}

interface EnvVar {
  readonly name?: string;
  readonly value?: string;
}
interface TemplateSpec {
  readonly templates?: readonly { readonly name?: string; readonly container?: { readonly env?: readonly EnvVar[] } }[];
}

/**
 * @param named `--scan-parameter`: a declared parameter that takes the batch's ids comma-separated,
 *   for a pipeline without a fan-out whose first step reads it (e.g. the production shape's
 *   images-downloader, given `{{workflow.parameters.scan-ids}}`, as the lab's dispatcher fills it)
 * @throws UserError when the environment lists its scans otherwise (or has no lister), or `named`
 *   is not a parameter of the pipeline
 */
export function scanParameterOf(dist: DistTree, named?: string): ScanParameter {
  const lister = listerParameter(dist);
  if (named === undefined) return lister ?? noFanOut(dist);
  if (lister && 'name' in lister && lister.name !== named) {
    throw new UserError(`--scan-parameter ${named}: environment "${dist.environment}" fans out over parameter ${lister.name}; leave --scan-parameter out or give ${lister.name}`);
  }
  const declared = pipelineParameters(dist);
  if (!declared.includes(named)) {
    throw new UserError(`--scan-parameter ${named}: the pipeline template of environment "${dist.environment}" declares no such parameter`, `its parameters: ${declared.join(', ') || 'none'}`);
  }
  return { name: named, maxScans: lister?.maxScans };
}

/** The lister's scan parameter; undefined without a lister. @throws UserError when the lister reads a folder */
function listerParameter(dist: DistTree): ScanParameter | undefined {
  for (const m of dist.objects) {
    if (m.object.kind !== 'WorkflowTemplate') continue;
    const spec = (m.object as { spec?: TemplateSpec }).spec;
    for (const t of spec?.templates ?? []) {
      if (t.name !== LISTER_STEP) continue;
      const env = t.container?.env ?? [];
      const scans = env.find((e) => e.name === LISTER_SCANS_ENV)?.value;
      const match = scans ? /^\{\{\s*workflow\.parameters\.([A-Za-z0-9_.-]+)\s*\}\}$/.exec(scans) : null;
      if (!match) {
        throw new UserError(
          `environment "${dist.environment}" lists its scans from a folder, not from a workflow parameter: every batch would run every scan`,
          'to submit batches, set fanOut.source: {parameter: scan-ids} (and parameters: {scan-ids: ""}) in the environment file, then synth and deploy',
        );
      }
      const max = Number(env.find((e) => e.name === LISTER_MAX_SCANS_ENV)?.value);
      return { name: match[1], maxScans: Number.isInteger(max) && max > 0 ? max : undefined };
    }
  }
  return undefined;
}

/** The parameters the pipeline template declares. */
function pipelineParameters(dist: DistTree): string[] {
  const pipeline = dist.objects.find((m) => m.object.kind === 'WorkflowTemplate' && m.object.metadata.name === PIPELINE_TEMPLATE_NAME);
  const params = (pipeline?.object as { spec?: { arguments?: { parameters?: readonly { name?: string }[] } } } | undefined)?.spec?.arguments?.parameters ?? [];
  return params.map((p) => p.name ?? '').filter(Boolean);
}

function noFanOut(dist: DistTree): never {
  throw new UserError(
    `environment "${dist.environment}" has no fan-out (no ${LISTER_STEP} step in ${dist.dir}/): a workflow cannot be given a list of scans`,
    'to submit batches, set fanOut with source: {parameter: scan-ids} in the environment file, then synth and deploy; or, when a step reads a declared parameter itself, name it: --scan-parameter scan-ids',
  );
}
