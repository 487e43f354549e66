#!/usr/bin/env bash
# Builds the image and pushes it to Artifact Registry. Uses Cloud Build (amd64, no local Docker
# needed); set USE_DOCKER=1 to build locally with buildx instead. Idempotent, except that it never
# overwrites an existing tag (FORCE_TAG=1 does).
#
# The build account gets exactly what the build needs:
#   - roles/storage.objectViewer on the source bucket gs://BUILD_SOURCE_BUCKET: read the uploaded sources;
#   - roles/logging.logWriter on the project: the build's logs (the build logs to Cloud Logging only,
#     so it needs no logs bucket);
#   - roles/artifactregistry.writer on the repository only: push the image.
set -euo pipefail
# shellcheck source=config.sh
source "$(dirname "${BASH_SOURCE[0]}")/config.sh"

# 1. The image must be what its tag says: Cloud Build uploads the work tree, not the commit.
require_clean_tree

# 2. Never replace an image silently: a tag that exists may be what the job runs now.
describe_err="$(mktemp)"
build_config="$(mktemp)"
trap 'rm -f "${describe_err}" "${build_config}"' EXIT
if digest="$(gcloud artifacts docker images describe "${IMAGE}" --project "${PROJECT}" \
  --format='value(image_summary.digest)' 2>"${describe_err}")"; then
  if [[ "${FORCE_TAG:-0}" != "1" ]]; then
    die 1 "${IMAGE} already exists (${digest:-digest unknown}). Deploy it with deploy/40-cloud-run-job.sh," \
      "build another commit, or set FORCE_TAG=1 to replace it."
  fi
  log "FORCE_TAG=1: replacing the existing ${IMAGE} (${digest:-digest unknown})"
elif ! grep -qiE 'not found|NOT_FOUND' "${describe_err}"; then
  cat "${describe_err}" >&2
  die 1 "could not tell whether ${IMAGE} exists (above); not building over it blindly"
fi

if ! gcloud artifacts repositories describe "${REPOSITORY}" --location "${REGION}" --project "${PROJECT}" >/dev/null 2>&1; then
  gcloud artifacts repositories create "${REPOSITORY}" \
    --project "${PROJECT}" \
    --location "${REGION}" \
    --repository-format docker \
    --description "polycopy-backfill images"
fi

if [[ "${USE_DOCKER:-0}" == "1" ]]; then
  gcloud auth configure-docker "${REGION}-docker.pkg.dev" --quiet
  docker buildx build --platform linux/amd64 --tag "${IMAGE}" --push "${REPO_ROOT}"
  echo "pushed ${IMAGE}"
  exit 0
fi

# The source bucket must exist before it can be granted on (gcloud would create it only at upload).
if ! gcloud storage buckets describe "gs://${BUILD_SOURCE_BUCKET}" --project "${PROJECT}" >/dev/null 2>&1; then
  gcloud storage buckets create "gs://${BUILD_SOURCE_BUCKET}" \
    --project "${PROJECT}" \
    --location "${REGION}" \
    --uniform-bucket-level-access \
    --public-access-prevention
fi

submit_as=()
if [[ -n "${BUILD_SA}" ]]; then
  build_sa="${BUILD_SA}"
  if [[ "${build_sa}" == *"@${PROJECT}.iam.gserviceaccount.com" ]]; then
    ensure_sa "${build_sa%%@*}" "polycopy-backfill image builds"
  fi
  submit_as=(--service-account "projects/${PROJECT}/serviceAccounts/${build_sa}")
else
  # Printed as projects/PROJECT/serviceAccounts/EMAIL; the email is the last segment.
  build_sa="$(gcloud builds get-default-service-account --project "${PROJECT}" --region "${REGION}" \
    --format='value(serviceAccountEmail)')"
  build_sa="${build_sa##*/}"
  [[ -n "${build_sa}" ]] || die 1 "gcloud builds get-default-service-account named no account; set BUILD_SA"
fi
log "Cloud Build runs as ${build_sa}"

retry gcloud storage buckets add-iam-policy-binding "gs://${BUILD_SOURCE_BUCKET}" \
  --member "serviceAccount:${build_sa}" \
  --role roles/storage.objectViewer >/dev/null
retry gcloud projects add-iam-policy-binding "${PROJECT}" \
  --member "serviceAccount:${build_sa}" \
  --role roles/logging.logWriter \
  --condition None >/dev/null
retry gcloud artifacts repositories add-iam-policy-binding "${REPOSITORY}" \
  --project "${PROJECT}" \
  --location "${REGION}" \
  --member "serviceAccount:${build_sa}" \
  --role roles/artifactregistry.writer >/dev/null

# A build config rather than --tag: only a config can say "logs to Cloud Logging only", which a
# user-specified build account requires and which needs no logs bucket.
cat >"${build_config}" <<JSON
{
  "steps": [{ "name": "gcr.io/cloud-builders/docker", "args": ["build", "--tag", "${IMAGE}", "."] }],
  "images": ["${IMAGE}"],
  "options": { "logging": "CLOUD_LOGGING_ONLY" }
}
JSON
gcloud builds submit "${REPO_ROOT}" \
  --project "${PROJECT}" \
  --region "${REGION}" \
  --config "${build_config}" \
  --gcs-source-staging-dir "gs://${BUILD_SOURCE_BUCKET}/source" \
  ${submit_as[@]+"${submit_as[@]}"}
echo "pushed ${IMAGE}"
