/**
 * The POSIX shell wrapper a step's command runs under when it writes success markers (Argo's
 * work-avoidance pattern) or reports partial exit codes. The original command line is passed as
 * "$@", so nothing of it is re-quoted.
 *
 * Behaviour:
 * - skip: when SLEAP_ROOTS_FORCE is not "true", the marker exists, and every input marker exists
 *   and is not newer than it, print why and exit 0 without running the command;
 * - run the command; on exit 0 write the marker atomically (temp file in the same folder, then
 *   rename), so an evicted pod never leaves a marker that claims success;
 * - write the exit code to SLEAP_ROOTS_EXIT_CODE_FILE when set (read back as an output
 *   parameter by the partial-success gate), and exit with the command's code.
 */

/** Environment variables the wrapper reads. */
export const WrapperEnv = {
  MARKER: 'SLEAP_ROOTS_MARKER',
  INPUT_MARKERS: 'SLEAP_ROOTS_INPUT_MARKERS',
  ALWAYS_RUN: 'SLEAP_ROOTS_ALWAYS_RUN',
  FORCE: 'SLEAP_ROOTS_FORCE',
  EXIT_CODE_FILE: 'SLEAP_ROOTS_EXIT_CODE_FILE',
} as const;

/** `$0` of the wrapper (shows in process listings and shell messages). */
export const WRAPPER_NAME = 'sleap-roots-step';

export const WRAPPER_SCRIPT = [
  'marker="${SLEAP_ROOTS_MARKER:-}"',
  'if [ -n "$marker" ] && [ "${SLEAP_ROOTS_FORCE:-false}" != "true" ] && [ "${SLEAP_ROOTS_ALWAYS_RUN:-false}" != "true" ] && [ -f "$marker" ]; then',
  '  stale=""',
  '  for input in ${SLEAP_ROOTS_INPUT_MARKERS:-}; do',
  '    if [ ! -f "$input" ] || [ "$input" -nt "$marker" ]; then stale="$input"; fi',
  '  done',
  '  if [ -z "$stale" ]; then',
  '    echo "sleap-roots: $marker is newer than its inputs; step already done, skipping"',
  '    if [ -n "${SLEAP_ROOTS_EXIT_CODE_FILE:-}" ]; then mkdir -p "$(dirname "$SLEAP_ROOTS_EXIT_CODE_FILE")" && echo 0 > "$SLEAP_ROOTS_EXIT_CODE_FILE"; fi',
  '    exit 0',
  '  fi',
  '  echo "sleap-roots: input marker $stale is missing or newer than $marker; running again"',
  'fi',
  '"$@"',
  'code=$?',
  'if [ -n "${SLEAP_ROOTS_EXIT_CODE_FILE:-}" ]; then mkdir -p "$(dirname "$SLEAP_ROOTS_EXIT_CODE_FILE")" && echo "$code" > "$SLEAP_ROOTS_EXIT_CODE_FILE"; fi',
  'if [ "$code" -eq 0 ] && [ -n "$marker" ]; then',
  '  tmp="$marker.tmp.$$"',
  '  if ! { mkdir -p "$(dirname "$marker")" && printf "%s\\n" "${ARGO_WORKFLOW_NAME:-}" > "$tmp" && mv -f "$tmp" "$marker"; }; then',
  '    echo "sleap-roots: could not write the success marker $marker" >&2',
  '    rm -f "$tmp"',
  '    exit 1',
  '  fi',
  'fi',
  'exit "$code"',
].join('\n');
