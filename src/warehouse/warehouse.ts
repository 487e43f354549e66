import type { AuditedRange, WalletAuditReport } from '../chain/audit-wallet.js';
import type { FillMismatch, HeldTrade } from '../chain/fill-match.js';
import type { ChainFill, Undecodable } from '../chain/order-filled.js';
import type { Wallet } from '../domain/wallet-address.js';
import type { PnlActivity, PnlFill, PnlPosition, PnlResolution } from '../pnl/index.js';
import type { WalletBundle } from '../staging/stage-store.js';
import type { StatsOrder } from './sql/pnl-sql.js';

export type { WalletBundle };

export interface LoadResult {
  /** Rows newly inserted or updated per table by the MERGE (re-loads insert nothing new). */
  merged: Record<'trades' | 'markets' | 'events' | 'unresolved' | 'activity' | 'combo_activity' | 'resolutions', number>;
  /**
   * Trades the warehouse holds for each wallet of the batch after the commit: what its checkpoint
   * records as `trade_count`, never the staged file's own claim.
   */
  tradeCounts: Record<string, number>;
  /** The newest fill the warehouse holds for each wallet of the batch (ISO-8601 UTC), null for none. */
  lastTradeAt: Record<string, string | null>;
  /** Trade rows inserted twice by overlapping runners and removed again (backends without transactions). */
  duplicatesRemoved: number;
  /** Activity rows (`activity` table) the warehouse holds for each wallet of the batch after the commit. */
  activityCounts: Record<string, number>;
  /** The newest activity row held for each wallet of the batch (ISO-8601 UTC), null for none. */
  lastActivityAt: Record<string, string | null>;
}

/**
 * How one attempt at a wallet ended, as the engine knows it: loaded, or failed (counted towards
 * parking), transient (an outage: retried, never counted), invalid (not a wallet: parked at once).
 * Built by the engine and written as it is: the checkpoint writer folds nothing.
 */
export type CheckpointOutcome = 'loaded' | 'failed' | 'transient' | 'invalid';

/**
 * Why a wallet failed, by what the engine saw (never read back from the error text): the class the
 * dashboard and `status --json` group failures by, stored in `backfill_checkpoint.failure_class`.
 */
export type FailureClass = 'invalid address' | 'process died' | 'hostile response' | 'API unavailable' | 'load' | 'data';

interface CheckpointFields {
  wallet_address: string;
  /**
   * What the warehouse holds for the wallet. A successful load passes the count it read in its
   * commit; for any other row the checkpoint writer reads it, so a failure never shows trades the
   * warehouse does not hold (nor hides ones it does).
   */
  trade_count: number;
  /** The staged trades file (a local path or a gs:// URI). */
  gcs_file: string | null;
  /** ISO-8601 UTC. */
  processed_at: string;
  run_id: string;
  /** A refresh of a completed wallet: only the refresh columns change (see refreshCheckpointSql). */
  refresh?: boolean;
}

/** One row of `backfill_checkpoint` to write: a wallet's outcome. */
export type CheckpointRow =
  | (CheckpointFields & {
      outcome: 'loaded';
      error: null;
      /** The newest fill held after the load (ISO-8601 UTC); the next refresh window starts an overlap before it. */
      last_trade_at?: string | null;
      /** The trades were fetched without the fills under 0.01 shares (the API refused `filter_amount`). */
      small_fills_excluded?: boolean | null;
      /** Activity rows the warehouse holds after the load, and the newest one's time (ISO-8601 UTC, null for none). */
      activity_count?: number;
      last_activity_at?: string | null;
    })
  | (CheckpointFields & { outcome: Exclude<CheckpointOutcome, 'loaded'>; error: string; failure_class: FailureClass });

/** An id a look-up missed, due to be asked again; `attempts` counts the misses so far. */
export interface DueUnresolved {
  kind: 'market' | 'event';
  id: string;
  attempts: number;
}

/**
 * A held neg-risk event whose group the warehouse may not hold whole (neg-risk-sql.ts): never listed with its markets
 * (`listed` false: fetched before migration 12), or listing members held neither as markets nor as unresolved ids.
 */
export interface IncompleteNegRiskEvent {
  eventId: string;
  listed: boolean;
}

/**
 * A completed wallet to refresh and where its windows start: the newest fill held and the newest activity row held
 * (ISO-8601 UTC; null for none).
 */
export interface RefreshItem {
  wallet: string;
  since: string | null;
  activitySince: string | null;
}

/** A completed wallet a feed refresh tracks, and its horizon: its history is complete up to then (ISO-8601 UTC). */
export interface TrackedWallet {
  wallet: string;
  horizon: string | null;
}

/** A row of `feed_walks` (see FEED_WALK_COLUMNS): times ISO-8601 UTC. */
export interface FeedWalkRecord {
  walk_id: string;
  run_id: string;
  status: 'running' | 'done' | 'abandoned';
  started_at: string;
  covered_from: string;
  down_to: string;
  newest_at: string | null;
  oldest_at: string | null;
  resume_cursor: string | null;
  resume_ts: number | null;
  pages: number;
  rows_seen: number;
  rows_kept: number;
  wallets_touched: number;
  updated_at: string;
  finished_at: string | null;
  note: string | null;
}

/** A wallet of the backfill plan; `fillsLoaded` when only its activity is still to load. */
export interface PlannedWallet {
  wallet: string;
  fillsLoaded: boolean;
}

/** A held market that closed or passed its end date with no final resolution yet, and its outcome labels (JSON text). */
export interface ResolutionCandidate {
  condition_id: string;
  outcomes: string | null;
}

export interface RefreshPlanOptions {
  /** Wallets whose refresh failed this often are left out. */
  maxFailedAttempts: number;
  /** Only wallets not refreshed since this time (ISO-8601 UTC); all when absent. */
  staleBefore?: string;
  /** Only these wallets (normalised). */
  wallets?: readonly string[];
  /** Only wallets whose activity a feed refresh queued (`activity_due`). */
  activityDueOnly?: boolean;
  shard?: { index: number; count: number };
  chunkSize?: number;
}

export interface PlanOptions {
  /** Also plan wallets parked after too many failed runs. */
  retryParked: boolean;
  /** Only wallets of this hash shard (`index` of `count`). */
  shard?: { index: number; count: number };
  /** Rows per yielded chunk. */
  chunkSize?: number;
}

export interface InvalidTrader {
  /** The value exactly as it stands in `traders.wallet_address`. */
  value: string;
  reason: string;
}

export interface StatusFigures {
  /** The mission document's figures, computed with its own queries. */
  completed: number;
  total: number;
  percent_complete: number | null;
  /** `completed = true AND upload_successful = false`: will be retried (unless parked). */
  failed: number;
  parked: number;
  /** Distinct valid (normalised) wallets in `traders`, and how many have no successful checkpoint. */
  valid_wallets: number;
  pending: number;
  invalid_wallets: number;
  rows: { trades: number; markets: number; events: number; unresolved: number; activity: number; combo_activity: number; resolutions: number };
  /** Activity progress: wallets whose activity is loaded, and those whose fills are loaded but activity is not yet. */
  activity: { loaded_wallets: number; pending_wallets: number };
  last_processed_at: string | null;
  /** Incremental refresh: completed wallets refreshed at least once, those whose last refresh failed, and when. */
  refresh: { refreshed_wallets: number; failed: number; last_refreshed_at: string | null; oldest_at: string | null };
  /** What the recorded runs' queries billed (backfill_runs), where queries are billed (BigQuery); null elsewhere. */
  billed: { runs: number; bytes_billed: number; bytes_processed: number } | null;
  /** Positions and wallet_stats: wallets with figures, those waiting for a recompute, and the top by realized profit. */
  traders: TradersFigures;
}

/** One wallet of the status's top traders (wallet_stats, before fees unless said). */
export interface TopTrader {
  wallet: string;
  realized_pnl: number | null;
  realized_pnl_after_fees: number | null;
  volume_usdc: number | null;
  return_on_cost: number | null;
  win_rate: number | null;
  wins: number | null;
  win_rate_sample: number | null;
  markets_traded: number | null;
  top_category: string | null;
  stale: boolean;
}

export interface TradersFigures {
  with_figures: number;
  stale: number;
  /** The STATUS_TOP_TRADERS wallets with the largest realized profit (before fees). */
  top: TopTrader[];
}

/** A finished run, as `backfill_runs` records it. */
export interface RunRecord {
  run_id: string;
  mode: 'backfill' | 'refresh';
  started_at: string;
  finished_at: string;
  outcome: string;
  stop_reason: string | null;
  planned: number;
  loaded: number;
  failed: number;
  /** Trade rows the run inserted (not the rows it fetched: a refresh re-fetches an overlap already held). */
  trades: number;
  bytes_billed: number;
  bytes_processed: number;
  jobs: number;
}

export interface CrashSettlement {
  /** Wallets in flight when a process died, not parked: tried alone, first. */
  suspects: string[];
  /** Completed wallets that were being refreshed when a process died: a refresh tries them alone. */
  refreshSuspects: string[];
  /** Parked now, having been in flight at too many deaths; with the recorded error. */
  parked: { wallet: string; error: string }[];
}

export interface FailedWallet {
  wallet_address: string;
  trade_count: number;
  processed_at: string | null;
  error: string | null;
  attempts: number;
  parked: boolean;
  gcs_file: string | null;
  /** Recorded with the failure; null for rows written before the column existed. */
  failure_class: FailureClass | null;
}

/** What a billed backend's jobs cost so far (BigQuery on-demand): bytes billed and processed, jobs. */
export interface WarehouseCosts {
  /** `statistics.query.totalBytesBilled` summed: what on-demand pricing charges for. */
  bytesBilled: number;
  /** `statistics.totalBytesProcessed` summed (before the per-table minimum and rounding). */
  bytesProcessed: number;
  /** Jobs counted, load jobs (free) included. */
  jobs: number;
}

/**
 * BigQuery on-demand query price, US and EU multi-regions: $6.25 per TiB billed, the first TiB of
 * each month free (https://cloud.google.com/bigquery/pricing#on_demand_pricing). Regions differ;
 * the figure is an estimate, not an invoice.
 */
export const ON_DEMAND_USD_PER_TIB = 6.25;

export function onDemandCostUsd(bytesBilled: number): number {
  return (bytesBilled / 2 ** 40) * ON_DEMAND_USD_PER_TIB;
}

/** The costs accrued between two readings of `Warehouse.costs()`. */
export function costsSince(before: WarehouseCosts | undefined, after: WarehouseCosts | undefined): WarehouseCosts | undefined {
  if (!after) return undefined;
  return {
    bytesBilled: after.bytesBilled - (before?.bytesBilled ?? 0),
    bytesProcessed: after.bytesProcessed - (before?.bytesProcessed ?? 0),
    jobs: after.jobs - (before?.jobs ?? 0),
  };
}

/** A wallet's latest chain audit, as `audit_results` holds it (times ISO-8601 UTC, whole seconds). */
export interface AuditResultRow {
  wallet: string;
  from_block: number;
  to_block: number;
  from_time: string;
  to_time: string;
  on_chain: number;
  held: number;
  matched: number;
  missing_from_api: number;
  held_not_on_chain: number;
  under_minimum: number;
  held_outside_range: number;
  held_unverifiable: number;
  undecodable: number;
  undecodable_by_reason: Record<string, number>;
  complete: boolean;
  /** Rows of `audit_mismatches` written with this result. */
  mismatches: number;
  log_requests: number;
  ranges: number;
  resumed_after: number | null;
  audited_at: string;
}

/**
 * The chain audit's tables (audits.ts): what `backfill audit` keeps per wallet — the walk's progress and
 * the fills it collected, so a stopped audit resumes, and the latest result with its mismatching fills.
 * The methods are those of the audit's store (src/chain/audit-wallet.ts AuditStore), plus the readers.
 */
export interface AuditWarehouse {
  /** The wallet's rows of `trades`, as the audit compares them. */
  auditHeldTrades(wallet: string): Promise<HeldTrade[]>;
  /** The last block of the wallet's last completed range, or undefined before its walk. */
  auditProgress(wallet: string): Promise<number | undefined>;
  /**
   * A completed range: its logs (once per transaction and log index, however often saved), then the progress. Atomic
   * where the backend has transactions; elsewhere the logs are written first, so a stop between the two only walks the
   * range again.
   */
  saveAuditRange(wallet: string, range: AuditedRange): Promise<void>;
  auditChainFills(wallet: string): Promise<{ fills: ChainFill[]; undecodable: Undecodable[] }>;
  /** Replaces the wallet's result and its mismatches; `auditedAt` (ISO-8601 UTC) ties the two. */
  saveAuditResult(wallet: string, report: WalletAuditReport, auditedAt: string): Promise<void>;
  /** Forgets the wallet's progress and collected logs (a fresh walk); its last result stays until replaced. */
  clearAudit(wallet: string): Promise<void>;
  /** The latest results of these wallets (all when omitted), by wallet. */
  auditResults(wallets?: readonly string[]): Promise<AuditResultRow[]>;
  /** The mismatching fills of the wallet's latest result. */
  auditMismatches(wallet: string): Promise<(FillMismatch & { auditedAt: string })[]>;
  /** At most `limit` wallets whose fills are loaded, in a stable hash order: a sample to audit. */
  auditSample(limit: number): Promise<string[]>;
}

/** A fill as the profit replay reads it from `trades`, with its wallet. */
export type PnlFillRow = PnlFill & { wallet: string };

/** An activity row as the profit replay reads it from `activity` (SPLIT, MERGE, REDEEM, CONVERSION, TRADE), with its wallet. */
export type PnlActivityRow = PnlActivity & { wallet: string; side: string | null; price: number | null };

/** A market as the profit replay reads it: what `pnlMarketFromRecord` takes, and its events (for its category). */
export interface PnlMarketRow {
  condition_id: string;
  clob_token_ids: string | null;
  neg_risk: boolean | null;
  neg_risk_market_id: string | null;
  /** Gamma's market object (JSON text), read for neg-risk markets only (their question index); '{}' otherwise. */
  raw: string;
  event_ids: string | null;
}

/** Everything the warehouse holds that a batch of wallets' profit replays read: one query per table. */
export interface PnlBatchInputs {
  fills: PnlFillRow[];
  activity: PnlActivityRow[];
  /** The markets the rows name, and every market of the neg-risk groups the wallets converted in. */
  markets: PnlMarketRow[];
  resolutions: PnlResolution[];
  events: { event_id: string; category: string | null; tags: string | null }[];
}

/** One wallet's replayed figures as rows of `positions` and `wallet_stats` (columns as in table-schemas.ts). */
export interface WalletPnlRows {
  wallet: string;
  /** A digest of the rows below, computed_at left out: the same figures give the same fingerprint. */
  fingerprint: string;
  positions: Record<string, unknown>[];
  stats: Record<string, unknown>;
}

/** What a write of recomputed figures did: wallets whose rows were replaced, and wallets found unchanged (flag cleared only). */
export interface PnlWriteResult {
  written: number;
  unchanged: number;
  positions: number;
}

export interface StatsQuery {
  by: StatsOrder;
  limit: number;
  /** Only wallets that traded at least this many markets. */
  minMarkets: number;
}

/** A row of `wallet_stats` as a ranking reads it. */
export interface WalletStatsRow {
  proxy_wallet: string;
  stale: boolean;
  realized_pnl: number | null;
  realized_pnl_after_fees: number | null;
  fees_usdc: number | null;
  volume_usdc: number | null;
  fills: number | null;
  markets_traded: number | null;
  resolved_markets_traded: number | null;
  wins: number | null;
  losses: number | null;
  win_rate: number | null;
  win_rate_sample: number | null;
  cost_bought_usdc: number | null;
  return_on_cost: number | null;
  first_trade_at: string | null;
  last_trade_at: string | null;
  maker_share: number | null;
  maker_share_sample: number | null;
  top_categories: { category: string; volume_usdc: number; fills: number }[];
  skipped: Record<string, unknown> | null;
  computed_at: string | null;
}

/** A row of `positions` as read back (a replayed position, its status as stored), with its market's question. */
export type PositionRow = Omit<PnlPosition, 'status' | 'last_event_at'> & {
  status: string;
  last_event_at: string | null;
  computed_at: string | null;
  question: string | null;
};

/** How many wallets have figures, and how many of those wait for a recompute. */
export interface StatsCounts {
  wallets: number;
  computed: number;
  stale: number;
}

/**
 * What the engine needs from a warehouse. Implemented once (sql-warehouse.ts) over a driver per
 * backend folder; the engine never imports a vendor SDK.
 */
export interface Warehouse extends AuditWarehouse {
  /** e.g. `duckdb:/abs/path/backfill.duckdb`. */
  readonly description: string;
  /** Which data is written, whatever the URI options: the run lease is keyed on it. */
  readonly identity: string;
  /** Creates or upgrades the tables (versioned migrations); safe to call on every start. */
  migrate(): Promise<void>;
  /** Appends wallets to `traders` (parsed at the boundary they came in through); returns how many were new. */
  addTraders(wallets: readonly Wallet[], source: string): Promise<number>;
  /** Wallets still to do, normalised, in a stable order, streamed in chunks; those whose fills are loaded need activity only. */
  planWallets(options: PlanOptions): AsyncIterable<PlannedWallet[]>;
  /**
   * Wallets completed before activity was collected become pending again, their fills marked loaded, so the
   * mission's "completed" keeps meaning fills, activity, markets and events loaded; returns how many.
   */
  reopenForActivity(): Promise<number>;
  /**
   * Held markets that closed or passed their end date without a final resolution, not asked since `recentBefore`,
   * at most `limit`, the longest ended first.
   */
  resolutionCandidates(options: { now: string; recentBefore: string; limit: number }): Promise<ResolutionCandidate[]>;
  /**
   * Malformed values in `traders` that have no checkpoint yet: records each as a failed, parked
   * checkpoint (so it is reported once, not retried every run) and returns them.
   */
  recordInvalidTraders(runId: string): Promise<InvalidTrader[]>;
  /**
   * Which of these condition ids already have a market row, or are in `unresolved_ids` (whose ids
   * are asked again on their own schedule, see dueUnresolved, not by every wallet that holds them).
   */
  knownConditionIds(ids: readonly string[]): Promise<Set<string>>;
  knownEventIds(ids: readonly string[]): Promise<Set<string>>;
  /** Staged files → staging tables → MERGE into the targets, all or nothing. */
  loadBundles(bundles: readonly WalletBundle[]): Promise<LoadResult>;
  /**
   * Upserts one checkpoint row per wallet. Failed rows count one more attempt and are parked once
   * `maxFailedAttempts` is reached; their `trade_count` is what the warehouse holds, read here.
   */
  writeCheckpoints(rows: readonly CheckpointRow[], options: { maxFailedAttempts: number }): Promise<void>;
  /** Records that these wallets' attempts start now (before their fetch), for crash-poison detection. */
  markInFlight(wallets: readonly string[], runId: string): Promise<void>;
  /** Clears the marks a run left without an outcome (a graceful stop, wallets marked ahead). */
  clearInFlight(runId: string): Promise<void>;
  /** Records on still-pending wallets why they have no outcome (the run stopped while they were in flight); not an attempt. */
  noteInterrupted(notes: readonly { wallet: string; note: string }[]): Promise<void>;
  /**
   * At the start of a run under its lease: wallets left in flight by a dead process (in this shard)
   * count a failed attempt, parked at the limit; returns the crash suspects to try alone and those parked now.
   */
  settleCrashed(options: { shard?: { index: number; count: number }; maxFailedAttempts: number; runId?: string }): Promise<CrashSettlement>;
  /** Completed wallets to refresh, with where each window starts, streamed in chunks. */
  planRefresh(options: RefreshPlanOptions): AsyncIterable<RefreshItem[]>;
  /** Completed wallets a feed refresh tracks, with their horizons, in a stable order, streamed in chunks. */
  planFeedRefresh(options: { maxFailedAttempts: number; shard?: { index: number; count: number }; chunkSize?: number }): AsyncIterable<TrackedWallet[]>;
  /** The latest feed walk still `running` (a killed one), which the next feed refresh resumes. */
  unfinishedFeedWalk(): Promise<FeedWalkRecord | undefined>;
  /** Upserts a feed walk's row (its progress, committed after its pages' rows). */
  saveFeedWalk(record: FeedWalkRecord): Promise<void>;
  /** The feed's rows per hour as the last finished walks measured them; undefined before any. */
  feedRowsPerHour(): Promise<number | undefined>;
  /** Completed wallets whose horizon is in [coveredFrom, coveredAt): refreshed up to `coveredAt` by a feed walk. */
  markFeedCovered(options: { coveredFrom: string; coveredAt: string; shard?: { index: number; count: number } }): Promise<number>;
  /** Queues these wallets' activity for a per-wallet refresh (`activity_due`). */
  markActivityDue(wallets: readonly string[]): Promise<number>;
  /** Queues the activity of completed wallets holding fills in these (just resolved) markets. */
  markHoldersActivityDue(conditionIds: readonly string[]): Promise<number>;
  /** Gives `last_trade_at` to completed wallets checkpointed before it existed; returns how many. */
  fillLastTradeAt(): Promise<number>;
  /** Markets held as open that may have resolved since (end date passed, or fetched before `staleBefore`). */
  staleMarkets(options: { now: string; staleBefore: string; limit: number }): Promise<string[]>;
  /** Unresolved ids whose backoff has passed (unresolved-sql.ts), longest waiting first, at most `limit`. */
  dueUnresolved(options: { now: string; limit: number }): Promise<DueUnresolved[]>;
  /** Held neg-risk events whose members may not all be held, at most `limit`, the least recently fetched first. */
  incompleteNegRiskEvents(options: { limit: number }): Promise<IncompleteNegRiskEvent[]>;
  /** Removes ids a later look-up found from `unresolved_ids`; returns how many rows went. */
  forgetUnresolved(kind: 'market' | 'event', ids: readonly string[]): Promise<number>;
  status(): Promise<StatusFigures>;
  /** Bytes billed and processed by this warehouse's queries so far (BigQuery); undefined where queries are free. */
  costs?(): WarehouseCosts | undefined;
  /** Records a finished run (backfill_runs); recording it again replaces the row. */
  recordRun(run: RunRecord): Promise<void>;
  /** What the profit replays of these wallets read (pnl-store.ts): their fills and activity, the markets, resolutions and events these name. */
  readPnlInputs(wallets: readonly string[]): Promise<PnlBatchInputs>;
  /** Replaces the positions and wallet_stats rows of these wallets by their recomputed ones and clears their flag (unchanged ones: the flag only). */
  writeWalletPnl(results: readonly WalletPnlRows[]): Promise<PnlWriteResult>;
  /** Wallets whose figures are stale or were never computed (in this shard), at most `limit`, in a stable order. */
  staleStatsWallets(options: { limit: number; shard?: { index: number; count: number } }): Promise<string[]>;
  /** Wallets ranked by profit, return, win rate or volume. */
  walletStats(query: StatsQuery): Promise<WalletStatsRow[]>;
  /** One wallet's figures, or undefined when it has no wallet_stats row. */
  walletStatsOf(wallet: string): Promise<WalletStatsRow | undefined>;
  /** One wallet's positions by market. */
  walletPositions(wallet: string): Promise<PositionRow[]>;
  statsCounts(): Promise<StatsCounts>;
  /** Backfill failures (default), or completed wallets whose last refresh failed. */
  failedWallets(options?: { limit?: number; kind?: 'backfill' | 'refresh' }): Promise<FailedWallet[]>;
  close(): Promise<void>;
}
