/**
 * The warehouse tables, declared once with logical types; each backend maps them to its own types.
 * Column names of the loaded tables equal the field names of the staged NDJSON rows.
 */

export type LogicalType = 'string' | 'float' | 'int' | 'bool' | 'timestamp' | 'json';

export interface ColumnSpec {
  name: string;
  type: LogicalType;
  required?: boolean;
}

export interface LoadedTableSpec {
  table: 'trades' | 'markets' | 'events' | 'unresolved_ids';
  /** Columns that identify a row; the MERGE matches on them. */
  key: readonly string[];
  /** `insert-only` never rewrites an existing row; `upsert` refreshes it (a market's status changes). */
  merge: 'insert-only' | 'upsert';
  /** Columns read from the staged file, in order. */
  columns: readonly ColumnSpec[];
}

const str = (name: string, required = false): ColumnSpec => ({ name, type: 'string', required });
const col = (name: string, type: LogicalType, required = false): ColumnSpec => ({ name, type, required });

export const TRADES: LoadedTableSpec = {
  table: 'trades',
  key: ['trade_id'],
  merge: 'insert-only',
  columns: [
    str('trade_id', true),
    str('proxy_wallet', true),
    str('side'),
    str('asset'),
    str('condition_id'),
    col('size', 'float'),
    col('price', 'float'),
    col('timestamp', 'timestamp', true),
    str('title'),
    str('slug'),
    str('event_slug'),
    str('outcome'),
    col('outcome_index', 'int'),
    str('transaction_hash'),
    col('fill_seq', 'int'),
    col('raw', 'json'),
  ],
};

export const MARKETS: LoadedTableSpec = {
  table: 'markets',
  key: ['condition_id'],
  merge: 'upsert',
  columns: [
    str('condition_id', true),
    str('market_id'),
    str('question'),
    str('slug'),
    str('status'),
    col('active', 'bool'),
    col('closed', 'bool'),
    col('outcomes', 'json'),
    col('outcome_prices', 'json'),
    col('clob_token_ids', 'json'),
    str('winning_label'),
    str('winning_token_id'),
    col('start_date', 'timestamp'),
    col('end_date', 'timestamp'),
    col('closed_time', 'timestamp'),
    col('volume', 'float'),
    col('liquidity', 'float'),
    col('neg_risk', 'bool'),
    str('neg_risk_market_id'),
    col('event_ids', 'json'),
    str('event_slug'),
    col('tags', 'json'),
    col('raw', 'json'),
    col('fetched_at', 'timestamp'),
  ],
};

export const EVENTS: LoadedTableSpec = {
  table: 'events',
  key: ['event_id'],
  merge: 'upsert',
  columns: [
    str('event_id', true),
    str('slug'),
    str('title'),
    str('ticker'),
    str('category'),
    col('active', 'bool'),
    col('closed', 'bool'),
    col('neg_risk', 'bool'),
    col('enable_neg_risk', 'bool'),
    str('neg_risk_market_id'),
    col('start_date', 'timestamp'),
    col('end_date', 'timestamp'),
    col('volume', 'float'),
    col('liquidity', 'float'),
    col('tags', 'json'),
    col('raw', 'json'),
    col('fetched_at', 'timestamp'),
  ],
};

export const UNRESOLVED: LoadedTableSpec = {
  table: 'unresolved_ids',
  key: ['kind', 'id'],
  merge: 'insert-only',
  columns: [str('kind', true), str('id', true), str('reason'), col('recorded_at', 'timestamp')],
};

export const LOADED_TABLES = { trades: TRADES, markets: MARKETS, events: EVENTS, unresolved: UNRESOLVED } as const;

/** `backfill_checkpoint`: the mission document's six columns first, then ours. */
export const CHECKPOINT_COLUMNS: readonly ColumnSpec[] = [
  str('wallet_address', true),
  col('completed', 'bool'),
  col('upload_successful', 'bool'),
  col('trade_count', 'int'),
  str('gcs_file'),
  col('processed_at', 'timestamp'),
  str('error'),
  col('attempts', 'int'),
  col('parked', 'bool'),
  str('run_id'),
];
