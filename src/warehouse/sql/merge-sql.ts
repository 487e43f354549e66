import type { LoadedTableSpec } from '../table-schemas.js';
import type { Dialect } from './dialect.js';
import { param } from './dialect.js';
import type { Params } from './dialect.js';

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
  prune?: { timeRange: boolean; timeRanges?: number };
  /** An upsert target merged without its UPDATE clause: only new keys are inserted (knownStagedKeysSql found none known). */
  insertOnly?: boolean;
  /**
   * The target holds no row of the batch's wallets (counted just before, in the same transaction):
   * the `not-exists` form inserts every staged row without its anti-join.
   */
  noExistingRows?: boolean;
}

/**
 * `timeRanges: n` replaces the one batch-wide range by n half-open ranges on the partition column,
 * `timestamp >= @ts_from_i AND timestamp < @ts_to_i`, OR'ed: the runs of consecutive months the
 * batch's staged trades fall in (monthRanges). Still constants, so BigQuery prunes every month the
 * batch has no trade in, where one [min, max] range over ~200 wallets spans most of the history.
 */
export function timeRangesSql(d: Dialect, column: string, count: number): string {
  const ranges = Array.from({ length: count }, (_, i) => `${column} >= ${d.param(`ts_from_${i}`)} AND ${column} < ${d.param(`ts_to_${i}`)}`);
  return ranges.length === 1 ? ranges[0]! : `(${ranges.map((r) => `(${r})`).join(' OR ')})`;
}

/** The parameters of timeRangesSql for these ranges. */
export function timeRangeParams(ranges: readonly { from: string; to: string }[]): Params {
  const params: Params = {};
  ranges.forEach((range, i) => {
    params[`ts_from_${i}`] = param.timestamp(range.from);
    params[`ts_to_${i}`] = param.timestamp(range.to);
  });
  return params;
}

/**
 * Distinct month starts (ISO-8601 UTC) → runs of consecutive months as half-open ranges
 * [first month's start, the start of the month after the last). Exact for the partition pruning:
 * every trade of those months is inside, and no range covers a month without a staged trade.
 */
export function monthRanges(months: readonly string[]): { from: string; to: string }[] {
  const starts = [...new Set(months.map((m) => monthStartMs(m)))].sort((a, b) => a - b);
  const ranges: { from: number; to: number }[] = [];
  for (const start of starts) {
    const last = ranges.at(-1);
    if (last && last.to === start) last.to = nextMonthMs(start);
    else ranges.push({ from: start, to: nextMonthMs(start) });
  }
  return ranges.map((r) => ({ from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString() }));
}

function monthStartMs(iso: string): number {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) throw new Error(`not a timestamp: ${JSON.stringify(iso)}`);
  return Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), 1);
}

function nextMonthMs(startMs: number): number {
  const t = new Date(startMs);
  return Date.UTC(t.getUTCFullYear(), t.getUTCMonth() + 1, 1);
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
  const names = spec.columns.map((c) => q(c.name));
  if (options.prune && spec.merge === 'insert-only' && d.insertOnly === 'not-exists') {
    // The anti-join's target side is a filtered scan of the batch's wallets, which zone maps on
    // proxy_wallet prune to the row groups that can hold them; a MERGE would join the whole table.
    const match = spec.key.map((k) => `t.${q(k)} = s.${q(k)}`).join(' AND ');
    const insert = `INSERT INTO ${d.table(spec.table)} (${names.join(', ')}, ${q('loaded_at')})
SELECT ${names.map((n) => `s.${n}`).join(', ')}, ${d.now()} FROM (
  ${rows}
) AS s`;
    if (options.noExistingRows) return insert;
    return `${insert}
WHERE NOT EXISTS (SELECT 1 FROM ${d.table(spec.table)} AS t WHERE ${d.inList(`t.${q('proxy_wallet')}`, 'wallets')} AND ${match})`;
  }
  const on = spec.key.map((k) => `t.${q(k)} = s.${q(k)}`);
  if (options.prune) {
    if (options.prune.timeRanges) on.push(timeRangesSql(d, `t.${q('timestamp')}`, options.prune.timeRanges));
    else if (options.prune.timeRange) on.push(`t.${q('timestamp')} BETWEEN ${d.param('min_ts')} AND ${d.param('max_ts')}`);
    on.push(d.inList(`t.${q('proxy_wallet')}`, 'wallets'));
  }
  const update =
    spec.merge === 'upsert' && !options.insertOnly
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
 * Per wallet of a batch's staged trades: rows, distinct trade ids, time range and (`months`) the
 * distinct months of its rows as comma-separated ISO month starts. Checked before the MERGE (every
 * row belongs to a wallet of the batch, each wallet's row count is what its manifest says) and used
 * for the MERGE's pruning constants. Repeated ids are found by comparing each id with the one
 * before it in id order: a sort, which DuckDB spills to disk, where a COUNT(DISTINCT) or a GROUP BY
 * over a 500,000-trade whale's ids would need a hash table of them all in memory.
 */
export function stagedTradesSql(d: Dialect, relation: string, options: { months?: boolean } = {}): string {
  const q = (column: string) => d.id(column);
  const months = options.months ? `, STRING_AGG(DISTINCT ${d.isoMicros(d.monthStart(q('timestamp')))}, ',') AS months` : '';
  return `SELECT wallet, COUNT(*) AS row_count, COUNT(*) - COUNT(repeated) AS key_count,
  ${d.isoMicros(`MIN(${q('timestamp')})`)} AS min_ts, ${d.isoMicros(`MAX(${q('timestamp')})`)} AS max_ts${months}
FROM (
  SELECT ${q('proxy_wallet')} AS wallet, ${q('timestamp')},
    CASE WHEN ${q('trade_id')} = LAG(${q('trade_id')}) OVER (PARTITION BY ${q('proxy_wallet')} ORDER BY ${q('trade_id')}) THEN 1 END AS repeated
  FROM ${relation}
) AS k GROUP BY wallet`;
}

/** Whether the warehouse holds any trade of the wallets `wallets`: reads proxy_wallet alone, stops at the first. */
export function anyTradeOfWalletsSql(d: Dialect): string {
  return `SELECT 1 AS found FROM ${d.table('trades')} WHERE ${d.inList(d.id('proxy_wallet'), 'wallets')} LIMIT 1`;
}

/**
 * What the warehouse holds for each wallet of the string-list parameter `wallets` after a MERGE:
 * the checkpoint's `trade_count` and `last_trade_at` (`newest`), and (rows ≠ keys) the proof that
 * no trade was inserted twice. With `timeRanges` it reads only the batch's months (timeRangesSql;
 * BigQuery bills the rest otherwise): a backfill's staged file is the wallet's whole history, so its
 * months hold every trade the wallet has; only trades the API no longer returns, loaded by an
 * earlier run, would be left out. A refresh window is not a whole history: it is counted unpruned.
 */
export function walletTradeCountsSql(d: Dialect, options: { keys: boolean; timeRanges?: number } = { keys: true }): string {
  const q = (column: string) => d.id(column);
  // Without a duplicate check (a backend whose loads are transactions) rows are keys, and a
  // distinct count would hold every trade id of the batch's wallets in a hash table.
  const keys = options.keys ? `COUNT(DISTINCT ${q('trade_id')})` : 'COUNT(*)';
  return `SELECT ${q('proxy_wallet')} AS wallet, COUNT(*) AS row_count, ${keys} AS key_count,
  ${d.isoMicros(`MAX(${q('timestamp')})`)} AS newest
FROM ${d.table('trades')} WHERE ${d.inList(q('proxy_wallet'), 'wallets')}${options.timeRanges ? ` AND ${timeRangesSql(d, q('timestamp'), options.timeRanges)}` : ''} GROUP BY ${q('proxy_wallet')}`;
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

/**
 * How many distinct staged keys of an upsert target the target already holds (one row, `known`).
 * Reads the key column of both tables only: the cheap question that lets a batch of new keys merge
 * insert-only.
 */
export function knownStagedKeysSql(d: Dialect, spec: LoadedTableSpec, relation: string): string {
  const q = (column: string) => d.id(column);
  const match = spec.key.map((k) => `t.${q(k)} = s.${q(k)}`).join(' AND ');
  return `SELECT COUNT(*) AS known FROM (SELECT DISTINCT ${spec.key.map(q).join(', ')} FROM ${relation}) AS s
WHERE EXISTS (SELECT 1 FROM ${d.table(spec.table)} AS t WHERE ${match})`;
}
