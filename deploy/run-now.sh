#!/usr/bin/env bash
# One execution now (outside the schedule), waiting for it to finish; then the figures.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/config.sh"

gcloud run jobs execute "${JOB}" --project "${PROJECT}" --region "${REGION}" --wait
bq --project_id="${PROJECT}" query --use_legacy_sql=false --maximum_bytes_billed="${MAX_BYTES_BILLED}" \
  "SELECT COUNT(*) as completed FROM \`${PROJECT}.${DATASET}.backfill_checkpoint\` WHERE completed = true AND upload_successful = true"
