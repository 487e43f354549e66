/**
 * The checkpoint upsert, shared by every backend so the two cannot drift apart: one row per
 * wallet (the latest incoming one wins), and the parking rule below. Only the incoming relation,
 * the target's name and the parameter spelling differ between dialects.
 *
 * How failed runs are counted (`t` = the existing row, `s` = the incoming one):
 * A success resets the count. A failure counts one attempt and parks the wallet at the limit —
 * unless it was `transient` (the API was down): an outage says nothing about the wallet, and the
 * wallets at the head of a stable plan would otherwise be parked by a long outage.
 */
function checkpointAttemptsSql(maxParam: string) {
  return {
    matchedAttempts: 'CASE WHEN s.upload_successful THEN 0 WHEN s.transient THEN COALESCE(t.attempts, 0) ELSE COALESCE(t.attempts, 0) + 1 END',
    matchedParked: `CASE WHEN s.upload_successful THEN FALSE WHEN s.transient THEN COALESCE(t.parked, FALSE) ELSE COALESCE(t.attempts, 0) + 1 >= ${maxParam} END`,
    insertedAttempts: 'CASE WHEN s.upload_successful OR s.transient THEN 0 ELSE 1 END',
    insertedParked: `CASE WHEN s.upload_successful OR s.transient THEN FALSE ELSE 1 >= ${maxParam} END`,
  };
}

export interface CheckpointMergeDialect {
  /** The target table, already quoted as the dialect needs. */
  target: string;
  /** A relation of incoming rows with the CheckpointRow columns plus `transient`. */
  incoming: string;
  /** How the dialect spells the max-failed-attempts parameter, e.g. `$max` or `@max_failed_attempts`. */
  maxParam: string;
}

export function checkpointMergeSql({ target, incoming, maxParam }: CheckpointMergeDialect): string {
  const attempts = checkpointAttemptsSql(maxParam);
  // `WHERE TRUE` because BigQuery only accepts QUALIFY beside a WHERE, GROUP BY or HAVING.
  return `MERGE INTO ${target} AS t
USING (
  SELECT * FROM ${incoming} WHERE TRUE
  QUALIFY ROW_NUMBER() OVER (PARTITION BY wallet_address ORDER BY processed_at DESC) = 1
) AS s
ON t.wallet_address = s.wallet_address
WHEN MATCHED THEN UPDATE SET
  completed = TRUE, upload_successful = s.upload_successful, trade_count = s.trade_count,
  gcs_file = COALESCE(s.gcs_file, t.gcs_file), processed_at = s.processed_at, error = s.error,
  attempts = ${attempts.matchedAttempts},
  parked = ${attempts.matchedParked},
  run_id = s.run_id
WHEN NOT MATCHED THEN INSERT
  (wallet_address, completed, upload_successful, trade_count, gcs_file, processed_at, error, attempts, parked, run_id)
  VALUES (s.wallet_address, TRUE, s.upload_successful, s.trade_count, s.gcs_file, s.processed_at, s.error,
          ${attempts.insertedAttempts}, ${attempts.insertedParked}, s.run_id)`;
}
