import { Storage } from '@google-cloud/storage';
import type { StorageOptions } from '@google-cloud/storage';

import { GOOGLE_SDK_RETRIES } from '../../lib/retry-budgets.js';
import { GcsStageStore } from './gcs-stage-store.js';
import type { GcsStageStoreOptions } from './gcs-stage-store.js';
import { parseGcsLocation } from './gcs-location.js';
import type { GcsLocation } from './gcs-location.js';

export { GcsStageStore } from './gcs-stage-store.js';
export type { GcsStageStoreOptions } from './gcs-stage-store.js';

export interface OpenGcsStageOptions extends GcsStageStoreOptions {
  /**
   * Another JSON API endpoint (an emulator or a test fake). Requests to it carry no credentials;
   * otherwise the client authenticates with Application Default Credentials (the Cloud Run
   * service account), so no key ever reaches the image or the logs.
   */
  apiEndpoint?: string;
  /** Client retry settings (tests shorten the delays); the client's own retries stay on. */
  retryOptions?: StorageOptions['retryOptions'];
}

/**
 * The only module that loads the GCS SDK; the library's backend wiring imports it on demand, with the
 * location it parsed once (a `gs://` URI string is parsed here for other callers).
 */
export function openGcsStage(target: string | GcsLocation, options: OpenGcsStageOptions = {}): GcsStageStore {
  const where = typeof target === 'string' ? parseGcsLocation(target) : target;
  const { apiEndpoint, retryOptions, ...storeOptions } = options;
  const storage = new Storage({
    ...(apiEndpoint ? { apiEndpoint } : {}),
    retryOptions: { autoRetry: true, ...GOOGLE_SDK_RETRIES, ...retryOptions },
  });
  return new GcsStageStore(storage, where, storeOptions);
}
