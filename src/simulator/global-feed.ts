/**
 * The global trade feed: `/v2/trades` without `user`, every wallet's fills merged in the feed's keyset order
 * (timestamp, then sequence, newest first) over the rolling window the document gives the bare feed, "the current
 * plus previous month".
 *
 * The feed holds exactly the rows the per-wallet feeds hold, because it renders each row through the wallet's own
 * columns (`WalletTrades.row`); only the order and the sequence numbers are its own. A fill's global sequence number
 * is `wallet index × MAX_FILLS_PER_WALLET + its sequence within the wallet`, so the wallet's rows keep their relative
 * order inside one timestamp, and a fill's number never changes when `advance` appends newer fills (a cursor minted
 * before an advance keeps its place).
 *
 * The index is built once per data state and window start, by generating every wallet and keeping its rows inside
 * the window (rows are newest first, so the scan stops at the first older one): about 40 bytes per windowed fill.
 * Rows are rendered on demand, from the dataset's wallet cache.
 */
import { FLAG_TAKER } from './fill-draws.js';
import type { WalletTrades } from './wallets.js';
import { MAX_FILLS_PER_WALLET } from './wallets.js';

/** The start of the bare feed's documented window: 00:00 UTC on the first day of the month before `nowSeconds`'s. */
export function feedWindowStart(nowSeconds: number): number {
  const now = new Date(nowSeconds * 1000);
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1) / 1000;
}

/** What the index needs of the dataset: its wallets, generated with every epoch so far. */
export interface FeedSource {
  readonly walletCount: number;
  tradeCountOf(index: number): number;
  trades(index: number): WalletTrades;
}

/** Every fill at or after `since`, as columns in the feed's order. */
export class FeedIndex {
  readonly since: number;
  readonly length: number;
  readonly wallet: Int32Array;
  /** The fill's row in its wallet's columns (newest first), valid for the data state the index was built on. */
  readonly row: Int32Array;
  readonly timestamp: Int32Array;
  /** Global sequence number (see the top of this file); below 2^53, so exact in a double. */
  readonly sequence: Float64Array;
  /** 1 for a taker fill: what `taker_only=true` serves. */
  readonly taker: Uint8Array;
  readonly size: Float64Array;
  readonly price: Float64Array;
  readonly sell: Uint8Array;

  constructor(source: FeedSource, since: number) {
    this.since = since;
    // One pass, each wallet generated once (the dataset's cache may not hold them all).
    const wallets: number[] = [];
    const rows: number[] = [];
    const ts: number[] = [];
    const seq: number[] = [];
    const unsortedTaker: number[] = [];
    const unsortedSize: number[] = [];
    const unsortedPrice: number[] = [];
    const unsortedSell: number[] = [];
    for (let w = 0; w < source.walletCount; w += 1) {
      if (source.tradeCountOf(w) === 0) continue;
      const trades = source.trades(w);
      for (let r = 0; r < trades.count && (trades.timestamp[r] ?? 0) >= since; r += 1) {
        wallets.push(w);
        rows.push(r);
        ts.push(trades.timestamp[r] ?? 0);
        seq.push(w * MAX_FILLS_PER_WALLET + (trades.count - 1 - r));
        unsortedTaker.push(((trades.flags[r] ?? 0) & FLAG_TAKER) !== 0 ? 1 : 0);
        unsortedSize.push(trades.size[r] ?? 0);
        unsortedPrice.push(trades.price[r] ?? 0);
        unsortedSell.push(trades.sell[r] ?? 0);
      }
    }
    const n = wallets.length;
    const order = Array.from({ length: n }, (_, k) => k);
    order.sort((a, b) => (ts[b] ?? 0) - (ts[a] ?? 0) || (seq[b] ?? 0) - (seq[a] ?? 0));
    this.length = n;
    this.wallet = new Int32Array(n);
    this.row = new Int32Array(n);
    this.timestamp = new Int32Array(n);
    this.sequence = new Float64Array(n);
    this.taker = new Uint8Array(n);
    this.size = new Float64Array(n);
    this.price = new Float64Array(n);
    this.sell = new Uint8Array(n);
    order.forEach((from, to) => {
      this.wallet[to] = wallets[from] ?? 0;
      this.row[to] = rows[from] ?? 0;
      this.timestamp[to] = ts[from] ?? 0;
      this.sequence[to] = seq[from] ?? 0;
      this.taker[to] = unsortedTaker[from] ?? 0;
      this.size[to] = unsortedSize[from] ?? 0;
      this.price[to] = unsortedPrice[from] ?? 0;
      this.sell[to] = unsortedSell[from] ?? 0;
    });
  }
}
