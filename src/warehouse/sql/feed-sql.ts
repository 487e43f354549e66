import type { LogicalType } from '../table-schemas.js';
import type { Dialect } from './dialect.js';

/**
 * Completed wallets a feed refresh tracks, in a stable order, each with its horizon: the time up to which its history
 * is already complete (its last refresh, else its backfill), ISO-8601 UTC. Parameters: `max_failed_attempts`,
 * `shard_count`/`shard_index`.
 */
export function feedPlanSql(d: Dialect): string {
  return `SELECT k.wallet_address AS wallet, ${d.isoMicros('COALESCE(k.refreshed_at, k.processed_at)')} AS horizon
FROM ${d.table('backfill_checkpoint')} AS k
WHERE COALESCE(k.completed, FALSE) AND COALESCE(k.upload_successful, FALSE)
  AND COALESCE(k.refresh_attempts, 0) < ${d.param('max_failed_attempts')}
  AND ${d.shard('k.wallet_address', 'shard_count')} = ${d.param('shard_index')}
ORDER BY k.wallet_address`;
}

/** Fields of a `feed_walks` row as written (parameter `rows`). */
export const FEED_WALK_FIELDS = {
  walk_id: 'string',
  run_id: 'string',
  status: 'string',
  started_at: 'timestamp',
  covered_from: 'timestamp',
  down_to: 'timestamp',
  newest_at: 'timestamp',
  oldest_at: 'timestamp',
  resume_cursor: 'string',
  resume_ts: 'int',
  pages: 'int',
  rows_seen: 'int',
  rows_kept: 'int',
  wallets_touched: 'int',
  updated_at: 'timestamp',
  finished_at: 'timestamp',
  note: 'string',
} as const satisfies Record<string, LogicalType>;

/** One row per feed walk, upserted as it commits pages: the walk's progress is the resume point of its last commit. */
export function saveFeedWalkSql(d: Dialect): string {
  const columns = Object.keys(FEED_WALK_FIELDS);
  return `MERGE INTO ${d.table('feed_walks')} AS t
USING (SELECT * FROM ${d.rows('rows')}) AS s
ON t.walk_id = s.walk_id
WHEN MATCHED THEN UPDATE SET ${columns
    .filter((c) => c !== 'walk_id')
    .map((c) => `${c} = s.${c}`)
    .join(', ')}
WHEN NOT MATCHED THEN INSERT (${columns.join(', ')}) VALUES (${columns.map((c) => `s.${c}`).join(', ')})`;
}

/** The latest feed walk that has not finished (`running`), if any: the next feed refresh resumes it. */
export function unfinishedFeedWalkSql(d: Dialect): string {
  return `SELECT walk_id, run_id, ${d.isoMicros('started_at')} AS started_at, ${d.isoMicros('covered_from')} AS covered_from,
  ${d.isoMicros('down_to')} AS down_to, ${d.isoMicros('newest_at')} AS newest_at, ${d.isoMicros('oldest_at')} AS oldest_at,
  resume_cursor, resume_ts, pages, rows_seen, rows_kept, wallets_touched
FROM ${d.table('feed_walks')} WHERE status = ${d.literal('running')}
ORDER BY started_at DESC LIMIT 1`;
}

/** The feed's rows per hour as the last finished walks measured them (`rows_seen` over the hours they covered). */
export function feedRateSql(d: Dialect): string {
  return `SELECT SUM(rows_seen) AS rows_seen, SUM(${d.epochSeconds('newest_at')} - ${d.epochSeconds('oldest_at')}) AS seconds
FROM (SELECT rows_seen, newest_at, oldest_at FROM ${d.table('feed_walks')}
      WHERE status = ${d.literal('done')} AND newest_at > oldest_at ORDER BY finished_at DESC LIMIT 5) AS w`;
}

/**
 * After a feed walk covered every completed wallet whose horizon is at or after `covered_from` up to `covered_at`:
 * their refresh is as good as a per-wallet one up to that time. A wallet whose horizon lies before `covered_from`
 * (outside the feed's window) is refreshed per wallet instead. Parameters: `covered_from`, `covered_at`,
 * `shard_count`/`shard_index`.
 */
export function markFeedCoveredSql(d: Dialect): string {
  return `UPDATE ${d.table('backfill_checkpoint')} SET refreshed_at = ${d.param('covered_at')}, refresh_error = NULL, refresh_failure_class = NULL,
  refresh_attempted_at = ${d.now()}, refresh_attempts = 0
WHERE COALESCE(completed, FALSE) AND COALESCE(upload_successful, FALSE)
  AND COALESCE(refreshed_at, processed_at) >= ${d.param('covered_from')}
  AND COALESCE(refreshed_at, processed_at) < ${d.param('covered_at')}
  AND ${d.shard('wallet_address', 'shard_count')} = ${d.param('shard_index')}`;
}

/** Wallets of the string-list parameter `wallets` whose activity is to be refreshed (the feed saw them trade). */
export function markActivityDueSql(d: Dialect): string {
  return `UPDATE ${d.table('backfill_checkpoint')} SET activity_due = TRUE
WHERE ${d.inList('wallet_address', 'wallets')} AND NOT COALESCE(activity_due, FALSE)`;
}

/** Shares of a combo below which a wallet that bought it by fills no longer holds it (rounding of sold-out positions). */
const COMBO_DUST_SHARES = 0.000001;

/** A leg's condition id in the `legs` JSON text of a combo row (as the API serves it; stored by JSON.stringify). */
const LEG_CONDITION_ID = '"leg_condition_id": *"(0x[0-9a-fA-F]+)"';

/**
 * Completed wallets holding fills in the markets of the string-list parameter `ids` (just resolved), or a combo that
 * may have a leg among them: their redemptions are activity to refresh, though the feed may not have seen them trade.
 * A combo is redeemed once its legs resolve, and its holder need not hold a leg on its own (a combo's fills carry its
 * own condition id, not the legs'). The legs come from the wallet's combo rows; a combo it still holds by fills alone
 * (bought more than sold, no combo row yet: bought, not minted) has legs no wallet-free request tells, so its holder
 * is queued whenever markets resolve, until a row of that combo (its REDEEM) names them. One it sold out is not.
 */
export function markHoldersActivityDueSql(d: Dialect): string {
  const q = (c: string) => d.id(c);
  return `UPDATE ${d.table('backfill_checkpoint')} SET activity_due = TRUE
WHERE COALESCE(completed, FALSE) AND COALESCE(upload_successful, FALSE) AND NOT COALESCE(activity_due, FALSE)
  AND (wallet_address IN (SELECT DISTINCT ${q('proxy_wallet')} FROM ${d.table('trades')} WHERE ${d.inList(q('condition_id'), 'ids')})
    OR wallet_address IN (SELECT DISTINCT c.${q('proxy_wallet')} FROM ${d.table('combo_activity')} AS c, ${d.regexpMatches(`c.${q('legs')}`, LEG_CONDITION_ID, 'leg')}
      WHERE ${d.inList(`LOWER(${q('leg')})`, 'ids')})
    OR wallet_address IN (SELECT t.${q('proxy_wallet')} FROM ${d.table('trades')} AS t
      WHERE NOT ${d.matches(`t.${q('condition_id')}`, '^0x[0-9a-f]{64}$')}
        AND NOT EXISTS (SELECT 1 FROM ${d.table('combo_activity')} AS k WHERE k.${q('proxy_wallet')} = t.${q('proxy_wallet')} AND k.${q('combo_condition_id')} = t.${q('condition_id')})
      GROUP BY t.${q('proxy_wallet')}, t.${q('condition_id')}
      HAVING SUM(CASE WHEN UPPER(t.${q('side')}) = 'SELL' THEN -t.${q('size')} ELSE t.${q('size')} END) > ${COMBO_DUST_SHARES}))`;
}
