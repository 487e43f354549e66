/**
 * The mission document's three monitoring queries, kept verbatim apart from the table names, so
 * `backfill status` reports exactly what an operator's `bq query` would.
 */

/** Lower-case proxy wallet address; used by every backend's SQL to tell valid traders from bad rows. */
export const WALLET_PATTERN_SQL = '^0x[0-9a-f]{40}$';

/**
 * `traders.wallet_address` as the planner reads it: lower-cased, with surrounding spaces, tabs and
 * line breaks removed (SQL TRIM alone strips only spaces, unlike the CLI's parser).
 */
export const NORMALIZED_WALLET_SQL = "lower(trim(wallet_address, ' \t\n\r'))";

export interface StatusTables {
  checkpoint: string;
  traders: string;
}

export function missionStatusQueries(t: StatusTables) {
  return {
    completed: `SELECT COUNT(*) as completed FROM ${t.checkpoint} WHERE completed = true AND upload_successful = true`,
    failed: `SELECT wallet_address, trade_count, processed_at FROM ${t.checkpoint} WHERE completed = true AND upload_successful = false`,
    progress: `SELECT (SELECT COUNT(*) FROM ${t.checkpoint} WHERE completed = true AND upload_successful = true) as completed, (SELECT COUNT(DISTINCT wallet_address) FROM ${t.traders} WHERE wallet_address IS NOT NULL) as total, ROUND((SELECT COUNT(*) FROM ${t.checkpoint} WHERE completed = true AND upload_successful = true) * 100.0 / (SELECT COUNT(DISTINCT wallet_address) FROM ${t.traders} WHERE wallet_address IS NOT NULL), 2) as percent_complete`,
  };
}
