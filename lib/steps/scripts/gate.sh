# sleap-roots gate: the batch's outcome, judged from the outcome files the steps recorded in
# $SLEAP_ROOTS_RUN_DIR (see step.sh), never from Argo's aggregated outputs. It runs as the
# workflow's exit handler, after every other node, whatever happened to them.
#
#   SLEAP_ROOTS_SCAN_STEPS    "predictor=0,3 trait-extractor=0" fanned-out steps in DAG order,
#                             each with the codes it accepts (0 first, then its partial codes)
#   SLEAP_ROOTS_WHOLE_STEPS   the same for steps that run once and record one outcome
#   SLEAP_ROOTS_WORKFLOW_STATUS  {{workflow.status}}: anything but Succeeded fails the gate
#
# A scan succeeded when every step recorded 0 for it, is partial when every step recorded an
# accepted code and one a partial code, and failed otherwise: a code not accepted, or no code at
# all (its pod was lost, or the batch stopped before it ran). Writes report.tsv (scan, result,
# detail) and prints one summary line, which is also the termination message (at most 4,000
# bytes) that Argo shows as the workflow's message when the gate fails.
# Exit 0 only when no scan failed, every whole step was accepted and the workflow Succeeded.
#
# The same rows go to the gate's log (stderr) in a marked form, for `sleap-roots report`, which
# reads pod logs through the Kubernetes API but cannot read the shared volume:
#   sleap-roots-report/v1<TAB>scan<TAB>chunk<TAB>scan<TAB>result<TAB>step<TAB>code<TAB>detail
#   sleap-roots-report/v1<TAB>end<TAB>rows printed<TAB>scans judged
# (step and code: the step that decided a failed or partial result and its code, empty when it
# recorded none). At most SLEAP_ROOTS_REPORT_LOG_LIMIT rows (default 20000, about 1.6 MB of log,
# well under the kubelet's default 10 MiB log rotation) are printed; the end line says how many
# were left out. stderr, not stdout: a container's stdout may be captured as its result and
# stored in the workflow's status (executor.go CaptureScriptResult reads stdout only).
# The step lists are split on blanks (step names are Kubernetes names: no blanks, no globs), with
# globbing off (set -f) all the same.

set -f

run_dir=${SLEAP_ROOTS_RUN_DIR:?SLEAP_ROOTS_RUN_DIR is not set}
status=${SLEAP_ROOTS_WORKFLOW_STATUS:-Succeeded}
message_file=${SLEAP_ROOTS_MESSAGE_FILE:-/dev/termination-log}
named=${SLEAP_ROOTS_LIST_LIMIT:-10}
log_limit=${SLEAP_ROOTS_REPORT_LOG_LIMIT:-20000}
mark='sleap-roots-report/v1'
logged=0
tab=$(printf '\t')
ok=1
succeeded=0
partial=0
failed=0
failures=
more=0
parts=


note_failure() { # note_failure SCAN DETAIL
  failed=$((failed + 1))
  if [ "$failed" -le "$named" ]; then failures="$failures${failures:+, }$1 ($2)"; else more=$((more + 1)); fi
}

if [ -n "${SLEAP_ROOTS_SCAN_STEPS:-}" ]; then
  if [ ! -f "$run_dir/chunk-count" ]; then
    ok=0
    parts="no scan list in $run_dir (list-image-sets did not finish)"
  else
    read -r chunks < "$run_dir/chunk-count"
    report="$run_dir/report.tsv.tmp.$$"
    exec 3> "$report"
    printf 'scan\tresult\tdetail\n' >&3
    i=0
    while [ "$i" -lt "$chunks" ]; do
      # Each step's outcome file of this chunk, read alongside the chunk's scan list: the
      # wrapper records scans in the list's order (an attempt after a stopped one appends the
      # rest in order), so one look-ahead line per step finds each scan's code or its absence.
      j=0
      for entry in $SLEAP_ROOTS_SCAN_STEPS; do
        j=$((j + 1))
        file="$run_dir/outcomes/${entry%%=*}/$i"
        [ -f "$file" ] || file=/dev/null
        eval "exec $((j + 4))< \"\$file\""
        eval "ahead_$j= code_$j= eof_$j="
      done
      while IFS= read -r scan <&4; do
        [ -n "$scan" ] || continue
        result=succeeded
        detail=
        by=
        by_code=
        j=0
        for entry in $SLEAP_ROOTS_SCAN_STEPS; do
          name=${entry%%=*}
          codes=${entry#*=}
          j=$((j + 1))
          eval "ahead=\$ahead_$j eof=\$eof_$j"
          if [ -z "$ahead" ] && [ -z "$eof" ]; then
            # (read inside eval sets c and s, which shellcheck cannot see)
            # shellcheck disable=SC2034
            c=
            s=
            if eval "IFS=\"\$tab\" read -r c s <&$((j + 4))"; then
              eval "ahead_$j=\$s code_$j=\$c"
              ahead=$s
            else
              eval "eof_$j=1"
            fi
          fi
          code=
          if [ -n "$ahead" ] && [ "$ahead" = "$scan" ]; then
            eval "code=\$code_$j ahead_$j="
          fi
          if [ -z "$code" ]; then result=failed; detail="$name: no outcome recorded"; by=$name; by_code=; break; fi
          [ "$code" = 0 ] && continue
          by=$name
          by_code=$code
          if accepted "$code" "$codes"; then
            result=partial
            detail="${detail:+$detail; }$name exited $code"
          else
            result=failed
            detail="$name exited $code"
            [ "$code" = 124 ] && detail="$detail (scan timeout)"
            break
          fi
        done
        case $result in
          succeeded) succeeded=$((succeeded + 1)) ;;
          partial) partial=$((partial + 1)) ;;
          *) note_failure "$scan" "$detail" ;;
        esac
        printf '%s\t%s\t%s\n' "$scan" "$result" "$detail" >&3
        if [ "$logged" -lt "$log_limit" ]; then
          logged=$((logged + 1))
          printf '%s\tscan\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mark" "$i" "$scan" "$result" "$by" "$by_code" "$detail" >&2
        fi
      done 4< "$run_dir/chunks/$i"
      i=$((i + 1))
    done
    exec 3>&-
    mv -f "$report" "$run_dir/report.tsv"
    total=$((succeeded + partial + failed))
    printf '%s\tend\t%s\t%s\n' "$mark" "$logged" "$total" >&2
    parts="$total scans: $succeeded succeeded, $partial partial, $failed failed"
    [ "$failed" -eq 0 ] || ok=0
    [ "$total" -gt 0 ] || ok=0
    if [ -n "$failures" ]; then
      parts="$parts: $failures"
      [ "$more" -eq 0 ] || parts="$parts and $more more"
      parts="$parts (all in $run_dir/report.tsv)"
    fi
  fi
fi

for entry in ${SLEAP_ROOTS_WHOLE_STEPS:-}; do
  name=${entry%%=*}
  codes=${entry#*=}
  code=
  if [ -f "$run_dir/outcomes/$name/all" ]; then IFS="$tab" read -r code _ < "$run_dir/outcomes/$name/all"; fi
  if [ -z "$code" ]; then
    ok=0; text="$name recorded no outcome"
  elif [ "$code" = 0 ]; then
    text="$name succeeded"
  elif accepted "$code" "$codes"; then
    text="$name exited $code (partial)"
  else
    ok=0; text="$name exited $code"
  fi
  parts="${parts:+$parts; }$text"
done

if [ "$status" != Succeeded ]; then
  ok=0
  parts="workflow $status before the gate; ${parts:-no outcome recorded}"
fi
summary=$(printf '%.4000s' "$parts")
printf '%s\n' "$summary" > "$message_file" 2>/dev/null
if [ "$ok" = 1 ]; then
  printf 'sleap-roots: passed: %s\n' "$summary"
  exit 0
fi
printf 'sleap-roots: failed: %s\n' "$summary" >&2
exit 1
