#!/usr/bin/env bash
# Creates the staging bucket and the BigQuery dataset (the job creates the tables on its first
# start; it cannot create the dataset, having rights on this dataset only). Idempotent.
set -euo pipefail
# shellcheck source=config.sh
source "$(dirname "${BASH_SOURCE[0]}")/config.sh"

# First, before anything is created: a bucket outside the dataset's location would make every
# BigQuery load job fail, which is found out only at the first batch otherwise.
check_locations

if ! gcloud storage buckets describe "gs://${BUCKET}" --project "${PROJECT}" >/dev/null 2>&1; then
  # Uniform access (IAM only, no ACLs), no public access; staged files are kept after loading so a
  # failed load can be redone without calling the API again.
  gcloud storage buckets create "gs://${BUCKET}" \
    --project "${PROJECT}" \
    --location "${BUCKET_LOCATION}" \
    --uniform-bucket-level-access \
    --public-access-prevention
fi

if ! bq --project_id="${PROJECT}" show --dataset "${PROJECT}:${DATASET}" >/dev/null 2>&1; then
  bq --project_id="${PROJECT}" --location="${BQ_LOCATION}" mk --dataset \
    --description "Polymarket wallet trade histories (polycopy-backfill)" \
    "${PROJECT}:${DATASET}"
fi
