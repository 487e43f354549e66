#!/usr/bin/env bash
# The job's identity, with least privilege (one line per role, docs/google-cloud.md "Identities"):
#   - roles/storage.objectUser on the staging bucket only: create, read, list, overwrite (with
#     generation preconditions) and delete objects: staged files, manifests, the run lease. Unlike
#     objectAdmin it cannot read or change object ACLs or IAM policies;
#   - roles/storage.legacyBucketReader on the staging bucket only: storage.buckets.get, which
#     BigQuery load jobs reading gs:// URIs and the run's start-up location check need (objectUser
#     has no bucket permission); its other permission, storage.objects.list, objectUser has anyway;
#   - roles/bigquery.dataEditor on the dataset only (tables, MERGEs, per-batch staging tables);
#   - roles/bigquery.jobUser on the project (to run load and query jobs; it grants no data access).
# And the scheduler's identity, which may only start this job (granted in 50-scheduler.sh once the
# job exists). Every binding is retried: a just-created account may not be visible to IAM yet.
# Idempotent.
set -euo pipefail
# shellcheck source=config.sh
source "$(dirname "${BASH_SOURCE[0]}")/config.sh"

ensure_sa "${RUNNER_SA_NAME}" "polycopy-backfill Cloud Run Job"
ensure_sa "${SCHEDULER_SA_NAME}" "polycopy-backfill Cloud Scheduler trigger"

for role in roles/storage.objectUser roles/storage.legacyBucketReader; do
  retry gcloud storage buckets add-iam-policy-binding "gs://${BUCKET}" \
    --member "serviceAccount:${RUNNER_SA}" \
    --role "${role}" >/dev/null
done

# Earlier versions granted roles/storage.objectAdmin; take it back so an upgraded deployment is as
# narrow as a new one. "Not found" only means there is nothing to take back.
if ! out="$(gcloud storage buckets remove-iam-policy-binding "gs://${BUCKET}" \
  --member "serviceAccount:${RUNNER_SA}" \
  --role roles/storage.objectAdmin 2>&1 >/dev/null)"; then
  if ! grep -qi 'not found' <<<"${out}"; then
    printf '%s\n' "${out}" >&2
    die 1 "could not remove the runner's old roles/storage.objectAdmin binding on gs://${BUCKET}"
  fi
fi

# Dataset-level grant with BigQuery's DCL (works with every bq version; GRANT is idempotent).
retry bq --project_id="${PROJECT}" query --use_legacy_sql=false --location="${BQ_LOCATION}" \
  "GRANT \`roles/bigquery.dataEditor\` ON SCHEMA \`${PROJECT}.${DATASET}\` TO \"serviceAccount:${RUNNER_SA}\"" >/dev/null

retry gcloud projects add-iam-policy-binding "${PROJECT}" \
  --member "serviceAccount:${RUNNER_SA}" \
  --role roles/bigquery.jobUser \
  --condition None >/dev/null
