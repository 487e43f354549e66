#!/usr/bin/env bash
# shellcheck disable=SC2034  # sourced by the other scripts, which use these variables
# Settings shared by every deploy script. Override any of them in the environment, e.g.
#   PROJECT=my-project BUCKET=my-stage deploy/deploy-all.sh
# No secret belongs here: the job authenticates as its service account (no keys, no tokens).

DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${DEPLOY_DIR}/.." && pwd)"
# shellcheck source=lib.sh
source "${DEPLOY_DIR}/lib.sh"

PROJECT="${PROJECT:?set PROJECT to the Google Cloud project id}"
REGION="${REGION:-us-central1}"                  # Cloud Run, Scheduler, Artifact Registry, Cloud Build
BQ_LOCATION="${BQ_LOCATION:-US}"                 # BigQuery dataset location (multi-region US/EU or a region)
DATASET="${DATASET:-polycopy}"                   # BigQuery dataset: traders, trades, markets, events, unresolved_ids, backfill_checkpoint
BUCKET="${BUCKET:-${PROJECT}-polycopy-stage}"    # GCS bucket for staged files and the run lease
# Where the bucket is created: it must lie inside BQ_LOCATION (checked before anything is created).
BUCKET_LOCATION="${BUCKET_LOCATION:-${REGION}}"
STAGE_PREFIX="${STAGE_PREFIX:-stage}"            # objects under gs://BUCKET/STAGE_PREFIX/
MAX_BYTES_BILLED="${MAX_BYTES_BILLED:-10000000000}"  # per-query cap (10 GB); see docs/google-cloud.md

REPOSITORY="${REPOSITORY:-polycopy}"             # Artifact Registry Docker repository
IMAGE_NAME="${IMAGE_NAME:-polycopy-backfill}"
# The short commit SHA; 30-build-push.sh refuses a dirty tree unless ALLOW_DIRTY=1, which makes it
# <sha>-dirty-<timestamp>. Exported so the steps deploy-all.sh starts build and deploy the same tag.
TAG="${TAG:-$(default_image_tag)}"
export TAG
IMAGE_PATH="${REGION}-docker.pkg.dev/${PROJECT}/${REPOSITORY}/${IMAGE_NAME}"
IMAGE="${IMAGE_PATH}:${TAG}"
# Cloud Build: the bucket its sources are uploaded to (gcloud's default name), and the account the
# build runs as: BUILD_SA if set (a dedicated account), else the project's default build account.
BUILD_SOURCE_BUCKET="${BUILD_SOURCE_BUCKET:-${PROJECT}_cloudbuild}"
BUILD_SA="${BUILD_SA:-}"

JOB="${JOB:-polycopy-backfill}"                  # Cloud Run Job name
SCHEDULER_JOB="${SCHEDULER_JOB:-${JOB}-schedule}"  # Cloud Scheduler job name (stable across intervals)
RUNNER_SA_NAME="${RUNNER_SA_NAME:-polycopy-backfill}"
SCHEDULER_SA_NAME="${SCHEDULER_SA_NAME:-polycopy-scheduler}"
RUNNER_SA="${RUNNER_SA_NAME}@${PROJECT}.iam.gserviceaccount.com"
SCHEDULER_SA="${SCHEDULER_SA_NAME}@${PROJECT}.iam.gserviceaccount.com"

# --- Timing: everything derives from the schedule interval -------------------------------------
# One execution per INTERVAL_MINUTES. With the default 30:
#   SCHEDULE     = */30 * * * *
#   TASK_TIMEOUT = 30 - 2 = 28m: the 2 minutes absorb the delay between the tick and the task's
#                  start (Scheduler → Cloud Run API → container start), so an execution has ended
#                  before the next tick even if it runs into its timeout.
#   MAX_RUNTIME  = 28 - 4 = 24m: counted from process start, after which the run takes no new
#                  wallet and makes its final commit: the batch in flight (COMMIT_INTERVAL 60 s),
#                  its load jobs, 4 MERGEs and the checkpoint MERGE (about a minute), plus room for
#                  the MERGE retries (3 attempts with backoff, serialization conflicts) and
#                  Cloud Run's 10 s SIGTERM grace. It covers the backfill and the --refresh pass.
# Each of SCHEDULE, TASK_TIMEOUT and MAX_RUNTIME can still be set on its own.
INTERVAL_MINUTES="${INTERVAL_MINUTES:-30}"
START_MARGIN_MINUTES=2
COMMIT_ROOM_MINUTES=4
if ! [[ "${INTERVAL_MINUTES}" =~ ^[0-9]+$ ]] || (( INTERVAL_MINUTES < 10 )); then
  die 64 "INTERVAL_MINUTES=${INTERVAL_MINUTES}: a whole number of minutes, at least 10" \
    "(${START_MARGIN_MINUTES} min start margin + ${COMMIT_ROOM_MINUTES} min final commit + time to work)"
fi
if [[ -z "${SCHEDULE:-}" ]]; then
  if (( INTERVAL_MINUTES < 60 && 60 % INTERVAL_MINUTES == 0 )); then
    SCHEDULE="*/${INTERVAL_MINUTES} * * * *"
  elif (( INTERVAL_MINUTES % 60 == 0 && 24 % (INTERVAL_MINUTES / 60) == 0 )); then
    SCHEDULE="0 */$(( INTERVAL_MINUTES / 60 )) * * *"
  else
    die 64 "INTERVAL_MINUTES=${INTERVAL_MINUTES} is not a cron step (it must divide 60 minutes or 24 hours);" \
      "set SCHEDULE yourself"
  fi
fi
TIME_ZONE="${TIME_ZONE:-Etc/UTC}"
TASK_TIMEOUT="${TASK_TIMEOUT:-$(( INTERVAL_MINUTES - START_MARGIN_MINUTES ))m}"
if [[ -z "${MAX_RUNTIME:-}" ]]; then
  if ! [[ "${TASK_TIMEOUT}" =~ ^([0-9]+)m$ ]]; then
    die 64 "TASK_TIMEOUT=${TASK_TIMEOUT} is not in whole minutes (e.g. 28m): set MAX_RUNTIME too"
  fi
  MAX_RUNTIME="$(( 10#${BASH_REMATCH[1]} - COMMIT_ROOM_MINUTES ))m"
fi
if [[ "${TASK_TIMEOUT}" =~ ^([0-9]+)m$ ]]; then
  timeout_minutes="$(( 10#${BASH_REMATCH[1]} ))"
  if [[ "${MAX_RUNTIME}" =~ ^([0-9]+)m$ ]] && (( 10#${BASH_REMATCH[1]} < 1 || 10#${BASH_REMATCH[1]} >= timeout_minutes )); then
    die 64 "MAX_RUNTIME=${MAX_RUNTIME} must be at least 1m and shorter than TASK_TIMEOUT=${TASK_TIMEOUT}," \
      "or Cloud Run kills the run before its final commit"
  fi
fi
# 0: the schedule is the retry. An execution that failed (no progress, API down, stage or
# warehouse not writable) would otherwise be re-run at once, overlapping the next scheduled start.
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
# The deployed job always runs with `schedule` exit codes: a healthy run that stops at MAX_RUNTIME,
# finds another run holding the lease, or leaves a few wallets for the next run exits 0, so the
# console shows a failed execution only when something needs a person (docs/google-cloud.md).
EXIT_CODES="schedule"

# --- Alerts (60-alerts.sh) ----------------------------------------------------------------------
ALERT_CHANNEL="${ALERT_CHANNEL:-}"               # projects/PROJECT/notificationChannels/ID (optional)
FAILED_WALLETS_THRESHOLD="${FAILED_WALLETS_THRESHOLD:-50}"  # failed wallets per interval that alert
NO_SUCCESS_HOURS="${NO_SUCCESS_HOURS:-2}"        # alert when no run succeeded for this long

WAREHOUSE_URI="bigquery://${PROJECT}/${DATASET}?location=${BQ_LOCATION}&maximumBytesBilled=${MAX_BYTES_BILLED}"
STAGE_URI="gs://${BUCKET}/${STAGE_PREFIX}"
