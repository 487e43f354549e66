#!/usr/bin/env bash
# Enables the Google APIs the deployment uses. Idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/config.sh"

gcloud services enable --project "${PROJECT}" \
  run.googleapis.com \
  cloudscheduler.googleapis.com \
  artifactregistry.googleapis.com \
  cloudbuild.googleapis.com \
  bigquery.googleapis.com \
  storage.googleapis.com \
  iam.googleapis.com
