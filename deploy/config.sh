#!/usr/bin/env bash
# shellcheck disable=SC2034  # sourced by the other scripts, which use these variables
# Settings shared by every deploy script. Override any of them in the environment, e.g.
#   PROJECT=my-project BUCKET=my-stage deploy/deploy-all.sh
# No secret belongs here: the job authenticates as its service account (no keys, no tokens).

PROJECT="${PROJECT:?set PROJECT to the Google Cloud project id}"
REGION="${REGION:-us-central1}"                  # Cloud Run, Scheduler, Artifact Registry, the bucket
BQ_LOCATION="${BQ_LOCATION:-US}"                 # BigQuery dataset location (multi-region US/EU or a region)
DATASET="${DATASET:-polycopy}"                   # BigQuery dataset: traders, trades, markets, events, unresolved_ids, backfill_checkpoint
BUCKET="${BUCKET:-${PROJECT}-polycopy-stage}"    # GCS bucket for staged files and the run lease
STAGE_PREFIX="${STAGE_PREFIX:-stage}"            # objects under gs://BUCKET/STAGE_PREFIX/
MAX_BYTES_BILLED="${MAX_BYTES_BILLED:-10000000000}"  # per-query cap (10 GB); see docs/google-cloud.md

REPOSITORY="${REPOSITORY:-polycopy}"             # Artifact Registry Docker repository
IMAGE_NAME="${IMAGE_NAME:-polycopy-backfill}"
TAG="${TAG:-$(git -C "$(dirname "${BASH_SOURCE[0]}")/.." rev-parse --short HEAD 2>/dev/null || date -u +%Y%m%d%H%M%S)}"
# Exported so the steps deploy-all.sh starts build and deploy the same tag (the date fallback would differ).
export TAG
IMAGE="${REGION}-docker.pkg.dev/${PROJECT}/${REPOSITORY}/${IMAGE_NAME}:${TAG}"

JOB="${JOB:-polycopy-backfill}"                  # Cloud Run Job name
RUNNER_SA_NAME="${RUNNER_SA_NAME:-polycopy-backfill}"
SCHEDULER_SA_NAME="${SCHEDULER_SA_NAME:-polycopy-scheduler}"
RUNNER_SA="${RUNNER_SA_NAME}@${PROJECT}.iam.gserviceaccount.com"
SCHEDULER_SA="${SCHEDULER_SA_NAME}@${PROJECT}.iam.gserviceaccount.com"

# One execution every 30 minutes; each task stops taking wallets after MAX_RUNTIME, commits and
# exits well inside TASK_TIMEOUT, so an execution never runs into the next one's start.
SCHEDULE="${SCHEDULE:-*/30 * * * *}"
TIME_ZONE="${TIME_ZONE:-Etc/UTC}"
TASK_TIMEOUT="${TASK_TIMEOUT:-25m}"
MAX_RUNTIME="${MAX_RUNTIME:-22m}"
# 0: the schedule is the retry. A task that exits 2 (some wallets failed) or 3 (stopped at
# MAX_RUNTIME) would otherwise be re-run at once, overlapping the next scheduled start.
MAX_RETRIES="${MAX_RETRIES:-0}"
# Each task is one hash shard (CLOUD_RUN_TASK_INDEX of CLOUD_RUN_TASK_COUNT). More tasks MERGE
# into the same tables at once: keep TASKS well under BigQuery's 2 running + 20 queued DML per table.
TASKS="${TASKS:-1}"
PARALLELISM="${PARALLELISM:-${TASKS}}"
MEMORY="${MEMORY:-2Gi}"
CPU="${CPU:-1}"
COMMIT_EVERY="${COMMIT_EVERY:-200}"              # wallets per load + MERGE batch (see the quota arithmetic)
COMMIT_INTERVAL="${COMMIT_INTERVAL:-60s}"
LOG_LEVEL="${LOG_LEVEL:-info}"
# Per task. The API limit is shared by all tasks: divide it by TASKS, e.g. 200/10s over 4 tasks → 50/10s.
RATE_LIMITS="${RATE_LIMITS:-}"

WAREHOUSE_URI="bigquery://${PROJECT}/${DATASET}?location=${BQ_LOCATION}&maximumBytesBilled=${MAX_BYTES_BILLED}"
STAGE_URI="gs://${BUCKET}/${STAGE_PREFIX}"
