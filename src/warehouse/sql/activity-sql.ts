import type { Dialect } from './dialect.js';

/**
 * Per wallet of a batch's staged activity or combo rows: rows and distinct keys (`key` is the table's one key
 * column), checked against what each wallet's file was written with before the MERGE.
 */
export function stagedWalletRowsSql(d: Dialect, relation: string, key: string): string {
  const q = (column: string) => d.id(column);
  return `SELECT ${q('proxy_wallet')} AS wallet, COUNT(*) AS row_count, COUNT(DISTINCT ${q(key)}) AS key_count
FROM ${relation} GROUP BY ${q('proxy_wallet')}`;
}

/** Activity rows held per wallet of the string-list parameter `wallets`, and the newest one's time (`newest`). */
export function walletActivityCountsSql(d: Dialect): string {
  const q = (column: string) => d.id(column);
  return `SELECT ${q('proxy_wallet')} AS wallet, COUNT(*) AS row_count, ${d.isoMicros(`MAX(${q('timestamp')})`)} AS newest
FROM ${d.table('activity')} WHERE ${d.inList(q('proxy_wallet'), 'wallets')} GROUP BY ${q('proxy_wallet')}`;
}

/**
 * A market's `winning_label` from its payouts once resolved (the outcome paid in full; NULL for a split payout,
 * which has no single winner), for the markets of the staged resolutions `relation`; Gamma's `outcomePrices`
 * stay the source for markets without a resolved payout.
 */
export function resolvedWinningLabelsSql(d: Dialect, relation: string): string {
  return `UPDATE ${d.table('markets')} AS m SET winning_label = r.winning_label
FROM ${d.table('market_resolutions')} AS r
WHERE r.condition_id = m.condition_id AND r.status = ${d.literal('resolved')} AND r.payouts IS NOT NULL
  AND r.condition_id IN (SELECT condition_id FROM ${relation})
  AND (m.winning_label IS NULL OR r.winning_label IS NULL OR m.winning_label <> r.winning_label)`;
}
