import type { LookupRetries } from './lookup-retries.js';
import type { FeedRefreshResult } from './feed-refresh.js';
import type { ResolutionsRefreshed } from './resolutions-refresh.js';
import type { StatsSweep } from './wallet-stats.js';

/** How a run ended, mapped to the process exit code in one place (the CLI). */
export type RunOutcome = 'complete' | 'some-failed' | 'stopped';

/**
 * Why a run stopped early. `signal` and `max-runtime` are the normal pauses of a multi-run
 * backfill; `circuit-breaker`, `unwritable` and `lease-lost` say something is wrong.
 */
export type StopKind = 'signal' | 'max-runtime' | 'circuit-breaker' | 'unwritable' | 'lease-lost' | 'requested';

export interface RunSummary {
  runId: string;
  /** A backfill of wallets not loaded yet, or a refresh of completed ones. */
  mode: 'backfill' | 'refresh';
  /** A refresh: markets held as open looked up again, and how many of them had resolved. */
  markets?: { checked: number; resolved: number };
  /** Look-ups asked again at the end of the run (lookup-retries.ts); absent when there were none. */
  lookups?: LookupRetries;
  /** A refresh by the global feed (`--via feed|auto`): what the walk did, or why it went per wallet instead. */
  feed?: FeedRefreshResult;
  /** Ended markets asked `/v2/resolutions` at the end of the run; absent when there were none. */
  resolutions?: ResolutionsRefreshed;
  /**
   * Positions and wallet_stats: wallets recomputed after their loads, and the end-of-run sweep of wallets left stale
   * (absent when it found none).
   */
  stats?: { recomputed: number; failedBatches: number; sweep?: StatsSweep };
  outcome: RunOutcome;
  stopReason: string | null;
  stopKind: StopKind | null;
  planned: number;
  loaded: number;
  failed: number;
  invalid: number;
  reusedStaged: number;
  /** Trade rows this run inserted (the MERGEs' counts): a refresh's overlap rows, already held, are not counted. */
  trades: number;
  /** Activity and combo rows this run inserted (the MERGEs' counts). */
  activity: number;
  checkpointWriteFailures: number;
  requests: Record<string, number>;
  retries: Record<string, number>;
  durationMs: number;
  /** Peak resident memory of this process so far (MB): a whale must not make it grow. */
  peakRssMb: number;
  /**
   * What this run's BigQuery jobs billed (absent on DuckDB): bytes billed and processed, jobs, and
   * the on-demand price of the bytes billed (ON_DEMAND_USD_PER_TIB; the monthly free TiB ignored).
   */
  bigquery?: { bytesBilled: number; bytesProcessed: number; jobs: number; estimatedCostUsd: number };
}
