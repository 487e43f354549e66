#!/usr/bin/env bash
# A stand-in for `gcloud`, `bq` and `git` in the deploy-script tests (bash, so that the dozens of
# calls a deploy makes cost milliseconds). The test's PATH holds symlinks named after the tools.
# In $FAKE_CLOUD_DIR (written by test/deploy/deploy-harness.ts):
#   rules.tsv          one rule a line: TOOL <tab> TIMES|- <tab> EXIT <tab> MATCHES (\x1f-separated)
#   rule.N.stdout/err  what rule N (1-based) prints
# A call is answered by the first rule whose tool matches and whose every match string occurs in
# the space-joined arguments (a leading ^ anchors it at the start); a rule with TIMES answers only
# that many times. No rule: nothing printed, exit 0 ("it worked", "it exists").
# Every call is recorded as calls/NNNNNN (tool and arguments, NUL-separated), with a copy of the
# file given to --config or --policy-from-file as calls/NNNNNN.config / .policy-from-file.
set -euo pipefail
tool="${0##*/}"
dir="${FAKE_CLOUD_DIR:?}"

# Few forks per call: a deploy makes dozens of calls, on a machine that may be busy.
count=0
if [[ -f "${dir}/count" ]]; then read -r count <"${dir}/count"; fi
count=$(( count + 1 ))
printf '%s\n' "${count}" >"${dir}/count"
printf -v call '%s/calls/%06d' "${dir}" "${count}"
printf '%s\0' "${tool}" "$@" >"${call}"
previous=""
for arg in "$@"; do
  case "${previous}" in
    --config | --policy-from-file) if [[ -f "${arg}" ]]; then cp "${arg}" "${call}.${previous#--}"; fi ;;
  esac
  case "${arg}" in
    --config=* | --policy-from-file=*)
      flag="${arg%%=*}"
      if [[ -f "${arg#*=}" ]]; then cp "${arg#*=}" "${call}.${flag#--}"; fi
      ;;
  esac
  previous="${arg}"
done

line="$*"
n=0
while IFS=$'\t' read -r rule_tool times code matches; do
  n=$(( n + 1 ))
  [[ "${rule_tool}" == "${tool}" ]] || continue
  IFS=$'\x1f' read -r -a parts <<<"${matches}"
  matched=1
  for part in "${parts[@]}"; do
    if [[ "${part}" == ^* ]]; then
      [[ "${line}" == "${part#^}"* ]] || matched=0
    else
      [[ "${line}" == *"${part}"* ]] || matched=0
    fi
  done
  (( matched )) || continue
  used=0
  if [[ -f "${dir}/used.${n}" ]]; then read -r used <"${dir}/used.${n}"; fi
  if [[ "${times}" != "-" ]] && (( used >= times )); then
    continue
  fi
  printf '%s\n' $(( used + 1 )) >"${dir}/used.${n}"
  if [[ -f "${dir}/rule.${n}.stdout" ]]; then cat "${dir}/rule.${n}.stdout"; fi
  if [[ -f "${dir}/rule.${n}.stderr" ]]; then cat "${dir}/rule.${n}.stderr" >&2; fi
  exit "${code}"
done <"${dir}/rules.tsv"
exit 0
