import { Universe } from './universe.js';
import type { GroundTruthFill, SimDataset, SimulatorOptions } from './types.js';
import { MAX_FILLS_PER_WALLET, WalletTrades, generatedTradeCount, walletAddressOf } from './wallets.js';

/** Generated wallets stay cached up to this many fills in total, so a page is served without regenerating. */
const CACHE_FILLS = 2_000_000;

export type DatasetOptions = Pick<SimulatorOptions, 'seed' | 'wallets' | 'maxTradesPerWallet' | 'whales'>;

function checkCount(name: string, value: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name} must be an integer between 0 and ${max}, got ${value}`);
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

  constructor(options: DatasetOptions = {}) {
    this.seed = checkCount('seed', options.seed ?? 1, Number.MAX_SAFE_INTEGER);
    this.#generated = checkCount('wallets', options.wallets ?? 100, 10_000_000);
    this.#maxTrades = checkCount('maxTradesPerWallet', options.maxTradesPerWallet ?? 100_000, MAX_FILLS_PER_WALLET);
    this.#whales = (options.whales ?? []).map((count, i) => checkCount(`whales[${i}]`, count, MAX_FILLS_PER_WALLET));
    this.walletCount = this.#generated + this.#whales.length;
    this.universe = new Universe(this.seed, Math.max(50, 2 * this.walletCount));
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

  tradeCountOf(index: number): number {
    return index < this.#generated
      ? generatedTradeCount(this.seed, index, this.#maxTrades)
      : (this.#whales[index - this.#generated] ?? 0);
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
      this.tradeCountOf(index),
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

  *fills(wallet: string): Iterable<GroundTruthFill> {
    const trades = this.tradesOf(wallet);
    if (!trades) return;
    for (let r = 0; r < trades.count; r += 1) yield trades.groundTruth(r);
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
}

/** Builds the deterministic dataset: same options, byte-identical data. */
export function createDataset(options: DatasetOptions = {}): SimDataset {
  return new Dataset(options);
}
