import { CHECKPOINT_COLUMNS, LOADED_TABLES } from '../table-schemas.js';
import type { ColumnSpec, LoadedTableSpec, LogicalType } from '../table-schemas.js';

/**
 * BigQuery table definitions derived from the shared specs in table-schemas.ts (no column is
 * declared twice).
 *
 * Types: string→STRING, float→FLOAT64, int→INT64, bool→BOOL, timestamp→TIMESTAMP, and
 * json→STRING. JSON values are staged as JSON *text* (`"raw":"{\"x\":1}"`), exactly as DuckDB
 * stores them (VARCHAR); a JSON column would load that text as a JSON string scalar, not as the
 * object, and would make the two warehouses differ. Readers use PARSE_JSON/JSON_VALUE on it.
 * REST table schemas use the legacy type names (FLOAT, INTEGER, BOOLEAN), which the API returns.
 */

export const SCHEMA_TYPES: Record<LogicalType, string> = {
  string: 'STRING',
  float: 'FLOAT',
  int: 'INTEGER',
  bool: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
  json: 'STRING',
};

/** Standard SQL names of the same types, for query parameters. */
export const SQL_TYPES: Record<LogicalType, string> = {
  string: 'STRING',
  float: 'FLOAT64',
  int: 'INT64',
  bool: 'BOOL',
  timestamp: 'TIMESTAMP',
  json: 'STRING',
};

export interface FieldSchema {
  name: string;
  type: string;
  mode: 'REQUIRED' | 'NULLABLE';
}

export interface TableDefinition {
  name: string;
  description: string;
  fields: FieldSchema[];
  timePartitioning?: { type: 'DAY' | 'MONTH'; field: string };
  clustering?: { fields: string[] };
}

export const fieldsOf = (columns: readonly ColumnSpec[]): FieldSchema[] =>
  columns.map((c) => ({ name: c.name, type: SCHEMA_TYPES[c.type], mode: c.required ? 'REQUIRED' : 'NULLABLE' }));

const LOADED_AT: FieldSchema = { name: 'loaded_at', type: 'TIMESTAMP', mode: 'NULLABLE' };

/**
 * `trades` is partitioned by MONTH of `timestamp`, not by day. Partition count is not the reason
 * (six years of days is ~2,200 of the 10,000 allowed); size is: at the origin's 84M trades
 * (~50 GB with raw JSON) a day holds ~25 MB, far below the size where clustering can prune blocks
 * inside a partition, whereas a month holds ~700 MB. A batch MERGE spans the months its wallets
 * traded in (pruned by the BETWEEN on `timestamp`) and, inside them, the blocks of its wallets
 * (clustering on `proxy_wallet`, the column every PnL query filters on).
 */
export const TRADES_PARTITIONING = { type: 'MONTH', field: 'timestamp' } as const;

export const TABLES: Record<'traders' | 'trades' | 'markets' | 'events' | 'unresolved_ids' | 'backfill_checkpoint', TableDefinition> = {
  traders: {
    name: 'traders',
    description: 'Wallets to backfill. Filled by hand, by sync jobs or by `backfill traders add`; bad values are reported, not rejected.',
    // No REQUIRED: users fill this table themselves; the planner reports bad rows instead of an insert failing.
    fields: [
      { name: 'wallet_address', type: 'STRING', mode: 'NULLABLE' },
      { name: 'added_at', type: 'TIMESTAMP', mode: 'NULLABLE' },
      { name: 'source', type: 'STRING', mode: 'NULLABLE' },
    ],
  },
  trades: {
    name: 'trades',
    description: 'Every fill of every backfilled wallet; one row per trade_id (MERGE insert-only).',
    fields: [...fieldsOf(LOADED_TABLES.trades.columns), LOADED_AT],
    timePartitioning: { ...TRADES_PARTITIONING },
    clustering: { fields: ['proxy_wallet'] },
  },
  markets: {
    name: 'markets',
    description: 'Gamma markets by condition_id, with winning_label once resolved (MERGE upsert).',
    fields: [...fieldsOf(LOADED_TABLES.markets.columns), LOADED_AT],
  },
  events: {
    name: 'events',
    description: 'Gamma events by event_id (MERGE upsert).',
    fields: [...fieldsOf(LOADED_TABLES.events.columns), LOADED_AT],
  },
  unresolved_ids: {
    name: 'unresolved_ids',
    description: 'Condition and event ids Gamma could not resolve, so they are not looked up again.',
    fields: [...fieldsOf(LOADED_TABLES.unresolved.columns), LOADED_AT],
  },
  backfill_checkpoint: {
    name: 'backfill_checkpoint',
    description: 'One row per wallet: the mission monitoring columns first, then attempts/parked/error/run_id.',
    fields: fieldsOf(CHECKPOINT_COLUMNS),
    clustering: { fields: ['wallet_address'] },
  },
};

export const SCHEMA_MIGRATIONS_TABLE: TableDefinition = {
  name: 'schema_migrations',
  description: 'Versions of the backfill schema applied to this dataset.',
  fields: [
    { name: 'version', type: 'INTEGER', mode: 'REQUIRED' },
    { name: 'description', type: 'STRING', mode: 'NULLABLE' },
    { name: 'applied_at', type: 'TIMESTAMP', mode: 'NULLABLE' },
  ],
};

export interface BigQueryMigration {
  version: number;
  description: string;
  tables: TableDefinition[];
}

/** Ordered, append-only: a released migration is never edited, a change is a new version. */
export const BIGQUERY_MIGRATIONS: readonly BigQueryMigration[] = [
  {
    version: 1,
    description: 'traders, trades, markets, events, unresolved ids, checkpoints',
    tables: Object.values(TABLES),
  },
];

/**
 * Tables the mission shares with an existing deployment (the origin's `traders` and
 * `backfill_checkpoint`): when one already exists, missing columns are appended (NULLABLE, as
 * BigQuery requires for added columns) instead of failing.
 */
export const SHARED_TABLES = new Set(['traders', 'backfill_checkpoint']);

/** The per-batch staging table of one kind: the loaded columns only, no partitioning. */
export function stagingFields(spec: LoadedTableSpec): FieldSchema[] {
  return fieldsOf(spec.columns);
}
