import { checkpointMergeSql as sharedCheckpointMergeSql } from '../checkpoint-sql.js';
import { WALLET_PATTERN_SQL, missionStatusQueries } from '../status-queries.js';
import { CHECKPOINT_COLUMNS } from '../table-schemas.js';
import type { LoadedTableSpec } from '../table-schemas.js';
import { SQL_TYPES } from './bigquery-schema.js';
import type { ParamType } from './bigquery-jobs.js';

/**
 * Every statement the BigQuery warehouse sends, as pure functions of table names, so tests can
 * read them and run them on DuckDB (the two dialects agree on everything used here once backticked
 * names and `@param`s are translated). Values only ever arrive as `@parameters`; the only names
 * interpolated are backticked table references built from validated identifiers, and column names
 * from the static specs.
 */

/** Maps a bare table name to its backticked `project.dataset.table`. */
export type TableNamer = (table: string) => string;

const q = (column: string) => `\`${column}\``;

/**
 * `traders.wallet_address` normalised as the DuckDB warehouse (NORMALIZED_WALLET_SQL) and the CLI
 * do it: lower-cased, surrounding spaces, tabs and line breaks removed. Spelled with CHR() because
 * a quoted BigQuery string may not contain a raw tab or line break.
 */
export const normalizedWallet = (column: string) => `LOWER(TRIM(${column}, CONCAT(' ', CHR(9), CHR(10), CHR(13))))`;

// Valid normalised wallet: the same test the DuckDB warehouse applies, as a constant regex.
const VALID = (column: string) => `REGEXP_CONTAINS(${normalizedWallet(column)}, '${WALLET_PATTERN_SQL}')`;

export interface MergeOptions {
  /** Adds the partition/cluster pruning predicates of the trades MERGE (@min_ts, @max_ts, @wallets). */
  prune: boolean;
}

/**
 * One MERGE of a batch's staging table into its target. The source is de-duplicated on the key
 * first (several wallets of a batch stage the same market; a file loaded twice appears twice);
 * among duplicates the most recently fetched row wins where the spec has a fetch time.
 *
 * For trades, the ON clause carries `timestamp BETWEEN @min_ts AND @max_ts` (constants, so
 * BigQuery prunes partitions — a range computed by a subquery would not be pruned, dlt#2039) and
 * `proxy_wallet IN UNNEST(@wallets)` (cluster pruning). Both are exact for the batch: the caller
 * computes them from the staging table itself, and a trade_id always has the same timestamp and
 * wallet, so no existing row can fall outside them and be inserted again.
 */
export function mergeSql(spec: LoadedTableSpec, target: string, staging: string, options: MergeOptions): string {
  const partition = spec.key.map(q).join(', ');
  const order = spec.columns.some((c) => c.name === 'fetched_at') ? ` ORDER BY ${q('fetched_at')} DESC` : '';
  const on = spec.key.map((k) => `t.${q(k)} = s.${q(k)}`);
  if (options.prune) {
    on.push(`t.${q('timestamp')} BETWEEN @min_ts AND @max_ts`, `t.${q('proxy_wallet')} IN UNNEST(@wallets)`);
  }
  const names = spec.columns.map((c) => q(c.name));
  const update =
    spec.merge === 'upsert'
      ? `WHEN MATCHED THEN UPDATE SET ${spec.columns
          .filter((c) => !spec.key.includes(c.name))
          .map((c) => `${q(c.name)} = s.${q(c.name)}`)
          .join(', ')}, ${q('loaded_at')} = CURRENT_TIMESTAMP()\n`
      : '';
  return `MERGE INTO ${target} AS t
USING (
  SELECT * FROM ${staging} WHERE TRUE
  QUALIFY ROW_NUMBER() OVER (PARTITION BY ${partition}${order}) = 1
) AS s
ON ${on.join(' AND ')}
${update}WHEN NOT MATCHED THEN INSERT (${names.join(', ')}, ${q('loaded_at')})
  VALUES (${names.map((n) => `s.${n}`).join(', ')}, CURRENT_TIMESTAMP())`;
}

/** Per wallet of a trades staging table: its time range, from which the MERGE's pruning constants are taken. */
export function tradesRangeSql(staging: string): string {
  return `SELECT ${q('proxy_wallet')} AS wallet, UNIX_MICROS(MIN(${q('timestamp')})) AS min_us, UNIX_MICROS(MAX(${q('timestamp')})) AS max_us
FROM ${staging} GROUP BY ${q('proxy_wallet')}`;
}

/** The checkpoint row as a STRUCT parameter type (field order = CHECKPOINT_COLUMNS that the engine supplies). */
const CHECKPOINT_INPUT = ['wallet_address', 'upload_successful', 'trade_count', 'gcs_file', 'processed_at', 'error', 'run_id'] as const;

export const CHECKPOINT_ROW_TYPE: Record<string, ParamType> = {
  ...Object.fromEntries(CHECKPOINT_INPUT.map((name) => [name, SQL_TYPES[CHECKPOINT_COLUMNS.find((c) => c.name === name)!.type]])),
  // Not a column: whether a failure was an API outage, which does not count towards parking.
  transient: SQL_TYPES.bool,
};

/**
 * Upserts checkpoint rows from `@rows` (ARRAY<STRUCT>) in one MERGE — a query, never a streaming
 * insert (rows in the streaming buffer could not be MERGEd by the next batch). The statement is the
 * one DuckDB runs too (../checkpoint-sql.ts).
 */
export function checkpointMergeSql(n: TableNamer): string {
  return sharedCheckpointMergeSql({ target: n('backfill_checkpoint'), incoming: 'UNNEST(@rows)', maxParam: '@max_failed_attempts' });
}

/**
 * Wallets still to do, in a stable order: valid normalised wallets of `traders` minus those with a
 * successful checkpoint, minus parked ones unless @retry_parked, in shard @shard_index of
 * @shard_count. `ABS(MOD(…))` rather than `MOD(ABS(…))`: ABS of the smallest INT64 overflows.
 */
export function planSql(n: TableNamer): string {
  return `WITH candidates AS (
  SELECT DISTINCT ${normalizedWallet('wallet_address')} AS wallet FROM ${n('traders')}
  WHERE wallet_address IS NOT NULL AND ${VALID('wallet_address')}
)
SELECT c.wallet FROM candidates AS c
LEFT JOIN ${n('backfill_checkpoint')} AS k ON k.wallet_address = c.wallet
WHERE (k.wallet_address IS NULL
       OR (NOT (COALESCE(k.completed, FALSE) AND COALESCE(k.upload_successful, FALSE))
           AND (@retry_parked OR NOT COALESCE(k.parked, FALSE))))
  AND ABS(MOD(FARM_FINGERPRINT(c.wallet), @shard_count)) = @shard_index
ORDER BY c.wallet`;
}

export function invalidTradersSql(n: TableNamer): string {
  return `SELECT DISTINCT tr.wallet_address AS value FROM ${n('traders')} AS tr
WHERE tr.wallet_address IS NOT NULL AND NOT ${VALID('tr.wallet_address')}
  AND NOT EXISTS (SELECT 1 FROM ${n('backfill_checkpoint')} AS k WHERE k.wallet_address = tr.wallet_address)
ORDER BY value`;
}

/** Records invalid traders as failed, parked checkpoints; MERGE so two shards doing it at once insert each once. */
export function recordInvalidSql(n: TableNamer): string {
  return `MERGE INTO ${n('backfill_checkpoint')} AS t
USING (SELECT * FROM UNNEST(@rows)) AS s
ON t.wallet_address = s.wallet_address
WHEN NOT MATCHED THEN INSERT
  (wallet_address, completed, upload_successful, trade_count, gcs_file, processed_at, error, attempts, parked, run_id)
  VALUES (s.wallet_address, TRUE, FALSE, 0, NULL, CURRENT_TIMESTAMP(), s.error, 1, TRUE, @run_id)`;
}

/** New addresses into `traders` (migrate has made sure an existing table has these columns). */
export function addTradersSql(n: TableNamer): string {
  return `INSERT INTO ${n('traders')} (wallet_address, added_at, source)
SELECT w, CURRENT_TIMESTAMP(), @source FROM (SELECT DISTINCT w FROM UNNEST(@wallets) AS w) AS incoming
WHERE w NOT IN (SELECT ${normalizedWallet('wallet_address')} FROM ${n('traders')} WHERE wallet_address IS NOT NULL)`;
}

/** Every id a look-up may be answered from: resolved rows plus ids known to be unresolvable. */
export function knownIdsSql(n: TableNamer, kind: 'market' | 'event'): string {
  return kind === 'market'
    ? `SELECT condition_id AS id FROM ${n('markets')} UNION DISTINCT SELECT id FROM ${n('unresolved_ids')} WHERE kind = 'market'`
    : `SELECT event_id AS id FROM ${n('events')} UNION DISTINCT SELECT id FROM ${n('unresolved_ids')} WHERE kind = 'event'`;
}

export function missionQueries(n: TableNamer) {
  return missionStatusQueries({ checkpoint: n('backfill_checkpoint'), traders: n('traders') });
}

/** Our figures beyond the mission's; `total` and `completed` are computed exactly as the mission's queries do. */
export function statusFiguresSql(n: TableNamer): string {
  const ck = n('backfill_checkpoint');
  const tr = n('traders');
  return `SELECT
  (SELECT COUNT(*) FROM ${ck} WHERE completed = true AND upload_successful = true) AS completed,
  (SELECT COUNT(DISTINCT wallet_address) FROM ${tr} WHERE wallet_address IS NOT NULL) AS total,
  (SELECT COUNT(*) FROM ${ck} WHERE completed AND NOT upload_successful) AS failed,
  (SELECT COUNT(*) FROM ${ck} WHERE completed AND NOT upload_successful AND parked) AS parked,
  (SELECT COUNT(DISTINCT ${normalizedWallet('wallet_address')}) FROM ${tr}
     WHERE wallet_address IS NOT NULL AND ${VALID('wallet_address')}) AS valid_wallets,
  (SELECT COUNT(*) FROM (SELECT DISTINCT ${normalizedWallet('wallet_address')} AS w FROM ${tr}
     WHERE wallet_address IS NOT NULL AND ${VALID('wallet_address')}) AS c
     WHERE NOT EXISTS (SELECT 1 FROM ${ck} AS k WHERE k.wallet_address = c.w AND k.completed AND k.upload_successful)) AS pending,
  (SELECT COUNT(DISTINCT wallet_address) FROM ${tr}
     WHERE wallet_address IS NOT NULL AND NOT ${VALID('wallet_address')}) AS invalid_wallets,
  (SELECT COUNT(*) FROM ${n('trades')}) AS trades,
  (SELECT COUNT(*) FROM ${n('markets')}) AS markets,
  (SELECT COUNT(*) FROM ${n('events')}) AS events,
  (SELECT COUNT(*) FROM ${n('unresolved_ids')}) AS unresolved,
  (SELECT FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%SZ', MAX(processed_at)) FROM ${ck}) AS last_processed_at`;
}

export function failedWalletsSql(n: TableNamer): string {
  return `SELECT k.wallet_address, k.trade_count, FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%SZ', k.processed_at) AS processed_at,
       k.error, k.attempts, k.parked, k.gcs_file
FROM ${n('backfill_checkpoint')} AS k WHERE k.completed = true AND k.upload_successful = false
ORDER BY k.parked, k.processed_at DESC, k.wallet_address LIMIT @limit`;
}

export function appliedMigrationsSql(n: TableNamer): string {
  return `SELECT DISTINCT version FROM ${n('schema_migrations')} ORDER BY version`;
}

/** MERGE, not INSERT: two runners migrating at once record the version once. */
export function recordMigrationSql(n: TableNamer): string {
  return `MERGE INTO ${n('schema_migrations')} AS t
USING (SELECT @version AS version, @description AS description) AS s
ON t.version = s.version
WHEN NOT MATCHED THEN INSERT (version, description, applied_at) VALUES (s.version, s.description, CURRENT_TIMESTAMP())`;
}
