/**
 * Work avoidance across steps: which success markers a step must find older than its own before
 * it may skip. A step depends on the markers of the steps whose output it mounts.
 */
import type { StepResume, StepSpec } from './types';

/** Marker settings with every default applied. */
export type MarkerSettings = Pick<StepResume, 'markerDir' | 'markerName' | 'forceParameter'>;

/** The marker file of a step whose output directory is `outputDir`. */
export function markerFile(outputDir: string, resume: Pick<MarkerSettings, 'markerDir' | 'markerName'>, step: string): string {
  return `${outputDir}/${resume.markerDir}/${resume.markerName.split('{step}').join(step)}`;
}

/** The output directory of a step and the volume it is on. */
export function outputOf(p: Pick<StepSpec, 'output' | 'mounts'>): { path?: string; volume?: string } {
  const path = p.output ?? p.mounts?.find((m) => !m.readOnly)?.path;
  return { path, volume: p.mounts?.find((m) => m.path === path)?.volume };
}

/**
 * The input markers of step `name`, as paths in its container: for each dependency whose output
 * volume the step mounts, that dependency's marker under the step's mount of it. Undefined when
 * they cannot be checked (a fanned-out dependency read by a step that is not fanned out has one
 * marker per item): then the step always runs.
 */
export function inputMarkersOf(
  step: StepSpec,
  steps: ReadonlyMap<string, StepSpec>,
  fanned: ReadonlySet<string>,
  resume: Pick<MarkerSettings, 'markerDir' | 'markerName'>,
): string[] | undefined {
  const markers: string[] = [];
  for (const dep of step.dependencies) {
    const depSpec = steps.get(dep);
    if (!depSpec) continue; // a missing dependency is reported by policy
    const out = outputOf(depSpec);
    const mount = step.mounts?.find((m) => m.volume === out.volume);
    if (!mount || !out.path) continue; // this step does not read what dep writes
    if (fanned.has(dep) && !fanned.has(step.name)) return undefined;
    markers.push(markerFile(mount.path, resume, dep));
  }
  return markers;
}
