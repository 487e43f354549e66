import type { Dialect } from './dialect.js';
import { isValidWallet, normalizedWallet, validWalletsSql } from './wallet-sql.js';

/**
 * Wallets still to do, in a stable order: valid normalised wallets of `traders` minus those with a
 * successful checkpoint, minus parked ones unless `retry_parked`, in shard `shard_index` of
 * `shard_count`. Parameters: retry_parked (bool), shard_count, shard_index (int). `fills_loaded`: only the wallet's
 * activity is still to load (see reopenForActivitySql); a wallet loaded whole once and set back to pending (by an
 * operator, to fetch it again) is fetched whole.
 */
export function planSql(d: Dialect): string {
  return `WITH candidates AS (
  ${validWalletsSql(d)}
)
SELECT c.wallet, COALESCE(k.fills_loaded, FALSE) AND NOT COALESCE(k.activity_loaded, FALSE) AS fills_loaded FROM candidates AS c
LEFT JOIN ${d.table('backfill_checkpoint')} AS k ON k.wallet_address = c.wallet
WHERE (k.wallet_address IS NULL
       OR (NOT (COALESCE(k.completed, FALSE) AND COALESCE(k.upload_successful, FALSE))
           AND (${d.param('retry_parked')} OR NOT COALESCE(k.parked, FALSE))))
  AND ${d.shard('c.wallet', 'shard_count')} = ${d.param('shard_index')}
ORDER BY c.wallet`;
}

/** Malformed values of `traders` with no checkpoint row yet, each once, as `value`. */
export function invalidTradersSql(d: Dialect): string {
  return `SELECT DISTINCT tr.wallet_address AS value FROM ${d.table('traders')} AS tr
WHERE tr.wallet_address IS NOT NULL AND NOT ${isValidWallet(d, 'tr.wallet_address')}
  AND NOT EXISTS (SELECT 1 FROM ${d.table('backfill_checkpoint')} AS k WHERE k.wallet_address = tr.wallet_address)
ORDER BY value`;
}

/**
 * New addresses (parameter `wallets`, already normalised) into `traders`, each once, tagged with
 * `source`. NOT EXISTS rather than NOT IN: it is correlated per address, so an import of a million
 * lines in batches never builds the whole list's hash table again (measured: 372 → 252 MB peak).
 */
export function addTradersSql(d: Dialect): string {
  return `INSERT INTO ${d.table('traders')} (wallet_address, added_at, source)
SELECT s.w, ${d.now()}, ${d.param('source')} FROM (SELECT DISTINCT w FROM ${d.list('wallets', 'w')}) AS s
WHERE NOT EXISTS (SELECT 1 FROM ${d.table('traders')} AS t WHERE ${normalizedWallet(d, 't.wallet_address')} = s.w)`;
}

/**
 * Wallets completed before activity was collected (`activity_loaded` never set): pending again, with their fills
 * marked loaded, so the next run fetches their activity only and the mission's "completed" still means fills,
 * activity, markets and events loaded. Neither done nor failed meanwhile (`completed` false), as a wallet in flight.
 */
export function reopenForActivitySql(d: Dialect): string {
  return `UPDATE ${d.table('backfill_checkpoint')} SET completed = FALSE, upload_successful = FALSE, fills_loaded = TRUE,
  error = ${d.literal('its fills are loaded; its activity (collected since schema version 8) is not yet: the next run fetches the activity only')}
WHERE COALESCE(completed, FALSE) AND COALESCE(upload_successful, FALSE) AND activity_loaded IS NULL`;
}
