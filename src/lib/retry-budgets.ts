/**
 * Every retry budget of the tool, by the layer that spends it, in one table. Retries happen where
 * the failure is understood — an HTTP status in the HTTP client, an unknown jobs.insert outcome in
 * the BigQuery job runner, a failed commit in the engine — but their numbers live here, each with a
 * total deadline, so that how long one operation may take at worst is read in one place:
 *
 *   a wallet's page       httpRequest: 8 attempts, Retry-After honoured up to 2 min, ≤ 10 min in all
 *   an audit's RPC call   rpcRequest: 8 attempts, Retry-After honoured up to 2 min, ≤ 10 min in all
 *   a batch's load        warehouseLoad: 3 attempts (the mission's), ≤ 5 min in all; under it, on
 *                         BigQuery, googleSdk (3 HTTP retries, ≤ 2 min) and bigqueryJobInsert (5 sends)
 *   its checkpoint write  checkpointWrite: 5 attempts (the mission's), ≤ 5 min in all
 *   a stage object write  googleSdk (GCS: 3 HTTP retries, ≤ 2 min)
 *   opening DuckDB        duckdbLock: polls another process's hold every 100 ms, ≤ 5 s
 *   taking the lease      leaseRaces: 3 rounds of create-or-take-over against a concurrent runner, no wait
 *
 * Layers nest (an SDK retry inside an engine attempt), so a budget's deadline bounds its own layer
 * and everything under it: no new attempt starts once the deadline would be passed by waiting.
 */

export interface BackoffBudget {
  /** Attempts including the first. */
  readonly attempts: number;
  /** Backoff ceiling for the first retry; doubles per attempt, full jitter. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** No attempt starts after this long since the first one began (waits included). */
  readonly deadlineMs: number;
}

export const RETRY_BUDGETS = {
  /** One Data API or Gamma request (429, 5xx, network, HTML pages, truncated bodies). */
  httpRequest: { attempts: 8, baseDelayMs: 500, maxDelayMs: 30_000, deadlineMs: 10 * 60_000, maxServerDelayMs: 120_000 },
  /** One Polygon JSON-RPC call of the chain audit (429, 5xx, network, a provider's rate-limit or internal error). */
  rpcRequest: { attempts: 8, baseDelayMs: 500, maxDelayMs: 30_000, deadlineMs: 10 * 60_000, maxServerDelayMs: 120_000 },
  /** One batch's load into the warehouse: the mission's "retried 3 times with exponential backoff". */
  warehouseLoad: { attempts: 3, baseDelayMs: 1_000, maxDelayMs: 30_000, deadlineMs: 5 * 60_000 },
  /** One batch's checkpoint write: the mission's "checkpoint writes 5 times". */
  checkpointWrite: { attempts: 5, baseDelayMs: 1_000, maxDelayMs: 30_000, deadlineMs: 5 * 60_000 },
  /** Sends of one BigQuery jobs.insert whose outcome is unknown (same job id each time, so never run twice). */
  bigqueryJobInsert: { attempts: 5 },
  /** The Google SDKs' own HTTP retries (BigQuery and GCS clients), under the engine's budgets. */
  googleSdk: { maxRetries: 3, totalTimeoutSeconds: 120, maxRetryDelaySeconds: 32 },
  /** Opening a DuckDB file another process holds for a moment (a status read). */
  duckdbLock: { pollMs: 100, waitMs: 5_000 },
  /** Rounds of create-or-take-over of the run lease against a runner doing the same at that instant. */
  leaseRaces: { rounds: 3 },
} as const satisfies Record<string, object>;

export type RetryBudgets = typeof RETRY_BUDGETS;

/** The Google SDKs' `retryOptions` (BigQuery and Storage take the same shape, in seconds). */
export const GOOGLE_SDK_RETRIES = {
  maxRetries: RETRY_BUDGETS.googleSdk.maxRetries,
  totalTimeout: RETRY_BUDGETS.googleSdk.totalTimeoutSeconds,
  maxRetryDelay: RETRY_BUDGETS.googleSdk.maxRetryDelaySeconds,
} as const;
