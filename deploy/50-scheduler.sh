#!/usr/bin/env bash
# Starts the job on SCHEDULE (every INTERVAL_MINUTES): an HTTP call to the Cloud Run Admin API
# `jobs:run`, authenticated with an OAuth token of the scheduler service account, which may run this
# job only. Overlapping executions are harmless (the run lease in GCS lets one runner per shard
# work), and TASK_TIMEOUT < INTERVAL_MINUTES keeps them from happening at all. Idempotent.
set -euo pipefail
# shellcheck source=config.sh
source "$(dirname "${BASH_SOURCE[0]}")/config.sh"

retry gcloud run jobs add-iam-policy-binding "${JOB}" \
  --project "${PROJECT}" \
  --region "${REGION}" \
  --member "serviceAccount:${SCHEDULER_SA}" \
  --role roles/run.invoker >/dev/null

# Earlier versions named the Scheduler job JOB-every-30m. It would go on starting executions beside
# SCHEDULER_JOB (harmless under the lease, but twice the executions), so it is removed.
LEGACY_SCHEDULER_JOB="${JOB}-every-30m"
if [[ "${LEGACY_SCHEDULER_JOB}" != "${SCHEDULER_JOB}" ]] &&
  gcloud scheduler jobs describe "${LEGACY_SCHEDULER_JOB}" --project "${PROJECT}" --location "${REGION}" >/dev/null 2>&1; then
  gcloud scheduler jobs delete "${LEGACY_SCHEDULER_JOB}" --project "${PROJECT}" --location "${REGION}" --quiet
  log "removed the legacy Scheduler job ${LEGACY_SCHEDULER_JOB} (now ${SCHEDULER_JOB})"
fi

RUN_URI="https://run.googleapis.com/v2/projects/${PROJECT}/locations/${REGION}/jobs/${JOB}:run"
if gcloud scheduler jobs describe "${SCHEDULER_JOB}" --project "${PROJECT}" --location "${REGION}" >/dev/null 2>&1; then
  VERB=update
else
  VERB=create
fi
# Retried: the scheduler account may have been created seconds ago and not be visible yet.
retry gcloud scheduler jobs "${VERB}" http "${SCHEDULER_JOB}" \
  --project "${PROJECT}" \
  --location "${REGION}" \
  --schedule "${SCHEDULE}" \
  --time-zone "${TIME_ZONE}" \
  --uri "${RUN_URI}" \
  --http-method POST \
  --oauth-service-account-email "${SCHEDULER_SA}" \
  --oauth-token-scope "https://www.googleapis.com/auth/cloud-platform"
