/**
 * A wallet's activity besides its fills (`/v2/activity`), derived from its fills on demand and never stored per
 * wallet beyond the cache entry of its fills:
 * - rows that come with a fill, drawn from (seed, wallet, fill sequence): the first deposit, SPLITs, MERGEs and
 *   neg-risk CONVERSIONs in the fill's market, maker and taker rebates (some paid twice in one transaction: two
 *   identical rows), rewards, yield, referral rewards and withdrawals, all in the fill's block;
 * - REDEEMs once a held market resolves, one row per outcome held, winners and losers alike (a loser's pays 0).
 *
 * Holdings follow the wallet's fills, splits, merges and conversions in sequence order, so a REDEEM burns what the
 * wallet holds and pays `size × payout`. Two documented simplifications: generated fills may sell more than was
 * bought, so a redeemed size is the net holding floored at zero; and a REDEEM counts the fills the wallet had when
 * its market resolved (by sequence), so a fill indexed late on an old block after that is not redeemed. Both keep
 * history append-only: an `advance` adds rows (new fills' rows, redemptions of markets it resolves) and never
 * changes a row that existed before.
 *
 * Every row has a sort key unique within the wallet, ordered with its timestamp: fill p is `p × SLOTS_PER_FILL`
 * (what `/v2/activity` serves as its TRADE row), the rows it brings `p × SLOTS_PER_FILL + slot`, redemptions
 * `REDEEM_KEY_BASE + 2 × market + outcome`. The keys never move, so a keyset cursor stays valid across `advance`.
 */
import { FLAG_TAKER } from './fill-draws.js';
import { Rng, Stream } from './prng.js';
import { blockAt, payoutsOf, PAYOUT_UNIT } from './resolutions.js';
import { isoSeconds } from './text.js';
import type { Universe } from './universe.js';
import type { WalletTrades } from './wallets.js';
import { MAX_FILLS_PER_WALLET } from './wallets.js';

/** Every activity type `/v2/activity?type=` accepts; `TIP` is opt-in, DEPOSIT/WITHDRAWAL hide behind `exclude_deposits_withdrawals`. */
export const ACTIVITY_TYPES = [
  'TRADE',
  'SPLIT',
  'MERGE',
  'REDEEM',
  'REWARD',
  'CONVERSION',
  'DEPOSIT',
  'WITHDRAWAL',
  'YIELD',
  'MAKER_REBATE',
  'TAKER_REBATE',
  'REFERRAL_REWARD',
  'MIGRATION',
  'TIP',
] as const;
export type ActivityType = (typeof ACTIVITY_TYPES)[number];

const TYPE_CODE = new Map<ActivityType, number>(ACTIVITY_TYPES.map((type, i) => [type, i]));
function code(type: ActivityType): number {
  return TYPE_CODE.get(type) ?? 0;
}

/** Sort keys per fill: the fill itself (slot 0), then the rows it brings along. */
export const SLOTS_PER_FILL = 16;
const SLOT = {
  deposit: 1,
  split: 2,
  conversion: 3,
  merge: 4,
  makerRebate: 5,
  takerRebate: 6,
  reward: 7,
  yield: 8,
  referral: 9,
  withdrawal: 10,
  rebateTwin: 11,
} as const;
/** Redemption keys come after every fill's. */
export const REDEEM_KEY_BASE = MAX_FILLS_PER_WALLET * SLOTS_PER_FILL;

const DAY = 86_400;
/** Below a micro-share a holding is dust, not a position. */
const MIN_SHARES = 1e-6;

/** Chance per fill (or per held resolved market, for redemptions) of each kind of row. */
const SHARE = {
  deposit: 0.8,
  split: 0.04,
  conversion: 0.08,
  merge: 0.05,
  makerRebate: 0.03,
  takerRebate: 0.02,
  rebateTwin: 0.15,
  reward: 0.01,
  yield: 0.003,
  referral: 0.002,
  withdrawal: 0.003,
  redeem: 0.85,
} as const;

const round6 = (value: number): number => Math.round(value * 1e6) / 1e6;

/** One non-fill activity row reduced to what identifies it: what a warehouse must end up holding. */
export interface GroundTruthActivity {
  proxy_wallet: string;
  type: string;
  /** "" on rows that belong to no market (deposits, rewards…). */
  condition_id: string;
  /** "" on rows that touch no single outcome token (splits, merges, rebates…). */
  token_id: string;
  /** 999 where no outcome applies, as the API labels it. */
  outcome_index: number;
  side: string;
  size: number;
  usdc_size: number;
  price: number;
  timestamp: number;
  transaction_hash: string;
}

interface Draft {
  ts: number;
  key: number;
  txKey: number;
  type: number;
  market: number;
  outcome: number;
  size: number;
  usdc: number;
}

/** The rows of one wallet, oldest first, as columns. */
export class WalletActivity {
  readonly count: number;
  readonly timestamp: Int32Array;
  readonly key: Float64Array;
  readonly type: Uint8Array;
  /** Market index, or -1 for a row of no market. */
  readonly market: Int32Array;
  /** 0 or 1, or -1 when the row touches no single outcome. */
  readonly outcome: Int8Array;
  readonly size: Float64Array;
  readonly usdc: Float64Array;
  /** Key of the row's transaction: rows paid in one transaction share it (twin rebates, both redeemed outcomes). */
  readonly txKey: Float64Array;
  readonly #trades: WalletTrades;
  readonly #universe: Universe;
  readonly #seed: number;

  constructor(seed: number, universe: Universe, trades: WalletTrades) {
    this.#seed = seed;
    this.#universe = universe;
    this.#trades = trades;
    const drafts = draftRows(seed, universe, trades);
    drafts.sort((a, b) => a.ts - b.ts || a.key - b.key);
    const n = drafts.length;
    this.count = n;
    this.timestamp = new Int32Array(n);
    this.key = new Float64Array(n);
    this.type = new Uint8Array(n);
    this.market = new Int32Array(n);
    this.outcome = new Int8Array(n);
    this.size = new Float64Array(n);
    this.usdc = new Float64Array(n);
    this.txKey = new Float64Array(n);
    drafts.forEach((d, k) => {
      this.timestamp[k] = d.ts;
      this.key[k] = d.key;
      this.type[k] = d.type;
      this.market[k] = d.market;
      this.outcome[k] = d.outcome;
      this.size[k] = d.size;
      this.usdc[k] = d.usdc;
      this.txKey[k] = d.txKey;
    });
  }

  typeOf(k: number): ActivityType {
    return ACTIVITY_TYPES[this.type[k] ?? 0] ?? 'TRADE';
  }

  transactionHash(k: number): string {
    return `0x${Rng.of(this.#seed, Stream.activityTx, this.#trades.index, this.txKey[k] ?? 0).hex(8)}`;
  }

  /** Row k exactly as `/v2/activity` serves it. */
  row(k: number): Record<string, unknown> {
    const m = this.market[k] ?? -1;
    const outcome = this.outcome[k] ?? -1;
    const market = m >= 0 ? this.#universe.marketCore(m) : undefined;
    // Ghost markets are unknown to Gamma, so the Data API has nothing to enrich them with.
    const enriched = market !== undefined && !market.ghost;
    const p = this.#trades.profile;
    return {
      proxy_wallet: this.#trades.address,
      timestamp: this.timestamp[k] ?? 0,
      condition_id: market?.conditionId ?? '',
      type: this.typeOf(k),
      size: this.size[k] ?? 0,
      usdc_size: this.usdc[k] ?? 0,
      transaction_hash: this.transactionHash(k),
      price: 0,
      token_id: market && outcome >= 0 ? market.tokenIds[outcome === 0 ? 0 : 1] : '',
      side: '',
      outcome_index: outcome >= 0 ? outcome : 999,
      title: enriched ? market.question : '',
      slug: enriched ? market.slug : '',
      icon: enriched ? market.icon : '',
      event_slug: enriched ? market.eventSlug : '',
      outcome: market && outcome >= 0 ? market.outcomes[outcome === 0 ? 0 : 1] : '',
      name: p.name,
      pseudonym: p.pseudonym,
      bio: p.bio,
      profile_image: p.profile_image,
      profile_image_optimized: p.profile_image_optimized,
    };
  }

  groundTruth(k: number): GroundTruthActivity {
    const row = this.row(k);
    return {
      proxy_wallet: row.proxy_wallet as string,
      type: row.type as string,
      condition_id: row.condition_id as string,
      token_id: row.token_id as string,
      outcome_index: row.outcome_index as number,
      side: row.side as string,
      size: row.size as number,
      usdc_size: row.usdc_size as number,
      price: row.price as number,
      timestamp: row.timestamp as number,
      transaction_hash: row.transaction_hash as string,
    };
  }
}

/** Fill `r` of the wallet as a `/v2/activity` TRADE row: the `/v2/trades` row plus `type` and `usdc_size`. */
export function tradeActivityRow(trades: WalletTrades, r: number): Record<string, unknown> {
  const t = trades.row(r);
  const row: Record<string, unknown> = {
    proxy_wallet: t.proxy_wallet,
    timestamp: t.timestamp,
    condition_id: t.condition_id,
    type: 'TRADE',
    size: t.size,
    usdc_size: round6(t.size * t.price),
    transaction_hash: t.transaction_hash,
    price: t.price,
    token_id: t.token_id,
    side: t.side,
    outcome_index: t.outcome_index,
    title: t.title,
    slug: t.slug,
    icon: t.icon,
    event_slug: t.event_slug,
    outcome: t.outcome,
    name: t.name,
    pseudonym: t.pseudonym,
    bio: t.bio,
    profile_image: t.profile_image,
    profile_image_optimized: t.profile_image_optimized,
  };
  if (trades.isCombo(r)) row.is_combo = true;
  return row;
}

/** Amounts of cash rows: a wide range, cents mostly. */
function drawCash(rng: Rng, min: number, max: number): number {
  return Math.max(0.01, Math.round(rng.logUniform(min, max) * 100) / 100);
}

/**
 * The sequence number up to which the wallet's fills count towards a market's redemption: all of them while the
 * market is open, else those that existed when it resolved.
 */
function redeemCutoff(universe: Universe, trades: WalletTrades, m: number): number {
  const event = universe.eventCore(universe.eventOf(m));
  if (!event.closed) return Number.POSITIVE_INFINITY;
  if (event.resolvedEpoch === undefined) return trades.baseCount;
  return trades.countAfterEpoch[event.resolvedEpoch] ?? trades.count;
}

function draftRows(seed: number, universe: Universe, trades: WalletTrades): Draft[] {
  const drafts: Draft[] = [];
  const holdings = new Map<number, [number, number]>();
  const hold = (m: number): [number, number] => {
    let h = holdings.get(m);
    if (!h) {
      h = [0, 0];
      holdings.set(m, h);
    }
    return h;
  };
  const cutoffs = new Map<number, number>();
  const cutoffOf = (m: number): number => {
    let cutoff = cutoffs.get(m);
    if (cutoff === undefined) {
      cutoff = redeemCutoff(universe, trades, m);
      cutoffs.set(m, cutoff);
    }
    return cutoff;
  };

  for (let p = 0; p < trades.count; p += 1) {
    const r = trades.count - 1 - p;
    const ts = trades.timestamp[r] ?? 0;
    const m = trades.market[r] ?? -1;
    const base = p * SLOTS_PER_FILL;
    const rng = Rng.of(seed, Stream.activity, trades.index, p);
    const add = (slot: number, type: ActivityType, market: number, outcome: number, size: number, usdc: number, txSlot = slot): void => {
      drafts.push({ ts, key: base + slot, txKey: base + txSlot, type: code(type), market, outcome, size, usdc });
    };
    if (p === 0 && rng.chance(SHARE.deposit)) add(SLOT.deposit, 'DEPOSIT', -1, -1, 0, drawCash(rng, 20, 50_000));

    if (m >= 0 && p < cutoffOf(m)) {
      const h = hold(m);
      const size = trades.size[r] ?? 0;
      const price = trades.price[r] ?? 0;
      const outcome = trades.outcome[r] === 0 ? 0 : 1;
      h[outcome] += trades.sell[r] === 1 ? -size : size;

      if (rng.chance(SHARE.split)) {
        const amount = drawCash(rng, 5, 5_000);
        h[0] += amount;
        h[1] += amount;
        add(SLOT.split, 'SPLIT', m, -1, amount, amount);
      }
      const event = universe.eventCore(universe.eventOf(m));
      if (event.negRisk && rng.chance(SHARE.conversion) && h[1] > MIN_SHARES) {
        // Converting No shares of one member gives as many Yes shares of every other member (and no cash for a
        // single member), which is why the wallet may end up redeeming markets it never traded.
        const amount = round6(h[1] * (0.2 + 0.8 * rng.next()));
        if (amount >= MIN_SHARES) {
          h[1] -= amount;
          for (let j = event.firstMarket; j < event.firstMarket + event.size; j += 1) if (j !== m) hold(j)[0] += amount;
          add(SLOT.conversion, 'CONVERSION', m, 1, amount, 0);
        }
      }
      if (rng.chance(SHARE.merge) && Math.min(h[0], h[1]) > MIN_SHARES) {
        const amount = round6(Math.min(h[0], h[1]) * (0.2 + 0.8 * rng.next()));
        if (amount >= MIN_SHARES) {
          h[0] -= amount;
          h[1] -= amount;
          add(SLOT.merge, 'MERGE', m, -1, amount, amount);
        }
      }
      const taker = ((trades.flags[r] ?? 0) & FLAG_TAKER) !== 0;
      if (rng.chance(taker ? SHARE.takerRebate : SHARE.makerRebate)) {
        const usdc = Math.max(1e-6, round6(size * price * 0.002));
        const slot = taker ? SLOT.takerRebate : SLOT.makerRebate;
        const type = taker ? 'TAKER_REBATE' : 'MAKER_REBATE';
        add(slot, type, m, -1, 0, usdc);
        // Paid twice in one transaction: two identical rows that are two real payments.
        if (rng.chance(SHARE.rebateTwin)) add(SLOT.rebateTwin, type, m, -1, 0, usdc, slot);
      }
    }
    if (rng.chance(SHARE.reward)) add(SLOT.reward, 'REWARD', -1, -1, 0, drawCash(rng, 0.05, 200));
    if (rng.chance(SHARE.yield)) add(SLOT.yield, 'YIELD', -1, -1, 0, drawCash(rng, 0.01, 50));
    if (rng.chance(SHARE.referral)) add(SLOT.referral, 'REFERRAL_REWARD', -1, -1, 0, drawCash(rng, 0.01, 20));
    if (rng.chance(SHARE.withdrawal)) add(SLOT.withdrawal, 'WITHDRAWAL', -1, -1, 0, drawCash(rng, 20, 20_000));
  }

  for (const m of [...holdings.keys()].sort((a, b) => a - b)) {
    const payouts = payoutsOf(universe, m);
    if (!payouts) continue;
    const rng = Rng.of(seed, Stream.redeem, trades.index, m);
    const redeems = rng.chance(SHARE.redeem);
    const delay = rng.int(60, 3 * DAY);
    if (!redeems) continue;
    const e = universe.eventOf(m);
    const closedTime = universe.eventCore(e).closedTime;
    const ts = Math.min(closedTime + delay, universe.resolvedClock(e) ?? closedTime);
    const h = holdings.get(m) ?? [0, 0];
    for (const outcome of [0, 1] as const) {
      const size = round6(Math.max(0, h[outcome]));
      if (size < MIN_SHARES) continue;
      const key = REDEEM_KEY_BASE + 2 * m;
      drafts.push({
        ts,
        key: key + outcome,
        txKey: key,
        type: code('REDEEM'),
        market: m,
        outcome,
        size,
        usdc: round6((size * payouts[outcome]) / PAYOUT_UNIT),
      });
    }
  }
  return drafts;
}

/** One `/v2/activity/combos` row before its live enrichment. */
interface ComboEvent {
  combo: number;
  kind: 'SPLIT' | 'REDEEM';
  ts: number;
  block: number;
  logIndex: number;
  /** Orders rows of one block: log index first, then a tie-breaker unique within the wallet. */
  sortKey: number;
  txHash: string;
  amountUsdc: number | null;
  payoutUsdc: number | null;
  legOutcomes: [number, number];
}

/**
 * A wallet's combo lifecycle rows, newest first by (block_number, log_index): a SPLIT when some combos are
 * minted (at their first fill) and a REDEEM of what the wallet holds once both legs resolved, paying 1 per share
 * only when both legs won. Draws are made up front from (seed, wallet, combo), so resolutions never shift them.
 */
export class WalletComboActivity {
  readonly events: readonly ComboEvent[];
  readonly #trades: WalletTrades;
  readonly #universe: Universe;

  constructor(seed: number, universe: Universe, trades: WalletTrades) {
    this.#trades = trades;
    this.#universe = universe;
    const combos = trades.combos;
    const firstFill: number[] = combos.map(() => -1);
    const held: number[] = combos.map(() => 0);
    const cutoffs = combos.map((combo) => Math.max(...combo.legs.map((m) => redeemCutoff(universe, trades, m))));
    for (let p = 0; p < trades.count; p += 1) {
      const r = trades.count - 1 - p;
      const m = trades.market[r] ?? 0;
      if (m >= 0) continue;
      const k = -1 - m;
      if (firstFill[k] === -1) firstFill[k] = r;
      if (p < (cutoffs[k] ?? 0)) held[k] = (held[k] ?? 0) + (trades.sell[r] === 1 ? -1 : 1) * (trades.size[r] ?? 0);
    }
    const events: ComboEvent[] = [];
    combos.forEach((combo, k) => {
      const r = firstFill[k] ?? -1;
      if (r < 0) return;
      const rng = Rng.of(seed, Stream.comboActivity, trades.index, k);
      const legOutcomes: [number, number] = [rng.int(0, 1), rng.int(0, 1)];
      const split = rng.chance(0.6);
      const redeem = rng.chance(0.8);
      const delay = rng.int(60, 3 * DAY);
      const splitLog = rng.int(1, 500);
      const redeemLog = rng.int(1, 500);
      const splitTx = `0x${rng.hex(8)}`;
      const redeemTx = `0x${rng.hex(8)}`;
      const event = (kind: ComboEvent['kind'], ts: number, logIndex: number, txHash: string, amountUsdc: number | null, payoutUsdc: number | null): void => {
        const ordinal = 2 * k + (kind === 'SPLIT' ? 0 : 1);
        events.push({ combo: k, kind, ts, block: blockAt(ts), logIndex, sortKey: logIndex * 65_536 + ordinal, txHash, amountUsdc, payoutUsdc, legOutcomes });
      };
      const firstTs = trades.timestamp[r] ?? 0;
      if (split) event('SPLIT', firstTs, splitLog, splitTx, round6((trades.size[r] ?? 0) * (trades.price[r] ?? 0)), null);
      const winners = combo.legs.map((m) => (payoutsOf(universe, m) ? universe.winningOutcome(m) : undefined));
      const shares = round6(Math.max(0, held[k] ?? 0));
      if (redeem && winners.every((w) => w !== undefined) && shares >= MIN_SHARES) {
        const resolvedAt = Math.max(firstTs, ...combo.legs.map((m) => universe.eventCore(universe.eventOf(m)).closedTime));
        const horizon = Math.max(...combo.legs.map((m) => universe.resolvedClock(universe.eventOf(m)) ?? 0), firstTs);
        const won = winners.every((w, i) => w === legOutcomes[i]);
        event('REDEEM', Math.min(resolvedAt + delay, horizon), redeemLog, redeemTx, null, won ? shares : 0);
      }
    });
    events.sort((a, b) => b.block - a.block || b.sortKey - a.sortKey);
    this.events = events;
  }

  /** Row k (newest first) exactly as `/v2/activity/combos` serves it, legs with their live state. */
  row(k: number): Record<string, unknown> {
    const event = this.events[k];
    if (!event) throw new RangeError(`combo activity row ${k} out of range`);
    const combo = this.#trades.combos[event.combo];
    if (!combo) throw new Error(`wallet ${this.#trades.index} has no combo ${event.combo}`);
    return {
      id: `${event.txHash}-${event.logIndex}`,
      type: event.kind,
      proxy_wallet: this.#trades.address,
      combo_condition_id: combo.conditionId,
      combo_position_id: combo.tokenId,
      block_number: event.block,
      timestamp: event.ts,
      transaction_hash: event.txHash,
      amount_usdc: event.amountUsdc,
      payout_usdc: event.payoutUsdc,
      legs: combo.legs.map((m, i) => this.#leg(m, i, event.legOutcomes[i] ?? 0)),
    };
  }

  #leg(m: number, index: number, outcome: number): Record<string, unknown> {
    const universe = this.#universe;
    const core = universe.marketCore(m);
    const event = universe.eventCore(core.eventIndex);
    const known = !core.ghost;
    const winner = universe.winningOutcome(m);
    let price = 0;
    if (known) {
      const prices = JSON.parse(universe.marketJson(m, false).outcomePrices as string) as string[];
      price = Number(prices[outcome] ?? 0);
    }
    const label = event.members[core.position]?.label ?? '';
    return {
      leg_index: index,
      leg_position_id: core.tokenIds[outcome === 0 ? 0 : 1],
      leg_condition_id: core.conditionId,
      leg_outcome_index: outcome,
      leg_outcome_label: core.outcomes[outcome === 0 ? 0 : 1],
      leg_status: winner === undefined ? 'OPEN' : winner === outcome ? 'RESOLVED_WIN' : 'RESOLVED_LOSS',
      leg_current_price: price,
      leg_resolved_at: event.closed ? isoSeconds(event.closedTime) : null,
      market: {
        market_id: known ? core.id : '',
        slug: known ? core.slug : '',
        title: known ? label || core.question : '',
        outcome: core.outcomes[outcome === 0 ? 0 : 1],
        image_url: known ? event.image : '',
        icon_url: known ? core.icon : '',
        category: known ? event.category.toLowerCase() : '',
        subcategory: '',
        tags: [],
        end_date: known ? isoSeconds(event.end) : '',
        event: {
          event_id: known ? event.id : '',
          event_slug: known ? event.slug : '',
          event_title: known ? event.title : '',
          event_image: known ? event.image : '',
        },
        group_item_title: known ? label : '',
        line: null,
        outcomes: known ? [...core.outcomes] : [],
        question: known ? core.question : '',
        sports_market_type: known && event.kind === 'total' ? 'totals' : '',
      },
    };
  }
}
