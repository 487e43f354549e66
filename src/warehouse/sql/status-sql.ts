import type { Dialect } from './dialect.js';
import { isValidWallet, normalizedWallet } from './wallet-sql.js';

/**
 * The mission document's three monitoring queries, kept verbatim apart from the table names, so
 * `backfill status` reports exactly what an operator's `bq query` would.
 */
export function missionQueries(d: Dialect) {
  const checkpoint = d.table('backfill_checkpoint');
  const traders = d.table('traders');
  return {
    completed: `SELECT COUNT(*) as completed FROM ${checkpoint} WHERE completed = true AND upload_successful = true`,
    failed: `SELECT wallet_address, trade_count, processed_at FROM ${checkpoint} WHERE completed = true AND upload_successful = false`,
    progress: `SELECT (SELECT COUNT(*) FROM ${checkpoint} WHERE completed = true AND upload_successful = true) as completed, (SELECT COUNT(DISTINCT wallet_address) FROM ${traders} WHERE wallet_address IS NOT NULL) as total, ROUND((SELECT COUNT(*) FROM ${checkpoint} WHERE completed = true AND upload_successful = true) * 100.0 / (SELECT COUNT(DISTINCT wallet_address) FROM ${traders} WHERE wallet_address IS NOT NULL), 2) as percent_complete`,
  };
}

/**
 * Our figures beyond the mission's; `total` and `completed` are computed exactly as the mission's
 * queries do. One statement, so a status costs one query job on BigQuery.
 */
export function statusFiguresSql(d: Dialect): string {
  const ck = d.table('backfill_checkpoint');
  const tr = d.table('traders');
  const valid = `SELECT DISTINCT ${normalizedWallet(d, 'wallet_address')} AS w FROM ${tr}
     WHERE wallet_address IS NOT NULL AND ${isValidWallet(d, 'wallet_address')}`;
  // The valid wallets once, each with whether it is done: valid_wallets and pending from one pass
  // over traders instead of two (the normalising and matching is most of a status's time).
  return `SELECT
  (SELECT COUNT(*) FROM ${ck} WHERE completed = true AND upload_successful = true) AS completed,
  (SELECT COUNT(DISTINCT wallet_address) FROM ${tr} WHERE wallet_address IS NOT NULL) AS total,
  (SELECT COUNT(*) FROM ${ck} WHERE completed AND NOT upload_successful) AS failed,
  (SELECT COUNT(*) FROM ${ck} WHERE completed AND NOT upload_successful AND parked) AS parked,
  v.valid_wallets,
  v.pending,
  (SELECT COUNT(DISTINCT wallet_address) FROM ${tr}
     WHERE wallet_address IS NOT NULL AND NOT ${isValidWallet(d, 'wallet_address')}) AS invalid_wallets,
  (SELECT COUNT(*) FROM ${d.table('trades')}) AS trades,
  (SELECT COUNT(*) FROM ${d.table('markets')}) AS markets,
  (SELECT COUNT(*) FROM ${d.table('events')}) AS events,
  (SELECT COUNT(*) FROM ${d.table('unresolved_ids')}) AS unresolved,
  (SELECT COUNT(*) FROM ${d.table('activity')}) AS activity,
  (SELECT COUNT(*) FROM ${d.table('combo_activity')}) AS combo_activity,
  (SELECT COUNT(*) FROM ${d.table('market_resolutions')}) AS resolutions,
  (SELECT COUNT(*) FROM ${ck} WHERE COALESCE(activity_loaded, FALSE)) AS activity_loaded_wallets,
  (SELECT COUNT(*) FROM ${ck} WHERE COALESCE(fills_loaded, FALSE) AND NOT COALESCE(activity_loaded, FALSE)) AS activity_pending_wallets,
  (SELECT ${d.isoSeconds('MAX(processed_at)')} FROM ${ck}) AS last_processed_at,
  (SELECT COUNT(*) FROM ${ck} WHERE completed AND upload_successful AND refreshed_at IS NOT NULL) AS refreshed_wallets,
  (SELECT COUNT(*) FROM ${ck} WHERE completed AND upload_successful AND refresh_error IS NOT NULL) AS refresh_failed,
  (SELECT ${d.isoSeconds('MAX(refreshed_at)')} FROM ${ck}) AS last_refreshed_at,
  (SELECT ${d.isoSeconds('MIN(COALESCE(refreshed_at, processed_at))')} FROM ${ck} WHERE completed AND upload_successful) AS oldest_refresh_at,
  (SELECT COUNT(*) FROM ${d.table('backfill_runs')}) AS runs,
  (SELECT COALESCE(SUM(bytes_billed), 0) FROM ${d.table('backfill_runs')}) AS runs_bytes_billed,
  (SELECT COALESCE(SUM(bytes_processed), 0) FROM ${d.table('backfill_runs')}) AS runs_bytes_processed,
  (SELECT COUNT(*) FROM ${d.table('wallet_stats')} WHERE computed_at IS NOT NULL) AS traders_with_figures,
  (SELECT COUNT(*) FROM ${d.table('wallet_stats')} WHERE COALESCE(stale, FALSE)) AS traders_stale
FROM (
  SELECT COUNT(*) AS valid_wallets, COALESCE(SUM(CASE WHEN k.wallet_address IS NULL THEN 1 ELSE 0 END), 0) AS pending
  FROM (${valid}) AS c
  LEFT JOIN (SELECT DISTINCT wallet_address FROM ${ck} WHERE completed AND upload_successful) AS k ON k.wallet_address = c.w
) AS v`;
}

/** Failed wallets, parked last, newest first; parameter `limit`. */
export function failedWalletsSql(d: Dialect): string {
  return `SELECT k.wallet_address, k.trade_count, ${d.isoSeconds('k.processed_at')} AS processed_at,
       k.error, k.attempts, k.parked, k.gcs_file, k.failure_class
FROM ${d.table('backfill_checkpoint')} AS k WHERE k.completed = true AND k.upload_successful = false
ORDER BY k.parked, k.processed_at DESC, k.wallet_address LIMIT ${d.param('limit')}`;
}
