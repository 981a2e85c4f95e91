/**
 * The Workflow of one batch: the environment's run manifest (dist/<env>/run/) with the batch's
 * scans in the scan-list parameter, its deterministic name, and the run's labels and annotations.
 */
import { ENVIRONMENT_LABEL, PART_OF_LABEL, PIPELINE_TEMPLATE_NAME, PROJECT_NAME, RESUBMITTED_FROM, SUBMITTED_BY, SUBMITTED_WITH, toLabelValue } from '../labels';
import type { KubeObject } from '../resources';
import type { Submitter } from '../submit';
import type { Parameter, Workflow } from '../workflow';
import { BATCH_ATTEMPT, BATCH_DIGEST, BATCH_LABEL, BATCH_SCANS, RUN_BATCHES, RUN_LABEL, RUN_SCANS } from './keys';
import { batchName } from './names';
import type { Batch } from './scans';

/** What every batch of a run shares. */
export interface RunSpec {
  readonly run: string;
  readonly namespace: string;
  readonly environment: string;
  /** dist/<env>/run/sleap-roots-pipeline.yaml. @default - a Workflow referring to the pipeline template */
  readonly base?: KubeObject;
  /** The workflow parameter that takes the scans (comma-separated). */
  readonly scanParameter: string;
  /** Other parameters (-p, --force-rerun). */
  readonly parameters: Readonly<Record<string, string>>;
  readonly batches: number;
  readonly scans: number;
  readonly submitter: Submitter;
}

function withParameters(base: readonly Parameter[], given: Readonly<Record<string, string>>): Parameter[] {
  const out = base.map((p) => (p.name in given ? { name: p.name, value: given[p.name] } : { ...p }));
  for (const [name, value] of Object.entries(given)) if (!base.some((p) => p.name === name)) out.push({ name, value });
  return out;
}

/** The first workflow of a batch. */
export function batchWorkflow(spec: RunSpec, batch: Batch): Workflow {
  const base: Workflow = spec.base
    ? (structuredClone(spec.base) as Workflow)
    : { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: {}, spec: { workflowTemplateRef: { name: PIPELINE_TEMPLATE_NAME } } };
  const body = { ...(base.spec ?? {}) };
  body.arguments = { ...(body.arguments ?? {}), parameters: withParameters(body.arguments?.parameters ?? [], { ...spec.parameters, [spec.scanParameter]: batch.scans.join(',') }) };
  const who = spec.submitter.kubernetesUser ?? spec.submitter.localUser ?? 'unknown';
  return {
    apiVersion: base.apiVersion,
    kind: base.kind,
    metadata: {
      name: batchName(spec.run, batch.index, 0, spec.batches),
      namespace: spec.namespace,
      labels: {
        ...(base.metadata.labels ?? {}),
        [PART_OF_LABEL]: PROJECT_NAME,
        [ENVIRONMENT_LABEL]: spec.environment,
        [SUBMITTED_BY]: toLabelValue(who) || 'unknown',
        [SUBMITTED_WITH]: 'sleap-roots-cli',
        [RUN_LABEL]: spec.run,
        [BATCH_LABEL]: String(batch.index),
      },
      annotations: {
        ...(base.metadata.annotations ?? {}),
        [SUBMITTED_BY]: [spec.submitter.kubernetesUser, spec.submitter.localUser && `local ${spec.submitter.localUser}`].filter(Boolean).join('; ') || 'unknown',
        [SUBMITTED_WITH]: spec.submitter.tool,
        [BATCH_DIGEST]: batch.digest,
        [BATCH_SCANS]: String(batch.scans.length),
        [BATCH_ATTEMPT]: '0',
        [RUN_BATCHES]: String(spec.batches),
        [RUN_SCANS]: String(spec.scans),
      },
    },
    spec: body,
  };
}

/** Labels and annotations of one workflow, not of its repetition (Argo's own, the submitter's). */
const NOT_REPEATED = /^(workflows\.argoproj\.io\/|sleap-roots\.io\/(submitted-by|submitted-with|submission-id|resubmitted-from|batch-attempt))/;

/**
 * A batch's next attempt: the same spec (scans and parameters included), run and batch labels
 * and digest, a new name (`-r<attempt>`), `resubmitted-from` the workflow it repeats.
 */
export function repeatWorkflow(old: Workflow, attempt: number, batches: number, submitter: Submitter): Workflow {
  const keep = (m: Record<string, string> | undefined) => Object.fromEntries(Object.entries(m ?? {}).filter(([k]) => !NOT_REPEATED.test(k)));
  const labels = keep(old.metadata.labels);
  const spec = structuredClone(old.spec ?? {});
  delete spec.shutdown;
  delete spec.suspend;
  const who = submitter.kubernetesUser ?? submitter.localUser ?? 'unknown';
  return {
    apiVersion: old.apiVersion,
    kind: old.kind,
    metadata: {
      name: batchName(labels[RUN_LABEL] ?? '', Number(labels[BATCH_LABEL]), attempt, batches),
      namespace: old.metadata.namespace,
      labels: { ...labels, [SUBMITTED_BY]: toLabelValue(who) || 'unknown', [SUBMITTED_WITH]: 'sleap-roots-cli', [RESUBMITTED_FROM]: toLabelValue(old.metadata.name ?? '') },
      annotations: {
        ...keep(old.metadata.annotations),
        [SUBMITTED_BY]: [submitter.kubernetesUser, submitter.localUser && `local ${submitter.localUser}`].filter(Boolean).join('; ') || 'unknown',
        [SUBMITTED_WITH]: submitter.tool,
        [BATCH_ATTEMPT]: String(attempt),
      },
    },
    spec,
  };
}
