# sleap-roots shell helpers, shipped ahead of step.sh and gate.sh (lib/steps/scripts.ts): each pod
# runs one script and cannot source a shared file.

# accepted CODE LIST: 0 when CODE is in the comma- or space-separated LIST. Walks LIST by
# parameter expansion: no field splitting, so no pathname expansion and IFS left alone.
accepted() {
  acc_rest=$2
  while [ -n "${acc_rest}" ]; do
    acc_a=${acc_rest%%[, ]*}
    acc_rest=${acc_rest#"${acc_a}"}
    acc_rest=${acc_rest#[, ]}
    if [ -n "${acc_a}" ] && [ "$1" = "${acc_a}" ]; then return 0; fi
  done
  return 1
}
