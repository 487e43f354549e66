import type { LoadedTableSpec } from '../table-schemas.js';
import type { Dialect } from './dialect.js';

/** Staged rows of one kind, as the driver exposes them to SQL. */
export interface MergeSource {
  /** FROM-clause text: a staging table, or a table function over the staged files. */
  relation: string;
  /** Known unique on the target's key: the MERGE then skips the de-duplicating window. */
  unique: boolean;
}

export interface MergeOptions {
  /**
   * Restrict the target side of the trades MERGE to the batch: `proxy_wallet` in the string-list
   * parameter `wallets`, and, with `timeRange`, `timestamp BETWEEN @min_ts AND @max_ts` (constants,
   * so BigQuery prunes partitions; a range computed by a subquery would not be pruned, dlt#2039).
   * Exact for the batch: a trade_id always has the same wallet and time, so no existing row can
   * fall outside the restriction and be inserted again.
   */
  prune?: { timeRange: boolean };
}

/**
 * One MERGE of a batch's staged rows into its target. The source is de-duplicated on the key
 * unless known unique (several wallets of a batch stage the same market; a file loaded twice
 * appears twice); among duplicates the most recently fetched row wins where the spec has a fetch time.
 * `insert-only` targets (trades) never rewrite a row; `upsert` targets (markets, events) refresh it.
 */
export function mergeSql(d: Dialect, spec: LoadedTableSpec, source: MergeSource, options: MergeOptions = {}): string {
  const q = (column: string) => d.id(column);
  const partition = spec.key.map(q).join(', ');
  const order = spec.columns.some((c) => c.name === 'fetched_at') ? ` ORDER BY ${q('fetched_at')} DESC` : '';
  const rows = source.unique
    ? `SELECT * FROM ${source.relation}`
    : `SELECT * FROM ${source.relation} WHERE TRUE
  QUALIFY ROW_NUMBER() OVER (PARTITION BY ${partition}${order}) = 1`;
  const on = spec.key.map((k) => `t.${q(k)} = s.${q(k)}`);
  if (options.prune) {
    if (options.prune.timeRange) on.push(`t.${q('timestamp')} BETWEEN ${d.param('min_ts')} AND ${d.param('max_ts')}`);
    on.push(d.inList(`t.${q('proxy_wallet')}`, 'wallets'));
  }
  const names = spec.columns.map((c) => q(c.name));
  const update =
    spec.merge === 'upsert'
      ? `WHEN MATCHED THEN UPDATE SET ${spec.columns
          .filter((c) => !spec.key.includes(c.name))
          .map((c) => `${q(c.name)} = s.${q(c.name)}`)
          .join(', ')}, ${q('loaded_at')} = ${d.now()}\n`
      : '';
  return `MERGE INTO ${d.table(spec.table)} AS t
USING (
  ${rows}
) AS s
ON ${on.join(' AND ')}
${update}WHEN NOT MATCHED THEN INSERT (${names.join(', ')}, ${q('loaded_at')})
  VALUES (${names.map((n) => `s.${n}`).join(', ')}, ${d.now()})`;
}

/**
 * Per wallet of a batch's staged trades: rows, distinct trade ids and time range. Checked before
 * the MERGE (every row belongs to a wallet of the batch, each wallet's row count is what its
 * manifest says) and used for the MERGE's pruning constants.
 */
export function stagedTradesSql(d: Dialect, relation: string): string {
  const q = (column: string) => d.id(column);
  return `SELECT ${q('proxy_wallet')} AS wallet, COUNT(*) AS row_count, COUNT(DISTINCT ${q('trade_id')}) AS key_count,
  ${d.isoMicros(`MIN(${q('timestamp')})`)} AS min_ts, ${d.isoMicros(`MAX(${q('timestamp')})`)} AS max_ts
FROM ${relation} GROUP BY ${q('proxy_wallet')}`;
}

/**
 * What the warehouse holds for each wallet of the string-list parameter `wallets` after a MERGE:
 * the checkpoint's `trade_count`, and (rows ≠ keys) the proof that no trade was inserted twice.
 */
export function walletTradeCountsSql(d: Dialect): string {
  const q = (column: string) => d.id(column);
  return `SELECT ${q('proxy_wallet')} AS wallet, COUNT(*) AS row_count, COUNT(DISTINCT ${q('trade_id')}) AS key_count,
  ${d.isoMicros(`MAX(${q('timestamp')})`)} AS newest
FROM ${d.table('trades')} WHERE ${d.inList(q('proxy_wallet'), 'wallets')} GROUP BY ${q('proxy_wallet')}`;
}

/**
 * Removes the later copies of trade ids inserted twice for the wallets of `wallets` (only two
 * overlapping runners on a backend without transactions can cause it): every copy but the first
 * loaded is deleted. Copies loaded by one statement share `loaded_at` and are left for a report.
 */
export function repairDuplicateTradesSql(d: Dialect): string {
  const q = (column: string) => d.id(column);
  return `MERGE INTO ${d.table('trades')} AS t
USING (
  SELECT ${q('trade_id')}, MIN(${q('loaded_at')}) AS first_loaded FROM ${d.table('trades')}
  WHERE ${d.inList(q('proxy_wallet'), 'wallets')}
  GROUP BY ${q('trade_id')} HAVING COUNT(*) > 1
) AS s
ON t.${q('trade_id')} = s.${q('trade_id')} AND t.${q('loaded_at')} > s.first_loaded AND ${d.inList(`t.${q('proxy_wallet')}`, 'wallets')}
WHEN MATCHED THEN DELETE`;
}
