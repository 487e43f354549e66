#!/usr/bin/env bash
# Creates or updates the Cloud Run Job that runs `backfill run` as the runner service account.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/config.sh"

# `^@^` makes '@' the list separator, so values may contain commas (the rate-limit spec does).
ENV_VARS="^@^BACKFILL_WAREHOUSE=${WAREHOUSE_URI}@BACKFILL_STAGE=${STAGE_URI}@BACKFILL_LOG_LEVEL=${LOG_LEVEL}"
if [[ -n "${RATE_LIMITS}" ]]; then
  ENV_VARS="${ENV_VARS}@BACKFILL_RATE_LIMITS=${RATE_LIMITS}"
fi

# --max-runtime < --task-timeout: the run stops taking wallets, commits what it has staged,
# releases its lease and exits before Cloud Run would kill it. The shard comes from
# CLOUD_RUN_TASK_INDEX/CLOUD_RUN_TASK_COUNT, which Cloud Run sets for each task.
gcloud run jobs deploy "${JOB}" \
  --project "${PROJECT}" \
  --region "${REGION}" \
  --image "${IMAGE}" \
  --service-account "${RUNNER_SA}" \
  --tasks "${TASKS}" \
  --parallelism "${PARALLELISM}" \
  --max-retries "${MAX_RETRIES}" \
  --task-timeout "${TASK_TIMEOUT}" \
  --memory "${MEMORY}" \
  --cpu "${CPU}" \
  --set-env-vars "${ENV_VARS}" \
  --args "run,--max-runtime=${MAX_RUNTIME},--commit-every=${COMMIT_EVERY},--commit-interval=${COMMIT_INTERVAL}"
