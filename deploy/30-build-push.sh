#!/usr/bin/env bash
# Builds the image and pushes it to Artifact Registry. Uses Cloud Build (amd64, no local Docker
# needed); set USE_DOCKER=1 to build locally with buildx instead. Idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/config.sh"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if ! gcloud artifacts repositories describe "${REPOSITORY}" --location "${REGION}" --project "${PROJECT}" >/dev/null 2>&1; then
  gcloud artifacts repositories create "${REPOSITORY}" \
    --project "${PROJECT}" \
    --location "${REGION}" \
    --repository-format docker \
    --description "polycopy-backfill images"
fi

if [[ "${USE_DOCKER:-0}" == "1" ]]; then
  gcloud auth configure-docker "${REGION}-docker.pkg.dev" --quiet
  docker buildx build --platform linux/amd64 --tag "${IMAGE}" --push "${ROOT}"
else
  gcloud builds submit "${ROOT}" --project "${PROJECT}" --region "${REGION}" --tag "${IMAGE}"
fi
echo "pushed ${IMAGE}"
