/** The start-up location check refuses exactly the pairs the deploy refuses (deploy/lib.sh bucket_fits_dataset, docs/google-cloud.md "Locations"). */
import { describe, expect, it } from 'vitest';

import { ConfigError } from '../../src/lib/errors.js';
import { bucketFitsDataset, checkBucketFitsDataset } from '../../src/library/location-fit.js';

const multi = (location: string) => ({ location, locationType: 'multi-region', dataLocations: [] });
const region = (location: string) => ({ location, locationType: 'region', dataLocations: [] });
const dual = (location: string, dataLocations: string[] = []) => ({ location, locationType: 'dual-region', dataLocations });

describe('bucketFitsDataset', () => {
  it.each([
    ['US', multi('US'), true],
    ['US', region('US-CENTRAL1'), true],
    ['US', dual('NAM4'), true],
    ['US', dual('US', ['US-EAST1', 'US-WEST1']), true],
    ['US', multi('EU'), false],
    ['US', region('EUROPE-WEST1'), false],
    ['US', dual('EUR4'), false],
    ['US', dual('US', ['US-EAST1', 'EUROPE-WEST4']), false],
    ['US', dual('XYZ9'), false],
    ['EU', multi('EU'), true],
    ['EU', region('europe-west1'), true],
    ['EU', dual('EUR4'), true],
    ['EU', region('US-CENTRAL1'), false],
    ['europe-west1', region('EUROPE-WEST1'), true],
    ['europe-west1', region('europe-west4'), false],
    ['europe-west1', multi('EU'), false],
    ['us-central1', dual('NAM4'), false],
  ])('dataset %s, bucket %o → %s', (dataset, bucket, fits) => {
    expect(bucketFitsDataset(dataset, bucket)).toBe(fits);
  });

  it('a mismatch is a ConfigError naming both places and what to do', () => {
    expect(() => checkBucketFitsDataset('EU', 'p:d', 'gs://b', region('US-CENTRAL1'))).toThrow(ConfigError);
    expect(() => checkBucketFitsDataset('EU', 'p:d', 'gs://b', dual('US', ['US-EAST1', 'US-WEST1']))).toThrow(
      /the stage bucket gs:\/\/b is in US \(dual-region: US-EAST1, US-WEST1\), but dataset p:d is in EU.*BACKFILL_SKIP_LOCATION_CHECK=1/,
    );
    expect(() => checkBucketFitsDataset('EU', 'p:d', 'gs://b', multi('EU'))).not.toThrow();
  });
});
