/**
 * How a checkpoint upsert counts failed runs, shared by every backend's MERGE (`t` = the existing
 * row, `s` = the incoming one) so the parking rule cannot drift between DuckDB and BigQuery.
 *
 * A success resets the count. A failure counts one attempt and parks the wallet at the limit —
 * unless it was `transient` (the API was down): an outage says nothing about the wallet, and the
 * wallets at the head of a stable plan would otherwise be parked by a long outage.
 */
export function checkpointAttemptsSql(maxParam: string) {
  return {
    matchedAttempts: 'CASE WHEN s.upload_successful THEN 0 WHEN s.transient THEN COALESCE(t.attempts, 0) ELSE COALESCE(t.attempts, 0) + 1 END',
    matchedParked: `CASE WHEN s.upload_successful THEN FALSE WHEN s.transient THEN COALESCE(t.parked, FALSE) ELSE COALESCE(t.attempts, 0) + 1 >= ${maxParam} END`,
    insertedAttempts: 'CASE WHEN s.upload_successful OR s.transient THEN 0 ELSE 1 END',
    insertedParked: `CASE WHEN s.upload_successful OR s.transient THEN FALSE ELSE 1 >= ${maxParam} END`,
  };
}
