import { BigQuery } from '@google-cloud/bigquery';
import type { BigQueryOptions } from '@google-cloud/bigquery';
import { PassThroughClient } from 'google-auth-library';

import { ConfigError } from '../../lib/errors.js';
import type { StageStore } from '../../staging/stage-store.js';
import { parseBigQueryLocation } from './bigquery-location.js';
import { BigQueryWarehouse } from './bigquery-warehouse.js';
import type { BigQueryWarehouseOptions } from './bigquery-warehouse.js';

export { BigQueryWarehouse } from './bigquery-warehouse.js';
export { BIGQUERY_ERROR_RULES, classifyBigQueryError, isRetryableBigQueryError, BigQueryJobError } from './bigquery-errors.js';

export interface OpenBigQueryOptions extends Omit<BigQueryWarehouseOptions, 'where' | 'bigquery'> {
  /**
   * Another REST endpoint (an emulator or a test fake). Requests to it carry no credentials;
   * otherwise the client authenticates with Application Default Credentials (the Cloud Run
   * service account), so no key ever reaches the image or the logs.
   */
  apiEndpoint?: string;
  /** The client's own HTTP retries (408/429/5xx, rateLimitExceeded) stay on; tests shorten them. */
  retryOptions?: BigQueryOptions['retryOptions'];
}

/** The only module that loads the BigQuery SDK; `src/cli/backends.ts` imports it on demand. */
export function openBigQueryWarehouse(uri: string, stage: StageStore, options: OpenBigQueryOptions = {}): BigQueryWarehouse {
  const where = parseBigQueryLocation(uri);
  if (!stage.location.startsWith('gs://')) {
    throw new ConfigError(`--warehouse ${uri} needs a GCS stage; --stage is ${stage.location}`, {
      hint: 'BigQuery load jobs read staged files from GCS: use --stage gs://BUCKET/PREFIX',
    });
  }
  const { apiEndpoint, retryOptions, ...warehouseOptions } = options;
  const bigquery = new BigQuery({
    projectId: where.projectId,
    location: where.location,
    // Only retryOptions: the client throws if the deprecated top-level autoRetry is also set.
    retryOptions: { ...retryOptions, autoRetry: true },
    ...(apiEndpoint ? { apiEndpoint, authClient: new PassThroughClient() } : {}),
  });
  return new BigQueryWarehouse({ where, bigquery, ...warehouseOptions });
}
