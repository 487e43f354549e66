/**
 * Per-wallet trade generation. A wallet's fills are generated once, in one pass, into compact columns sorted the
 * way the API serves them (timestamp DESC, sequence DESC); rows are only materialised as JSON for the page asked.
 * The fills of each epoch (see epochs.ts) follow the generated history: they are at or after its newest timestamp
 * and take the next sequence numbers, so a keyset walk anchored before an epoch never meets them.
 */
import type { Epoch, TxPlan } from './epochs.js';
import { planFillCount, walletPlan } from './epochs.js';
import { FLAG_NO_EVENT_SLUG, FLAG_OUTCOME_999, FLAG_TAKER, drawFlags, drawPrice, drawSize } from './fill-draws.js';
import { Rng, Stream } from './prng.js';
import { ADJECTIVES, BIOS, IMAGE_BASE, NOUNS } from './text.js';
import type { Universe } from './universe.js';
import { DATA_END } from './universe.js';
import type { GroundTruthFill } from './types.js';

/** Sort keys pack (timestamp, generation order) into one double; this is the most fills one wallet may have. */
export const MAX_FILLS_PER_WALLET = 4_194_304;

export interface Profile {
  name: string;
  pseudonym: string;
  bio: string;
  profile_image: string;
  profile_image_optimized: string;
}

export interface Combo {
  conditionId: string;
  tokenId: string;
  title: string;
  /** Market indices of the two legs, in leg order. */
  legs: [number, number];
}

/** The v2 `/v2/trades` row, field order as the API sends it. */
export interface TradeRow {
  proxy_wallet: string;
  side: string;
  token_id: string;
  condition_id: string;
  size: number;
  price: number;
  timestamp: number;
  title: string;
  slug: string;
  icon: string;
  event_slug: string;
  outcome: string;
  outcome_index: number;
  name: string;
  pseudonym: string;
  bio: string;
  profile_image: string;
  profile_image_optimized: string;
  transaction_hash: string;
}

/** Trade count of generated wallet `index`: mostly a handful, a Pareto-like tail up to `max`. */
export function generatedTradeCount(seed: number, index: number, max: number): number {
  const rng = Rng.of(seed, Stream.walletCount, index);
  const u = rng.next();
  let count: number;
  if (u < 0.05) count = 0;
  else if (u < 0.8) count = rng.int(1, 20);
  else if (u < 0.95) count = Math.round(rng.logUniform(21, 1_000));
  else if (u < 0.99) count = Math.round(rng.logUniform(1_001, 10_000));
  else count = Math.round(rng.logUniform(10_001, Math.max(10_001, max)));
  return Math.min(count, max);
}

export function walletAddressOf(seed: number, index: number): string {
  return `0x${Rng.of(seed, Stream.walletAddress, index).hex(5)}`;
}

function profileOf(seed: number, index: number, address: string): Profile {
  const rng = Rng.of(seed, Stream.walletProfile, index);
  let name: string;
  if (rng.chance(0.4)) {
    // A user who never set a name shows a mixed-case address plus a millisecond suffix.
    const mixed = [...address.slice(2)].map((c) => (rng.chance(0.5) ? c.toUpperCase() : c)).join('');
    name = `0x${mixed}-${rng.int(1_600_000_000, 1_790_000_000) * 1000 + rng.int(0, 999)}`;
  } else {
    name = `${rng.pick(NOUNS).toLowerCase()}${rng.pick(ADJECTIVES).toLowerCase().replace('-', '')}${rng.int(1, 99)}`;
  }
  const image = rng.chance(0.3) ? `${IMAGE_BASE}profile-image-${rng.int(100_000, 9_999_999)}-${rng.hex(2)}.png` : '';
  return {
    name,
    pseudonym: `${rng.pick(ADJECTIVES)}-${rng.pick(NOUNS)}`,
    bio: rng.pick(BIOS),
    profile_image: image,
    profile_image_optimized: image !== '' && rng.chance(0.5) ? image : '',
  };
}

/** The fill count of a wallet after each epoch: base count plus every epoch's plan, in order. */
export function countAfterEpochs(base: number, wallet: number, epochs: readonly Epoch[]): number {
  let count = base;
  for (const epoch of epochs) count += planFillCount(walletPlan(epoch, wallet, count > 0));
  return count;
}

/** One fill before it is written into the columns. */
interface NewFill {
  ts: number;
  market: number;
  outcome: number;
  sell: number;
  price: number;
  size: number;
  tx: number;
  flags: number;
}

/** A wallet's fills as columns, newest first. Row r has internal sequence number `count - 1 - r`. */
export class WalletTrades {
  readonly index: number;
  readonly address: string;
  readonly profile: Profile;
  readonly count: number;
  readonly timestamp: Int32Array;
  /** Market index, or `-1 - k` for combo k. */
  readonly market: Int32Array;
  readonly outcome: Uint8Array;
  readonly sell: Uint8Array;
  readonly price: Float64Array;
  readonly size: Float64Array;
  readonly tx: Int32Array;
  readonly flags: Uint8Array;
  /** Rows (newest first) of the taker fills: what `taker_only=true` serves. */
  readonly takerRows: Int32Array;
  /** Fills of the generated history; epoch fills follow them. */
  readonly baseCount: number;
  /** Fill count after each epoch: `countAfterEpoch[k]` fills existed once epoch k was applied. */
  readonly countAfterEpoch: readonly number[];
  readonly #combos: Combo[];
  readonly #seed: number;
  readonly #universe: Universe;
  /** Hashes of the epochs' transactions; their `tx` value is `-1 - k` for hash k. */
  readonly #epochTxHashes: string[] = [];

  /** `count` is the generated history; `epochs` append to it. */
  constructor(seed: number, universe: Universe, index: number, address: string, count: number, epochs: readonly Epoch[] = []) {
    const plans: TxPlan[][] = [];
    const countAfterEpoch: number[] = [];
    let total = count;
    for (const epoch of epochs) {
      const plan = walletPlan(epoch, index, total > 0);
      plans.push(plan);
      total += planFillCount(plan);
      countAfterEpoch.push(total);
    }
    if (total > MAX_FILLS_PER_WALLET) {
      throw new RangeError(`wallet ${index} asks for ${total} fills; the simulator supports ${MAX_FILLS_PER_WALLET}`);
    }
    this.#seed = seed;
    this.#universe = universe;
    this.index = index;
    this.address = address;
    this.count = total;
    this.baseCount = count;
    this.countAfterEpoch = countAfterEpoch;
    this.profile = profileOf(seed, index, address);
    this.#combos = [];

    const n = count;
    const gTs = new Int32Array(n);
    const gMarket = new Int32Array(n);
    const gOutcome = new Uint8Array(n);
    const gSell = new Uint8Array(n);
    const gPrice = new Float64Array(n);
    const gSize = new Float64Array(n);
    const gTx = new Int32Array(n);
    const gFlags = new Uint8Array(n);

    const rng = Rng.of(seed, Stream.walletFills, index);
    const portfolioSize = Math.min(universe.baseMarketCount, 1 + Math.floor(Math.pow(n, 0.6)));
    const portfolio = new Int32Array(portfolioSize);
    for (let k = 0; k < portfolioSize; k += 1) portfolio[k] = universe.marketByRank(rng.zipf(universe.baseMarketCount));
    const pickMarket = (): number => portfolio[rng.zipf(portfolioSize)] ?? 0;

    let txNo = -1;
    for (let i = 0; i < n; i += 1) {
      const u = rng.next();
      const prev = i - 1;
      if (i > 0 && u < 0.03) {
        // Two real fills that look identical: same tx, token, side, price, size and time.
        gTs[i] = gTs[prev] ?? 0;
        gMarket[i] = gMarket[prev] ?? 0;
        gOutcome[i] = gOutcome[prev] ?? 0;
        gSell[i] = gSell[prev] ?? 0;
        gPrice[i] = gPrice[prev] ?? 0;
        gSize[i] = gSize[prev] ?? 0;
        gTx[i] = gTx[prev] ?? 0;
        gFlags[i] = gFlags[prev] ?? 0;
        continue;
      }
      if (i > 0 && u < 0.13) {
        // Another fill of the same transaction: an order sweeping several price levels, or several markets.
        const prevMarket = gMarket[prev] ?? 0;
        const sameMarket = prevMarket >= 0 && rng.chance(0.7);
        gTs[i] = gTs[prev] ?? 0;
        gTx[i] = gTx[prev] ?? 0;
        gMarket[i] = sameMarket ? prevMarket : pickMarket();
        gOutcome[i] = sameMarket && rng.chance(0.8) ? (gOutcome[prev] ?? 0) : rng.int(0, 1);
        gSell[i] = rng.chance(0.8) ? (gSell[prev] ?? 0) : rng.int(0, 1);
        let price = drawPrice(rng);
        if (price === gPrice[prev]) price = price >= 0.5 ? price - 0.01 : price + 0.01;
        gPrice[i] = Number(price.toFixed(10));
        gSize[i] = drawSize(rng);
        gFlags[i] = drawFlags(rng, ((gFlags[prev] ?? 0) & FLAG_TAKER) !== 0);
        continue;
      }
      txNo += 1;
      gTx[i] = txNo;
      const taker = rng.chance(0.4);
      gFlags[i] = drawFlags(rng, taker);
      gSell[i] = rng.chance(0.35) ? 1 : 0;
      gPrice[i] = drawPrice(rng);
      gSize[i] = drawSize(rng);
      if (rng.chance(0.005)) {
        // Combos are recent: parlays of two markets, with their own 62-hex condition id.
        const legA = universe.marketCore(pickMarket());
        const legB = universe.marketCore(pickMarket());
        const combo = Rng.of(seed, Stream.combo, index, this.#combos.length);
        this.#combos.push({
          conditionId: `0x${combo.hex(8).slice(0, 62)}`,
          tokenId: BigInt(`0x${((combo.u32() | 0x10000000) >>> 0).toString(16)}${combo.hex(7)}`).toString(),
          title: `${legA.question} AND ${legB.question}`,
          legs: [legA.index, legB.index],
        });
        gMarket[i] = -this.#combos.length;
        gOutcome[i] = 0;
        gTs[i] = DATA_END - rng.int(0, 365 * 86_400);
        continue;
      }
      const market = universe.marketCore(pickMarket());
      gMarket[i] = market.index;
      gOutcome[i] = rng.int(0, 1);
      gTs[i] = market.tradeStart + Math.floor(rng.next() * (market.tradeEnd - market.tradeStart + 1));
    }

    // Sort by (timestamp, generation order) ascending; ascending position p is sequence number p and lands in
    // row `total - 1 - p`, so rows read newest first and fills of one transaction stay adjacent in their
    // generation order.
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i += 1) keys[i] = (gTs[i] ?? 0) * MAX_FILLS_PER_WALLET + i;
    keys.sort();
    this.timestamp = new Int32Array(total);
    this.market = new Int32Array(total);
    this.outcome = new Uint8Array(total);
    this.sell = new Uint8Array(total);
    this.price = new Float64Array(total);
    this.size = new Float64Array(total);
    this.tx = new Int32Array(total);
    this.flags = new Uint8Array(total);
    for (let p = 0; p < n; p += 1) {
      const i = (keys[p] ?? 0) % MAX_FILLS_PER_WALLET;
      this.#put(p, {
        ts: gTs[i] ?? 0,
        market: gMarket[i] ?? 0,
        outcome: gOutcome[i] ?? 0,
        sell: gSell[i] ?? 0,
        price: gPrice[i] ?? 0,
        size: gSize[i] ?? 0,
        tx: gTx[i] ?? 0,
        flags: gFlags[i] ?? 0,
      });
    }
    let written = n;
    epochs.forEach((epoch, k) => {
      const fills = this.#epochFills(epoch, plans[k] ?? [], written);
      for (const fill of fills) this.#put(written++, fill);
    });

    let takers = 0;
    for (let r = 0; r < total; r += 1) if (((this.flags[r] ?? 0) & FLAG_TAKER) !== 0) takers += 1;
    this.takerRows = new Int32Array(takers);
    for (let r = 0, k = 0; r < total; r += 1) {
      if (((this.flags[r] ?? 0) & FLAG_TAKER) !== 0) this.takerRows[k++] = r;
    }
  }

  /** Writes the fill with sequence number `p` (ascending position) into its newest-first row. */
  #put(p: number, fill: NewFill): void {
    const r = this.count - 1 - p;
    this.timestamp[r] = fill.ts;
    this.market[r] = fill.market;
    this.outcome[r] = fill.outcome;
    this.sell[r] = fill.sell;
    this.price[r] = fill.price;
    this.size[r] = fill.size;
    this.tx[r] = fill.tx;
    this.flags[r] = fill.flags;
  }

  /**
   * The wallet's fills in `epoch`, in sequence order, given the `written` fills before them. Transactions land in
   * (from, to], except a boundary one, which shares the previous newest fill's block time and market. A wallet trades
   * again mostly in the markets it holds that are still open, else in popular open markets; fresh transactions go
   * to markets the epoch listed, after they start.
   */
  #epochFills(epoch: Epoch, plan: readonly TxPlan[], written: number): NewFill[] {
    if (plan.length === 0) return [];
    const universe = this.#universe;
    const rng = Rng.of(epoch.seed, Stream.advanceFills, epoch.index, this.index);
    const newestRow = this.count - written;
    const held: number[] = [];
    const seen = new Set<number>();
    for (let r = newestRow; r < this.count; r += 1) {
      const m = this.market[r] ?? -1;
      if (m < 0 || seen.has(m)) continue;
      seen.add(m);
      if (universe.isOpenIn(m, epoch.index)) held.push(m);
    }
    held.sort((a, b) => a - b);
    const listed = universe.listedMarkets(epoch);
    const pickListed = (): number => listed[rng.int(0, listed.length - 1)] ?? 0;
    const pickOpen = (): number => {
      if (held.length > 0 && rng.chance(0.7)) return held[rng.int(0, held.length - 1)] ?? 0;
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const m = universe.marketByRank(rng.zipf(universe.baseMarketCount));
        if (universe.isOpenIn(m, epoch.index)) return m;
      }
      return pickListed();
    };
    const span = epoch.to - epoch.from;

    const txs = plan.map((tx, i) => {
      let ts: number;
      let market: number;
      let outcome: number | undefined;
      const newestTs = this.timestamp[newestRow] ?? 0;
      const lateEnough = epoch.boundaryMaxAgeSeconds === undefined || newestTs >= epoch.from - epoch.boundaryMaxAgeSeconds;
      if (tx.boundary && written > 0 && lateEnough) {
        ts = newestTs;
        market = this.market[newestRow] ?? 0;
        outcome = this.outcome[newestRow] ?? 0;
      } else if (tx.fresh) {
        market = pickListed();
        const lo = Math.max(universe.eventCore(universe.eventOf(market)).start, epoch.from + 1);
        ts = lo + Math.floor(rng.next() * (epoch.to - lo + 1));
      } else {
        market = pickOpen();
        ts = epoch.from + 1 + Math.floor(rng.next() * span);
      }
      const hash = `0x${Rng.of(epoch.seed, Stream.advanceTx, epoch.index, this.index, i).hex(8)}`;
      this.#epochTxHashes.push(hash);
      return { plan: tx, ts, market, outcome, txId: -this.#epochTxHashes.length };
    });
    // Stable: equal times keep plan order, and the boundary transaction (oldest) comes first.
    txs.sort((a, b) => a.ts - b.ts);

    const fills: NewFill[] = [];
    for (const tx of txs) {
      const taker = rng.chance(0.4);
      const outcomeOf = (market: number): number => (market < 0 ? 0 : rng.int(0, 1));
      const first: NewFill = {
        ts: tx.ts,
        market: tx.market,
        outcome: tx.outcome ?? outcomeOf(tx.market),
        sell: rng.chance(0.35) ? 1 : 0,
        price: drawPrice(rng),
        size: drawSize(rng),
        tx: tx.txId,
        flags: drawFlags(rng, taker),
      };
      fills.push(first);
      if (tx.plan.twin) fills.push({ ...first });
      let previous = first;
      for (let j = 1; j < tx.plan.fills; j += 1) {
        const sameMarket = previous.market >= 0 && rng.chance(0.7);
        const market = sameMarket ? previous.market : pickOpen();
        let price = drawPrice(rng);
        if (price === previous.price) price = price >= 0.5 ? price - 0.01 : price + 0.01;
        const next: NewFill = {
          ts: tx.ts,
          market,
          outcome: sameMarket && rng.chance(0.8) ? previous.outcome : outcomeOf(market),
          sell: rng.chance(0.8) ? previous.sell : rng.int(0, 1),
          price: Number(price.toFixed(10)),
          size: drawSize(rng),
          tx: tx.txId,
          flags: drawFlags(rng, taker),
        };
        fills.push(next);
        previous = next;
      }
    }
    return fills;
  }

  transactionHash(row: number): string {
    const tx = this.tx[row] ?? 0;
    if (tx < 0) return this.#epochTxHashes[-1 - tx] ?? '';
    return `0x${Rng.of(this.#seed, Stream.transaction, this.index, tx).hex(8)}`;
  }

  conditionId(row: number): string {
    const market = this.market[row] ?? 0;
    if (market < 0) return this.#combo(market).conditionId;
    return this.#universe.marketCore(market).conditionId;
  }

  /** The wallet's combos; fills of combo k carry market `-1 - k`. */
  get combos(): readonly Combo[] {
    return this.#combos;
  }

  isCombo(row: number): boolean {
    return (this.market[row] ?? 0) < 0;
  }

  /** The row exactly as `/v2/trades` serves it. */
  row(r: number): TradeRow {
    const marketIndex = this.market[r] ?? 0;
    const flags = this.flags[r] ?? 0;
    const outcome = this.outcome[r] ?? 0;
    const p = this.profile;
    let tokenId: string;
    let conditionId: string;
    let title = '';
    let slug = '';
    let icon = '';
    let eventSlug = '';
    let outcomeLabel = '';
    let outcomeIndex = outcome;
    if (marketIndex < 0) {
      const combo = this.#combo(marketIndex);
      tokenId = combo.tokenId;
      conditionId = combo.conditionId;
      title = combo.title;
      outcomeIndex = 999;
    } else {
      const market = this.#universe.marketCore(marketIndex);
      tokenId = market.tokenIds[outcome === 0 ? 0 : 1];
      conditionId = market.conditionId;
      outcomeLabel = market.outcomes[outcome === 0 ? 0 : 1];
      // Ghost markets are unknown to Gamma, so the Data API has nothing to enrich them with.
      if (!market.ghost) {
        title = market.question;
        slug = market.slug;
        icon = market.icon;
        eventSlug = (flags & FLAG_NO_EVENT_SLUG) !== 0 ? '' : market.eventSlug;
      }
      if ((flags & FLAG_OUTCOME_999) !== 0) outcomeIndex = 999;
    }
    return {
      proxy_wallet: this.address,
      side: this.sell[r] === 1 ? 'SELL' : 'BUY',
      token_id: tokenId,
      condition_id: conditionId,
      size: this.size[r] ?? 0,
      price: this.price[r] ?? 0,
      timestamp: this.timestamp[r] ?? 0,
      title,
      slug,
      icon,
      event_slug: eventSlug,
      outcome: outcomeLabel,
      outcome_index: outcomeIndex,
      name: p.name,
      pseudonym: p.pseudonym,
      bio: p.bio,
      profile_image: p.profile_image,
      profile_image_optimized: p.profile_image_optimized,
      transaction_hash: this.transactionHash(r),
    };
  }

  groundTruth(r: number): GroundTruthFill {
    const marketIndex = this.market[r] ?? 0;
    const outcome = this.outcome[r] ?? 0;
    const asset =
      marketIndex < 0
        ? this.#combo(marketIndex).tokenId
        : this.#universe.marketCore(marketIndex).tokenIds[outcome === 0 ? 0 : 1];
    return {
      proxy_wallet: this.address,
      transaction_hash: this.transactionHash(r),
      asset,
      side: this.sell[r] === 1 ? 'SELL' : 'BUY',
      price: this.price[r] ?? 0,
      size: this.size[r] ?? 0,
      timestamp: this.timestamp[r] ?? 0,
      condition_id: this.conditionId(r),
    };
  }

  #combo(marketIndex: number): Combo {
    const combo = this.#combos[-1 - marketIndex];
    if (!combo) throw new Error(`wallet ${this.index} has no combo ${-1 - marketIndex}`);
    return combo;
  }
}
