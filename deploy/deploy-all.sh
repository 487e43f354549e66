#!/usr/bin/env bash
# Everything, in order: APIs, bucket and dataset, service accounts, image, job, schedule, alerts.
# Each step is idempotent, so this is also the upgrade path (a new commit redeploys the job).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=config.sh
source "${HERE}/config.sh"

# Before anything is changed: the image would carry uncommitted edits under a commit's tag.
require_clean_tree
log "image ${IMAGE}; every ${INTERVAL_MINUTES} min (${SCHEDULE}), task timeout ${TASK_TIMEOUT}, max runtime ${MAX_RUNTIME}"

for step in 00-enable-apis 10-bucket-and-dataset 20-service-accounts 30-build-push 40-cloud-run-job 50-scheduler 60-alerts; do
  echo "== ${step}"
  "${HERE}/${step}.sh"
done
echo "deployed ${IMAGE} as job ${JOB} (${REGION}); warehouse ${WAREHOUSE_URI}; stage ${STAGE_URI}"
