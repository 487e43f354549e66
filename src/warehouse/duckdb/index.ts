import type { DuckDBValue } from '@duckdb/node-api';

import { SqlWarehouse } from '../sql-warehouse.js';
import { DuckDbDriver } from './driver.js';
import { DEFAULT_MEMORY_LIMIT, checkedMemoryLimit } from './memory-limit.js';
import { parseDuckDbLocation } from './location.js';
import type { DuckDbLocation } from './location.js';

export { DuckDbDriver } from './driver.js';
export { DEFAULT_MEMORY_LIMIT, checkedMemoryLimit } from './memory-limit.js';
export { parseDuckDbLocation } from './location.js';

export interface OpenDuckDbOptions {
  /** Database file (`:memory:` for throwaway use), or the location the library's wiring parsed once. */
  path: string | DuckDbLocation;
  /** DuckDB's buffer pool limit, e.g. `512MB`; it bounds most of a big load's memory. */
  memoryLimit?: string;
  /**
   * How long to wait for another process's hold on the file to end (default 5 s, so a run waits
   * out a `status` read); 0 fails at once with a BusyError.
   */
  lockWaitMs?: number;
}

/** The embedded warehouse: the shared SqlWarehouse over one DuckDB file. */
export class DuckDbWarehouse extends SqlWarehouse {
  readonly #driver: DuckDbDriver;

  private constructor(driver: DuckDbDriver) {
    super(driver);
    this.#driver = driver;
  }

  static async open(options: OpenDuckDbOptions): Promise<DuckDbWarehouse> {
    const memoryLimit = checkedMemoryLimit(options.memoryLimit ?? DEFAULT_MEMORY_LIMIT);
    return new DuckDbWarehouse(await DuckDbDriver.open(typeof options.path === 'string' ? parseDuckDbLocation(options.path) : options.path, { memoryLimit, ...(options.lockWaitMs !== undefined ? { lockWaitMs: options.lockWaitMs } : {}) }));
  }

  /** Plain DuckDB SQL on the same file (tests, diagnostics); values only as parameters. */
  query<T = Record<string, unknown>>(sql: string, values?: Record<string, DuckDBValue>): Promise<T[]> {
    return this.#driver.sql<T>(sql, values);
  }
}
