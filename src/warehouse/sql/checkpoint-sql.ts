import type { LogicalType } from '../table-schemas.js';
import type { Dialect } from './dialect.js';
import type { CheckpointOutcome, FailureClass } from '../warehouse.js';

/** The class of a failure recorded by crash settlement, in SQL (the engine classifies every other). */
const PROCESS_DIED: FailureClass = 'process died';

/**
 * The one writer of `backfill_checkpoint`: every kind of checkpoint row — a loaded wallet, a failed
 * one, an outage, a malformed `traders` value — goes through this MERGE, one row per wallet (the
 * latest incoming one wins).
 *
 * How failed runs are counted (`t` = the existing row, `s` = the incoming one), by `s.outcome`:
 * - `loaded`: the count resets and the wallet is unparked; `small_fills_excluded` says whether this
 *   load's history left out the fills under 0.01 shares (any other outcome keeps it); its fills and activity are
 *   loaded (`fills_loaded`, `activity_loaded`, with `activity_count` and `last_activity_at` as held); a failure
 *   never clears `fills_loaded`, so a wallet reopened for its activity is asked for its activity only;
 * - `failed`: one more attempt; parked once `max_failed_attempts` is reached;
 * - `transient`: the API or the machine was unavailable. Recorded and retried like a failure, but
 *   not counted: an outage says nothing about the wallet, and the wallets at the head of a stable
 *   plan would otherwise be parked by a long outage;
 * - `invalid`: a value that is not a wallet; parked at once, since no run can do anything with it.
 *
 * A refresh of a completed wallet writes through refreshCheckpointSql below instead: its outcome
 * never touches `completed`, `upload_successful` or `error`, only the refresh columns.
 */
export const CHECKPOINT_ROW_FIELDS = {
  wallet_address: 'string',
  outcome: 'string',
  trade_count: 'int',
  gcs_file: 'string',
  processed_at: 'timestamp',
  error: 'string',
  run_id: 'string',
  last_trade_at: 'timestamp',
  small_fills_excluded: 'bool',
  failure_class: 'string',
  activity_count: 'int',
  last_activity_at: 'timestamp',
} as const satisfies Record<string, LogicalType>;


/**
 * The MERGE source of the checkpoint writers: the newest row per wallet of the batch (a wallet can
 * appear twice in one batch, e.g. failed then loaded on the per-wallet fallback). `WHERE TRUE`
 * because BigQuery only accepts QUALIFY beside a WHERE, GROUP BY or HAVING.
 */
function latestRowPerWallet(d: Dialect): string {
  return `USING (
  SELECT * FROM ${d.rows('rows')} WHERE TRUE
  QUALIFY ROW_NUMBER() OVER (PARTITION BY wallet_address ORDER BY processed_at DESC) = 1
) AS s
ON t.wallet_address = s.wallet_address`;
}

export function checkpointMergeSql(d: Dialect): string {
  const outcome = (value: CheckpointOutcome) => d.literal(value);
  const max = d.param('max_failed_attempts');
  const counted = `COALESCE(t.attempts, 0) + 1`;
  return `MERGE INTO ${d.table('backfill_checkpoint')} AS t
${latestRowPerWallet(d)}
WHEN MATCHED THEN UPDATE SET
  completed = TRUE, upload_successful = (s.outcome = ${outcome('loaded')}), trade_count = s.trade_count,
  gcs_file = COALESCE(s.gcs_file, t.gcs_file), processed_at = s.processed_at, error = s.error,
  attempts = CASE s.outcome WHEN ${outcome('loaded')} THEN 0 WHEN ${outcome('transient')} THEN COALESCE(t.attempts, 0) ELSE ${counted} END,
  parked = CASE s.outcome WHEN ${outcome('loaded')} THEN FALSE WHEN ${outcome('invalid')} THEN TRUE
                          WHEN ${outcome('transient')} THEN COALESCE(t.parked, FALSE) ELSE ${counted} >= ${max} END,
  run_id = s.run_id, in_flight_run_id = NULL, in_flight_at = NULL, crash_suspect = FALSE,
  last_trade_at = CASE s.outcome WHEN ${outcome('loaded')} THEN s.last_trade_at ELSE t.last_trade_at END,
  failure_class = CASE s.outcome WHEN ${outcome('loaded')} THEN NULL ELSE s.failure_class END,
  small_fills_excluded = CASE s.outcome WHEN ${outcome('loaded')} THEN COALESCE(s.small_fills_excluded, t.small_fills_excluded) ELSE t.small_fills_excluded END,
  fills_loaded = CASE s.outcome WHEN ${outcome('loaded')} THEN TRUE ELSE t.fills_loaded END,
  activity_loaded = CASE s.outcome WHEN ${outcome('loaded')} THEN TRUE ELSE t.activity_loaded END,
  activity_count = CASE s.outcome WHEN ${outcome('loaded')} THEN s.activity_count ELSE t.activity_count END,
  last_activity_at = CASE s.outcome WHEN ${outcome('loaded')} THEN s.last_activity_at ELSE t.last_activity_at END
WHEN NOT MATCHED THEN INSERT
  (wallet_address, completed, upload_successful, trade_count, gcs_file, processed_at, error, attempts, parked, run_id,
   in_flight_run_id, in_flight_at, crash_suspect, last_trade_at, small_fills_excluded, failure_class,
   fills_loaded, activity_loaded, activity_count, last_activity_at)
  VALUES (s.wallet_address, TRUE, (s.outcome = ${outcome('loaded')}), s.trade_count, s.gcs_file, s.processed_at, s.error,
          CASE s.outcome WHEN ${outcome('loaded')} THEN 0 WHEN ${outcome('transient')} THEN 0 ELSE 1 END,
          CASE s.outcome WHEN ${outcome('invalid')} THEN TRUE WHEN ${outcome('failed')} THEN 1 >= ${max} ELSE FALSE END,
          s.run_id, NULL, NULL, FALSE, s.last_trade_at, s.small_fills_excluded,
          CASE s.outcome WHEN ${outcome('loaded')} THEN NULL ELSE s.failure_class END,
          (s.outcome = ${outcome('loaded')}), (s.outcome = ${outcome('loaded')}), s.activity_count, s.last_activity_at)`;
}

/**
 * A refresh's outcome for completed wallets, by `s.outcome`: every outcome sets `trade_count` to
 * what the warehouse now holds (the writer reads it for a failure); `refreshed` moves
 * `last_trade_at`, `last_activity_at`, `activity_count` and `refreshed_at`, clears `activity_due`, clears the refresh error, and sets `small_fills_excluded` when
 * its window was fetched without them (a later window with them does not bring back what an earlier
 * one left out, so it never clears the flag);
 * `refresh-failed` records the error and counts a refresh attempt; `refresh-transient` (an outage)
 * records it without counting. The backfill's own columns are never touched.
 */
export function refreshCheckpointSql(d: Dialect): string {
  const outcome = (value: CheckpointOutcome) => d.literal(value);
  const refreshed = `s.outcome = ${outcome('loaded')}`;
  return `MERGE INTO ${d.table('backfill_checkpoint')} AS t
${latestRowPerWallet(d)}
WHEN MATCHED THEN UPDATE SET
  trade_count = s.trade_count,
  last_trade_at = CASE WHEN ${refreshed} THEN COALESCE(s.last_trade_at, t.last_trade_at) ELSE t.last_trade_at END,
  refreshed_at = CASE WHEN ${refreshed} THEN s.processed_at ELSE t.refreshed_at END,
  activity_due = CASE WHEN ${refreshed} THEN FALSE ELSE t.activity_due END,
  refresh_error = CASE WHEN ${refreshed} THEN NULL ELSE s.error END,
  refresh_failure_class = CASE WHEN ${refreshed} THEN NULL ELSE s.failure_class END,
  small_fills_excluded = CASE WHEN ${refreshed} AND COALESCE(s.small_fills_excluded, FALSE) THEN TRUE ELSE t.small_fills_excluded END,
  activity_count = CASE WHEN ${refreshed} THEN COALESCE(s.activity_count, t.activity_count) ELSE t.activity_count END,
  last_activity_at = CASE WHEN ${refreshed} THEN COALESCE(s.last_activity_at, t.last_activity_at) ELSE t.last_activity_at END,
  refresh_attempted_at = s.processed_at,
  refresh_attempts = CASE s.outcome WHEN ${outcome('loaded')} THEN 0 WHEN ${outcome('transient')} THEN COALESCE(t.refresh_attempts, 0)
                                    ELSE COALESCE(t.refresh_attempts, 0) + 1 END,
  in_flight_run_id = NULL, in_flight_at = NULL, crash_suspect = FALSE`;
}

/**
 * Records that an attempt of these wallets (string list `wallets`) starts, before their fetch:
 * `in_flight_run_id = @run_id`. A wallet without a row gets one that is not `completed`, so the
 * mission's monitoring queries count it neither done nor failed while it is in flight.
 */
export function markInFlightSql(d: Dialect): string {
  return `MERGE INTO ${d.table('backfill_checkpoint')} AS t
USING (SELECT DISTINCT w FROM ${d.list('wallets', 'w')}) AS s
ON t.wallet_address = s.w
WHEN MATCHED THEN UPDATE SET in_flight_run_id = ${d.param('run_id')}, in_flight_at = ${d.now()}
WHEN NOT MATCHED THEN INSERT
  (wallet_address, completed, upload_successful, trade_count, gcs_file, processed_at, error, attempts, parked, run_id,
   in_flight_run_id, in_flight_at, crash_suspect)
  VALUES (s.w, FALSE, FALSE, 0, NULL, NULL, NULL, 0, FALSE, ${d.param('run_id')}, ${d.param('run_id')}, ${d.now()}, FALSE)`;
}

/** The end of a run: marks it left (wallets abandoned by a graceful stop, marked but never started) are cleared. */
export function clearInFlightSql(d: Dialect): string {
  return `UPDATE ${d.table('backfill_checkpoint')} SET in_flight_run_id = NULL, in_flight_at = NULL
WHERE in_flight_run_id = ${d.param('run_id')}`;
}

/** Fields of the `rows` parameter of noteInterruptedSql. */
export const INTERRUPTED_ROW_FIELDS = { wallet_address: 'string', note: 'string' } as const satisfies Record<string, LogicalType>;

/**
 * Why these wallets (parameter `rows`: wallet_address, note) were left without an outcome: the run stopped
 * (a signal, --max-runtime) while they were in flight. Written to `error` of rows still to do only: the
 * wallet stays pending and uncounted, and a failed row keeps the failure it records.
 */
export function noteInterruptedSql(d: Dialect): string {
  return `MERGE INTO ${d.table('backfill_checkpoint')} AS t
USING (SELECT * FROM ${d.rows('rows')}) AS s
ON t.wallet_address = s.wallet_address
WHEN MATCHED AND NOT COALESCE(t.completed, FALSE) THEN UPDATE SET error = s.note`;
}

/**
 * The start of a run, under its lease: a mark still set in this scope (shard `shard_index` of
 * `shard_count`) was left by a process that died while the wallet was in flight. Each such wallet
 * counts one failed attempt, is parked at `max_failed_attempts`, and becomes a crash suspect,
 * tried alone before anything else. An outage never gets here: it ends an attempt normally.
 */
export function settleCrashedSql(d: Dialect): string {
  const done = 'COALESCE(completed, FALSE) AND COALESCE(upload_successful, FALSE)';
  const counted = 'COALESCE(attempts, 0) + 1';
  const refreshCounted = 'COALESCE(refresh_attempts, 0) + 1';
  const max = d.param('max_failed_attempts');
  const died = (n: string) =>
    `CONCAT('the process died while this wallet was in flight (run ', COALESCE(in_flight_run_id, '?'), ', started ',
                 COALESCE(${d.isoSeconds('in_flight_at')}, '?'), '): failed attempt ', CAST(${n} AS STRING), ' of ',
                 CAST(${max} AS STRING), ' before it is parked')`;
  // A completed wallet was being refreshed: its backfill stays complete; the refresh columns count the death.
  return `UPDATE ${d.table('backfill_checkpoint')} SET
  completed = TRUE,
  attempts = CASE WHEN ${done} THEN attempts ELSE ${counted} END,
  parked = CASE WHEN ${done} THEN parked ELSE ${counted} >= ${max} END,
  error = CASE WHEN ${done} THEN error ELSE ${died(counted)} END,
  failure_class = CASE WHEN ${done} THEN failure_class ELSE ${d.literal(PROCESS_DIED)} END,
  processed_at = CASE WHEN ${done} THEN processed_at ELSE ${d.now()} END,
  refresh_attempts = CASE WHEN ${done} THEN ${refreshCounted} ELSE refresh_attempts END,
  refresh_error = CASE WHEN ${done} THEN ${died(refreshCounted)} ELSE refresh_error END,
  refresh_failure_class = CASE WHEN ${done} THEN ${d.literal(PROCESS_DIED)} ELSE refresh_failure_class END,
  refresh_attempted_at = CASE WHEN ${done} THEN ${d.now()} ELSE refresh_attempted_at END,
  crash_suspect = TRUE,
  in_flight_run_id = NULL,
  in_flight_at = NULL
WHERE in_flight_run_id IS NOT NULL AND ${d.shard('wallet_address', 'shard_count')} = ${d.param('shard_index')}`;
}

/**
 * Crash suspects of this scope, in a stable order: `parked` when the backfill gave up on them, and
 * `completed` when they died during a refresh (a refresh run tries those; a backfill run the others).
 */
export function crashSuspectsSql(d: Dialect): string {
  return `SELECT wallet_address AS wallet, COALESCE(parked, FALSE) AS parked, error,
  COALESCE(completed, FALSE) AND COALESCE(upload_successful, FALSE) AS done,
  COALESCE(refresh_attempts, 0) AS refresh_attempts, refresh_error
FROM ${d.table('backfill_checkpoint')}
WHERE COALESCE(crash_suspect, FALSE) AND ${d.shard('wallet_address', 'shard_count')} = ${d.param('shard_index')}
ORDER BY wallet_address`;
}
