#!/usr/bin/env bash
# One execution now (outside the schedule), waiting for it to finish; then, whatever its outcome,
# the outcome and the mission's three figures. Exits with the execution's status.
set -euo pipefail
# shellcheck source=config.sh
source "$(dirname "${BASH_SOURCE[0]}")/config.sh"

out="$(mktemp)"
err="$(mktemp)"
status_file="$(mktemp)"
trap 'rm -f "${out}" "${err}" "${status_file}"' EXIT

# `--wait` exits non-zero when the execution fails; that must not skip the figures below. Its
# progress (stderr) is shown as it comes and kept, since a failed execution is named only there.
echo 0 >"${status_file}"
{
  gcloud run jobs execute "${JOB}" --project "${PROJECT}" --region "${REGION}" --wait \
    --format='value(metadata.name)' 2>&1 >"${out}" || echo "$?" >"${status_file}"
} | tee "${err}" >&2
status="$(cat "${status_file}")"
execution="$(head -n 1 "${out}")"
if [[ -z "${execution}" ]]; then
  # A failed execution is named only in gcloud's error text ("… executions describe NAME").
  execution="$(sed -n 's/.*executions describe \([^ ]*\).*/\1/p' "${err}" | head -n 1)"
fi

echo "== execution"
if [[ -n "${execution}" ]]; then
  gcloud run jobs executions describe "${execution}" --project "${PROJECT}" --region "${REGION}" \
    --format='value[separator=" "](format("tasks succeeded={0}", status.succeededCount),format("failed={0}", status.failedCount),format("cancelled={0}", status.cancelledCount))' \
    || echo "(could not describe ${execution})"
  # What each task's run said about itself (outcome, exit code, wallets), if already ingested.
  gcloud logging read \
    "resource.type=\"cloud_run_job\" AND labels.\"run.googleapis.com/execution_name\"=\"${execution}\" AND jsonPayload.event=\"run_finished\"" \
    --project "${PROJECT}" --limit 100 \
    --format='value[separator=" "](format("run_finished outcome={0}", jsonPayload.outcome),format("exit_code={0}", jsonPayload.exit_code),format("planned={0}", jsonPayload.planned),format("loaded={0}", jsonPayload.loaded),format("failed={0}", jsonPayload.failed))' \
    || echo "(could not read the run_finished log lines)"
fi
if (( status == 0 )); then
  echo "outcome: execution ${execution:-?} succeeded"
else
  echo "outcome: execution ${execution:-(none started)} FAILED (gcloud exit ${status})"
fi

# The mission's three monitoring queries, verbatim but for the table names.
CHECKPOINT="\`${PROJECT}.${DATASET}.backfill_checkpoint\`"
TRADERS="\`${PROJECT}.${DATASET}.traders\`"
figure() {
  local title="$1" sql="$2"
  echo "== ${title}"
  bq --project_id="${PROJECT}" --location="${BQ_LOCATION}" query --use_legacy_sql=false \
    --maximum_bytes_billed="${MAX_BYTES_BILLED}" "${sql}" || echo "(query failed)"
}
figure "completed wallets" \
  "SELECT COUNT(*) as completed FROM ${CHECKPOINT} WHERE completed = true AND upload_successful = true"
figure "failed wallets (will be retried)" \
  "SELECT wallet_address, trade_count, processed_at FROM ${CHECKPOINT} WHERE completed = true AND upload_successful = false"
figure "progress" \
  "SELECT (SELECT COUNT(*) FROM ${CHECKPOINT} WHERE completed = true AND upload_successful = true) as completed, (SELECT COUNT(DISTINCT wallet_address) FROM ${TRADERS} WHERE wallet_address IS NOT NULL) as total, ROUND((SELECT COUNT(*) FROM ${CHECKPOINT} WHERE completed = true AND upload_successful = true) * 100.0 / (SELECT COUNT(DISTINCT wallet_address) FROM ${TRADERS} WHERE wallet_address IS NOT NULL), 2) as percent_complete"

exit "${status}"
