#!/usr/bin/env bash
# Everything, in order: APIs, bucket and dataset, service accounts, image, job, schedule.
# Each step is idempotent, so this is also the upgrade path (a new TAG redeploys the job).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "${HERE}/config.sh"

for step in 00-enable-apis 10-bucket-and-dataset 20-service-accounts 30-build-push 40-cloud-run-job 50-scheduler; do
  echo "== ${step}"
  "${HERE}/${step}.sh"
done
echo "deployed ${IMAGE} as job ${JOB} (${REGION}); warehouse ${WAREHOUSE_URI}; stage ${STAGE_URI}"
