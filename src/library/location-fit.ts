import { ConfigError } from '../lib/errors.js';
import type { BucketPlacement } from '../staging/gcs/gcs-location.js';

/** The regions of the predefined dual-regions (their metadata does not list them). */
const PREDEFINED_DUAL_REGIONS: Record<string, readonly string[]> = {
  nam4: ['us-central1', 'us-east1'],
  eur4: ['europe-north1', 'europe-west4'],
  asia1: ['asia-northeast1', 'asia-northeast2'],
};

const MULTI_REGION_PREFIX: Record<string, string> = { us: 'us-', eu: 'europe-' };

/**
 * Whether a BigQuery load job of a dataset in `datasetLocation` can read this bucket: a multi-region
 * dataset reads the same multi-region or a place inside it, a regional one its own region only.
 * The rule of deploy/lib.sh's bucket_fits_dataset (docs/google-cloud.md, "Locations"), so the
 * deploy and the run refuse the same pairs.
 */
export function bucketFitsDataset(datasetLocation: string, bucket: BucketPlacement): boolean {
  const dataset = datasetLocation.toLowerCase();
  const location = bucket.location.toLowerCase();
  const type = bucket.locationType.toLowerCase();
  const prefix = MULTI_REGION_PREFIX[dataset];
  if (prefix === undefined) return type === 'region' && location === dataset;
  switch (type) {
    case 'multi-region':
      return location === dataset;
    case 'region':
      return location.startsWith(prefix);
    case 'dual-region': {
      const regions = bucket.dataLocations.length > 0 ? bucket.dataLocations.map((r) => r.toLowerCase()) : PREDEFINED_DUAL_REGIONS[location];
      return regions !== undefined && regions.every((region) => region.startsWith(prefix));
    }
    default:
      return false;
  }
}

/** Throws before any wallet is fetched when every load of this run would fail on location. */
export function checkBucketFitsDataset(datasetLocation: string, dataset: string, bucketUri: string, bucket: BucketPlacement): void {
  if (bucketFitsDataset(datasetLocation, bucket)) return;
  const placement = `${bucket.location} (${bucket.locationType}${bucket.dataLocations.length > 0 ? `: ${bucket.dataLocations.join(', ')}` : ''})`;
  throw new ConfigError(
    `location mismatch: the stage bucket ${bucketUri} is in ${placement}, but dataset ${dataset} is in ${datasetLocation}; every BigQuery load job would fail`,
    {
      hint:
        'A US dataset loads from US or a us-* region, an EU dataset from EU or a europe-* region, a regional dataset from that region only: ' +
        'use a --stage bucket inside the dataset\'s location (docs/google-cloud.md, "Locations"), or set BACKFILL_SKIP_LOCATION_CHECK=1 if you know better',
    },
  );
}
