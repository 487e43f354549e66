#!/usr/bin/env bash
# Creates or updates the Cloud Run Job that runs `backfill run --refresh` as the runner service account.
set -euo pipefail
# shellcheck source=config.sh
source "$(dirname "${BASH_SOURCE[0]}")/config.sh"

# Again here, for a deployment that runs this step alone after changing BUCKET or BQ_LOCATION.
check_locations

# `^@^` makes '@' the list separator, so values may contain commas (the rate-limit spec does).
# BACKFILL_EXIT_CODES=schedule although the CLI defaults to it when CLOUD_RUN_JOB is set: the
# console's green/red must not depend on a default (docs/google-cloud.md, "Exit codes").
ENV_VARS="^@^BACKFILL_WAREHOUSE=${WAREHOUSE_URI}@BACKFILL_STAGE=${STAGE_URI}@BACKFILL_LOG_LEVEL=${LOG_LEVEL}"
ENV_VARS="${ENV_VARS}@BACKFILL_EXIT_CODES=${EXIT_CODES}"
if [[ -n "${RATE_LIMITS}" ]]; then
  ENV_VARS="${ENV_VARS}@BACKFILL_RATE_LIMITS=${RATE_LIMITS}"
fi
# The run repeats the location check at start-up; skipping it here skips it there too.
if [[ "${SKIP_LOCATION_CHECK:-0}" == "1" ]]; then
  ENV_VARS="${ENV_VARS}@BACKFILL_SKIP_LOCATION_CHECK=1"
fi

# --refresh: wallets not yet loaded first, then an incremental refresh of completed wallets with
# what is left of the runtime. --max-runtime < --task-timeout (arithmetic in config.sh): the run
# stops taking wallets, commits what it has staged, releases its lease and exits before Cloud Run
# would kill it and before the next tick. The shard comes from CLOUD_RUN_TASK_INDEX/COUNT.
# Retried: the runner account may have been created seconds ago and not be visible yet.
retry gcloud run jobs deploy "${JOB}" \
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
  --args "run,--refresh,--max-runtime=${MAX_RUNTIME},--commit-every=${COMMIT_EVERY},--commit-interval=${COMMIT_INTERVAL}"
