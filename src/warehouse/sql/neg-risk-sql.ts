import type { Dialect } from './dialect.js';

/**
 * Held neg-risk events whose group the warehouse may not hold whole, for the end of a run to ask again (their
 * members are then looked up with them, see MetadataResolver): events never listed with their markets (`market_ids`
 * NULL: fetched before migration 12), and events listing a member that is neither a held market nor an id in
 * `unresolved_ids` (whose ids are asked on their own schedule, and given up in the end). Events that are themselves
 * unresolved are left to that schedule too. The least recently fetched first, so events asked again without effect
 * (Gamma still leaves their markets out) go to the back. Parameter `limit`.
 */
export function incompleteNegRiskEventsSql(d: Dialect): string {
  const q = (column: string) => d.id(column);
  return `SELECT e.${q('event_id')} AS id, e.${q('market_ids')} IS NOT NULL AS listed
FROM ${d.table('events')} AS e
WHERE (COALESCE(e.${q('neg_risk')}, FALSE) OR COALESCE(e.${q('enable_neg_risk')}, FALSE))
  AND NOT EXISTS (SELECT 1 FROM ${d.table('unresolved_ids')} AS u WHERE u.${q('kind')} = ${d.literal('event')} AND u.${q('id')} = e.${q('event_id')})
  AND (e.${q('market_ids')} IS NULL OR EXISTS (
    SELECT 1 FROM ${d.jsonStrings(`e.${q('market_ids')}`, 'member_id')}
    WHERE member_id NOT IN (SELECT ${q('condition_id')} FROM ${d.table('markets')})
      AND member_id NOT IN (SELECT ${q('id')} FROM ${d.table('unresolved_ids')} WHERE ${q('kind')} = ${d.literal('market')})
  ))
ORDER BY e.${q('fetched_at')}, e.${q('event_id')}
LIMIT ${d.param('limit')}`;
}
