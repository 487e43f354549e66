#!/usr/bin/env bash
# Enables the Google APIs the deployment uses. Idempotent.
set -euo pipefail
# shellcheck source=config.sh
source "$(dirname "${BASH_SOURCE[0]}")/config.sh"

# logging and monitoring: the log-based metrics and alert policies of 60-alerts.sh.
gcloud services enable --project "${PROJECT}" \
  run.googleapis.com \
  cloudscheduler.googleapis.com \
  artifactregistry.googleapis.com \
  cloudbuild.googleapis.com \
  bigquery.googleapis.com \
  storage.googleapis.com \
  iam.googleapis.com \
  logging.googleapis.com \
  monitoring.googleapis.com
