import type { AcquireResult, RunLock } from '../engine/run-lock.js';
import { ConfigError } from '../lib/errors.js';
import { gcsUri, objectName, parseGcsLocation } from '../staging/gcs/gcs-location.js';
import type { StageKind, StageStore, StageWriter, StagedFile, WalletManifest } from '../staging/stage-store.js';
import { LocalStageStore } from '../staging/local/local-stage-store.js';
import { parseBigQueryLocation } from '../warehouse/bigquery/bigquery-location.js';
import { DuckDbWarehouse } from '../warehouse/duckdb/duckdb-warehouse.js';
import type { Warehouse } from '../warehouse/warehouse.js';

export const DEFAULT_WAREHOUSE = './data/backfill.duckdb';
export const DEFAULT_STAGE = './data/stage';

/**
 * Endpoint overrides for emulators and the test fakes. Unset in production: the clients then talk
 * to Google with Application Default Credentials (the Cloud Run job's service account).
 */
export const GCS_ENDPOINT_ENV = 'BACKFILL_GCS_API_ENDPOINT';
export const BIGQUERY_ENDPOINT_ENV = 'BACKFILL_BIGQUERY_API_ENDPOINT';

/** `--stage`: a local directory (default), or `gs://BUCKET/PREFIX`. */
export function openStage(location: string): StageStore {
  if (location.startsWith('gs://')) return new LazyGcsStage(location);
  if (/^[a-z0-9]+:\/\//.test(location)) {
    throw new ConfigError(`--stage ${location}: unsupported stage URI`, { hint: 'Give a local directory or gs://BUCKET/PREFIX' });
  }
  return new LocalStageStore(location);
}

/** `--warehouse`: a DuckDB file path (default), or `bigquery://PROJECT/DATASET?location=US`. */
export async function openWarehouse(location: string, stage: StageStore): Promise<Warehouse> {
  if (location.startsWith('bigquery://')) {
    // Validated before the SDK loads, so a typo fails fast.
    parseBigQueryLocation(location);
    const { openBigQueryWarehouse } = await import('../warehouse/bigquery/index.js');
    const endpoint = process.env[BIGQUERY_ENDPOINT_ENV];
    return openBigQueryWarehouse(location, stage, endpoint ? { apiEndpoint: endpoint } : {});
  }
  if (/^[a-z0-9]+:\/\//.test(location)) {
    throw new ConfigError(`--warehouse ${location}: unsupported warehouse URI`, {
      hint: 'Give a DuckDB file path such as ./data/backfill.duckdb, or bigquery://PROJECT/DATASET?location=US',
    });
  }
  if (stage.location.startsWith('gs://')) {
    throw new ConfigError(`--warehouse ${location} (DuckDB) cannot load from --stage ${stage.location}`, {
      hint: 'DuckDB reads staged files from local disk: use a local --stage directory, or --warehouse bigquery://PROJECT/DATASET with a gs:// stage',
    });
  }
  return DuckDbWarehouse.open({ path: location, stage });
}

/**
 * A gs:// stage that loads the GCS SDK on first use, so commands on the local default never load
 * it. `location` and `lock(name).location` are known without the SDK; everything else awaits it.
 */
class LazyGcsStage implements StageStore {
  readonly location: string;
  readonly #uri: string;
  #store: Promise<StageStore> | undefined;

  constructor(uri: string) {
    const where = parseGcsLocation(uri);
    this.#uri = uri;
    this.location = gcsUri(where);
  }

  #open(): Promise<StageStore> {
    this.#store ??= import('../staging/gcs/index.js').then(({ openGcsStage }) => {
      const endpoint = process.env[GCS_ENDPOINT_ENV];
      return openGcsStage(this.#uri, endpoint ? { apiEndpoint: endpoint } : {});
    });
    return this.#store;
  }

  async createWriter(kind: StageKind, wallet: string): Promise<StageWriter> {
    return (await this.#open()).createWriter(kind, wallet);
  }

  async writeManifest(manifest: WalletManifest): Promise<void> {
    return (await this.#open()).writeManifest(manifest);
  }

  async readManifest(wallet: string): Promise<WalletManifest | undefined> {
    return (await this.#open()).readManifest(wallet);
  }

  async localPath(file: StagedFile): Promise<string> {
    return (await this.#open()).localPath(file);
  }

  async sweepTemporaryFiles(): Promise<number> {
    return (await this.#open()).sweepTemporaryFiles();
  }

  lock(name: string): RunLock {
    const where = parseGcsLocation(this.#uri);
    return {
      location: `gs://${where.bucket}/${objectName(where, `locks/${name}.lease`)}`,
      acquire: async (holder: string, ttlMs: number): Promise<AcquireResult> => (await this.#open()).lock(name).acquire(holder, ttlMs),
    };
  }
}
