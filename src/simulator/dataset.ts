import type { GroundTruthActivity } from './activity.js';
import { WalletActivity, WalletComboActivity } from './activity.js';
import type { Epoch } from './epochs.js';
import { activityDraw, listedEventCount, planFillCount, walletPlan } from './epochs.js';
import { FeedIndex } from './global-feed.js';
import type { SimWalletPnl } from './positions.js';
import { replaySimWallet } from './positions.js';
import { Stream, hash32 } from './prng.js';
import { resolutionRow } from './resolutions.js';
import { DATA_END, Universe } from './universe.js';
import type { AdvanceOptions, AdvanceSummary, GroundTruthFill, SimDataset, SimulatorOptions } from './types.js';
import { MAX_FILLS_PER_WALLET, WalletTrades, generatedTradeCount, walletAddressOf } from './wallets.js';

/** Generated wallets stay cached up to this many fills in total, so a page is served without regenerating. */
const CACHE_FILLS = 2_000_000;

export type DatasetOptions = Pick<SimulatorOptions, 'seed' | 'wallets' | 'maxTradesPerWallet' | 'whales' | 'fillsPerDay' | 'clockSeconds'>;

/**
 * In the per-day activity mode, a boundary transaction lands on its wallet's previous newest timestamp only when that
 * is at most an hour old (see AdvanceOptions.boundaryMaxAgeSeconds).
 */
export const DEFAULT_BOUNDARY_MAX_AGE_SECONDS = 3_600;

/** Global feed indexes kept at once (one per window start asked for since the last advance). */
const FEED_INDEXES_KEPT = 4;

/** Ten years: far enough for any test, short enough that Int32 timestamps never overflow. */
const MAX_ADVANCE_SECONDS = 10 * 365 * 86_400;

/** Timestamps are held in Int32 columns (wallets' fills, the feed's index): the data clock never passes this. */
const MAX_CLOCK_SECONDS = 2 ** 31 - 1;

function checkClock(value: number): number {
  if (!Number.isSafeInteger(value) || value < DATA_END || value > MAX_CLOCK_SECONDS) {
    throw new RangeError(
      `clockSeconds must be whole epoch seconds from ${DATA_END} (${new Date(DATA_END * 1000).toISOString()}, the end of the generated data) ` +
        `to ${MAX_CLOCK_SECONDS}, got ${value}`,
    );
  }
  return value;
}

function checkCount(name: string, value: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name} must be an integer between 0 and ${max}, got ${value}`);
  }
  return value;
}

function checkShare(name: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 0 && value <= 1)) {
    throw new RangeError(`${name} must be a share between 0 and 1, got ${value}`);
  }
  return value;
}

/** The simulator's dataset; the server reaches past `SimDataset` for the compact per-wallet columns. */
export class Dataset implements SimDataset {
  readonly walletCount: number;
  readonly seed: number;
  readonly universe: Universe;
  readonly #generated: number;
  readonly #maxTrades: number;
  readonly #whales: readonly number[];
  #addressIndex: Map<string, number> | undefined;
  // Map iteration order is insertion order, which makes it a ready-made LRU.
  readonly #cache = new Map<number, WalletTrades>();
  #cachedFills = 0;
  /** Fill count per wallet after the last epoch; undefined until the first `advance`. */
  #counts: Int32Array | undefined;
  // Activity is derived from a wallet's fills and lives exactly as long as their cache entry.
  readonly #activity = new WeakMap<WalletTrades, WalletActivity>();
  readonly #comboActivity = new WeakMap<WalletTrades, WalletComboActivity>();
  // Positions follow the fills, their activity and the resolutions; all three change only with an epoch, which
  // drops the cached fills and with them this entry.
  readonly #pnl = new WeakMap<WalletTrades, SimWalletPnl>();
  /** Fills over all wallets per simulated day that an `advance` without `fills` or `walletShare` adds. */
  readonly fillsPerDay: number | undefined;
  /** Window start → the global feed's index of the current data state; cleared by `advance`. */
  readonly #feeds = new Map<number, FeedIndex>();

  constructor(options: DatasetOptions = {}) {
    this.seed = checkCount('seed', options.seed ?? 1, Number.MAX_SAFE_INTEGER);
    this.#generated = checkCount('wallets', options.wallets ?? 100, 10_000_000);
    this.#maxTrades = checkCount('maxTradesPerWallet', options.maxTradesPerWallet ?? 100_000, MAX_FILLS_PER_WALLET);
    this.#whales = (options.whales ?? []).map((count, i) => checkCount(`whales[${i}]`, count, MAX_FILLS_PER_WALLET));
    this.walletCount = this.#generated + this.#whales.length;
    this.universe = new Universe(this.seed, Math.max(50, 2 * this.walletCount), options.clockSeconds === undefined ? DATA_END : checkClock(options.clockSeconds));
    if (options.fillsPerDay !== undefined) this.fillsPerDay = checkCount('fillsPerDay', options.fillsPerDay, 1_000_000_000);
  }

  walletAddress(index: number): string {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.walletCount) {
      throw new RangeError(`wallet index ${index} out of range 0..${this.walletCount - 1}`);
    }
    return walletAddressOf(this.seed, index);
  }

  wallets(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.walletCount; i += 1) out.push(walletAddressOf(this.seed, i));
    return out;
  }

  /** Index of the wallet (any case), or undefined when the dataset does not have it. */
  indexOf(wallet: string): number | undefined {
    if (!this.#addressIndex) {
      const map = new Map<string, number>();
      for (let i = 0; i < this.walletCount; i += 1) map.set(walletAddressOf(this.seed, i), i);
      this.#addressIndex = map;
    }
    return this.#addressIndex.get(wallet.toLowerCase());
  }

  get clockSeconds(): number {
    return this.universe.clock;
  }

  /** Fills of the generated history, before any epoch. */
  baseTradeCountOf(index: number): number {
    return index < this.#generated
      ? generatedTradeCount(this.seed, index, this.#maxTrades)
      : (this.#whales[index - this.#generated] ?? 0);
  }

  tradeCountOf(index: number): number {
    return this.#counts ? (this.#counts[index] ?? 0) : this.baseTradeCountOf(index);
  }

  tradeCount(wallet: string): number {
    const index = this.indexOf(wallet);
    return index === undefined ? 0 : this.tradeCountOf(index);
  }

  /** The wallet's generated fills, from the cache when possible. */
  trades(index: number): WalletTrades {
    const cached = this.#cache.get(index);
    if (cached) {
      this.#cache.delete(index);
      this.#cache.set(index, cached);
      return cached;
    }
    const trades = new WalletTrades(
      this.seed,
      this.universe,
      index,
      this.walletAddress(index),
      this.baseTradeCountOf(index),
      this.universe.epochs,
    );
    this.#cache.set(index, trades);
    this.#cachedFills += trades.count;
    for (const [key, value] of this.#cache) {
      if (this.#cachedFills <= CACHE_FILLS || key === index) break;
      this.#cache.delete(key);
      this.#cachedFills -= value.count;
    }
    return trades;
  }

  tradesOf(wallet: string): WalletTrades | undefined {
    const index = this.indexOf(wallet);
    return index === undefined ? undefined : this.trades(index);
  }

  /** The wallet's activity besides its fills, built on first use from its fills. */
  activityOf(trades: WalletTrades): WalletActivity {
    let activity = this.#activity.get(trades);
    if (!activity) {
      activity = new WalletActivity(this.seed, this.universe, trades);
      this.#activity.set(trades, activity);
    }
    return activity;
  }

  /** The wallet's positions and realized profit by the simulator's own replay, built on first use. */
  pnlOf(trades: WalletTrades): SimWalletPnl {
    let pnl = this.#pnl.get(trades);
    if (!pnl) {
      pnl = replaySimWallet(this.universe, trades, this.activityOf(trades));
      this.#pnl.set(trades, pnl);
    }
    return pnl;
  }

  comboActivityOf(trades: WalletTrades): WalletComboActivity {
    let combos = this.#comboActivity.get(trades);
    if (!combos) {
      combos = new WalletComboActivity(this.seed, this.universe, trades);
      this.#comboActivity.set(trades, combos);
    }
    return combos;
  }

  *activity(wallet: string): Iterable<GroundTruthActivity> {
    const trades = this.tradesOf(wallet);
    if (!trades) return;
    const activity = this.activityOf(trades);
    for (let k = 0; k < activity.count; k += 1) yield activity.groundTruth(k);
  }

  comboActivity(wallet: string): Record<string, unknown>[] {
    const trades = this.tradesOf(wallet);
    if (!trades) return [];
    const combos = this.comboActivityOf(trades);
    return combos.events.map((_, k) => combos.row(k));
  }

  resolution(conditionId: string): Record<string, unknown> | undefined {
    const m = this.universe.findMarket(conditionId);
    return m === undefined ? undefined : resolutionRow(this.universe, this.seed, m);
  }

  *fills(wallet: string): Iterable<GroundTruthFill> {
    const trades = this.tradesOf(wallet);
    if (!trades) return;
    for (let r = 0; r < trades.count; r += 1) yield trades.groundTruth(r);
  }

  /** The global feed's index of every fill at or after `since`, built on first use for this data state. */
  globalFeed(since: number): FeedIndex {
    let feed = this.#feeds.get(since);
    if (!feed) {
      if (this.#feeds.size >= FEED_INDEXES_KEPT) this.#feeds.clear();
      feed = new FeedIndex(this, since);
      this.#feeds.set(since, feed);
    }
    return feed;
  }

  globalFills(sinceSeconds: number): GroundTruthFill[] {
    if (!Number.isSafeInteger(sinceSeconds)) throw new RangeError(`sinceSeconds must be whole epoch seconds, got ${sinceSeconds}`);
    // An index reaching further back holds these fills as its prefix (newest first): reuse it rather than build one.
    let feed: FeedIndex | undefined;
    for (const held of this.#feeds.values()) if (held.since <= sinceSeconds && (!feed || held.since > feed.since)) feed = held;
    feed ??= this.globalFeed(sinceSeconds);
    const out: GroundTruthFill[] = [];
    for (let k = 0; k < feed.length && (feed.timestamp[k] ?? 0) >= sinceSeconds; k += 1) {
      out.push(this.trades(feed.wallet[k] ?? 0).groundTruth(feed.row[k] ?? 0));
    }
    return out;
  }

  conditionIds(wallet: string): { resolvable: string[]; unresolvable: string[] } {
    const resolvable = new Set<string>();
    const unresolvable = new Set<string>();
    const trades = this.tradesOf(wallet);
    for (let r = 0; trades && r < trades.count; r += 1) {
      const market = trades.market[r] ?? 0;
      const id = trades.conditionId(r);
      if (market >= 0 && this.universe.isResolvable(market)) resolvable.add(id);
      else unresolvable.add(id);
    }
    // The markets the wallet's activity touches (fetched by default: every type but deposits and withdrawals).
    for (const row of this.activity(wallet)) {
      if (!row.condition_id || row.type === 'DEPOSIT' || row.type === 'WITHDRAWAL') continue;
      const m = this.universe.findMarket(row.condition_id);
      if (m !== undefined && this.universe.isResolvable(m)) resolvable.add(row.condition_id);
      else unresolvable.add(row.condition_id);
    }
    return { resolvable: [...resolvable].sort(), unresolvable: [...unresolvable].sort() };
  }

  eventIdsOfMarket(conditionId: string): string[] {
    const m = this.universe.findMarket(conditionId);
    if (m === undefined || !this.universe.isResolvable(m)) return [];
    return [this.universe.eventCore(this.universe.eventOf(m)).id];
  }

  market(conditionId: string): object | undefined {
    const m = this.universe.findMarket(conditionId);
    if (m === undefined || !this.universe.isResolvable(m)) return undefined;
    return this.universe.marketJson(m, true);
  }

  event(eventId: string): object | undefined {
    const e = this.universe.findEvent(eventId);
    if (e === undefined || this.universe.eventCore(e).ghost) return undefined;
    return this.universe.eventJson(e);
  }

  /**
   * The wallet share that makes an epoch add at least `target` fills, overshooting by at most one wallet's plan:
   * wallets trade when their activity draw is below the share (see walletPlan), so taking them in draw order, with
   * the designated wallet (which always trades) counted first, and stopping once the target is met gives the share
   * just above the last draw taken. Every other draw of a plan is independent of the share.
   */
  #shareFor(target: number, index: number, seed: number, designated: number): number {
    const draws = new Float64Array(this.walletCount);
    const sized = { index, seed, walletShare: 1, designated };
    for (let i = 0; i < this.walletCount; i += 1) draws[i] = activityDraw(sized, i);
    const order = Array.from({ length: this.walletCount }, (_, i) => i).sort((a, b) => (draws[a] ?? 0) - (draws[b] ?? 0));
    let total = designated >= 0 ? planFillCount(walletPlan(sized, designated, true)) : 0;
    let share = 0;
    for (const i of order) {
      if (total >= target) return share;
      if (i === designated) continue;
      total += planFillCount(walletPlan(sized, i, this.tradeCountOf(i) > 0));
      share = justAbove(draws[i] ?? 0);
    }
    if (total >= target) return share;
    throw new RangeError(
      `advance asked for ${target} fills, but every one of the ${this.walletCount} wallets trading adds only ${total}; ` +
        'use more wallets, a shorter step or fewer fills per day',
    );
  }

  advance(options: AdvanceOptions): AdvanceSummary {
    const seconds = options.seconds;
    if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > MAX_ADVANCE_SECONDS) {
      throw new RangeError(`advance seconds must be a whole number from 1 to ${MAX_ADVANCE_SECONDS}, got ${seconds}`);
    }
    if (this.universe.clock + seconds > MAX_CLOCK_SECONDS) {
      throw new RangeError(`advance of ${seconds} s would move the data clock past ${MAX_CLOCK_SECONDS} (timestamps are Int32), from ${this.universe.clock}`);
    }
    const index = this.universe.epochs.length;
    const seed = checkCount('advance seed', options.seed ?? hash32(this.seed, Stream.advance, index), Number.MAX_SAFE_INTEGER);
    if (options.fills !== undefined && options.walletShare !== undefined) {
      throw new RangeError('advance takes fills or walletShare, not both: fills chooses the share');
    }
    const targetFills =
      options.fills ?? (options.walletShare === undefined && this.fillsPerDay !== undefined ? Math.round((this.fillsPerDay * seconds) / 86_400) : undefined);
    if (targetFills !== undefined) checkCount('fills', targetFills, 1_000_000_000);
    const resolveShare = checkShare('resolveShare', options.resolveShare ?? 0.5);
    const boundaryMaxAge = options.boundaryMaxAgeSeconds ?? (targetFills === undefined ? undefined : DEFAULT_BOUNDARY_MAX_AGE_SECONDS);
    if (boundaryMaxAge !== undefined) checkCount('boundaryMaxAgeSeconds', boundaryMaxAge, MAX_ADVANCE_SECONDS);
    const from = this.universe.clock;

    // The designated wallet (see Epoch) is the first wallet with fills from a seeded starting point.
    let designated = -1;
    const startAt = this.walletCount === 0 ? 0 : hash32(seed, Stream.advance, index) % this.walletCount;
    for (let k = 0; k < this.walletCount; k += 1) {
      const i = (startAt + k) % this.walletCount;
      if (this.tradeCountOf(i) > 0) {
        designated = i;
        break;
      }
    }
    const walletShare =
      targetFills === undefined ? checkShare('walletShare', options.walletShare ?? 0.25) : this.#shareFor(targetFills, index, seed, designated);
    const planned = { index, seed, walletShare, designated };
    const counts = new Int32Array(this.walletCount);
    const active: number[] = [];
    let fills = 0;
    for (let i = 0; i < this.walletCount; i += 1) {
      const prior = this.tradeCountOf(i);
      const added = planFillCount(walletPlan(planned, i, prior > 0));
      if (prior + added > MAX_FILLS_PER_WALLET) {
        throw new RangeError(`advance would give wallet ${this.walletAddress(i)} ${prior + added} fills; the simulator supports ${MAX_FILLS_PER_WALLET}`);
      }
      counts[i] = prior + added;
      if (added > 0) active.push(i);
      fills += added;
    }
    const epoch: Epoch = {
      ...planned,
      from,
      to: from + seconds,
      resolveShare,
      firstListedEvent: this.universe.eventCount,
      listedEvents: listedEventCount(active.length),
      ...(boundaryMaxAge === undefined ? {} : { boundaryMaxAgeSeconds: boundaryMaxAge }),
    };
    this.universe.addEpoch(epoch);
    this.#counts = counts;
    // Every cached wallet may have grown; they regenerate with the new epoch on their next request.
    this.#cache.clear();
    this.#cachedFills = 0;
    this.#feeds.clear();
    const conditionIds = (markets: number[]): string[] => markets.map((m) => this.universe.conditionIdOf(m));
    return {
      step: index,
      fromSeconds: epoch.from,
      toSeconds: epoch.to,
      wallets: active.map((i) => walletAddressOf(this.seed, i)),
      fills,
      listedMarkets: conditionIds(this.universe.listedMarkets(epoch)),
      resolvedMarkets: conditionIds(this.universe.resolvedIn(index)),
    };
  }
}

/** The smallest double above `u`: `chance(share)` is `draw < share`, so this share takes every draw up to `u`. */
function justAbove(u: number): number {
  if (u === 0) return Number.MIN_VALUE;
  const buffer = new DataView(new ArrayBuffer(8));
  buffer.setFloat64(0, u);
  buffer.setBigUint64(0, buffer.getBigUint64(0) + 1n);
  return buffer.getFloat64(0);
}

/** Builds the deterministic dataset: same options, byte-identical data. */
export function createDataset(options: DatasetOptions = {}): SimDataset {
  return new Dataset(options);
}
