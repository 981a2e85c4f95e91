# sleap-roots shell helpers, shipped ahead of step.sh and gate.sh (lib/steps/scripts.ts): each pod
# runs one script and cannot source a shared file.

# accepted CODE LIST: 0 when CODE is in the comma- or space-separated LIST.
accepted() {
  saved_ifs=$IFS
  IFS=', '
  for a in $2; do
    if [ "$1" = "$a" ]; then IFS=$saved_ifs; return 0; fi
  done
  IFS=$saved_ifs
  return 1
}
