import type { Dialect } from './sql/dialect.js';

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
  table: 'trades' | 'markets' | 'events' | 'unresolved_ids' | 'activity' | 'combo_activity' | 'market_resolutions';
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
    // Migration 12: the condition ids of the event's markets (JSON array); NULL on rows fetched without them.
    col('market_ids', 'json'),
  ],
};

/**
 * A look-up that did not find an id. Staged per miss (`recorded_at` is the miss's time); the MERGE
 * (unresolvedMergeSql) counts misses into the table's own columns below, so it is no plain upsert.
 * `retryable` is false for ids never sent to Gamma (combo or malformed ids): no later look-up can find them.
 */
export const UNRESOLVED: LoadedTableSpec = {
  table: 'unresolved_ids',
  key: ['kind', 'id'],
  merge: 'insert-only',
  columns: [str('kind', true), str('id', true), str('reason'), col('recorded_at', 'timestamp'), col('retryable', 'bool')],
};

/**
 * The table's columns beyond the staged ones: look-ups that missed the id (NULL on rows of older
 * versions: one), the latest miss (`recorded_at` stays the first), and when it was given up on.
 */
const UNRESOLVED_TABLE_COLUMNS: readonly ColumnSpec[] = [
  ...UNRESOLVED.columns,
  col('attempts', 'int'),
  col('last_attempt_at', 'timestamp'),
  col('given_up_at', 'timestamp'),
];

/**
 * A wallet's non-fill activity (`/v2/activity`: splits, merges, redemptions, conversions, rewards, rebates…);
 * one row per `activity_id`, the digest of the row's identifying fields and its position among identical rows
 * of the wallet in one transaction (the same idea as `trade_id`), so a re-fetch never adds a row.
 */
export const ACTIVITY: LoadedTableSpec = {
  table: 'activity',
  key: ['activity_id'],
  merge: 'insert-only',
  columns: [
    str('activity_id', true),
    str('proxy_wallet', true),
    str('type', true),
    str('condition_id'),
    str('token_id'),
    col('outcome_index', 'int'),
    str('outcome'),
    str('side'),
    col('size', 'float'),
    col('usdc_size', 'float'),
    col('price', 'float'),
    col('timestamp', 'timestamp', true),
    str('transaction_hash'),
    str('title'),
    str('slug'),
    str('event_slug'),
    col('activity_seq', 'int'),
    col('raw', 'json'),
  ],
};

/** Combo positions' lifecycle (`/v2/activity/combos`), keyed by the API's own `tx_hash-log_index` id. */
export const COMBO_ACTIVITY: LoadedTableSpec = {
  table: 'combo_activity',
  key: ['combo_activity_id'],
  merge: 'insert-only',
  columns: [
    str('combo_activity_id', true),
    str('proxy_wallet', true),
    str('type', true),
    str('combo_condition_id'),
    str('combo_position_id'),
    col('block_number', 'int'),
    col('timestamp', 'timestamp', true),
    str('transaction_hash'),
    col('amount_usdc', 'float'),
    col('payout_usdc', 'float'),
    col('legs', 'json'),
    col('raw', 'json'),
  ],
};

/**
 * A market's resolution (`/v2/resolutions`): upserted until `status` is `resolved`, then final. `payouts` is the JSON
 * array of micro-USDC per share per outcome; `winning_label` the outcome paid in full (null for a split payout).
 */
export const RESOLUTIONS: LoadedTableSpec = {
  table: 'market_resolutions',
  key: ['condition_id'],
  merge: 'upsert',
  columns: [
    str('condition_id', true),
    str('status', true),
    col('payouts', 'json'),
    col('winning_outcome_index', 'int'),
    str('winning_label'),
    col('resolved_at', 'timestamp'),
    col('resolved_block', 'int'),
    str('market_type'),
    col('was_disputed', 'bool'),
    str('resolution_source'),
    str('reporter'),
    col('raw', 'json'),
    col('fetched_at', 'timestamp'),
  ],
};

export const LOADED_TABLES = {
  trades: TRADES,
  markets: MARKETS,
  events: EVENTS,
  unresolved: UNRESOLVED,
  activity: ACTIVITY,
  combo_activity: COMBO_ACTIVITY,
  resolutions: RESOLUTIONS,
} as const;

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
  // An attempt that started and has not ended: set before the wallet's fetch, cleared with its
  // outcome. Found set at the start of a run, it means the process died while the wallet was in flight.
  str('in_flight_run_id'),
  col('in_flight_at', 'timestamp'),
  /** The wallet was in flight when a process died: the next run tries it alone, first. */
  col('crash_suspect', 'bool'),
  // Incremental refresh of completed wallets: the newest fill held (the next window starts an
  // overlap before it), the last successful refresh, and the last refresh failure (kept apart
  // from `error`: the backfilled history stays complete up to last_trade_at).
  col('last_trade_at', 'timestamp'),
  col('refreshed_at', 'timestamp'),
  str('refresh_error'),
  col('refresh_attempted_at', 'timestamp'),
  col('refresh_attempts', 'int'),
  // The trades held for the wallet leave out fills under 0.01 shares: a load or refresh ran while the
  // Data API refused `filter_amount` and fell back to its default minimum. NULL before it was recorded.
  col('small_fills_excluded', 'bool'),
  // Why the backfill and the last refresh failed, as the engine classified it (see FailureClass).
  str('failure_class'),
  str('refresh_failure_class'),
  // Per kind: the wallet's fills are loaded (its activity may not be yet: a wallet completed before activity
  // existed gets it without its fills being fetched again), its activity is loaded, how many activity rows the
  // warehouse holds, and the newest one (the next refresh's activity window starts an overlap before it).
  col('fills_loaded', 'bool'),
  col('activity_loaded', 'bool'),
  col('activity_count', 'int'),
  col('last_activity_at', 'timestamp'),
  // A feed refresh saw the wallet trade (or a market it holds resolved): its activity is refreshed per wallet, once.
  col('activity_due', 'bool'),
];

/** `feed_walks`: one row per walk of the global trade feed by `refresh --via feed`, its progress committed with its pages. */
export const FEED_WALK_COLUMNS: readonly ColumnSpec[] = [
  str('walk_id', true),
  str('run_id'),
  // running (resumed by the next feed refresh), done, abandoned (the feed was found incomplete)
  str('status'),
  col('started_at', 'timestamp'),
  // The oldest horizon among the wallets the walk covers, and the time it walks down to (that minus the overlap).
  col('covered_from', 'timestamp'),
  col('down_to', 'timestamp'),
  // Block times of the newest and oldest rows read so far (every wallet's).
  col('newest_at', 'timestamp'),
  col('oldest_at', 'timestamp'),
  // Where the walk resumes: the cursor of the page where the oldest committed timestamp began, and that timestamp.
  str('resume_cursor'),
  col('resume_ts', 'int'),
  col('pages', 'int'),
  col('rows_seen', 'int'),
  col('rows_kept', 'int'),
  col('wallets_touched', 'int'),
  col('updated_at', 'timestamp'),
  col('finished_at', 'timestamp'),
  str('note'),
];

/** One row per finished run: its outcome and what its BigQuery jobs billed (what the dashboard sums). */
export const RUNS_COLUMNS: readonly ColumnSpec[] = [
  str('run_id', true),
  str('mode'),
  col('started_at', 'timestamp'),
  col('finished_at', 'timestamp'),
  str('outcome'),
  str('stop_reason'),
  col('planned', 'int'),
  col('loaded', 'int'),
  col('failed', 'int'),
  col('trades', 'int'),
  col('bytes_billed', 'int'),
  col('bytes_processed', 'int'),
  col('jobs', 'int'),
];

/**
 * The chain audit (`backfill audit`, src/chain/audit-wallet.ts): one row per audited wallet, its latest
 * result. The counts are those of FillMatchReport; `audited_at` ties the row to its mismatches.
 */
export const AUDIT_RESULTS_COLUMNS: readonly ColumnSpec[] = [
  str('wallet', true),
  col('from_block', 'int'),
  col('to_block', 'int'),
  col('from_time', 'timestamp'),
  col('to_time', 'timestamp'),
  col('on_chain', 'int'),
  col('held', 'int'),
  col('matched', 'int'),
  col('missing_from_api', 'int'),
  col('held_not_on_chain', 'int'),
  col('under_minimum', 'int'),
  col('held_outside_range', 'int'),
  col('held_unverifiable', 'int'),
  col('undecodable', 'int'),
  // {"combo-exchange": 2, …}: the undecodable logs by reason.
  col('undecodable_by_reason', 'json'),
  col('complete', 'bool'),
  col('mismatches', 'int'),
  col('log_requests', 'int'),
  col('ranges', 'int'),
  col('resumed_after', 'int'),
  col('audited_at', 'timestamp'),
];

/** The unmatched fills of each wallet's latest audit (FillMismatch), replaced with each result. */
export const AUDIT_MISMATCHES_COLUMNS: readonly ColumnSpec[] = [
  str('wallet', true),
  col('audited_at', 'timestamp'),
  str('kind', true),
  str('transaction_hash'),
  col('log_index', 'int'),
  col('block_number', 'int'),
  str('exchange'),
  str('role'),
  str('token_id'),
  str('side'),
  col('chain_shares', 'float'),
  col('chain_price', 'float'),
  str('trade_id'),
  col('held_size', 'float'),
  col('held_price', 'float'),
  str('detail'),
];

/** Where each wallet's audit walk stands: every block up to `last_block` is walked and its fills are in audit_chain_fills. */
export const AUDIT_PROGRESS_COLUMNS: readonly ColumnSpec[] = [str('wallet', true), col('last_block', 'int'), col('updated_at', 'timestamp')];

/**
 * The wallet's OrderFilled logs collected by the walk (decoded fills and undecodable logs, by `kind`), one row per
 * (wallet, transaction_hash, log_index), so a range saved twice counts once. Raw amounts are uint256: decimal text.
 */
export const AUDIT_CHAIN_FILLS_COLUMNS: readonly ColumnSpec[] = [
  str('wallet', true),
  str('transaction_hash', true),
  col('log_index', 'int', true),
  col('block_number', 'int'),
  str('kind'),
  str('exchange'),
  str('version'),
  col('block_timestamp', 'int'),
  str('order_hash'),
  str('maker'),
  str('taker'),
  str('role'),
  str('side'),
  str('token_id'),
  str('usdc_raw'),
  str('shares_raw'),
  str('fee_raw'),
  str('reason'),
  str('detail'),
  str('topic0'),
];

export const TRADERS_COLUMNS: readonly ColumnSpec[] = [str('wallet_address'), col('added_at', 'timestamp'), str('source')];

/**
 * A wallet's position per outcome token, replayed from its fills and activity by src/pnl (the method of Polymarket's
 * PnL subgraph): written per wallet by replacing all its rows at once, never merged row by row from staged files.
 * USDC and shares are exact to the micro-unit (the replay's integers, as doubles).
 */
export const POSITIONS_COLUMNS: readonly ColumnSpec[] = [
  str('proxy_wallet', true),
  str('condition_id', true),
  str('token_id', true),
  col('outcome_index', 'int'),
  col('shares', 'float'),
  col('avg_price', 'float'),
  col('total_bought', 'float'),
  col('cost_bought_usdc', 'float'),
  // Before fees is Polymarket's figure; after fees is what the trader kept.
  col('realized_pnl', 'float'),
  col('realized_pnl_after_fees', 'float'),
  col('fees_usdc', 'float'),
  // open | closed | redeemable | lost
  str('status'),
  col('payout_price', 'float'),
  col('settled_pnl', 'float'),
  col('fills', 'int'),
  col('first_entry_at', 'timestamp'),
  col('last_event_at', 'timestamp'),
  col('computed_at', 'timestamp'),
];

/**
 * One row per wallet: its standing (src/pnl summarizeWallet). `stale` is set in the same load that brings the wallet
 * new rows (and for holders of a market whose resolution arrives) and cleared by the write of its recomputed figures,
 * so a run that died in between leaves the flag for the next run to find. A row whose figures were never computed
 * has `computed_at` NULL. `fingerprint` is a digest of the figures and positions, so a recompute that finds the same
 * numbers writes nothing but the flag.
 */
export const WALLET_STATS_COLUMNS: readonly ColumnSpec[] = [
  str('proxy_wallet', true),
  col('stale', 'bool'),
  col('realized_pnl', 'float'),
  col('realized_pnl_after_fees', 'float'),
  col('fees_usdc', 'float'),
  col('volume_usdc', 'float'),
  col('fills', 'int'),
  col('markets_traded', 'int'),
  col('resolved_markets_traded', 'int'),
  col('wins', 'int'),
  col('losses', 'int'),
  col('win_rate', 'float'),
  col('win_rate_sample', 'int'),
  col('cost_bought_usdc', 'float'),
  col('return_on_cost', 'float'),
  col('first_trade_at', 'timestamp'),
  col('last_trade_at', 'timestamp'),
  col('maker_share', 'float'),
  col('maker_share_sample', 'int'),
  // JSON array of {category, volume_usdc, fills}, largest first.
  col('top_categories', 'json'),
  // JSON object: what the replay left out, by reason (src/pnl ReplaySkipped).
  col('skipped', 'json'),
  str('fingerprint'),
  col('computed_at', 'timestamp'),
];

/** One table of the warehouse as every backend creates it. */
export interface TableSpec {
  name: string;
  description: string;
  columns: readonly ColumnSpec[];
  /** Loaded tables carry `loaded_at`, the time of the MERGE that wrote the row. */
  loadedAt: boolean;
  /** Partition by month of this TIMESTAMP column where the backend partitions (BigQuery). */
  monthPartition?: string;
  /** Cluster on these columns where the backend clusters (BigQuery). */
  clusterBy?: readonly string[];
  /** Enforced unique key where the backend enforces one (DuckDB). */
  primaryKey?: readonly string[];
  /**
   * Shared with an existing deployment (the origin's `traders` and `backfill_checkpoint`): when the
   * table exists without some of our columns, they are added instead of failing.
   */
  shared?: boolean;
}

/**
 * `trades` is partitioned by MONTH of `timestamp`, not by day. Partition count is not the reason
 * (six years of days is ~2,200 of the 10,000 allowed); size is: at the origin's 84M trades
 * (~50 GB with raw JSON) a day holds ~25 MB, far below the size where clustering can prune blocks
 * inside a partition, whereas a month holds ~700 MB. A batch MERGE spans the months its wallets
 * traded in and, inside them, the blocks of its wallets (clustering on `proxy_wallet`, the column
 * every PnL query filters on).
 */
export const WAREHOUSE_TABLES: readonly TableSpec[] = [
  {
    name: 'traders',
    description: 'Wallets to backfill. Filled by hand, by sync jobs or by `backfill traders add`; bad values are reported, not rejected.',
    // No NOT NULL: users fill this table themselves; the planner reports bad rows instead of an insert failing.
    columns: TRADERS_COLUMNS,
    loadedAt: false,
    shared: true,
  },
  {
    name: 'trades',
    description: 'Every fill of every backfilled wallet; one row per trade_id (MERGE insert-only).',
    columns: TRADES.columns,
    loadedAt: true,
    monthPartition: 'timestamp',
    clusterBy: ['proxy_wallet'],
  },
  {
    name: 'markets',
    description: 'Gamma markets by condition_id, with winning_label once resolved (MERGE upsert).',
    columns: MARKETS.columns,
    loadedAt: true,
  },
  { name: 'events', description: 'Gamma events by event_id (MERGE upsert).', columns: EVENTS.columns, loadedAt: true },
  {
    name: 'unresolved_ids',
    description:
      'Condition and event ids a look-up did not find: asked again after a backoff (attempts, last_attempt_at) until found (the row goes) or given up (given_up_at); combo ids (retryable false) never.',
    columns: UNRESOLVED_TABLE_COLUMNS,
    loadedAt: true,
  },
  {
    name: 'activity',
    description: 'Every non-fill action of every backfilled wallet (splits, merges, redemptions, conversions, rewards, rebates); one row per activity_id (MERGE insert-only).',
    columns: ACTIVITY.columns,
    loadedAt: true,
    monthPartition: 'timestamp',
    clusterBy: ['proxy_wallet'],
  },
  {
    name: 'combo_activity',
    description: 'Combo positions\' lifecycle rows of every backfilled wallet; one row per combo_activity_id = tx hash and log index (MERGE insert-only).',
    columns: COMBO_ACTIVITY.columns,
    loadedAt: true,
    clusterBy: ['proxy_wallet'],
  },
  {
    name: 'market_resolutions',
    description: 'Resolution of held markets that closed or passed their end date: payouts per outcome (micro-USDC per share); asked again until status is resolved (MERGE upsert).',
    columns: RESOLUTIONS.columns,
    loadedAt: true,
  },
  {
    name: 'positions',
    description: "Each wallet's position per outcome token, replayed from its fills and activity by the method of Polymarket's PnL subgraph; a wallet's rows are replaced together.",
    columns: POSITIONS_COLUMNS,
    loadedAt: false,
    clusterBy: ['proxy_wallet'],
  },
  {
    name: 'wallet_stats',
    description: "One row per wallet: realized profit before and after fees, volume, wins and losses, return on cost; stale until recomputed after a load.",
    columns: WALLET_STATS_COLUMNS,
    loadedAt: false,
    clusterBy: ['proxy_wallet'],
  },
  {
    name: 'backfill_checkpoint',
    description: 'One row per wallet: the mission monitoring columns first, then error/attempts/parked/run_id.',
    columns: CHECKPOINT_COLUMNS,
    loadedAt: false,
    clusterBy: ['wallet_address'],
    primaryKey: ['wallet_address'],
    shared: true,
  },
  {
    name: 'feed_walks',
    description: 'One row per walk of the global trade feed (refresh --via feed): what it covered, its resume point, pages and rows seen and kept.',
    columns: FEED_WALK_COLUMNS,
    loadedAt: false,
    primaryKey: ['walk_id'],
  },
  {
    name: 'backfill_runs',
    description: 'One row per finished run (backfill or refresh): outcome, counts, and the bytes its BigQuery jobs billed.',
    columns: RUNS_COLUMNS,
    loadedAt: false,
    primaryKey: ['run_id'],
  },
  {
    name: 'audit_results',
    description: 'Chain audit (backfill audit): per wallet, its latest reconciliation of the trades held with its OrderFilled logs on Polygon.',
    columns: AUDIT_RESULTS_COLUMNS,
    loadedAt: false,
    primaryKey: ['wallet'],
  },
  {
    name: 'audit_mismatches',
    description: 'Chain audit: the fills of each wallet\'s latest audit that did not match (missing from the API, held but not on chain, under 0.01 shares, undecodable…).',
    columns: AUDIT_MISMATCHES_COLUMNS,
    loadedAt: false,
    clusterBy: ['wallet'],
  },
  {
    name: 'audit_progress',
    description: 'Chain audit: the last block each wallet\'s walk completed, so a stopped audit resumes after it.',
    columns: AUDIT_PROGRESS_COLUMNS,
    loadedAt: false,
    primaryKey: ['wallet'],
  },
  {
    name: 'audit_chain_fills',
    description: 'Chain audit: the OrderFilled logs of each wallet collected so far, one row per (wallet, transaction_hash, log_index); amounts as decimal text.',
    columns: AUDIT_CHAIN_FILLS_COLUMNS,
    loadedAt: false,
    clusterBy: ['wallet'],
    primaryKey: ['wallet', 'transaction_hash', 'log_index'],
  },
];

export const SCHEMA_MIGRATIONS_TABLE: TableSpec = {
  name: 'schema_migrations',
  description: 'Versions of the backfill schema applied to this dataset.',
  columns: [col('version', 'int', true), str('description'), col('applied_at', 'timestamp')],
  loadedAt: false,
  primaryKey: ['version'],
};

export interface Migration {
  version: number;
  description: string;
  /**
   * Rows a version changes the meaning of, brought in line once, when the version is first recorded (a fresh
   * warehouse runs it on empty tables). Its SQL names no input: it is the same statement on every warehouse.
   */
  dataStep?: (d: Dialect) => string;
}

/**
 * Ordered, append-only. Every backend migrates the same way: create the tables of
 * WAREHOUSE_TABLES that are missing, add their missing columns (nullable), then record the
 * versions not yet applied. A change is a new version here plus the new columns in the specs.
 */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, description: 'traders, trades, markets, events, unresolved ids, checkpoints' },
  { version: 2, description: 'checkpoint in-flight marks: a wallet in flight when the process died is counted and tried alone' },
  { version: 3, description: 'incremental refresh: last_trade_at, refreshed_at, refresh_error, refresh_attempted_at, refresh_attempts' },
  { version: 4, description: 'backfill_runs: one row per finished run, with the bytes its BigQuery jobs billed' },
  { version: 5, description: 'checkpoint small_fills_excluded: trades fetched without the fills under 0.01 shares (filter_amount refused)' },
  { version: 6, description: 'unresolved_ids retried: retryable, attempts, last_attempt_at, given_up_at' },
  { version: 7, description: 'checkpoint failure_class, refresh_failure_class: why a wallet failed, as the engine classified it' },
  {
    version: 8,
    description: 'activity, combo_activity, market_resolutions; checkpoint fills_loaded, activity_loaded, activity_count, last_activity_at',
  },
  { version: 9, description: 'positions and wallet_stats: profit replayed per wallet (src/pnl), kept current after each load' },
  { version: 10, description: 'refresh by the global trade feed: feed_walks; checkpoint activity_due' },
  { version: 11, description: 'chain audit: audit_results, audit_mismatches, audit_progress, audit_chain_fills' },
  { version: 12, description: 'events market_ids: the condition ids of an event\'s markets, so every member of a neg-risk group is held' },
  {
    version: 13,
    description: 'wallet_stats and positions: after-fees figures are NULL where a fill\'s fee is unknown (they equalled the before-fees ones); every computed wallet recomputed',
    dataStep: (d) => `UPDATE ${d.table('wallet_stats')} SET stale = TRUE WHERE computed_at IS NOT NULL`,
  },
];
