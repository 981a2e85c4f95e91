/**
 * Planning: from what the constructs declare to every decision the manifests need, in one pure
 * function. Defaults of the pipeline-wide options are applied here and nowhere else.
 */
import { FORCE_RERUN_PARAMETER } from '../names';
import { durationSeconds } from '../values/duration';
import type { PipelineParameter } from '../values/shapes';
import { defaultVolumes, Volumes } from '../values/volumes';
import { inputMarkersOf, type MarkerSettings } from './resume';
import { planStep } from './step';
import type { PipelinePlan, PipelineSpec, StepFanOut, StepPlan, StepSpec } from './types';
import { planGate, planLister, type UtilityContext } from './utility-steps';

/** Folder (under a step's output directory) of its success markers by default. */
export const DEFAULT_MARKER_DIR = '.sleap-roots';
/** Resume defaults: markers `.sleap-roots/<step>.done` in each output directory; `force-rerun=true` reruns all. */
export const RESUME_DEFAULTS: MarkerSettings = { markerDir: DEFAULT_MARKER_DIR, markerName: '{step}.done', forceParameter: FORCE_RERUN_PARAMETER };
/** Fan-out defaults: the chunk parameter, the volumes with a folder per scan, scans per pod, the largest batch. */
export const FAN_OUT_DEFAULTS = {
  parameter: 'chunk',
  itemVolumes: [Volumes.IMAGES_INPUT, Volumes.PREDICTIONS_OUTPUT, Volumes.TRAITS_OUTPUT] as readonly string[],
  scansPerPod: 1,
  maxScans: 1_000,
} as const;
/** Where each workflow's run folder (scan list, chunks, outcomes, report) lives by default. */
export const RUN_FOLDER_DEFAULTS = { volume: Volumes.TRAITS_OUTPUT, path: '.sleap-roots/runs' } as const;
/** The workflow deadline when none is set: 48 hours. */
export const DEFAULT_ACTIVE_DEADLINE_SECONDS = 172_800;
/** Default name of the semaphore ConfigMap. */
export const DEFAULT_SEMAPHORE_CONFIGMAP = 'sleap-roots-semaphores';
/** Where the state volume (run folders) is mounted in the pods that record or judge outcomes. */
export const STATE_MOUNT = '/sleap-roots/state';

/** The plan of a whole pipeline. */
export function planPipeline(spec: PipelineSpec): PipelinePlan {
  const byName = new Map(spec.steps.map((s) => [s.name, s]));
  const fanned = new Set((spec.fanOut?.steps ?? []).filter((n) => byName.has(n)));
  const partial = new Set(spec.steps.filter((s) => (s.partialExitCodes ?? []).length > 0).map((s) => s.name));
  const runFolder = { volume: spec.runFolder?.volume ?? RUN_FOLDER_DEFAULTS.volume, path: spec.runFolder?.path ?? RUN_FOLDER_DEFAULTS.path };
  // Outcomes: with a fan-out, or a step with partial codes, the steps record what happened to
  // every scan in a run folder per workflow, and the gate judges the batch from it.
  const outcomes = fanned.size > 0 || partial.size > 0
    ? { volume: runFolder.volume, runDir: `${STATE_MOUNT}/${runFolder.path}/{{workflow.name}}` }
    : undefined;
  const versioned = spec.versionedTemplates ?? false;
  const utility = (options: UtilityContext['options']) => ({ cluster: spec.cluster, versioned, outcomes: outcomes!, options, templateNamePrefix: spec.templateNamePrefix, templateAnnotations: spec.templateAnnotations });
  const lister = spec.fanOut && fanned.size > 0
    ? planLister(utility(spec.fanOut.lister), listerSource(spec), spec.fanOut.scansPerPod ?? FAN_OUT_DEFAULTS.scansPerPod, spec.fanOut.maxScans ?? FAN_OUT_DEFAULTS.maxScans)
    : undefined;
  const resumeEnabled = spec.resume?.enabled ?? false;
  const markers: MarkerSettings | undefined = resumeEnabled
    ? { markerDir: spec.resume?.markerDir ?? RESUME_DEFAULTS.markerDir, markerName: spec.resume?.markerName ?? RESUME_DEFAULTS.markerName, forceParameter: spec.resume?.forceParameter ?? RESUME_DEFAULTS.forceParameter }
    : undefined;
  const concurrency = spec.concurrency ? { ...spec.concurrency, configMapName: spec.concurrency.configMapName ?? DEFAULT_SEMAPHORE_CONFIGMAP } : undefined;

  const steps: StepPlan[] = spec.steps.map((s) => {
    const semaphoreKey = s.semaphore ?? (s.gpu?.requestsGpu ? concurrency?.gpuSemaphore : undefined);
    const isFanned = fanned.has(s.name);
    return planStep(s, {
      role: 'step',
      cluster: spec.cluster,
      versioned,
      // With a fan-out everything starts after the lister, so an empty batch ends at once.
      extraDependencies: lister && (isFanned || s.dependencies.length === 0) ? [lister.name] : [],
      semaphore: semaphoreKey ? { configMap: concurrency?.configMapName ?? DEFAULT_SEMAPHORE_CONFIGMAP, key: semaphoreKey } : undefined,
      resume: markers ? { ...markers, inputMarkers: inputMarkersOf(s, byName, fanned, markers) } : undefined,
      fanOut: isFanned && lister ? fanOutOf(s, spec, fanned, byName, lister.name) : undefined,
      outcomes: outcomes && (isFanned || partial.has(s.name)) ? { ...outcomes, record: true } : undefined,
      imageDigestEnv: spec.imageDigestEnv,
      templateNamePrefix: spec.templateNamePrefix,
      templateAnnotations: spec.templateAnnotations,
    });
  });
  return {
    cluster: spec.cluster,
    steps,
    lister,
    gate: outcomes ? planGate(utility(spec.gate), steps) : undefined,
    volumes: spec.volumes ?? defaultVolumes(),
    parameters: parametersOf(spec, markers),
    policy: {
      allowUnpinnedImages: spec.policy?.allowUnpinnedImages ?? false,
      allowPrivileged: spec.policy?.allowPrivileged ?? false,
      allowDirectoryOrCreate: spec.policy?.allowDirectoryOrCreate ?? false,
      allowUnhardened: spec.policy?.allowUnhardened ?? false,
    },
    workflow: spec.workflow ?? {},
    activeDeadlineSeconds: spec.workflow?.activeDeadlineSeconds ?? DEFAULT_ACTIVE_DEADLINE_SECONDS,
    resumeEnabled,
    fanOut: spec.fanOut,
    concurrency,
    outcomes,
    templateAnnotations: spec.templateAnnotations ?? {},
  };
}

function listerSource(spec: PipelineSpec) {
  const source = spec.fanOut!.source;
  if (!('subdirectoriesOf' in source)) return source;
  const volumes = spec.volumes ?? defaultVolumes();
  const volume = Object.hasOwn(volumes, source.subdirectoriesOf) ? volumes[source.subdirectoriesOf] : undefined;
  return { subdirectoriesOf: source.subdirectoriesOf, display: volume && 'hostPath' in volume ? volume.hostPath : undefined };
}

function fanOutOf(s: StepSpec, spec: PipelineSpec, fanned: ReadonlySet<string>, byName: ReadonlyMap<string, StepSpec>, lister: string): StepFanOut {
  const scanTimeout = spec.fanOut?.scanTimeout ? durationSeconds(spec.fanOut.scanTimeout) : undefined;
  return {
    parameter: FAN_OUT_DEFAULTS.parameter,
    itemVolumes: spec.fanOut?.itemVolumes ?? FAN_OUT_DEFAULTS.itemVolumes,
    upstream: s.dependencies.filter((d) => fanned.has(d)).map((d) => ({ step: d, accepted: [0, ...(byName.get(d)!.partialExitCodes ?? [])] })),
    scanTimeoutSeconds: scanTimeout,
    countFrom: lister,
  };
}

function parametersOf(spec: PipelineSpec, markers: MarkerSettings | undefined): Record<string, PipelineParameter> {
  const parameters: Record<string, PipelineParameter> = { ...(spec.parameters ?? {}) };
  if (markers && !Object.hasOwn(parameters, markers.forceParameter)) {
    parameters[markers.forceParameter] = { value: 'false', enum: ['false', 'true'], description: 'true: run every step again, ignoring success markers' };
  }
  return parameters;
}
