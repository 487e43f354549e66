/**
 * The JSON of `backfill status --json`, served as `/api/status` and rendered by the dashboard page.
 * One document, whether the figures come from a live run's snapshot file or from the warehouse after
 * it, so the page never has to know which command produced it. Field names are snake_case because
 * this is a wire format read by scripts as well as by the page.
 */

import type { StatusFigures } from '../warehouse/warehouse.js';

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

/**
 * The warehouse's figures (the mission's queries) as they are, plus where they came from; derived
 * from StatusFigures so a figure added there reaches the JSON and the page without a second list.
 */
export interface StatusJson extends Omit<StatusFigures, 'billed'> {
  /** e.g. "duckdb:/abs/backfill.duckdb" or "bigquery://p/d?location=US". */
  warehouse: string;
  source: StatusSource;
  /** A run is publishing now. */
  live: boolean;
  /** A snapshot left by a run that is no longer alive. */
  stale: boolean;
  /** ISO time of these figures. */
  as_of: string;
  failures: { by_class: Record<string, FailureClass> };
  /** Null on DuckDB, where queries are not billed. */
  bigquery: BigQueryUsage | null;
  run: RunStatus | null;
}
