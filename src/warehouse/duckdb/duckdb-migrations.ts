import { CHECKPOINT_COLUMNS, EVENTS, MARKETS, TRADES, UNRESOLVED } from '../table-schemas.js';
import type { ColumnSpec, LoadedTableSpec } from '../table-schemas.js';
import { DUCKDB_TYPES } from './duckdb-types.js';

export interface Migration {
  version: number;
  description: string;
  statements: string[];
}

// Identifiers below come from the static table specs, never from input.
const columnDdl = (columns: readonly ColumnSpec[]) =>
  columns.map((c) => `"${c.name}" ${DUCKDB_TYPES[c.type]}${c.required ? ' NOT NULL' : ''}`).join(', ');

const loadedTableDdl = (spec: LoadedTableSpec, extra = '') =>
  `CREATE TABLE IF NOT EXISTS ${spec.table} (${columnDdl(spec.columns)}, loaded_at TIMESTAMP${extra})`;

/** Ordered, append-only: a released migration is never edited, a change is a new version. */
export const DUCKDB_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'traders, trades, markets, events, unresolved ids, checkpoints',
    statements: [
      // No NOT NULL on wallet_address: users fill this table by hand and by sync jobs; the
      // planner reports bad values instead of the insert failing.
      `CREATE TABLE IF NOT EXISTS traders (wallet_address VARCHAR, added_at TIMESTAMP, source VARCHAR)`,
      loadedTableDdl(TRADES),
      loadedTableDdl(MARKETS),
      loadedTableDdl(EVENTS),
      loadedTableDdl(UNRESOLVED),
      `CREATE TABLE IF NOT EXISTS backfill_checkpoint (${columnDdl(CHECKPOINT_COLUMNS)}, PRIMARY KEY (wallet_address))`,
    ],
  },
];
