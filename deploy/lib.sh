#!/usr/bin/env bash
# Functions shared by the deploy scripts; sourced by config.sh, never run on its own.
# Written for bash 3.2 too (the /bin/bash of macOS): no associative arrays, no ${x,,}.

# Messages go to stderr, so that stdout carries only what a step is asked to print.
log() { printf 'deploy: %s\n' "$*" >&2; }

# die CODE MESSAGE…: stops the script. 64 means "fix the configuration", as in the CLI.
die() {
  local code="$1"
  shift
  printf 'deploy: ERROR: %s\n' "$*" >&2
  exit "${code}"
}

lower() { printf '%s' "$1" | tr '[:upper:]' '[:lower:]'; }

# retry COMMAND…: runs COMMAND up to DEPLOY_RETRY_ATTEMPTS times (6), waiting 2, 4, 8, 16, 32 s
# between attempts (at most 62 s in all). IAM is eventually consistent: a binding to a service
# account created seconds ago can fail with "does not exist", and two policy writes close together
# can fail on the policy's etag. Both pass on a later attempt, so a first deploy does not abort.
# A permanent error (no permission) is retried too, and reported after the last attempt.
# DEPLOY_RETRY_SLEEP=0 skips the waits (the tests set it); the schedule is still printed.
retry() {
  local attempts="${DEPLOY_RETRY_ATTEMPTS:-6}" delay=2 max_delay=32 attempt=1 status err
  err="$(mktemp)"
  while true; do
    if "$@" 2>"${err}"; then
      cat "${err}" >&2
      rm -f "${err}"
      return 0
    else
      status=$?
    fi
    if (( attempt >= attempts )); then
      cat "${err}" >&2
      rm -f "${err}"
      log "gave up after ${attempts} attempts: $*"
      return "${status}"
    fi
    log "attempt ${attempt}/${attempts} failed ($(tail -n 1 "${err}")); retrying in ${delay}s: ${*:1:4}"
    if [[ "${DEPLOY_RETRY_SLEEP:-1}" != "0" ]]; then
      sleep "${delay}"
    fi
    attempt=$(( attempt + 1 ))
    delay=$(( delay * 2 > max_delay ? max_delay : delay * 2 ))
  done
}

# ensure_sa NAME DISPLAY_NAME: creates PROJECT's service account NAME unless it exists.
ensure_sa() {
  local name="$1" display="$2"
  if ! gcloud iam service-accounts describe "${name}@${PROJECT}.iam.gserviceaccount.com" \
    --project "${PROJECT}" >/dev/null 2>&1; then
    gcloud iam service-accounts create "${name}" --project "${PROJECT}" --display-name "${display}"
  fi
}

# --- The source tree and the image tag -----------------------------------------------------------

# True when the work tree has uncommitted changes or untracked files that git does not ignore:
# Cloud Build uploads the work tree, not the commit, so such edits would ship under the commit's tag.
tree_is_dirty() {
  [[ -n "$(git -C "${REPO_ROOT}" status --porcelain 2>/dev/null)" ]]
}

# The default image tag: the short commit SHA; with ALLOW_DIRTY=1 and a dirty tree,
# <sha>-dirty-<UTC timestamp>, so that the tag never claims to be a commit it is not.
# Outside a git checkout (a source archive), a UTC timestamp.
default_image_tag() {
  local sha
  if ! sha="$(git -C "${REPO_ROOT}" rev-parse --short HEAD 2>/dev/null)" || [[ -z "${sha}" ]]; then
    date -u +%Y%m%d%H%M%S
  elif tree_is_dirty && [[ "${ALLOW_DIRTY:-0}" == "1" ]]; then
    printf '%s-dirty-%s\n' "${sha}" "$(date -u +%Y%m%d%H%M%S)"
  else
    printf '%s\n' "${sha}"
  fi
}

# Stops unless the tree is clean or ALLOW_DIRTY=1 (no cloud call: deploy-all checks it first).
require_clean_tree() {
  if tree_is_dirty && [[ "${ALLOW_DIRTY:-0}" != "1" ]]; then
    git -C "${REPO_ROOT}" status --short >&2 || true
    die 1 "the work tree has uncommitted changes (above). The image would be built from them but" \
      "tagged with commit ${TAG}. Commit them, or set ALLOW_DIRTY=1 to build a '<sha>-dirty-<timestamp>' tag."
  fi
}

# --- Locations: BigQuery load jobs read the bucket only if it lies inside the dataset's location ---

# The regions of a predefined dual-region bucket location (Cloud Storage's fixed pairs).
predefined_dual_region() {
  case "$(lower "$1")" in
    nam4) echo "us-central1 us-east1" ;;
    eur4) echo "europe-north1 europe-west4" ;;
    asia1) echo "asia-northeast1 asia-northeast2" ;;
    *) return 1 ;;
  esac
}

# The location type of a bucket location we are about to create.
planned_bucket_type() {
  case "$(lower "$1")" in
    us | eu | asia) echo multi-region ;;
    nam4 | eur4 | eur5 | eur7 | eur8 | asia1) echo dual-region ;;
    *) echo region ;;
  esac
}

# bucket_fits_dataset DATASET_LOCATION BUCKET_LOCATION BUCKET_TYPE [DATA_LOCATIONS]
# True when a load job in DATASET_LOCATION may read the bucket (BigQuery's colocation rule):
#   - multi-region dataset (US, EU): the same multi-region bucket, a region inside it (us-*,
#     europe-*), or a dual-region whose two regions both lie inside it;
#   - region dataset: a bucket in that very region.
# DATA_LOCATIONS are a configurable dual-region's regions (';' or ',' separated).
bucket_fits_dataset() {
  local ds loc type regions region prefix
  ds="$(lower "$1")"
  loc="$(lower "$2")"
  type="$(lower "$3")"
  regions="$(lower "${4:-}" | tr ';,' '  ')"
  case "${ds}" in
    us) prefix="us-" ;;
    eu) prefix="europe-" ;;
    *)
      [[ "${type}" == "region" && "${loc}" == "${ds}" ]]
      return
      ;;
  esac
  case "${type}" in
    multi-region) [[ "${loc}" == "${ds}" ]] ;;
    region) [[ "${loc}" == "${prefix}"* ]] ;;
    dual-region)
      if [[ -z "${regions// /}" ]]; then
        regions="$(predefined_dual_region "${loc}")" || return 1
      fi
      for region in ${regions}; do
        [[ "${region}" == "${prefix}"* ]] || return 1
      done
      ;;
    *) return 1 ;;
  esac
}

# check_locations: stops before anything is deployed when the bucket cannot be loaded into the
# dataset, or when an existing dataset is not where BQ_LOCATION (the warehouse URI) says.
# Uses the real locations of what exists, and BUCKET_LOCATION / BQ_LOCATION for what is to be created.
check_locations() {
  if [[ "${SKIP_LOCATION_CHECK:-0}" == "1" ]]; then
    log "SKIP_LOCATION_CHECK=1: not checking that gs://${BUCKET} lies inside dataset ${DATASET}'s location"
    return 0
  fi
  local json ds_loc ds_what info b_loc b_type b_dls b_what
  if json="$(bq --project_id="${PROJECT}" --format=json show --dataset "${PROJECT}:${DATASET}" 2>/dev/null)"; then
    ds_loc="$(printf '%s' "${json}" | tr -d '\n' | sed -n 's/.*"location": *"\([^"]*\)".*/\1/p')"
    [[ -n "${ds_loc}" ]] || die 1 "could not read the location of dataset ${PROJECT}:${DATASET} from 'bq show'"
    ds_what="dataset ${PROJECT}:${DATASET} is in ${ds_loc}"
    if [[ "$(lower "${ds_loc}")" != "$(lower "${BQ_LOCATION}")" ]]; then
      die 64 "${ds_what}, but BQ_LOCATION is ${BQ_LOCATION}: the job would send its queries to the wrong" \
        "location. Set BQ_LOCATION=${ds_loc}, or choose another DATASET."
    fi
  else
    ds_loc="${BQ_LOCATION}"
    ds_what="dataset ${PROJECT}:${DATASET} is to be created in ${ds_loc} (BQ_LOCATION)"
  fi
  if info="$(gcloud storage buckets describe "gs://${BUCKET}" --project "${PROJECT}" \
    --format='value(location,location_type,data_locations)' 2>/dev/null)"; then
    IFS=$'\t' read -r b_loc b_type b_dls <<<"${info}"
    b_what="bucket gs://${BUCKET} is in ${b_loc} (${b_type}${b_dls:+: ${b_dls}})"
  else
    b_loc="${BUCKET_LOCATION}"
    b_type="$(planned_bucket_type "${b_loc}")"
    b_dls=""
    b_what="bucket gs://${BUCKET} is to be created in ${b_loc} (BUCKET_LOCATION)"
  fi
  if ! bucket_fits_dataset "${ds_loc}" "${b_loc}" "${b_type}" "${b_dls}"; then
    die 64 "location mismatch: ${b_what}, but ${ds_what}. BigQuery load jobs read a bucket only if it lies" \
      "inside the dataset's location (a US dataset: US or a us-* region; an EU dataset: EU or a europe-*" \
      "region; a region dataset: that same region), so every load would fail. Choose BUCKET/BUCKET_LOCATION" \
      "or BQ_LOCATION/DATASET so that they match (docs/google-cloud.md, 'Locations')."
  fi
  log "locations fit: ${b_what}; ${ds_what}"
}
