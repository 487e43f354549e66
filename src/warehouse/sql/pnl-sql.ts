/**
 * The statements behind `positions` and `wallet_stats`: what the profit replay reads for a batch of wallets (one
 * query per table, filtered by the batch's wallets or the ids their rows name), how a batch's results replace the
 * wallets' rows, and the `stale` flag that keeps them current across crashes (set by the load that brings a wallet
 * new rows, or by a market's resolution reaching its holders; cleared by the write of its recomputed figures).
 */
import { POSITIONS_COLUMNS, WALLET_STATS_COLUMNS } from '../table-schemas.js';
import type { LogicalType } from '../table-schemas.js';
import type { Dialect } from './dialect.js';

/** The fields of the `rows` parameter of the positions writers: the table's columns, as declared there. */
export const POSITION_ROW_FIELDS: Readonly<Record<string, LogicalType>> = Object.fromEntries(POSITIONS_COLUMNS.map((c) => [c.name, c.type]));
/** The fields of the `rows` parameter of the wallet_stats writers. */
export const WALLET_STATS_ROW_FIELDS: Readonly<Record<string, LogicalType>> = Object.fromEntries(WALLET_STATS_COLUMNS.map((c) => [c.name, c.type]));

/** The activity types the replay reads: the four that move a position, and TRADE rows for the fee inside usdc_size. */
export const PNL_ACTIVITY_TYPES = ['SPLIT', 'MERGE', 'REDEEM', 'CONVERSION', 'TRADE'] as const;

/**
 * Marks the wallets of the string list `wallets` stale (a row without figures for a wallet seen the first time). Run
 * by the load before it merges the wallets' rows: where loads are not transactions, a load that died half-way still
 * left the flag.
 */
export function markWalletsStaleSql(d: Dialect): string {
  return `MERGE INTO ${d.table('wallet_stats')} AS t
USING (SELECT DISTINCT w FROM ${d.list('wallets', 'w')}) AS s
ON t.proxy_wallet = s.w
WHEN MATCHED THEN UPDATE SET stale = TRUE
WHEN NOT MATCHED THEN INSERT (proxy_wallet, stale) VALUES (s.w, TRUE)`;
}

/**
 * Marks stale the wallets holding a market of the staged `relation` that changes their replay: a resolution that
 * becomes final (`resolutions`: it makes positions redeemable or lost and decides wins and losses), a market the
 * warehouse did not know (`markets`: its tokens and neg-risk place were unknown to the replay), or a neg-risk event
 * listed with its markets for the first time (`events`: its group was held without them until now). A new neg-risk
 * market or a newly listed event also changes the replay of every wallet holding another market of its group: a
 * conversion there hands out YES of each question, priced by how many the group has. Run before the relation is
 * merged, so "new" is read from the target. Holders are the wallets with a position in the market, or an activity row
 * naming it (a redemption of a market unknown until now left no position); wallets without a wallet_stats row are
 * found by staleWalletsSql anyway.
 */
export function markHoldersStaleSql(d: Dialect, relation: string, kind: 'resolutions' | 'markets' | 'events'): string {
  const m = d.table('markets');
  const groupsOf = (groups: string) => `SELECT g.condition_id FROM ${m} AS g WHERE g.neg_risk_market_id IN (${groups})`;
  let changed: string;
  if (kind === 'resolutions') {
    changed = `SELECT s.condition_id FROM ${relation} AS s
    WHERE s.status = ${d.literal('resolved')} AND s.payouts IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM ${d.table('market_resolutions')} AS r WHERE r.condition_id = s.condition_id AND r.status = ${d.literal('resolved')})`;
  } else if (kind === 'markets') {
    const fresh = `NOT EXISTS (SELECT 1 FROM ${m} AS m WHERE m.condition_id = s.condition_id)`;
    changed = `SELECT s.condition_id FROM ${relation} AS s WHERE ${fresh}
    UNION ALL
    ${groupsOf(`SELECT s.neg_risk_market_id FROM ${relation} AS s WHERE COALESCE(s.neg_risk, FALSE) AND s.neg_risk_market_id IS NOT NULL AND ${fresh}`)}`;
  } else {
    changed = groupsOf(`SELECT s.neg_risk_market_id FROM ${relation} AS s
      WHERE s.market_ids IS NOT NULL AND s.neg_risk_market_id IS NOT NULL AND (COALESCE(s.neg_risk, FALSE) OR COALESCE(s.enable_neg_risk, FALSE))
        AND EXISTS (SELECT 1 FROM ${d.table('events')} AS e WHERE e.event_id = s.event_id AND e.market_ids IS NULL)`);
  }
  return `MERGE INTO ${d.table('wallet_stats')} AS t
USING (
  SELECT DISTINCT h.proxy_wallet AS w FROM (
    SELECT proxy_wallet, condition_id FROM ${d.table('positions')}
    UNION ALL
    SELECT proxy_wallet, condition_id FROM ${d.table('activity')}
  ) AS h
  WHERE h.condition_id IN (
    ${changed}
  )
) AS s
ON t.proxy_wallet = s.w
WHEN MATCHED THEN UPDATE SET stale = TRUE`;
}

/** The fills of the wallets of `wallets`: what the replay needs of each, the time as ISO-8601 with microseconds. */
export function pnlFillsSql(d: Dialect): string {
  const q = (column: string) => d.id(column);
  return `SELECT ${q('proxy_wallet')} AS wallet, ${q('asset')} AS asset, ${q('condition_id')} AS condition_id, ${q('outcome_index')} AS outcome_index,
  ${q('side')} AS side, ${q('size')} AS size, ${q('price')} AS price, ${q('transaction_hash')} AS transaction_hash,
  ${d.isoMicros(q('timestamp'))} AS ts, ${q('fill_seq')} AS fill_seq
FROM ${d.table('trades')} WHERE ${d.inList(q('proxy_wallet'), 'wallets')}`;
}

/** The activity rows of the wallets of `wallets` that the replay reads (PNL_ACTIVITY_TYPES). */
export function pnlActivitySql(d: Dialect): string {
  const q = (column: string) => d.id(column);
  return `SELECT ${q('proxy_wallet')} AS wallet, ${q('type')} AS type, ${q('condition_id')} AS condition_id, ${q('token_id')} AS token_id,
  ${q('outcome_index')} AS outcome_index, ${q('side')} AS side, ${q('size')} AS size, ${q('usdc_size')} AS usdc_size, ${q('price')} AS price,
  ${q('transaction_hash')} AS transaction_hash, ${d.isoMicros(q('timestamp'))} AS ts, ${q('activity_seq')} AS activity_seq
FROM ${d.table('activity')}
WHERE ${d.inList(q('proxy_wallet'), 'wallets')} AND ${q('type')} IN (${PNL_ACTIVITY_TYPES.map((t) => d.literal(t)).join(', ')})`;
}

/**
 * The markets of the condition ids `ids`, and every market of the neg-risk groups of the condition ids `converted`
 * (a conversion hands out YES of every other question of the group). `raw` only where the question index is read.
 */
export function pnlMarketsSql(d: Dialect): string {
  const m = d.table('markets');
  return `SELECT condition_id, clob_token_ids, neg_risk, neg_risk_market_id, event_ids, CASE WHEN neg_risk THEN raw END AS raw
FROM ${m}
WHERE ${d.inList('condition_id', 'ids')}
   OR neg_risk_market_id IN (SELECT g.neg_risk_market_id FROM ${m} AS g WHERE ${d.inList('g.condition_id', 'converted')} AND g.neg_risk_market_id IS NOT NULL)`;
}

/** The resolutions of the condition ids `ids`. */
export function pnlResolutionsSql(d: Dialect): string {
  return `SELECT condition_id, status, payouts FROM ${d.table('market_resolutions')} WHERE ${d.inList('condition_id', 'ids')}`;
}

/** The category and tags of the events `ids`: where a market's category comes from. */
export function eventCategoriesSql(d: Dialect): string {
  return `SELECT event_id, category, tags FROM ${d.table('events')} WHERE ${d.inList('event_id', 'ids')}`;
}

/** What wallet_stats holds of the wallets of `wallets`: each one's fingerprint, and whether its figures were ever computed. */
export function statsFingerprintsSql(d: Dialect): string {
  return `SELECT proxy_wallet AS wallet, fingerprint, computed_at IS NOT NULL AS computed FROM ${d.table('wallet_stats')}
WHERE ${d.inList('proxy_wallet', 'wallets')}`;
}

/** Clears the flag of the wallets of `wallets` whose recomputed figures are the ones held. */
export function clearStaleSql(d: Dialect): string {
  return `UPDATE ${d.table('wallet_stats')} SET stale = FALSE WHERE ${d.inList('proxy_wallet', 'wallets')}`;
}

/** Removes the rows of `table` of the wallets of `wallets` (the first half of a replace inside a transaction). */
export function deleteWalletRowsSql(d: Dialect, table: 'positions' | 'wallet_stats'): string {
  return `DELETE FROM ${d.table(table)} WHERE ${d.inList('proxy_wallet', 'wallets')}`;
}

/** Inserts the rows of the parameter `rows` into `table` (the second half of a replace inside a transaction). */
export function insertRowsSql(d: Dialect, table: 'positions' | 'wallet_stats'): string {
  const columns = Object.keys(table === 'positions' ? POSITION_ROW_FIELDS : WALLET_STATS_ROW_FIELDS);
  return `INSERT INTO ${d.table(table)} (${columns.join(', ')})
SELECT ${columns.join(', ')} FROM ${d.rows('rows')}`;
}

/**
 * One statement that replaces the positions of the wallets of `wallets` by the rows of `rows` (where statements are
 * not in transactions, one statement is what commits at once): rows of the source are upserted on (wallet, token),
 * and the wallets' rows the source does not hold are deleted. With an empty `wallets` nothing is deleted (the first
 * parts of a wallet too large for one statement, whose stale tokens deleteStaleTokensSql removes at the end).
 */
export function replacePositionsSql(d: Dialect): string {
  const columns = Object.keys(POSITION_ROW_FIELDS);
  const key = ['proxy_wallet', 'token_id'];
  return `MERGE INTO ${d.table('positions')} AS t
USING (SELECT * FROM ${d.rows('rows')}) AS s
ON t.proxy_wallet = s.proxy_wallet AND t.token_id = s.token_id
WHEN MATCHED THEN UPDATE SET ${columns.filter((c) => !key.includes(c)).map((c) => `${c} = s.${c}`).join(', ')}
WHEN NOT MATCHED THEN INSERT (${columns.join(', ')}) VALUES (${columns.map((c) => `s.${c}`).join(', ')})
WHEN NOT MATCHED BY SOURCE AND ${d.inList('t.proxy_wallet', 'wallets')} THEN DELETE`;
}

/** The positions of the wallet `wallet` whose token is not among `tokens`: the end of a replace written in parts. */
export function deleteStaleTokensSql(d: Dialect): string {
  return `DELETE FROM ${d.table('positions')} WHERE proxy_wallet = ${d.param('wallet')} AND NOT (${d.inList('token_id', 'tokens')})`;
}

/** Upserts the rows of `rows` into wallet_stats on the wallet (one statement: the flag clears with the figures). */
export function upsertWalletStatsSql(d: Dialect): string {
  const columns = Object.keys(WALLET_STATS_ROW_FIELDS);
  return `MERGE INTO ${d.table('wallet_stats')} AS t
USING (SELECT * FROM ${d.rows('rows')}) AS s
ON t.proxy_wallet = s.proxy_wallet
WHEN MATCHED THEN UPDATE SET ${columns.filter((c) => c !== 'proxy_wallet').map((c) => `${c} = s.${c}`).join(', ')}
WHEN NOT MATCHED THEN INSERT (${columns.join(', ')}) VALUES (${columns.map((c) => `s.${c}`).join(', ')})`;
}

/**
 * Wallets whose figures are to be computed, in this shard (`shard_count`, `shard_index`), at most `limit`, in a stable
 * order: flagged stale, or loaded (fills_loaded, or completed by a version before per-kind columns) without any
 * wallet_stats row (loaded before the table existed).
 */
export function staleWalletsSql(d: Dialect): string {
  return `SELECT wallet FROM (
  SELECT proxy_wallet AS wallet FROM ${d.table('wallet_stats')} WHERE COALESCE(stale, FALSE)
  UNION ALL
  SELECT c.wallet_address AS wallet FROM ${d.table('backfill_checkpoint')} AS c
  WHERE (COALESCE(c.fills_loaded, FALSE) OR (COALESCE(c.completed, FALSE) AND COALESCE(c.upload_successful, FALSE)))
    AND NOT EXISTS (SELECT 1 FROM ${d.table('wallet_stats')} AS s WHERE s.proxy_wallet = c.wallet_address)
) AS x
WHERE ${d.shard('wallet', 'shard_count')} = ${d.param('shard_index')}
GROUP BY wallet ORDER BY wallet LIMIT ${d.param('limit')}`;
}

/** How a ranking of wallets is ordered; every order ends on the wallet, so ties read the same on every backend. */
export const STATS_ORDERS = {
  pnl: 'realized_pnl DESC',
  // Return on cost is after fees, unknown (NULL) where a fill's fee is: those wallets rank after every wallet whose
  // return is known, among themselves by their return before fees (the figure held), then by profit.
  roi: 'return_on_cost DESC NULLS LAST, realized_pnl / NULLIF(cost_bought_usdc, 0) DESC NULLS LAST, realized_pnl DESC',
  'win-rate': 'win_rate DESC NULLS LAST, win_rate_sample DESC',
  volume: 'volume_usdc DESC',
} as const;
export type StatsOrder = keyof typeof STATS_ORDERS;

/** The columns of wallet_stats a ranking reads, timestamps as ISO-8601 seconds. */
function statsColumns(d: Dialect): string {
  return WALLET_STATS_COLUMNS.filter((c) => c.name !== 'fingerprint')
    .map((c) => (c.type === 'timestamp' ? `${d.isoSeconds(c.name)} AS ${c.name}` : c.name))
    .join(', ');
}

/**
 * Wallets ranked by `order`, computed at least once, having traded at least `min_markets` markets, at most `limit`;
 * with `onlyWallet`, the one wallet of the parameter `wallet`.
 */
export function walletStatsSql(d: Dialect, order: StatsOrder, options: { onlyWallet?: boolean } = {}): string {
  const filter = options.onlyWallet ? `proxy_wallet = ${d.param('wallet')}` : `computed_at IS NOT NULL AND markets_traded >= ${d.param('min_markets')}`;
  return `SELECT ${statsColumns(d)} FROM ${d.table('wallet_stats')}
WHERE ${filter}
ORDER BY ${STATS_ORDERS[order]}, proxy_wallet LIMIT ${d.param('limit')}`;
}

/** How many wallets have figures, and how many of them are stale (waiting for the next run to recompute them). */
export function statsCountsSql(d: Dialect): string {
  return `SELECT COUNT(*) AS wallets, COALESCE(SUM(CASE WHEN computed_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS computed,
  COALESCE(SUM(CASE WHEN COALESCE(stale, FALSE) THEN 1 ELSE 0 END), 0) AS stale
FROM ${d.table('wallet_stats')}`;
}

/** The positions of the wallet `wallet` by market, with the market's question, timestamps as ISO-8601 seconds. */
export function walletPositionsSql(d: Dialect): string {
  const columns = POSITIONS_COLUMNS.map((c) => (c.type === 'timestamp' ? `${d.isoSeconds(`p.${c.name}`)} AS ${c.name}` : `p.${c.name}`));
  return `SELECT ${columns.join(', ')}, m.question
FROM ${d.table('positions')} AS p
LEFT JOIN ${d.table('markets')} AS m ON m.condition_id = p.condition_id
WHERE p.proxy_wallet = ${d.param('wallet')}
ORDER BY p.condition_id, p.outcome_index, p.token_id`;
}
