#!/usr/bin/env bash
# The job's identity, with least privilege:
#   - roles/storage.objectAdmin on the staging bucket only (staged files, manifests, run lease);
#   - roles/bigquery.dataEditor on the dataset only (tables, MERGEs, per-batch staging tables);
#   - roles/bigquery.jobUser on the project (to run load and query jobs; it grants no data access).
# And the scheduler's identity, which may only start this job (granted in 50-scheduler.sh once the
# job exists). Idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/config.sh"

ensure_sa() {
  local name="$1" display="$2"
  if ! gcloud iam service-accounts describe "${name}@${PROJECT}.iam.gserviceaccount.com" --project "${PROJECT}" >/dev/null 2>&1; then
    gcloud iam service-accounts create "${name}" --project "${PROJECT}" --display-name "${display}"
  fi
}

ensure_sa "${RUNNER_SA_NAME}" "polycopy-backfill Cloud Run Job"
ensure_sa "${SCHEDULER_SA_NAME}" "polycopy-backfill Cloud Scheduler trigger"

gcloud storage buckets add-iam-policy-binding "gs://${BUCKET}" \
  --member "serviceAccount:${RUNNER_SA}" \
  --role roles/storage.objectAdmin >/dev/null

# Dataset-level grant with BigQuery's DCL (works with every bq version; GRANT is idempotent).
bq --project_id="${PROJECT}" query --use_legacy_sql=false --location="${BQ_LOCATION}" \
  "GRANT \`roles/bigquery.dataEditor\` ON SCHEMA \`${PROJECT}.${DATASET}\` TO \"serviceAccount:${RUNNER_SA}\"" >/dev/null

gcloud projects add-iam-policy-binding "${PROJECT}" \
  --member "serviceAccount:${RUNNER_SA}" \
  --role roles/bigquery.jobUser \
  --condition None >/dev/null
