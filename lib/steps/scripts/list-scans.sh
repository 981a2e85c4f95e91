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
#
# Names. A scan's name is also its folder name under every per-scan mount, and a line of the scan
# and outcome files, so it is taken as it is: inner blanks are kept ("scan 1" stays "scan 1",
# like a folder of that name), and glob characters are literal (globbing is off, set -f, except
# for the one `*/` of folder mode: a scan `*` is the scan named `*`, never the files here).
# A list item loses its surrounding blanks (spaces, tabs, newlines: a pretty-printed JSON list is
# fine) and one pair of double quotes. Skipped, with a message on stderr naming it (control
# characters shown as \n, \t, \r or \ooo, a backslash as \\), while the rest is still listed:
# a name with a control character (tab, newline...) or a /; in a list, one starting with a dot
# or holding a quote or backslash (JSON escapes and commas inside a name are not supported).
# Hidden folders (a leading dot) are skipped silently.

run_dir=${SLEAP_ROOTS_RUN_DIR:?SLEAP_ROOTS_RUN_DIR is not set}
per_pod=${SLEAP_ROOTS_SCANS_PER_POD:-1}
max=${SLEAP_ROOTS_MAX_SCANS:-0}
message_file=${SLEAP_ROOTS_MESSAGE_FILE:-/dev/termination-log}
set -f
cr=$(printf '\r')
tab=$(printf '\t')
nl='
'

fail() {
  printf 'sleap-roots: %s\n' "$*" >&2
  printf 'sleap-roots: %s\n' "$*" > "${message_file}" 2>/dev/null
  exit 1
}

# shown NAME: NAME for a message, on one line: control characters as \n, \t, \r or \ooo (octal),
# a backslash as \\.
shown() {
  sh_rest=$1
  sh_out=
  while [ -n "${sh_rest}" ]; do
    sh_c=${sh_rest%"${sh_rest#?}"}
    sh_rest=${sh_rest#?}
    case "${sh_c}" in
      "${nl}") sh_out="${sh_out}\\n" ;;
      "${tab}") sh_out="${sh_out}\\t" ;;
      "${cr}") sh_out="${sh_out}\\r" ;;
      \\) sh_out="${sh_out}\\\\" ;;
      [[:cntrl:]]) sh_out="${sh_out}\\$(printf '%03o' "'${sh_c}")" ;;
      *) sh_out="${sh_out}${sh_c}" ;;
    esac
  done
  printf '%s' "${sh_out}"
}

# skip NAME WHY: says on stderr that NAME is not listed, and why.
skip() {
  skip_name=$(shown "$1")
  printf 'sleap-roots: skipping "%s" (%s)\n' "${skip_name}" "$2" >&2
}

# trim VALUE: VALUE without its leading and trailing blanks (space, tab, newline, CR...), in $trimmed.
trim() {
  trimmed=${1#"${1%%[![:space:]]*}"}
  trimmed=${trimmed%"${trimmed##*[![:space:]]}"}
}

work="${run_dir}/.list.$$"
rm -rf "${work}"
mkdir -p "${work}/chunks" || fail "cannot create ${work}"
count=0
chunks=0
mode=${1:-}
exec 3> "${work}/scans"

# add NAME: one scan, into scans and the current chunk (or a message when it is skipped).
add() {
  case "$1" in
    '') return ;;
    .*) [ "${mode}" = folder ] || skip "$1" 'a name starting with a dot'; return ;;
    *[[:cntrl:]]*) skip "$1" 'a control character such as a tab or newline in the name'; return ;;
    */*) skip "$1" 'a / in the name'; return ;;
    *) ;;
  esac
  if [ "${max}" -gt 0 ] && [ "${count}" -ge "${max}" ]; then
    fail "more than ${max} scans in ${source} (fanOut.maxScans); split the batch or raise the limit"
  fi
  if [ $((count % per_pod)) -eq 0 ]; then
    exec 4> "${work}/chunks/${chunks}"
    chunks=$((chunks + 1))
  fi
  printf '%s\n' "$1" >&3
  printf '%s\n' "$1" >&4
  count=$((count + 1))
}

case "${mode}" in
  folder)
    source="${SLEAP_ROOTS_SOURCE_NAME:-$2}"
    cd "$2" || fail "cannot enter ${source}"
    # The one pattern of the script: every sub-folder (`*/` never matches a hidden one).
    set +f
    set -- */
    set -f
    for d in "$@"; do
      [ -d "${d}" ] || continue
      add "${d%/}"
    done
    ;;
  list)
    source="${SLEAP_ROOTS_SOURCE_NAME:-the scan list}"
    trim "${SLEAP_ROOTS_SCANS:-}"
    rest=${trimmed}
    case "${rest}" in \[*\]) rest=${rest#\[}; rest=${rest%\]} ;; *) ;; esac
    # Walked item by item by parameter expansion: no field splitting, so nothing is globbed.
    while [ -n "${rest}" ]; do
      item=${rest%%,*}
      rest=${rest#"${item}"}
      rest=${rest#,}
      trim "${item}"
      s=${trimmed}
      case "${s}" in \"*\") s=${s#\"}; s=${s%\"} ;; *) ;; esac
      case "${s}" in
        *\"*|*\\*) skip "${s}" 'a quote or backslash in the name: JSON escapes and commas inside a name are not supported'; continue ;;
        *) ;;
      esac
      add "${s}"
    done
    ;;
  *) fail "usage: list-scans.sh folder DIR | list" ;;
esac
exec 3>&- 4>&-

if [ "$count" -eq 0 ]; then
  rm -rf "$work"
  case "${mode}" in folder) fail "no image sets under $source" ;; *) fail "no image sets in $source" ;; esac
fi
printf '%s\n' "$chunks" > "$work/chunk-count"
rm -rf "$run_dir/scans" "$run_dir/chunks" "$run_dir/chunk-count"
if ! { mv "$work/scans" "$work/chunks" "$run_dir/" && mv "$work/chunk-count" "$run_dir/chunk-count"; }; then
  fail "cannot write the scan list into $run_dir"
fi
rmdir "$work"
printf 'sleap-roots: %s scans in %s chunks of at most %s\n' "$count" "$chunks" "$per_pod" >&2
printf '%s\n' "$chunks"
