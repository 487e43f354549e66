import type { Dialect } from './dialect.js';

/**
 * Completed wallets to refresh, in a stable order, each with the newest fill and the newest activity row held
 * (NULL for a wallet that holds none: its whole history is fetched, which is as cheap as a window). Parameters:
 * `max_failed_attempts` (a wallet whose refresh failed that often is left out), `stale_before`
 * (only wallets not refreshed since; NULL for all), `shard_count`/`shard_index`, and with
 * `onlyListed` the string list `wallets`.
 */
export function refreshPlanSql(d: Dialect, options: { onlyListed: boolean; activityDueOnly?: boolean }): string {
  return `SELECT k.wallet_address AS wallet, ${d.isoMicros('k.last_trade_at')} AS since, ${d.isoMicros('k.last_activity_at')} AS activity_since
FROM ${d.table('backfill_checkpoint')} AS k
WHERE COALESCE(k.completed, FALSE) AND COALESCE(k.upload_successful, FALSE)
  AND COALESCE(k.refresh_attempts, 0) < ${d.param('max_failed_attempts')}
  AND (${d.param('stale_before')} IS NULL OR COALESCE(k.refreshed_at, k.processed_at) < ${d.param('stale_before')})
  AND ${d.shard('k.wallet_address', 'shard_count')} = ${d.param('shard_index')}${options.onlyListed ? `\n  AND ${d.inList('k.wallet_address', 'wallets')}` : ''}${
    options.activityDueOnly ? '\n  AND COALESCE(k.activity_due, FALSE)' : ''
  }
ORDER BY k.wallet_address`;
}

/**
 * Wallets checkpointed before `last_trade_at` existed get it from the trades they hold, once; after
 * that every load and refresh keeps it, so a refresh plan never scans `trades`.
 */
export function fillLastTradeAtSql(d: Dialect): string {
  const q = (c: string) => d.id(c);
  return `UPDATE ${d.table('backfill_checkpoint')} AS k SET last_trade_at = s.newest
FROM (
  SELECT ${q('proxy_wallet')} AS wallet, MAX(${q('timestamp')}) AS newest FROM ${d.table('trades')}
  WHERE ${d.inList(q('proxy_wallet'), 'wallets')} GROUP BY ${q('proxy_wallet')}
) AS s
WHERE k.wallet_address = s.wallet AND k.last_trade_at IS NULL`;
}

/** Completed wallets without `last_trade_at` that hold trades (checkpointed by an older version). */
export function missingLastTradeAtSql(d: Dialect): string {
  return `SELECT wallet_address AS wallet FROM ${d.table('backfill_checkpoint')}
WHERE COALESCE(completed, FALSE) AND COALESCE(upload_successful, FALSE) AND last_trade_at IS NULL AND COALESCE(trade_count, 0) > 0
ORDER BY wallet_address`;
}

/**
 * Markets held as open that may have resolved: their end date has passed (and they were not looked
 * at in the last `recent_before` window, so one awaiting resolution is not asked every run), or
 * they were fetched before `stale_before`. At most `limit`, the longest unrefreshed first.
 * Parameters: `now`, `recent_before`, `stale_before`, `limit`.
 */
export function staleMarketsSql(d: Dialect): string {
  return `SELECT condition_id AS id FROM ${d.table('markets')}
WHERE NOT COALESCE(closed, FALSE)
  AND ((end_date < ${d.param('now')} AND (fetched_at IS NULL OR fetched_at < ${d.param('recent_before')})) OR fetched_at < ${d.param('stale_before')} OR fetched_at IS NULL)
ORDER BY fetched_at, condition_id LIMIT ${d.param('limit')}`;
}

/** Wallets whose last refresh failed, newest failure first: shown apart from backfill failures. Parameter `limit`. */
export function refreshFailuresSql(d: Dialect): string {
  return `SELECT k.wallet_address, k.trade_count, ${d.isoSeconds('k.refresh_attempted_at')} AS processed_at,
       k.refresh_error AS error, COALESCE(k.refresh_attempts, 0) AS attempts, FALSE AS parked, k.gcs_file, k.refresh_failure_class AS failure_class
FROM ${d.table('backfill_checkpoint')} AS k
WHERE COALESCE(k.completed, FALSE) AND COALESCE(k.upload_successful, FALSE) AND k.refresh_error IS NOT NULL
ORDER BY k.refresh_attempted_at DESC, k.wallet_address LIMIT ${d.param('limit')}`;
}

/**
 * Held markets that closed or passed their end date and whose resolution is not final: no `market_resolutions` row
 * with status `resolved`, and none fetched since `recent_before` (a market awaiting its resolution is asked at most
 * once per window) unless the market row changed since (a refresh found it closed: asked at once). Only real condition ids (a combo id is no market the resolutions API knows). At most `limit`,
 * the longest ended first. Parameters: `now`, `recent_before`, `limit`.
 */
export function resolutionCandidatesSql(d: Dialect): string {
  return `SELECT m.condition_id, m.outcomes FROM ${d.table('markets')} AS m
WHERE (COALESCE(m.closed, FALSE) OR m.end_date < ${d.param('now')})
  AND ${d.matches('m.condition_id', '^0x[0-9a-f]{64}$')}
  AND NOT EXISTS (
    SELECT 1 FROM ${d.table('market_resolutions')} AS r
    WHERE r.condition_id = m.condition_id
      AND (r.status = ${d.literal('resolved')} OR (r.fetched_at >= ${d.param('recent_before')} AND r.loaded_at >= m.loaded_at))
  )
ORDER BY COALESCE(m.closed_time, m.end_date), m.condition_id LIMIT ${d.param('limit')}`;
}
