/**
 * The JSON of `backfill status --json`, served as `/api/status` and rendered by the dashboard page.
 * One document, whether the figures come from a live run's snapshot file or from the warehouse after
 * it, so the page never has to know which command produced it. Field names are snake_case because
 * this is a wire format read by scripts as well as by the page.
 */

export type StatusSource = 'warehouse' | 'snapshot';

export type RunState = 'running' | 'finished' | 'stopped';

export interface FailureExample {
  wallet: string;
  error: string;
  at: string | null;
}

export interface FailureClass {
  count: number;
  /** Newest first; a few examples, not every failed wallet. */
  latest: FailureExample[];
}

/** What the recorded runs' BigQuery jobs billed, summed over backfill_runs. */
export interface BigQueryUsage {
  /** Runs recorded (each at its end; a run in progress is not counted yet). */
  runs: number;
  bytes_billed: number;
  bytes_processed: number;
  estimated_cost_usd: number;
}

export interface ApiUsage {
  /** Requests sent, per endpoint (retries included). */
  requests: Record<string, number>;
  /** Retried attempts, per endpoint. */
  retries: Record<string, number>;
  /** Attempts answered 429 (retried). */
  throttled_429: number;
  /** 0..1 per endpoint: the share of its rate limit used over the last few minutes. */
  rate_limit_utilisation: Record<string, number>;
}

export interface ThroughputPoint {
  /** ISO start of the bucket (~10 s wide). */
  t: string;
  /** Wallets loaded in that bucket. */
  wallets: number;
  /** Trades loaded in that bucket. */
  trades: number;
  /**
   * Seconds of the bucket the run covered: less than its width for the bucket the run started in
   * and the one in progress, so a rate drawn from a partial bucket is not understated.
   */
  seconds: number;
}

export interface RunStatus {
  run_id: string;
  started_at: string;
  lease_holder: string;
  state: RunState;
  planned: number;
  loaded: number;
  failed: number;
  trades_loaded: number;
  /** Over the last few minutes. */
  wallets_per_minute: number;
  trades_per_second: number;
  eta_seconds: number | null;
  current_batch: { wallets: number; started_at: string } | null;
  api: ApiUsage;
  throughput: ThroughputPoint[];
}

export interface StatusJson {
  /** e.g. "duckdb:/abs/backfill.duckdb" or "bigquery://p/d?location=US". */
  warehouse: string;
  source: StatusSource;
  /** A run is publishing now. */
  live: boolean;
  /** A snapshot left by a run that is no longer alive. */
  stale: boolean;
  /** ISO time of these figures. */
  as_of: string;
  completed: number;
  total: number;
  percent_complete: number | null;
  failed: number;
  parked: number;
  pending: number;
  valid_wallets: number;
  invalid_wallets: number;
  rows: { trades: number; markets: number; events: number; unresolved: number };
  last_processed_at: string | null;
  /** Incremental refresh: completed wallets refreshed at least once, those whose last refresh failed, and when. */
  refresh: { refreshed_wallets: number; failed: number; last_refreshed_at: string | null; oldest_at: string | null };
  failures: { by_class: Record<string, FailureClass> };
  /** Null on DuckDB, where queries are not billed. */
  bigquery: BigQueryUsage | null;
  run: RunStatus | null;
}
