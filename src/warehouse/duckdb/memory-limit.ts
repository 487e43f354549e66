import { ConfigError } from '../../lib/errors.js';

/**
 * DuckDB's buffer pool for one warehouse file (DuckDB's own default is 80 % of RAM). Kept apart
 * from the driver, which loads DuckDB, so the configuration can name it at no start-up cost.
 */
export const DEFAULT_MEMORY_LIMIT = '128MB';

export function checkedMemoryLimit(value: string): string {
  if (!/^\d+(\.\d+)?\s?(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.test(value)) {
    throw new ConfigError(`DuckDB memory limit ${JSON.stringify(value)} is not a size`, { hint: 'Use e.g. 512MB or 2GB (BACKFILL_DUCKDB_MEMORY_LIMIT)' });
  }
  return value;
}
