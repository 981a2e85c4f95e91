/**
 * Small utility steps the pipeline adds on its own: the image-set lister that feeds a fan-out,
 * and the gate that judges partial exit codes. Both are plain {@link ContainerStep}s running a
 * POSIX shell script in a tiny image.
 */
import type { Construct } from 'constructs';
import type { ResourcesConfig } from '../config/schema';
import { ContainerStep, withDefaults, type ContainerStepProps } from './container-step';

/** Default image of the utility steps (pinned). */
export const UTILITY_IMAGE = 'busybox:1.36.1';
/** Default resources of the utility steps: tiny. */
export const UTILITY_RESOURCES: ResourcesConfig = {
  requests: { cpu: '10m', memory: '16Mi' },
  limits: { cpu: '100m', memory: '64Mi' },
};

/** Prints the sub-directories of "$1" as a JSON list of names (hidden and unsafe names skipped). */
export const LIST_SUBDIRECTORIES_SCRIPT = [
  'cd "$1" || { echo "sleap-roots: cannot enter $1" >&2; exit 1; }',
  'first=1',
  "printf '['",
  'for d in */; do',
  '  [ -d "$d" ] || continue',
  '  name=${d%/}',
  '  case "$name" in .*) continue ;; *\\"*|*\\\\*) echo "sleap-roots: skipping $name (quote or backslash in name)" >&2; continue ;; esac',
  "  if [ $first = 1 ]; then first=0; else printf ','; fi",
  '  printf \'"%s"\' "$name"',
  'done',
  "printf ']\\n'",
].join('\n');

/** Prints "$1" as a JSON list: a JSON list as it is, or comma-separated names (blanks dropped). */
export const LIST_PARAMETER_SCRIPT = [
  'case "$1" in \\[*) printf \'%s\\n\' "$1"; exit 0 ;; esac',
  'first=1',
  "printf '['",
  "IFS=','",
  'for s in $1; do',
  "  s=$(printf '%s' \"$s\" | tr -d ' \\t')",
  '  [ -n "$s" ] || continue',
  "  if [ $first = 1 ]; then first=0; else printf ','; fi",
  '  printf \'"%s"\' "$s"',
  'done',
  "printf ']\\n'",
].join('\n');

/**
 * Checks "step allowed-codes value" triples: value is an exit code, or the JSON list of a
 * fanned-out task's output parameters (each with an "exit-code"). Fails unless every code is
 * allowed; an unresolved value (the step never produced one) fails too.
 */
export const GATE_SCRIPT = [
  'failed=0',
  'while [ $# -ge 3 ]; do',
  '  step=$1; allowed=$2; value=$3; shift 3',
  '  if [ "$value" = "[]" ]; then echo "gate: $step ran for no items"; continue; fi',
  '  codes=$(printf \'%s\' "$value" | grep -o \'"exit-code":"[^"]*"\' | sed \'s/.*:"\\(.*\\)"/\\1/\')',
  '  [ -n "$codes" ] || codes=$value',
  '  for code in $codes; do',
  '    ok=0',
  '    for a in $allowed; do [ "$code" = "$a" ] && ok=1; done',
  '    if [ $ok = 1 ]; then echo "gate: $step exited $code: accepted"; else echo "gate: $step exited $code; accepted: $allowed" >&2; failed=1; fi',
  '  done',
  'done',
  'exit $failed',
].join('\n');

/** Props of {@link ImageSetLister}. */
export interface ImageSetListerProps extends Omit<ContainerStepProps, 'image'> {
  /** Where the list comes from. */
  readonly source: { readonly subdirectoriesOf: string } | { readonly parameter: string };
  /** @default UTILITY_IMAGE */
  readonly image?: string;
}

/** Prints the image sets as a JSON list (its `outputs.result` feeds `withParam`). */
export class ImageSetLister extends ContainerStep {
  public static readonly STEP_NAME = 'list-image-sets';
  public static readonly MOUNT_PATH = '/workspace/list';

  public constructor(scope: Construct, props: ImageSetListerProps) {
    const { source, ...rest } = props;
    const bySubdirs = 'subdirectoriesOf' in source;
    super(scope, ImageSetLister.STEP_NAME, withDefaults<ContainerStepProps>({
      image: UTILITY_IMAGE,
      resources: UTILITY_RESOURCES,
      command: ['/bin/sh', '-c', bySubdirs ? LIST_SUBDIRECTORIES_SCRIPT : LIST_PARAMETER_SCRIPT, ImageSetLister.STEP_NAME],
      args: [bySubdirs ? ImageSetLister.MOUNT_PATH : `{{workflow.parameters.${source.parameter}}}`],
      mounts: bySubdirs ? [{ volume: source.subdirectoriesOf, path: ImageSetLister.MOUNT_PATH, readOnly: true }] : [],
    }, rest as ContainerStepProps));
  }
}

/** Props of {@link PartialSuccessGate}. */
export interface PartialSuccessGateProps extends Omit<ContainerStepProps, 'image'> {
  /** The steps to judge: name, accepted exit codes, and the DAG expression of their code(s). */
  readonly checks: readonly { readonly step: string; readonly accepted: readonly number[]; readonly value: string }[];
  /** @default UTILITY_IMAGE */
  readonly image?: string;
}

/** The final step: fails the workflow unless every judged step ended 0 or with a declared partial code. */
export class PartialSuccessGate extends ContainerStep {
  public static readonly STEP_NAME = 'gate';

  public constructor(scope: Construct, props: PartialSuccessGateProps) {
    const { checks, ...rest } = props;
    const inputs = Object.fromEntries(checks.map((c) => [`${c.step}-exit-codes`, c.value]));
    super(scope, PartialSuccessGate.STEP_NAME, withDefaults<ContainerStepProps>({
      image: UTILITY_IMAGE,
      resources: UTILITY_RESOURCES,
      command: ['/bin/sh', '-c', GATE_SCRIPT, PartialSuccessGate.STEP_NAME],
      args: checks.flatMap((c) => [c.step, [0, ...c.accepted].join(' '), `{{inputs.parameters.${c.step}-exit-codes}}`]),
      inputs,
    }, rest as ContainerStepProps));
  }
}
