# sleap-roots step wrapper: runs the step's command line ("$@") under /bin/sh in the step's own
# image. Only shell builtins plus mkdir and mv, so any image with a POSIX sh can run it.
#
# Work avoidance (SLEAP_ROOTS_MARKER set): skip the work when its success marker exists and is
# not older than the markers of its inputs (SLEAP_ROOTS_INPUT_MARKERS), unless
# SLEAP_ROOTS_FORCE=true; write the marker atomically (temp file + rename) only after exit 0.
#
# Path lists (SLEAP_ROOTS_INPUT_MARKERS, SLEAP_ROOTS_ITEM_MOUNTS, SLEAP_ROOTS_ITEM_OUTPUTS) hold
# one path per line (lib/build/step-template.ts refuses a path with a newline), so a path may
# contain blanks and glob characters. They are walked line by line by parameter expansion,
# never split by IFS nor read from a here-document: a here-document is a temporary file for some
# shells (bash before 5.1), and the root filesystem may be read-only. Globbing is off (set -f):
# nothing here expands a pattern.
#
# Outcomes (SLEAP_ROOTS_RUN_DIR set, one folder per workflow on a shared volume): the exit code
# of every piece of work is appended to $SLEAP_ROOTS_RUN_DIR/outcomes/<step>/<chunk> as
# "<code><TAB><scan>", and the gate judges the batch from those files, not from Argo's node
# phases (which drop failed children from aggregates).
#
# Chunks (SLEAP_ROOTS_CHUNK set): the command runs once per scan listed in
# $SLEAP_ROOTS_RUN_DIR/chunks/<chunk>, with SLEAP_ROOTS_SCAN set and every argument at or below
# a per-scan mount (SLEAP_ROOTS_ITEM_MOUNTS) pointed at <mount>/<scan>. A scan already recorded
# by an earlier attempt of this workflow is not run again; a scan whose upstream steps
# (SLEAP_ROOTS_UPSTREAM, "step=0,3 ...") did not end in an accepted code is not run at all.
# SLEAP_ROOTS_SCAN_TIMEOUT (seconds) stops one scan that runs too long, so one poison scan never
# holds the pod (and its GPU) for the rest of the chunk.
#
# Exit codes: 0 when every outcome is recorded (chunks) or the code is accepted
# (SLEAP_ROOTS_ACCEPTED, whole steps); 143 when the pod is being stopped (preemption, eviction:
# Argo retries it, and recorded scans are kept); 75 when an outcome cannot be recorded (a
# storage problem: retried); otherwise the command's own code.

step=${SLEAP_ROOTS_STEP:-step}
marker_tpl=${SLEAP_ROOTS_MARKER:-}
run_dir=${SLEAP_ROOTS_RUN_DIR:-}
chunk=${SLEAP_ROOTS_CHUNK:-}
set -f
tab=$(printf '\t')
nl='
'
interrupted=0
child=
group=
trap 'interrupted=1; signal_child TERM' TERM INT

# signal_child SIG: the running command, with every process it started when it has its own
# process group (setsid), so a stopped scan leaves nothing behind on the GPU. Returns 1 when the
# command should have a group but has none yet (still on its way to setsid): the signal went to
# its pid alone, where it can be lost (a forked shell that has not yet exec'd runs this script's
# own trap), so the caller sends it again once the group exists.
signal_child() {
  [ -n "$child" ] || return 0
  kill -s "$1" -- "$group$child" 2>/dev/null && return 0
  kill -s "$1" "$child" 2>/dev/null
  [ -z "$group" ]
}

say() { printf 'sleap-roots: %s\n' "$*"; }
warn() { printf 'sleap-roots: %s\n' "$*" >&2; }

# per_scan PATH: PATH with a per-scan mount prefix pointed at that mount's folder for $scan.
per_scan() {
  if [ -n "${chunk}" ]; then
    ps_rest=${SLEAP_ROOTS_ITEM_MOUNTS:-}
    while [ -n "${ps_rest}" ]; do
      m=${ps_rest%%"${nl}"*}
      ps_rest=${ps_rest#"${m}"}
      ps_rest=${ps_rest#"${nl}"}
      [ -n "${m}" ] || continue
      case "$1" in
        "${m}") printf '%s' "${m}/${scan}"; return ;;
        "${m}"/*) printf '%s' "${m}/${scan}${1#"${m}"}"; return ;;
        *) ;;
      esac
    done
  fi
  printf '%s' "$1"
}

# done_before: 0 when the marker of this work is newer than the markers of its inputs.
done_before() {
  [ -n "$marker_tpl" ] || return 1
  [ "${SLEAP_ROOTS_FORCE:-false}" != true ] || return 1
  [ "${SLEAP_ROOTS_ALWAYS_RUN:-false}" != true ] || return 1
  marker=$(per_scan "$marker_tpl")
  [ -f "$marker" ] || return 1
  db_rest=${SLEAP_ROOTS_INPUT_MARKERS:-}
  while [ -n "${db_rest}" ]; do
    input=${db_rest%%"${nl}"*}
    db_rest=${db_rest#"${input}"}
    db_rest=${db_rest#"${nl}"}
    [ -n "${input}" ] || continue
    input=$(per_scan "${input}")
    # -nt is not in POSIX, but dash, bash and busybox ash all have it (the tests run the first and last).
    # shellcheck disable=SC3013
    if [ ! -f "$input" ] || [ "$input" -nt "$marker" ]; then
      say "input marker $input is missing or newer than $marker; running again"
      return 1
    fi
  done
  say "$marker is newer than its inputs; already done, skipping${scan:+ $scan}"
  return 0
}

write_marker() {
  [ -n "$marker_tpl" ] || return 0
  marker=$(per_scan "$marker_tpl")
  tmp="$marker.tmp.$$"
  if mkdir -p "${marker%/*}" && printf '%s\n' "${ARGO_WORKFLOW_NAME:-}" > "$tmp" && mv -f "$tmp" "$marker"; then return 0; fi
  rm -f "$tmp"
  warn "could not write the success marker $marker"
  return 1
}

# run_command ARGS...: runs the command (under the scan watchdog when one is set); sets $code.
run_command() {
  limit=${SLEAP_ROOTS_SCAN_TIMEOUT:-0}
  if command -v setsid > /dev/null 2>&1; then
    setsid "$@" &
    group=-
  else
    "$@" &
    group=
  fi
  child=$!
  dog=
  flag=
  if [ -n "$chunk" ] && [ "$limit" -gt 0 ]; then
    flag="$run_dir/outcomes/$step/.timed-out.$$"
    rm -f "$flag"
    # The watchdog holds none of the pod's output: a sleep it leaves behind must not keep the
    # log pipe open (the emissary waits for it) after the wrapper has finished.
    (
      exec < /dev/null > /dev/null 2>&1
      s=
      trap '[ -n "$s" ] && kill "$s" 2>/dev/null; exit 0' TERM
      sleep "$limit" &
      s=$!
      wait "$s" || exit 0
      : > "$flag"
      # TERM, then KILL after a 30 s grace; while the command has no process group yet, the TERM
      # is sent again every second (see signal_child).
      grace=30
      until signal_child TERM || [ "$grace" -le 1 ]; do
        sleep 1 &
        s=$!
        wait "$s" || exit 0
        grace=$((grace - 1))
      done
      sleep "$grace" &
      s=$!
      wait "$s" || exit 0
      signal_child KILL
    ) &
    dog=$!
  fi
  wait "$child"
  code=$?
  # A trapped signal ends `wait` early: wait for the command itself to stop.
  while kill -0 "$child" 2>/dev/null; do
    wait "$child"
    code=$?
  done
  child=
  if [ -n "$dog" ]; then
    kill -TERM "$dog" 2>/dev/null
    wait "$dog" 2>/dev/null
  fi
  if [ -n "$flag" ] && [ -f "$flag" ]; then
    rm -f "$flag"
    warn "$scan ran longer than ${limit}s (SLEAP_ROOTS_SCAN_TIMEOUT); stopped"
    code=124
  fi
}

# record CODE NAME: appends one outcome line; exits 75 when it cannot.
record() {
  [ -n "$run_dir" ] || return 0
  if ! { mkdir -p "$run_dir/outcomes/$step" && printf '%s\t%s\n' "$1" "$2" >> "$outcomes"; }; then
    warn "could not record the outcome of $2 in $outcomes"
    exit 75
  fi
}


# upstream_ok: 0 when every upstream step recorded an accepted code for $scan.
upstream_ok() {
  for u in ${SLEAP_ROOTS_UPSTREAM:-}; do
    name=${u%%=*}
    codes=${u#*=}
    file="$run_dir/outcomes/$name/$chunk"
    got=
    if [ -f "$file" ]; then
      while IFS="$tab" read -r c s; do
        if [ "$s" = "$scan" ]; then got=$c; break; fi
      done < "$file"
    fi
    if [ -z "$got" ]; then say "$scan: $name recorded no outcome; not running $step"; return 1; fi
    if ! accepted "$got" "$codes"; then say "$scan: $name exited $got; not running $step"; return 1; fi
  done
  return 0
}

# run_scan SCAN ARGS...: one scan of a chunk, with its arguments pointed at its folders.
run_scan() {
  scan=$1
  shift
  n=$#
  # (per_scan only prints: a command substitution cannot fail here.)
  # shellcheck disable=SC2312
  for a in "$@"; do set -- "$@" "$(per_scan "${a}")"; done
  shift "${n}"
  rs_rest=${SLEAP_ROOTS_ITEM_OUTPUTS:-}
  while [ -n "${rs_rest}" ]; do
    m=${rs_rest%%"${nl}"*}
    rs_rest=${rs_rest#"${m}"}
    rs_rest=${rs_rest#"${nl}"}
    [ -n "${m}" ] || continue
    mkdir -p "${m}/${scan}" || { warn "cannot create ${m}/${scan}"; exit 75; }
  done
  if done_before; then code=0; return; fi
  say "$step: $scan"
  SLEAP_ROOTS_SCAN=$scan
  export SLEAP_ROOTS_SCAN
  run_command "$@"
  if [ "$interrupted" = 1 ]; then return; fi
  if [ "$code" -eq 0 ]; then write_marker || code=1; fi
}

if [ -n "$chunk" ]; then
  list="$run_dir/chunks/$chunk"
  outcomes="$run_dir/outcomes/$step/$chunk"
  if [ ! -f "$list" ]; then warn "no scan list $list (did list-image-sets finish?)"; exit 75; fi
  mkdir -p "$run_dir/outcomes/$step" || { warn "cannot create $run_dir/outcomes/$step"; exit 75; }
  recorded=$nl
  if [ -f "$outcomes" ]; then
    while IFS="$tab" read -r c s; do recorded="$recorded$s$nl"; done < "$outcomes"
  fi
  total=0
  ran=0
  while IFS= read -r scan <&4; do
    [ -n "$scan" ] || continue
    total=$((total + 1))
    case "${recorded}" in *"${nl}${scan}${nl}"*) continue ;; *) ;; esac
    if ! upstream_ok; then continue; fi
    run_scan "$scan" "$@" 4<&-
    if [ "$interrupted" = 1 ]; then warn "stopped during $scan; its outcome is not recorded"; exit 143; fi
    record "$code" "$scan"
    ran=$((ran + 1))
  done 4< "$list"
  say "$step: chunk $chunk done: $total scans, $ran run or checked in this attempt"
  exit 0
fi

# A whole step (no chunks).
scan=
outcomes="$run_dir/outcomes/$step/all"
if done_before; then
  code=0
else
  run_command "$@"
  if [ "$interrupted" = 1 ]; then exit 143; fi
  if [ "$code" -eq 0 ]; then write_marker || exit 75; fi
fi
record "$code" '*'
if [ -n "$run_dir" ] && accepted "$code" "${SLEAP_ROOTS_ACCEPTED:-0}"; then exit 0; fi
exit "$code"
