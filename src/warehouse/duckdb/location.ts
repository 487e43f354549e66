import { resolve } from 'node:path';

import { ConfigError } from '../../lib/errors.js';

/** A DuckDB warehouse path, resolved; its identity keys the run lease whatever the spelling. */
export interface DuckDbLocation {
  /** Absolute path, or `:memory:`. */
  path: string;
  identity: string;
}

export function parseDuckDbLocation(location: string): DuckDbLocation {
  if (location.trim() === '') throw new ConfigError('--warehouse is empty', { hint: 'Give a DuckDB file path such as ./data/backfill.duckdb' });
  if (location === ':memory:') return { path: location, identity: `duckdb::memory:${process.pid}` };
  const path = resolve(location);
  return { path, identity: `duckdb:${path}` };
}
