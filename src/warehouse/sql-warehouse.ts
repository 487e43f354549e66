import type { AuditedRange, WalletAuditReport } from '../chain/audit-wallet.js';
import type { FillMismatch, HeldTrade } from '../chain/fill-match.js';
import type { ChainFill, Undecodable } from '../chain/order-filled.js';
import type { Wallet } from '../domain/wallet-address.js';
import { WarehouseAudits } from './audits.js';
import { BundleLoader } from './bundle-loader.js';
import { CheckpointStore } from './checkpoint-store.js';
import type { WarehouseDriver } from './driver.js';
import { PnlStore } from './pnl-store.js';
import { WarehousePlans } from './plans.js';
import { WarehouseReports } from './reports.js';
import { param } from './sql/dialect.js';
import { appliedMigrationsSql, recordMigrationSql } from './sql/migration-sql.js';
import { MIGRATIONS } from './table-schemas.js';
import type {
  AuditResultRow,
  CheckpointRow,
  CrashSettlement,
  DueUnresolved,
  FailedWallet,
  FeedWalkRecord,
  IncompleteNegRiskEvent,
  InvalidTrader,
  LoadResult,
  PlanOptions,
  PnlBatchInputs,
  PnlWriteResult,
  PositionRow,
  StatsCounts,
  StatsQuery,
  WalletPnlRows,
  WalletStatsRow,
  PlannedWallet,
  RefreshItem,
  RefreshPlanOptions,
  ResolutionCandidate,
  RunRecord,
  StatusFigures,
  TrackedWallet,
  Warehouse,
  WarehouseCosts,
  WalletBundle,
} from './warehouse.js';

import { FeedWalks } from './feed-walks.js';

export { StagedDataMismatchError } from './bundle-loader.js';

/**
 * The warehouse, written once for every backend: the domain rules (what is planned, how a
 * checkpoint counts attempts and parks, what status reports) are the shared SQL of ./sql run
 * through the backend's driver. A rule changed here changes on every backend at once. The work is
 * shared out over one driver: the loader (bundles in), the checkpoint store (outcomes, in-flight
 * marks, crash settlement), the plans (what to do next) and the reports (what was done).
 */
export class SqlWarehouse implements Warehouse {
  readonly #driver: WarehouseDriver;
  readonly #loader: BundleLoader;
  readonly #checkpoints: CheckpointStore;
  readonly #plans: WarehousePlans;
  readonly #reports: WarehouseReports;
  readonly #feed: FeedWalks;
  readonly #audits: WarehouseAudits;
  readonly #pnl: PnlStore;

  constructor(driver: WarehouseDriver) {
    this.#driver = driver;
    this.#loader = new BundleLoader(driver);
    this.#checkpoints = new CheckpointStore(driver);
    this.#plans = new WarehousePlans(driver, this.#loader, this.#checkpoints);
    this.#reports = new WarehouseReports(driver);
    this.#feed = new FeedWalks(driver);
    this.#audits = new WarehouseAudits(driver);
    this.#pnl = new PnlStore(driver);
  }

  get description(): string {
    return this.#driver.description;
  }

  get identity(): string {
    return this.#driver.identity;
  }

  get driver(): WarehouseDriver {
    return this.#driver;
  }

  /** Creates what is missing (the driver's DDL), then records the versions not yet applied. */
  async migrate(): Promise<void> {
    await this.#driver.migrate();
    const d = this.#driver.dialect;
    const applied = new Set((await this.#driver.query<{ version: unknown }>('read migrations', appliedMigrationsSql(d))).map((r) => Number(r.version)));
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      if (migration.dataStep) await this.#driver.execute(`migration ${migration.version} data step`, migration.dataStep(d), {});
      await this.#driver.execute('record migration', recordMigrationSql(d), {
        version: param.int(migration.version),
        description: param.string(migration.description),
      });
    }
  }

  addTraders(wallets: readonly Wallet[], source: string): Promise<number> {
    return this.#plans.addTraders(wallets, source);
  }

  planWallets(options: PlanOptions): AsyncIterable<PlannedWallet[]> {
    return this.#plans.planWallets(options);
  }

  planFeedRefresh(options: { maxFailedAttempts: number; shard?: { index: number; count: number }; chunkSize?: number }): AsyncIterable<TrackedWallet[]> {
    return this.#feed.planFeedRefresh(options);
  }

  unfinishedFeedWalk(): Promise<FeedWalkRecord | undefined> {
    return this.#feed.unfinishedFeedWalk();
  }

  saveFeedWalk(record: FeedWalkRecord): Promise<void> {
    return this.#feed.saveFeedWalk(record);
  }

  feedRowsPerHour(): Promise<number | undefined> {
    return this.#feed.feedRowsPerHour();
  }

  markFeedCovered(options: { coveredFrom: string; coveredAt: string; shard?: { index: number; count: number } }): Promise<number> {
    return this.#feed.markFeedCovered(options);
  }

  markActivityDue(wallets: readonly string[]): Promise<number> {
    return this.#feed.markActivityDue(wallets);
  }

  markHoldersActivityDue(conditionIds: readonly string[]): Promise<number> {
    return this.#feed.markHoldersActivityDue(conditionIds);
  }

  reopenForActivity(): Promise<number> {
    return this.#plans.reopenForActivity();
  }

  resolutionCandidates(options: { now: string; recentBefore: string; limit: number }): Promise<ResolutionCandidate[]> {
    return this.#plans.resolutionCandidates(options);
  }

  recordInvalidTraders(runId: string): Promise<InvalidTrader[]> {
    return this.#plans.recordInvalidTraders(runId);
  }

  planRefresh(options: RefreshPlanOptions): AsyncIterable<RefreshItem[]> {
    return this.#plans.planRefresh(options);
  }

  fillLastTradeAt(): Promise<number> {
    return this.#plans.fillLastTradeAt();
  }

  staleMarkets(options: { now: string; staleBefore: string; limit: number }): Promise<string[]> {
    return this.#plans.staleMarkets(options);
  }

  dueUnresolved(options: { now: string; limit: number }): Promise<DueUnresolved[]> {
    return this.#plans.dueUnresolved(options);
  }

  incompleteNegRiskEvents(options: { limit: number }): Promise<IncompleteNegRiskEvent[]> {
    return this.#plans.incompleteNegRiskEvents(options);
  }

  forgetUnresolved(kind: 'market' | 'event', ids: readonly string[]): Promise<number> {
    return this.#plans.forgetUnresolved(kind, ids);
  }

  knownConditionIds(ids: readonly string[]): Promise<Set<string>> {
    return this.#loader.knownConditionIds(ids);
  }

  knownEventIds(ids: readonly string[]): Promise<Set<string>> {
    return this.#loader.knownEventIds(ids);
  }

  loadBundles(bundles: readonly WalletBundle[]): Promise<LoadResult> {
    return this.#loader.loadBundles(bundles);
  }

  markInFlight(wallets: readonly string[], runId: string): Promise<void> {
    return this.#checkpoints.markInFlight(wallets, runId);
  }

  clearInFlight(runId: string): Promise<void> {
    return this.#checkpoints.clearInFlight(runId);
  }

  noteInterrupted(notes: readonly { wallet: string; note: string }[]): Promise<void> {
    return this.#checkpoints.noteInterrupted(notes);
  }

  settleCrashed(options: { shard?: { index: number; count: number }; maxFailedAttempts: number; runId?: string }): Promise<CrashSettlement> {
    return this.#checkpoints.settleCrashed(options);
  }

  writeCheckpoints(rows: readonly CheckpointRow[], options: { maxFailedAttempts: number }): Promise<void> {
    return this.#checkpoints.writeCheckpoints(rows, options);
  }

  status(): Promise<StatusFigures> {
    return this.#reports.status();
  }

  recordRun(run: RunRecord): Promise<void> {
    return this.#reports.recordRun(run);
  }

  failedWallets(options: { limit?: number; kind?: 'backfill' | 'refresh' } = {}): Promise<FailedWallet[]> {
    return this.#reports.failedWallets(options);
  }

  auditHeldTrades(wallet: string): Promise<HeldTrade[]> {
    return this.#audits.auditHeldTrades(wallet);
  }

  auditProgress(wallet: string): Promise<number | undefined> {
    return this.#audits.auditProgress(wallet);
  }

  saveAuditRange(wallet: string, range: AuditedRange): Promise<void> {
    return this.#audits.saveAuditRange(wallet, range);
  }

  auditChainFills(wallet: string): Promise<{ fills: ChainFill[]; undecodable: Undecodable[] }> {
    return this.#audits.auditChainFills(wallet);
  }

  saveAuditResult(wallet: string, report: WalletAuditReport, auditedAt: string): Promise<void> {
    return this.#audits.saveAuditResult(wallet, report, auditedAt);
  }

  clearAudit(wallet: string): Promise<void> {
    return this.#audits.clearAudit(wallet);
  }

  auditResults(wallets?: readonly string[]): Promise<AuditResultRow[]> {
    return this.#audits.auditResults(wallets);
  }

  auditMismatches(wallet: string): Promise<(FillMismatch & { auditedAt: string })[]> {
    return this.#audits.auditMismatches(wallet);
  }

  auditSample(limit: number): Promise<string[]> {
    return this.#audits.auditSample(limit);
  }

  readPnlInputs(wallets: readonly string[]): Promise<PnlBatchInputs> {
    return this.#pnl.readInputs(wallets);
  }

  writeWalletPnl(results: readonly WalletPnlRows[]): Promise<PnlWriteResult> {
    return this.#pnl.write(results);
  }

  staleStatsWallets(options: { limit: number; shard?: { index: number; count: number } }): Promise<string[]> {
    return this.#pnl.staleWallets(options);
  }

  walletStats(query: StatsQuery): Promise<WalletStatsRow[]> {
    return this.#pnl.ranking(query);
  }

  walletStatsOf(wallet: string): Promise<WalletStatsRow | undefined> {
    return this.#pnl.statsOf(wallet);
  }

  walletPositions(wallet: string): Promise<PositionRow[]> {
    return this.#pnl.positions(wallet);
  }

  statsCounts(): Promise<StatsCounts> {
    return this.#pnl.counts();
  }

  costs(): WarehouseCosts | undefined {
    return this.#driver.costs?.();
  }

  close(): Promise<void> {
    return this.#driver.close();
  }
}
