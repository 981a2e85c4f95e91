# sleap-roots lister: the scans of one batch, cut into chunks of SLEAP_ROOTS_SCANS_PER_POD.
#
#   list-scans.sh folder DIR     every sub-folder of DIR is a scan (hidden ones skipped)
#   list-scans.sh list           SLEAP_ROOTS_SCANS holds the scans: "a,b,c" or ["a","b","c"]
#
# Writes $SLEAP_ROOTS_RUN_DIR/scans (one per line), chunks/0, chunks/1, ... and chunk-count, all
# made in a temporary folder and moved into place, and prints only the number of chunks on
# stdout: Argo keeps the last 256 KiB of stdout as the step's result, and a number stays a few
# bytes whatever the batch size (the fan-out is `withSequence: {count: <result>}`).
# Fails with a message (stderr and the termination message Argo shows as the step's message)
# when there is no scan, or more than SLEAP_ROOTS_MAX_SCANS.

run_dir=${SLEAP_ROOTS_RUN_DIR:?SLEAP_ROOTS_RUN_DIR is not set}
per_pod=${SLEAP_ROOTS_SCANS_PER_POD:-1}
max=${SLEAP_ROOTS_MAX_SCANS:-0}
message_file=${SLEAP_ROOTS_MESSAGE_FILE:-/dev/termination-log}
tab=$(printf '\t')
nl='
'

fail() {
  printf 'sleap-roots: %s\n' "$*" >&2
  printf 'sleap-roots: %s\n' "$*" > "$message_file" 2>/dev/null
  exit 1
}

work="$run_dir/.list.$$"
rm -rf "$work"
mkdir -p "$work/chunks" || fail "cannot create $work"
count=0
chunks=0
exec 3> "$work/scans"

# add NAME: one scan, into scans and the current chunk.
add() {
  case "$1" in
    ''|.*) return ;;
    *"$tab"*|*"$nl"*|*/*) printf 'sleap-roots: skipping %s (tab, newline or / in the name)\n' "$1" >&2; return ;;
  esac
  if [ "$max" -gt 0 ] && [ "$count" -ge "$max" ]; then
    fail "more than $max scans in $source (fanOut.maxScans); split the batch or raise the limit"
  fi
  if [ $((count % per_pod)) -eq 0 ]; then
    exec 4> "$work/chunks/$chunks"
    chunks=$((chunks + 1))
  fi
  printf '%s\n' "$1" >&3
  printf '%s\n' "$1" >&4
  count=$((count + 1))
}

case "${1:-}" in
  folder)
    source="${SLEAP_ROOTS_SOURCE_NAME:-$2}"
    cd "$2" || fail "cannot enter $source"
    for d in */; do
      [ -d "$d" ] || continue
      add "${d%/}"
    done
    ;;
  list)
    source="${SLEAP_ROOTS_SOURCE_NAME:-the scan list}"
    list=${SLEAP_ROOTS_SCANS:-}
    case "$list" in \[*) list=${list#\[}; list=${list%\]} ;; esac
    saved_ifs=$IFS
    IFS=','
    set -f
    for s in $list; do
      IFS=$saved_ifs
      # Trim blanks and one pair of JSON quotes.
      s=${s#"${s%%[! ]*}"}
      s=${s%"${s##*[! ]}"}
      case "$s" in \"*\") s=${s#\"}; s=${s%\"} ;; esac
      case "$s" in *\"*|*\\*) printf 'sleap-roots: skipping %s (quote or backslash in the name)\n' "$s" >&2; continue ;; esac
      add "$s"
      IFS=','
    done
    IFS=$saved_ifs
    set +f
    ;;
  *) fail "usage: list-scans.sh folder DIR | list" ;;
esac
exec 3>&- 4>&-

if [ "$count" -eq 0 ]; then
  rm -rf "$work"
  case "$1" in folder) fail "no image sets under $source" ;; *) fail "no image sets in $source" ;; esac
fi
printf '%s\n' "$chunks" > "$work/chunk-count"
rm -rf "$run_dir/scans" "$run_dir/chunks" "$run_dir/chunk-count"
if ! { mv "$work/scans" "$work/chunks" "$run_dir/" && mv "$work/chunk-count" "$run_dir/chunk-count"; }; then
  fail "cannot write the scan list into $run_dir"
fi
rmdir "$work"
printf 'sleap-roots: %s scans in %s chunks of at most %s\n' "$count" "$chunks" "$per_pod" >&2
printf '%s\n' "$chunks"
