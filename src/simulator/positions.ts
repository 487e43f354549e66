/**
 * The simulator's own positions and realized profit per wallet, what it serves on `/v2/positions` and
 * `/v2/user-pnl`. Written for the simulator on purpose, apart from the product's replay (src/pnl): both follow the
 * method of Polymarket's PnL subgraph (Polymarket/polymarket-subgraph, pnl-subgraph), so a mistake in either shows
 * up against the other. Per outcome token, in integer micro-units:
 * - BUY: avg ← (avg·held + price·qty) / (held + qty), held += qty; SELL: realized += min(qty, held)·(price − avg)
 *   / 10^6, held −= that; divisions truncate (BigInt);
 * - a fill's price is its USDC (shares × price, rounded to the micro-USDC) × 10^6 / shares;
 * - SPLIT buys both outcomes at 0.5, MERGE sells both at 0.5;
 * - REDEEM sells at the payout: the whole holding of both outcomes in a plain market, the redeemed amount of the
 *   row's outcome in a neg-risk one;
 * - CONVERSION sells the NO at its own average and buys YES of every other question of the event at
 *   (noPrice·n − 10^6·(n − 1)) / (questions − n), n the NOs converted (one per row here).
 * Combo fills and the rows that move no position (rewards, rebates…) are not replayed.
 *
 * Events are replayed in the order a warehouse can rebuild from the rows it holds (block times only to the
 * second, no log index): by time; within a second fills first; then by transaction hash, then by the row's
 * content (fills: token, side, price, size; activity: type, condition, token, size).
 */
import type { ActivityType } from './activity.js';
import type { WalletActivity } from './activity.js';
import { payoutsOf } from './resolutions.js';
import type { Universe } from './universe.js';
import type { WalletTrades } from './wallets.js';

const UNIT = 1_000_000n;
const HALF = 500_000n;
const MOVES: ReadonlySet<ActivityType> = new Set(['SPLIT', 'MERGE', 'REDEEM', 'CONVERSION']);

/** One token's position; amounts in micro-units. */
export interface SimPosition {
  tokenId: string;
  market: number;
  outcome: 0 | 1;
  held: bigint;
  avg: bigint;
  realized: bigint;
  bought: bigint;
  /** Epoch seconds; null for a token the wallet only ever sold. */
  firstEntry: number | null;
  lastEvent: number;
  fills: number;
}

/** Cumulative figures after every second in which something happened, oldest first. */
export interface PnlStep {
  ts: number;
  realized: bigint;
  volumeShares: bigint;
  volumeUsdc: bigint;
  fills: number;
}

export interface SimWalletPnl {
  /** Every position the wallet acquired or traded, by market, outcome. */
  positions: SimPosition[];
  steps: PnlStep[];
}

interface Step {
  ts: number;
  fill: boolean;
  tx: string;
  /** Content keys in comparison order. */
  keys: (string | number)[];
  apply: () => void;
}

const micro = (value: number): bigint => BigInt(Math.round(value * 1e6));

/** Shares × price rounded half up to the micro-USDC; prices have at most 10 decimals. */
function cashMicro(shares: bigint, price: number): bigint {
  const scaled = shares * BigInt(Math.round(price * 1e10));
  return (scaled + 5_000_000_000n) / 10_000_000_000n;
}

export function replaySimWallet(universe: Universe, trades: WalletTrades, activity: WalletActivity): SimWalletPnl {
  const book = new Map<string, SimPosition>();
  const position = (m: number, outcome: 0 | 1): SimPosition => {
    const tokenId = universe.marketCore(m).tokenIds[outcome];
    let p = book.get(tokenId);
    if (!p) {
      p = { tokenId, market: m, outcome, held: 0n, avg: 0n, realized: 0n, bought: 0n, firstEntry: null, lastEvent: 0, fills: 0 };
      book.set(tokenId, p);
    }
    return p;
  };
  let realized = 0n;
  const buy = (p: SimPosition, price: bigint, qty: bigint, ts: number): void => {
    p.lastEvent = ts;
    if (qty <= 0n) return;
    p.avg = (p.avg * p.held + price * qty) / (p.held + qty);
    p.held += qty;
    p.bought += qty;
    if (p.firstEntry === null) p.firstEntry = ts;
  };
  const sell = (p: SimPosition, price: bigint, qty: bigint, ts: number): void => {
    p.lastEvent = ts;
    const sold = qty < p.held ? qty : p.held;
    const delta = (sold * (price - p.avg)) / UNIT;
    p.realized += delta;
    realized += delta;
    p.held -= sold;
  };

  let volumeShares = 0n;
  let volumeUsdc = 0n;
  let fillCount = 0;
  const steps: Step[] = [];
  for (let r = 0; r < trades.count; r += 1) {
    const ts = trades.timestamp[r] ?? 0;
    const m = trades.market[r] ?? -1;
    const size = trades.size[r] ?? 0;
    const price = trades.price[r] ?? 0;
    const shares = micro(size);
    const selling = trades.sell[r] === 1;
    const outcome: 0 | 1 = trades.outcome[r] === 0 ? 0 : 1;
    const tokenId = m >= 0 ? universe.marketCore(m).tokenIds[outcome] : '';
    steps.push({
      ts,
      fill: true,
      tx: trades.transactionHash(r),
      keys: [tokenId, selling ? 'SELL' : 'BUY', price, size],
      apply: () => {
        fillCount += 1;
        volumeShares += shares;
        volumeUsdc += cashMicro(shares, price);
        if (m < 0) return;
        const p = position(m, outcome);
        p.fills += 1;
        const unitPrice = shares > 0n ? (cashMicro(shares, price) * UNIT) / shares : 0n;
        if (selling) sell(p, unitPrice, shares, ts);
        else buy(p, unitPrice, shares, ts);
      },
    });
  }
  for (let k = 0; k < activity.count; k += 1) {
    const type = activity.typeOf(k);
    const m = activity.market[k] ?? -1;
    if (!MOVES.has(type) || m < 0) continue;
    const ts = activity.timestamp[k] ?? 0;
    const core = universe.marketCore(m);
    const amount = micro(activity.size[k] ?? 0);
    const rowOutcome = activity.outcome[k] ?? -1;
    steps.push({
      ts,
      fill: false,
      tx: activity.transactionHash(k),
      keys: [type, core.conditionId, rowOutcome >= 0 ? core.tokenIds[rowOutcome === 0 ? 0 : 1] : '', activity.size[k] ?? 0],
      apply: () => {
        const event = universe.eventCore(universe.eventOf(m));
        if (type === 'SPLIT') {
          buy(position(m, 0), HALF, amount, ts);
          buy(position(m, 1), HALF, amount, ts);
        } else if (type === 'MERGE') {
          sell(position(m, 0), HALF, amount, ts);
          sell(position(m, 1), HALF, amount, ts);
        } else if (type === 'REDEEM') {
          const payouts = payoutsOf(universe, m);
          if (!payouts) return;
          const total = BigInt(payouts[0] + payouts[1]);
          const priceOf = (o: 0 | 1): bigint => (BigInt(payouts[o]) * UNIT) / total;
          if (event.negRisk) {
            const o: 0 | 1 = rowOutcome === 0 ? 0 : 1;
            sell(position(m, o), priceOf(o), amount, ts);
          } else {
            for (const o of [0, 1] as const) {
              const p = position(m, o);
              sell(p, priceOf(o), p.held, ts);
            }
          }
        } else {
          // CONVERSION of this question's NO into YES of every other question of the event.
          const no = position(m, 1);
          const noPrice = no.avg;
          sell(no, no.avg, amount, ts);
          const others = BigInt(event.size - 1);
          if (others <= 0n) return;
          // One NO converted: (noPrice·1 − 10^6·0) / (questions − 1).
          const yesPrice = noPrice / others;
          for (let j = event.firstMarket; j < event.firstMarket + event.size; j += 1) if (j !== m) buy(position(j, 0), yesPrice, amount, ts);
        }
      },
    });
  }

  const text = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  steps.sort((a, b) => {
    if (a.ts !== b.ts) return a.ts - b.ts;
    if (a.fill !== b.fill) return a.fill ? -1 : 1;
    const byTx = text(a.tx, b.tx);
    if (byTx !== 0) return byTx;
    for (let i = 0; i < a.keys.length; i += 1) {
      const x = a.keys[i]!;
      const y = b.keys[i]!;
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : text(String(x), String(y));
      if (c !== 0) return c;
    }
    return 0;
  });

  const timeline: PnlStep[] = [];
  for (let i = 0; i < steps.length; i += 1) {
    const step = steps[i]!;
    step.apply();
    if (i + 1 < steps.length && steps[i + 1]!.ts === step.ts) continue;
    timeline.push({ ts: step.ts, realized, volumeShares, volumeUsdc, fills: fillCount });
  }
  const positions = [...book.values()]
    .filter((p) => p.firstEntry !== null || p.fills > 0)
    .sort((a, b) => a.market - b.market || a.outcome - b.outcome);
  return { positions, steps: timeline };
}
