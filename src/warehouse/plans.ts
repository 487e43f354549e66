/**
 * What the engine plans from: the wallets of `traders` still to do (and the malformed values among
 * them, recorded once), the completed wallets a refresh takes, markets held as open that may have
 * resolved, and unresolved ids due to be asked again.
 */
import type { Wallet } from '../domain/wallet-address.js';
import { describeInvalidTrader } from '../domain/wallet-address.js';
import type { BundleLoader } from './bundle-loader.js';
import type { CheckpointStore } from './checkpoint-store.js';
import type { WarehouseDriver } from './driver.js';
import { param } from './sql/dialect.js';
import type { Params } from './sql/dialect.js';
import { addTradersSql, invalidTradersSql, planSql, reopenForActivitySql } from './sql/plan-sql.js';
import { fillLastTradeAtSql, missingLastTradeAtSql, refreshPlanSql, resolutionCandidatesSql, staleMarketsSql } from './sql/refresh-sql.js';
import { incompleteNegRiskEventsSql } from './sql/neg-risk-sql.js';
import { dueUnresolvedParams, dueUnresolvedSql, forgetUnresolvedSql } from './sql/unresolved-sql.js';
import { chunks, shardParams } from './statement-params.js';
import type { CheckpointRow, DueUnresolved, IncompleteNegRiskEvent, InvalidTrader, PlanOptions, PlannedWallet, RefreshItem, RefreshPlanOptions, ResolutionCandidate } from './warehouse.js';

export class WarehousePlans {
  readonly #driver: WarehouseDriver;
  readonly #loader: BundleLoader;
  readonly #checkpoints: CheckpointStore;

  constructor(driver: WarehouseDriver, loader: BundleLoader, checkpoints: CheckpointStore) {
    this.#driver = driver;
    this.#loader = loader;
    this.#checkpoints = checkpoints;
  }

  async addTraders(wallets: readonly Wallet[], source: string): Promise<number> {
    let added = 0;
    // Chunked: a BigQuery request is limited to 10 MB, and 10,000 addresses are ~0.5 MB.
    for (const chunk of chunks(wallets, 10_000)) {
      added += await this.#driver.execute('add traders', addTradersSql(this.#driver.dialect), {
        wallets: param.strings(chunk),
        source: param.string(source),
      });
    }
    return added;
  }

  async *planWallets(options: PlanOptions): AsyncIterable<PlannedWallet[]> {
    this.#loader.forgetKnownIds();
    const params: Params = { retry_parked: param.bool(options.retryParked), ...shardParams(options.shard) };
    const rows = this.#driver.stream<{ wallet: string; fills_loaded: unknown }>('plan wallets', planSql(this.#driver.dialect), params, options.chunkSize ?? 2048);
    for await (const chunk of rows) yield chunk.map((r) => ({ wallet: String(r.wallet), fillsLoaded: r.fills_loaded === true }));
  }

  reopenForActivity(): Promise<number> {
    return this.#driver.execute('reopen wallets for their activity', reopenForActivitySql(this.#driver.dialect));
  }

  async resolutionCandidates(options: { now: string; recentBefore: string; limit: number }): Promise<ResolutionCandidate[]> {
    const rows = await this.#driver.query<{ condition_id: string; outcomes: string | null }>('markets to resolve', resolutionCandidatesSql(this.#driver.dialect), {
      now: param.timestamp(options.now),
      recent_before: param.timestamp(options.recentBefore),
      limit: param.int(options.limit),
    });
    return rows.map((r) => ({ condition_id: String(r.condition_id), outcomes: r.outcomes === null || r.outcomes === undefined ? null : String(r.outcomes) }));
  }

  async recordInvalidTraders(runId: string): Promise<InvalidTrader[]> {
    const found = await this.#driver.query<{ value: string }>('find invalid traders', invalidTradersSql(this.#driver.dialect));
    const invalid = found.map(({ value }) => ({ value, reason: describeInvalidTrader(value) }));
    const now = new Date().toISOString();
    await this.#checkpoints.writeCheckpoints(
      invalid.map((i): CheckpointRow => ({
        wallet_address: i.value,
        outcome: 'invalid',
        failure_class: 'invalid address',
        trade_count: 0,
        gcs_file: null,
        processed_at: now,
        error: i.reason,
        run_id: runId,
      })),
      { maxFailedAttempts: 1 },
    );
    return invalid;
  }

  async *planRefresh(options: RefreshPlanOptions): AsyncIterable<RefreshItem[]> {
    this.#loader.forgetKnownIds();
    const params: Params = {
      max_failed_attempts: param.int(options.maxFailedAttempts),
      stale_before: { type: 'timestamp', value: options.staleBefore ?? null },
      ...shardParams(options.shard),
      ...(options.wallets ? { wallets: param.strings(options.wallets) } : {}),
    };
    const sql = refreshPlanSql(this.#driver.dialect, { onlyListed: options.wallets !== undefined, activityDueOnly: options.activityDueOnly === true });
    for await (const rows of this.#driver.stream<{ wallet: string; since: string | null; activity_since: string | null }>('plan refresh', sql, params, options.chunkSize ?? 2048)) {
      const text = (value: string | null | undefined) => (value === null || value === undefined ? null : String(value));
      yield rows.map((r) => ({ wallet: String(r.wallet), since: text(r.since), activitySince: text(r.activity_since) }));
    }
  }

  async fillLastTradeAt(): Promise<number> {
    const d = this.#driver.dialect;
    const missing = (await this.#driver.query<{ wallet: string }>('wallets without last_trade_at', missingLastTradeAtSql(d))).map((r) => String(r.wallet));
    let filled = 0;
    for (const chunk of chunks(missing, 10_000)) {
      filled += await this.#driver.execute('fill last_trade_at', fillLastTradeAtSql(d), { wallets: param.strings(chunk) });
    }
    return filled;
  }

  async staleMarkets(options: { now: string; staleBefore: string; limit: number }): Promise<string[]> {
    const rows = await this.#driver.query<{ id: string }>('stale markets', staleMarketsSql(this.#driver.dialect), {
      now: param.timestamp(options.now),
      // Ended markets awaiting resolution are asked at most once an hour (or per stale window, if shorter).
      recent_before: param.timestamp(new Date(Math.max(Date.parse(options.staleBefore), Date.parse(options.now) - 3_600_000)).toISOString()),
      stale_before: param.timestamp(options.staleBefore),
      limit: param.int(options.limit),
    });
    return rows.map((r) => String(r.id));
  }

  async dueUnresolved(options: { now: string; limit: number }): Promise<DueUnresolved[]> {
    const rows = await this.#driver.query<{ kind: string; id: string; attempts: unknown }>(
      'unresolved ids due',
      dueUnresolvedSql(this.#driver.dialect),
      dueUnresolvedParams(new Date(options.now), options.limit),
    );
    return rows.map((r) => ({ kind: r.kind === 'event' ? 'event' : 'market', id: String(r.id), attempts: Number(r.attempts) }));
  }

  async incompleteNegRiskEvents(options: { limit: number }): Promise<IncompleteNegRiskEvent[]> {
    const rows = await this.#driver.query<{ id: string; listed: unknown }>('incomplete neg-risk groups', incompleteNegRiskEventsSql(this.#driver.dialect), {
      limit: param.int(options.limit),
    });
    return rows.map((r) => ({ eventId: String(r.id), listed: r.listed === true }));
  }

  async forgetUnresolved(kind: 'market' | 'event', ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.#driver.execute('forget found ids', forgetUnresolvedSql(this.#driver.dialect), { kind: param.string(kind), ids: param.strings(ids) });
  }

}
