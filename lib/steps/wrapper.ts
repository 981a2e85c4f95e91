/**
 * The contract between the synthesized templates and the step wrapper (scripts/step.sh): the
 * environment variables it reads. The script itself documents what it does with them.
 */
import { shellScript } from './scripts';

/** Environment variables the wrapper reads. */
export const WrapperEnv = {
  STEP: 'SLEAP_ROOTS_STEP',
  MARKER: 'SLEAP_ROOTS_MARKER',
  INPUT_MARKERS: 'SLEAP_ROOTS_INPUT_MARKERS',
  ALWAYS_RUN: 'SLEAP_ROOTS_ALWAYS_RUN',
  FORCE: 'SLEAP_ROOTS_FORCE',
  RUN_DIR: 'SLEAP_ROOTS_RUN_DIR',
  ACCEPTED: 'SLEAP_ROOTS_ACCEPTED',
  CHUNK: 'SLEAP_ROOTS_CHUNK',
  ITEM_MOUNTS: 'SLEAP_ROOTS_ITEM_MOUNTS',
  ITEM_OUTPUTS: 'SLEAP_ROOTS_ITEM_OUTPUTS',
  UPSTREAM: 'SLEAP_ROOTS_UPSTREAM',
  SCAN_TIMEOUT: 'SLEAP_ROOTS_SCAN_TIMEOUT',
} as const;

/**
 * How the path lists (INPUT_MARKERS, ITEM_MOUNTS, ITEM_OUTPUTS) are joined: one path per line, so
 * a path may contain blanks (step.sh walks the lines without field splitting or globbing).
 */
export const PATH_LIST_SEPARATOR = '\n';

/** `$0` of the wrapper (shows in process listings and shell messages). */
export const WRAPPER_NAME = 'sleap-roots-step';

/**
 * Exit code of the wrapper itself when it could not record an outcome (shared storage): worth a
 * retry. (Its other codes, 143 when stopped and 124 for a scan timeout, are in step.sh's header.)
 */
export const WrapperExit = { CANNOT_RECORD: 75 } as const;

/** The wrapper script as shipped. */
export function wrapperScript(): string {
  return shellScript('step');
}
