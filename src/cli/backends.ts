import { ConfigError } from '../lib/errors.js';
import type { StageStore } from '../staging/stage-store.js';
import { LocalStageStore } from '../staging/local/local-stage-store.js';
import { DuckDbWarehouse } from '../warehouse/duckdb/duckdb-warehouse.js';
import type { Warehouse } from '../warehouse/warehouse.js';

export const DEFAULT_WAREHOUSE = './data/backfill.duckdb';
export const DEFAULT_STAGE = './data/stage';

/** `--stage`: a local directory (default) — GCS arrives with `gs://`. */
export function openStage(location: string): StageStore {
  if (location.startsWith('gs://')) {
    throw new ConfigError(`--stage ${location}: GCS staging is not available in this build`, {
      hint: 'Use a local directory for --stage',
    });
  }
  return new LocalStageStore(location);
}

/** `--warehouse`: a DuckDB file path (default). */
export async function openWarehouse(location: string, stage: StageStore): Promise<Warehouse> {
  if (/^[a-z]+:\/\//.test(location)) {
    throw new ConfigError(`--warehouse ${location}: unsupported warehouse URI`, {
      hint: 'Give a DuckDB file path such as ./data/backfill.duckdb',
    });
  }
  return DuckDbWarehouse.open({ path: location, stage });
}
