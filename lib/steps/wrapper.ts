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

/** Set by the wrapper for each scan of a chunk: the scan's name. */
export const SCAN_ENV = 'SLEAP_ROOTS_SCAN';

/** `$0` of the wrapper (shows in process listings and shell messages). */
export const WRAPPER_NAME = 'sleap-roots-step';

/**
 * Exit codes of the wrapper itself (beyond the command's own): it is being stopped (SIGTERM:
 * preemption, eviction), or it could not record an outcome (shared storage).
 */
export const WrapperExit = { STOPPED: 143, CANNOT_RECORD: 75, SCAN_TIMEOUT: 124 } as const;

/** The wrapper script as shipped. */
export function wrapperScript(): string {
  return shellScript('step');
}
