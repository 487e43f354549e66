#!/usr/bin/env bash
# Starts the job every 30 minutes: an HTTP call to the Cloud Run Admin API `jobs:run`,
# authenticated with an OAuth token of the scheduler service account, which may run this job only.
# Overlapping executions are harmless (the run lease in GCS lets one runner per shard work), but
# MAX_RUNTIME < 30 min keeps them from happening at all. Idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/config.sh"

gcloud run jobs add-iam-policy-binding "${JOB}" \
  --project "${PROJECT}" \
  --region "${REGION}" \
  --member "serviceAccount:${SCHEDULER_SA}" \
  --role roles/run.invoker >/dev/null

SCHEDULER_JOB="${JOB}-every-30m"
RUN_URI="https://run.googleapis.com/v2/projects/${PROJECT}/locations/${REGION}/jobs/${JOB}:run"
if gcloud scheduler jobs describe "${SCHEDULER_JOB}" --project "${PROJECT}" --location "${REGION}" >/dev/null 2>&1; then
  VERB=update
else
  VERB=create
fi
gcloud scheduler jobs "${VERB}" http "${SCHEDULER_JOB}" \
  --project "${PROJECT}" \
  --location "${REGION}" \
  --schedule "${SCHEDULE}" \
  --time-zone "${TIME_ZONE}" \
  --uri "${RUN_URI}" \
  --http-method POST \
  --oauth-service-account-email "${SCHEDULER_SA}" \
  --oauth-token-scope "https://www.googleapis.com/auth/cloud-platform"
