import type { LogicalType } from '../table-schemas.js';

/** DuckDB column type for each logical type. Timestamps are naive and always UTC by convention. */
export const DUCKDB_TYPES: Record<LogicalType, string> = {
  string: 'VARCHAR',
  float: 'DOUBLE',
  int: 'BIGINT',
  bool: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
  json: 'VARCHAR',
};
