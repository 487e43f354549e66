/**
 * What the warehouse reports: the mission's monitoring figures and ours (status), the failed
 * wallets with their errors, and the record of each finished run in `backfill_runs`.
 */
import type { WarehouseDriver } from './driver.js';
import { param } from './sql/dialect.js';
import { refreshFailuresSql } from './sql/refresh-sql.js';
import { RUN_ROW_FIELDS, recordRunSql } from './sql/runs-sql.js';
import { walletStatsSql } from './sql/pnl-sql.js';
import { failedWalletsSql, missionQueries, statusFiguresSql } from './sql/status-sql.js';
import { truncate } from './statement-params.js';
import type { FailedWallet, FailureClass, RunRecord, StatusFigures, TopTrader } from './warehouse.js';

/** Wallets in the status's top traders (the dashboard's panel). */
export const STATUS_TOP_TRADERS = 10;

export class WarehouseReports {
  readonly #driver: WarehouseDriver;

  constructor(driver: WarehouseDriver) {
    this.#driver = driver;
  }

  async status(): Promise<StatusFigures> {
    await this.#driver.probe?.();
    const d = this.#driver.dialect;
    const [ours] = await this.#driver.query<Record<string, unknown>>('status figures', statusFiguresSql(d));
    const n = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
    let completed = n(ours?.completed);
    let total = n(ours?.total);
    let percent: number | null = null;
    // The mission's progress query divides by the trader count, which BigQuery rejects when it is 0.
    if (total > 0) {
      const [mission] = await this.#driver.query<{ completed: unknown; total: unknown; percent_complete: unknown }>('mission progress', missionQueries(d).progress);
      completed = n(mission?.completed);
      total = n(mission?.total);
      percent = mission?.percent_complete === null || mission?.percent_complete === undefined ? null : Number(mission.percent_complete);
    }
    const withFigures = n(ours?.traders_with_figures);
    return {
      completed,
      total,
      percent_complete: percent,
      failed: n(ours?.failed),
      parked: n(ours?.parked),
      valid_wallets: n(ours?.valid_wallets),
      pending: n(ours?.pending),
      invalid_wallets: n(ours?.invalid_wallets),
      rows: {
        trades: n(ours?.trades),
        markets: n(ours?.markets),
        events: n(ours?.events),
        unresolved: n(ours?.unresolved),
        activity: n(ours?.activity),
        combo_activity: n(ours?.combo_activity),
        resolutions: n(ours?.resolutions),
      },
      activity: { loaded_wallets: n(ours?.activity_loaded_wallets), pending_wallets: n(ours?.activity_pending_wallets) },
      last_processed_at: (ours?.last_processed_at as string | null | undefined) ?? null,
      refresh: {
        refreshed_wallets: n(ours?.refreshed_wallets),
        failed: n(ours?.refresh_failed),
        last_refreshed_at: (ours?.last_refreshed_at as string | null | undefined) ?? null,
        oldest_at: (ours?.oldest_refresh_at as string | null | undefined) ?? null,
      },
      billed: this.#driver.capabilities.billedByBytes
        ? { runs: n(ours?.runs), bytes_billed: n(ours?.runs_bytes_billed), bytes_processed: n(ours?.runs_bytes_processed) }
        : null,
      // The top is one more query, asked only once some wallet has figures.
      traders: { with_figures: withFigures, stale: n(ours?.traders_stale), top: withFigures > 0 ? await this.#topTraders() : [] },
    };
  }

  async #topTraders(): Promise<TopTrader[]> {
    const rows = await this.#driver.query<Record<string, unknown>>('top traders', walletStatsSql(this.#driver.dialect, 'pnl'), {
      limit: param.int(STATUS_TOP_TRADERS),
      min_markets: param.int(0),
    });
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    return rows.map((r) => {
      let category: string | null = null;
      try {
        const top = JSON.parse(String(r.top_categories ?? '[]')) as { category?: unknown }[];
        category = typeof top[0]?.category === 'string' ? top[0].category : null;
      } catch {
        category = null;
      }
      return {
        wallet: String(r.proxy_wallet),
        realized_pnl: num(r.realized_pnl),
        realized_pnl_after_fees: num(r.realized_pnl_after_fees),
        volume_usdc: num(r.volume_usdc),
        return_on_cost: num(r.return_on_cost),
        win_rate: num(r.win_rate),
        wins: num(r.wins),
        win_rate_sample: num(r.win_rate_sample),
        markets_traded: num(r.markets_traded),
        top_category: category,
        stale: r.stale === true,
      };
    });
  }

  async recordRun(run: RunRecord): Promise<void> {
    await this.#driver.execute('record run', recordRunSql(this.#driver.dialect), { run: param.rows(RUN_ROW_FIELDS, [{ ...run, stop_reason: run.stop_reason === null ? null : truncate(run.stop_reason, 4_000) }]) });
  }

  async failedWallets(options: { limit?: number; kind?: 'backfill' | 'refresh' } = {}): Promise<FailedWallet[]> {
    const d = this.#driver.dialect;
    const sql = options.kind === 'refresh' ? refreshFailuresSql(d) : failedWalletsSql(d);
    const rows = await this.#driver.query<Record<string, unknown>>(`${options.kind ?? 'backfill'} failures`, sql, {
      limit: param.int(options.limit ?? 1_000_000),
    });
    return rows.map((r) => ({
      wallet_address: String(r.wallet_address),
      trade_count: Number(r.trade_count ?? 0),
      processed_at: (r.processed_at as string | null) ?? null,
      error: (r.error as string | null) ?? null,
      attempts: Number(r.attempts ?? 0),
      parked: Boolean(r.parked),
      gcs_file: (r.gcs_file as string | null) ?? null,
      failure_class: (r.failure_class as FailureClass | null) ?? null,
    }));
  }

}
