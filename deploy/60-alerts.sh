#!/usr/bin/env bash
# Log-based metrics on the job's JSON log lines, and three alert policies on them:
#   - failed wallets: more than FAILED_WALLETS_THRESHOLD `wallet_failed` lines within one interval
#     (one run; with several tasks, all shards added up);
#   - circuit breaker: any `circuit_breaker_open` line (the Polymarket API looked down);
#   - no successful run for NO_SUCCESS_HOURS: no `run_finished` line with exit_code 0 and outcome
#     complete, some-failed or stopped (under `schedule` exit codes, the runs that did their job).
# ALERT_CHANNEL (a notification channel's resource name) is attached to each policy when set.
# Idempotent: metrics and policies (found by display name) are updated in place.
set -euo pipefail
# shellcheck source=config.sh
source "$(dirname "${BASH_SOURCE[0]}")/config.sh"

# Alert policies are `gcloud monitoring policies` in recent SDKs, alpha-only in older ones.
if gcloud monitoring policies list --help >/dev/null 2>&1; then
  MONITORING=(gcloud monitoring)
elif gcloud alpha monitoring policies list --help >/dev/null 2>&1; then
  MONITORING=(gcloud alpha monitoring)
else
  die 1 "this gcloud has no 'monitoring policies' command: update the SDK, or 'gcloud components install alpha'"
fi

JOB_LOGS="resource.type=\"cloud_run_job\" AND resource.labels.job_name=\"${JOB}\""
METRIC_WALLETS_FAILED="${JOB}_wallets_failed"
METRIC_BREAKER_OPEN="${JOB}_circuit_breaker_open"
METRIC_RUNS_SUCCEEDED="${JOB}_runs_succeeded"
INTERVAL_SECONDS=$(( INTERVAL_MINUTES * 60 ))
NO_SUCCESS_SECONDS=$(( NO_SUCCESS_HOURS * 3600 ))

# ensure_metric NAME DESCRIPTION FILTER: a counter of the log entries that match FILTER.
ensure_metric() {
  local name="$1" description="$2" filter="$3" verb=create
  if gcloud logging metrics describe "${name}" --project "${PROJECT}" >/dev/null 2>&1; then
    verb=update
  fi
  gcloud logging metrics "${verb}" "${name}" --project "${PROJECT}" \
    --description "${description}" \
    --log-filter "${filter}" >/dev/null
  log "log-based metric ${name}: ${verb}d"
}

ensure_metric "${METRIC_WALLETS_FAILED}" \
  "polycopy-backfill: one per wallet that failed in a run (retried next run)" \
  "${JOB_LOGS} AND jsonPayload.event=\"wallet_failed\""
ensure_metric "${METRIC_BREAKER_OPEN}" \
  "polycopy-backfill: the run stopped because the Polymarket API looked down" \
  "${JOB_LOGS} AND jsonPayload.event=\"circuit_breaker_open\""
ensure_metric "${METRIC_RUNS_SUCCEEDED}" \
  "polycopy-backfill: runs that did their job (exit 0 under schedule exit codes)" \
  "${JOB_LOGS} AND jsonPayload.event=\"run_finished\" AND jsonPayload.exit_code=0 AND (jsonPayload.outcome=\"complete\" OR jsonPayload.outcome=\"some-failed\" OR jsonPayload.outcome=\"stopped\")"

json_escape() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'; }
metric_filter() { json_escape "metric.type=\"logging.googleapis.com/user/$1\" AND resource.type=\"cloud_run_job\""; }
CHANNELS="[]"
if [[ -n "${ALERT_CHANNEL}" ]]; then
  CHANNELS="[\"$(json_escape "${ALERT_CHANNEL}")\"]"
fi
# Sums over each series (a task's counts), then over all of them.
sum_over() { printf '[{ "alignmentPeriod": "%ss", "perSeriesAligner": "ALIGN_SUM", "crossSeriesReducer": "REDUCE_SUM" }]' "$1"; }

policy_dir="$(mktemp -d)"
trap 'rm -rf "${policy_dir}"' EXIT

cat >"${policy_dir}/wallets-failed.json" <<JSON
{
  "displayName": "${JOB}: failed wallets",
  "combiner": "OR",
  "notificationChannels": ${CHANNELS},
  "documentation": { "mimeType": "text/markdown", "content": "More than ${FAILED_WALLETS_THRESHOLD} wallets failed within ${INTERVAL_MINUTES} minutes (one run). They are retried next run; see \`backfill failed\` for their errors." },
  "conditions": [{
    "displayName": "wallet_failed lines > ${FAILED_WALLETS_THRESHOLD} per ${INTERVAL_MINUTES} min",
    "conditionThreshold": {
      "filter": "$(metric_filter "${METRIC_WALLETS_FAILED}")",
      "aggregations": $(sum_over "${INTERVAL_SECONDS}"),
      "comparison": "COMPARISON_GT",
      "thresholdValue": ${FAILED_WALLETS_THRESHOLD},
      "duration": "0s",
      "trigger": { "count": 1 }
    }
  }]
}
JSON

cat >"${policy_dir}/circuit-breaker.json" <<JSON
{
  "displayName": "${JOB}: circuit breaker open",
  "combiner": "OR",
  "notificationChannels": ${CHANNELS},
  "documentation": { "mimeType": "text/markdown", "content": "A run stopped because most recent wallets failed on network errors, 5xx or throttling: the Polymarket API looks down. The execution is marked failed (exit 3); the next run tries again." },
  "conditions": [{
    "displayName": "circuit_breaker_open logged",
    "conditionThreshold": {
      "filter": "$(metric_filter "${METRIC_BREAKER_OPEN}")",
      "aggregations": $(sum_over 300),
      "comparison": "COMPARISON_GT",
      "thresholdValue": 0,
      "duration": "0s",
      "trigger": { "count": 1 }
    }
  }]
}
JSON

cat >"${policy_dir}/no-success.json" <<JSON
{
  "displayName": "${JOB}: no successful run for ${NO_SUCCESS_HOURS} h",
  "combiner": "OR",
  "notificationChannels": ${CHANNELS},
  "documentation": { "mimeType": "text/markdown", "content": "No run finished with exit code 0 for ${NO_SUCCESS_HOURS} hours (${SCHEDULE}). Look at the failed executions of job ${JOB} and their ERROR lines." },
  "conditions": [{
    "displayName": "no successful run_finished for ${NO_SUCCESS_HOURS} h",
    "conditionAbsent": {
      "filter": "$(metric_filter "${METRIC_RUNS_SUCCEEDED}")",
      "aggregations": $(sum_over 600),
      "duration": "${NO_SUCCESS_SECONDS}s",
      "trigger": { "count": 1 }
    }
  }]
}
JSON

# ensure_policy FILE: creates the policy, or replaces the one with the same display name.
ensure_policy() {
  local file="$1" display existing
  display="$(sed -n 's/^  "displayName": "\(.*\)",$/\1/p' "${file}")"
  existing="$("${MONITORING[@]}" policies list --project "${PROJECT}" \
    --filter "displayName=\"${display}\"" --format 'value(name)' | head -n 1)"
  if [[ -n "${existing}" ]]; then
    "${MONITORING[@]}" policies update "${existing}" --project "${PROJECT}" --policy-from-file "${file}" >/dev/null
    log "alert policy '${display}': updated"
  else
    "${MONITORING[@]}" policies create --project "${PROJECT}" --policy-from-file "${file}" >/dev/null
    log "alert policy '${display}': created"
  fi
}

ensure_policy "${policy_dir}/wallets-failed.json"
ensure_policy "${policy_dir}/circuit-breaker.json"
ensure_policy "${policy_dir}/no-success.json"
