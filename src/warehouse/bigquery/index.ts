import { BigQuery } from '@google-cloud/bigquery';
import type { BigQueryOptions } from '@google-cloud/bigquery';
import { PassThroughClient } from 'google-auth-library';

import { GOOGLE_SDK_RETRIES } from '../../lib/retry-budgets.js';
import { SqlWarehouse } from '../sql-warehouse.js';
import { BigQueryDriver } from './driver.js';
import type { BigQueryDriverOptions } from './driver.js';
import { parseBigQueryLocation } from './location.js';
import type { BigQueryLocation } from './location.js';

export { BigQueryDriver } from './driver.js';
export { BIGQUERY_ERROR_RULES, classifyBigQueryError, BigQueryJobError } from './errors.js';

export interface OpenBigQueryOptions extends Omit<BigQueryDriverOptions, 'where' | 'bigquery'> {
  /**
   * Another REST endpoint (an emulator or a test fake). Requests to it carry no credentials;
   * otherwise the client authenticates with Application Default Credentials (the Cloud Run
   * service account), so no key ever reaches the image or the logs.
   */
  apiEndpoint?: string;
  /** The client's own HTTP retries (408/429/5xx, rateLimitExceeded) stay on; tests shorten them. */
  retryOptions?: BigQueryOptions['retryOptions'];
}

/**
 * The only module that loads the BigQuery SDK; the library's backend wiring imports it on demand, with
 * the location it parsed once (a `bigquery://` URI string is parsed here for other callers).
 */
export function openBigQueryWarehouse(target: string | BigQueryLocation, options: OpenBigQueryOptions = {}): SqlWarehouse {
  const where = typeof target === 'string' ? parseBigQueryLocation(target) : target;
  const { apiEndpoint, retryOptions, ...driverOptions } = options;
  const bigquery = new BigQuery({
    projectId: where.projectId,
    location: where.location,
    // Only retryOptions: the client throws if the deprecated top-level autoRetry is also set.
    retryOptions: { ...GOOGLE_SDK_RETRIES, ...retryOptions, autoRetry: true },
    ...(apiEndpoint ? { apiEndpoint, authClient: new PassThroughClient() } : {}),
  });
  return new SqlWarehouse(new BigQueryDriver({ where, bigquery, ...driverOptions }));
}
