/**
 * Keeps `positions` and `wallet_stats` current: after each committed load the wallets of the batch are replayed from
 * what the warehouse now holds (src/pnl, the method of Polymarket's PnL subgraph) and their rows replaced; at the end
 * of a run every wallet still flagged stale (a load whose recompute failed or whose process died, holders of a market
 * that resolved, wallets loaded before the tables existed) is recomputed the same way. One read per table per batch
 * of wallets, so the cost follows the batch's rows, not the warehouse's.
 */
import { createHash } from 'node:crypto';

import { describeError } from '../lib/errors.js';
import { feeInsideUsdcSize, pnlMarketFromRecord, replayWallet, summarizeWallet } from '../pnl/index.js';
import type { PnlActivity, PnlFill, PnlMarket, WalletReplay, WalletStats } from '../pnl/index.js';
import { parseJsonArray } from '../polymarket/gamma-values.js';
import type { PnlBatchInputs, PnlWriteResult, Warehouse, WalletPnlRows } from '../warehouse/warehouse.js';
import type { RunEvents } from './run-events.js';

/** Wallets replayed per read at the end of a run (a batch's reads are filtered by its wallets). */
export const STATS_SWEEP_CHUNK = 200;

/** What the end of a run recomputed. */
export interface StatsSweep {
  /** Wallets found stale and recomputed. */
  wallets: number;
  /** Of those, wallets whose figures changed (rows replaced); the rest only had their flag cleared. */
  written: number;
  /** The sweep stopped on this error: the wallets left stay flagged for the next run. */
  failed?: string;
}

/** What recomputes a batch's wallets after its load (the commit batcher's hook). */
export interface StatsRecompute {
  recompute(wallets: readonly string[]): Promise<PnlWriteResult>;
}

/** A market's category: the first of its events that has one, else the first tag label of those events. */
function categoriesOf(inputs: PnlBatchInputs): Map<string, string> {
  const byEvent = new Map<string, string>();
  for (const event of inputs.events) {
    let category = event.category?.trim() || null;
    if (!category) {
      const tags = parseJsonArray(event.tags) ?? [];
      const label = tags.map((tag) => (typeof tag === 'object' && tag !== null ? (tag as { label?: unknown }).label : undefined)).find((l) => typeof l === 'string' && l.trim() !== '');
      category = typeof label === 'string' ? label.trim() : null;
    }
    if (category) byEvent.set(event.event_id, category);
  }
  const byMarket = new Map<string, string>();
  for (const market of inputs.markets) {
    const category = (parseJsonArray(market.event_ids) ?? []).map(String).map((id) => byEvent.get(id)).find((c) => c !== undefined);
    if (category) byMarket.set(market.condition_id, category);
  }
  return byMarket;
}

/**
 * The fee inside each fill, where the wallet's `/v2/activity` TRADE rows are held (they are fetched only when asked
 * for: `--activity-types` with TRADE): a TRADE row is matched to the fill of the same transaction, token, side, size
 * and price, and its `usdc_size` beyond (or short of) size × price is the fee. Fills without a match have no known fee.
 */
function withFees(fills: readonly PnlFill[], trades: readonly (PnlActivity & { side: string | null; price: number | null })[]): PnlFill[] {
  if (trades.length === 0) return [...fills];
  const key = (tx: string, token: string, side: string, size: number, price: number) => `${tx.toLowerCase()}|${token}|${side.toUpperCase()}|${size}|${price}`;
  const fees = new Map<string, number[]>();
  for (const row of trades) {
    if (!row.token_id || !row.side || row.price === null) continue;
    const k = key(row.transaction_hash, row.token_id, row.side, row.size, row.price);
    const list = fees.get(k) ?? [];
    list.push(feeInsideUsdcSize({ side: row.side, size: row.size, price: row.price, usdc_size: row.usdc_size }));
    fees.set(k, list);
  }
  return fills.map((fill) => {
    const fee = fees.get(key(fill.transaction_hash, fill.asset, fill.side, fill.size, fill.price))?.shift();
    return fee === undefined ? fill : { ...fill, fee_usdc: fee };
  });
}

const digest = (value: unknown): string => createHash('sha256').update(JSON.stringify(value)).digest('hex');

/** One wallet's replay and summary as rows of `positions` and `wallet_stats`, with the fingerprint of their figures. */
export function walletPnlRows(replay: WalletReplay, stats: WalletStats, computedAt: string): WalletPnlRows {
  const positions = replay.positions.map((p) => ({
    proxy_wallet: p.proxy_wallet,
    condition_id: p.condition_id,
    token_id: p.token_id,
    outcome_index: p.outcome_index,
    shares: p.shares,
    avg_price: p.avg_price,
    total_bought: p.total_bought,
    cost_bought_usdc: p.cost_bought_usdc,
    realized_pnl: p.realized_pnl,
    realized_pnl_after_fees: p.realized_pnl_after_fees,
    fees_usdc: p.fees_usdc,
    status: p.status,
    payout_price: p.payout_price,
    settled_pnl: p.settled_pnl,
    fills: p.fills,
    first_entry_at: p.first_entry_at,
    last_event_at: p.last_event_at,
  }));
  const { top_categories: top, ...figures } = stats;
  const row = { ...figures, top_categories: JSON.stringify(top), skipped: JSON.stringify(replay.skipped) };
  const fingerprint = digest({ positions, row });
  return {
    wallet: replay.wallet,
    fingerprint,
    positions: positions.map((p) => ({ ...p, computed_at: computedAt })),
    stats: { ...row, stale: false, fingerprint, computed_at: computedAt },
  };
}

/** The batch's rows replayed per wallet: every wallet of `wallets` gets rows (an empty history gives empty figures). */
export function replayBatch(wallets: readonly string[], inputs: PnlBatchInputs, computedAt: string): WalletPnlRows[] {
  const markets: PnlMarket[] = inputs.markets.map((m) =>
    pnlMarketFromRecord({ condition_id: m.condition_id, clob_token_ids: m.clob_token_ids, neg_risk: m.neg_risk, neg_risk_market_id: m.neg_risk_market_id, raw: m.raw }),
  );
  const categories = categoriesOf(inputs);
  const fillsOf = new Map<string, PnlFill[]>();
  for (const { wallet, ...fill } of inputs.fills) {
    const list = fillsOf.get(wallet) ?? [];
    list.push(fill);
    fillsOf.set(wallet, list);
  }
  const activityOf = new Map<string, PnlBatchInputs['activity']>();
  for (const row of inputs.activity) {
    const list = activityOf.get(row.wallet) ?? [];
    list.push(row);
    activityOf.set(row.wallet, list);
  }
  return wallets.map((wallet) => {
    const rows = activityOf.get(wallet) ?? [];
    const trades = rows.filter((r) => r.type.toUpperCase() === 'TRADE');
    const fills = withFees(fillsOf.get(wallet) ?? [], trades);
    const activity = rows.filter((r) => r.type.toUpperCase() !== 'TRADE');
    const replay = replayWallet({ wallet, fills, activity, markets, resolutions: inputs.resolutions });
    const stats = summarizeWallet(replay, fills, { categoryOf: (id) => categories.get(id) });
    return walletPnlRows(replay, stats, computedAt);
  });
}

export class WalletStatsUpdater implements StatsRecompute {
  readonly #warehouse: Warehouse;
  readonly #events: RunEvents | undefined;
  readonly #shard: { index: number; count: number } | undefined;
  readonly #now: () => Date;

  constructor(options: { warehouse: Warehouse; events?: RunEvents; shard?: { index: number; count: number }; now?: () => Date }) {
    this.#warehouse = options.warehouse;
    this.#events = options.events;
    this.#shard = options.shard;
    this.#now = options.now ?? (() => new Date());
  }

  /** Replays these wallets from what the warehouse holds now and writes their rows (clearing their flag). */
  async recompute(wallets: readonly string[]): Promise<PnlWriteResult> {
    const unique = [...new Set(wallets)].sort();
    if (unique.length === 0) return { written: 0, unchanged: 0, positions: 0 };
    const started = Date.now();
    const inputs = await this.#warehouse.readPnlInputs(unique);
    const result = await this.#warehouse.writeWalletPnl(replayBatch(unique, inputs, this.#now().toISOString()));
    this.#events?.safeEmit('stats:computed', { wallets: unique.length, written: result.written, unchanged: result.unchanged, durationMs: Date.now() - started });
    return result;
  }

  /**
   * Every wallet of this shard whose figures are stale, in chunks, until none is left or `signal` stops it. A chunk
   * that fails ends the sweep: its wallets stay flagged, and the next run tries them again.
   */
  async sweep(signal?: AbortSignal): Promise<StatsSweep | undefined> {
    const result: StatsSweep = { wallets: 0, written: 0 };
    const tried = new Set<string>();
    try {
      while (!signal?.aborted) {
        const due = (await this.#warehouse.staleStatsWallets({ limit: STATS_SWEEP_CHUNK + tried.size, ...(this.#shard ? { shard: this.#shard } : {}) })).filter((w) => !tried.has(w));
        if (due.length === 0) break;
        const chunk = due.slice(0, STATS_SWEEP_CHUNK);
        for (const wallet of chunk) tried.add(wallet);
        const written = await this.recompute(chunk);
        result.wallets += chunk.length;
        result.written += written.written;
      }
    } catch (error) {
      result.failed = describeError(error);
      this.#events?.safeEmit('stats:failed', { wallets: result.wallets, error: result.failed });
    }
    return result.wallets === 0 && result.failed === undefined ? undefined : result;
  }
}
