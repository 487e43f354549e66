import type { Dialect } from './dialect.js';
import { isValidWallet, normalizedWallet, validWalletsSql } from './wallet-sql.js';

/**
 * Wallets still to do, in a stable order: valid normalised wallets of `traders` minus those with a
 * successful checkpoint, minus parked ones unless `retry_parked`, in shard `shard_index` of
 * `shard_count`. Parameters: retry_parked (bool), shard_count, shard_index (int).
 */
export function planSql(d: Dialect): string {
  return `WITH candidates AS (
  ${validWalletsSql(d)}
)
SELECT c.wallet FROM candidates AS c
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
