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
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(location)) {
    throw new ConfigError(`--warehouse ${JSON.stringify(location)} holds a control character`, { hint: 'Give a DuckDB file path without control characters (tabs, newlines)' });
  }
  if (location === ':memory:') return { path: location, identity: `duckdb::memory:${process.pid}` };
  const path = resolve(location);
  return { path, identity: `duckdb:${path}` };
}
