/**
 * One wallet's positions per outcome token, updated the way Polymarket's PnL subgraph updates its `UserPosition`
 * entity (repository Polymarket/polymarket-subgraph, folder pnl-subgraph):
 * - a buy moves the weighted-average price, `avg = (avg × held + price × amount) / (held + amount)`, and adds to
 *   the holding and to `totalBought` (src/utils/updateUserPositionWithBuy.ts); a buy of nothing changes nothing;
 * - a sell realizes `min(amount, held) × (price − avg) / 10^6`: shares beyond the known holding "were obtained
 *   outside of what we track" and realize nothing (src/utils/updateUserPositionWithSell.ts); the average stays;
 * all in integer micro-units with BigInt's truncating division, as the subgraph does.
 * Besides the subgraph's four fields it keeps what the warehouse reports: fees, cost bought, fills, times.
 */
import { MICRO } from './units.js';

export interface PositionState {
  readonly tokenId: string;
  conditionId: string;
  outcomeIndex: number | null;
  /** Shares held, micro-units (the subgraph's `amount`). */
  amount: bigint;
  /** Micro-USDC per share (the subgraph's `avgPrice`); kept when the holding reaches zero, as there. */
  avgPrice: bigint;
  /** Micro-USDC (the subgraph's `realizedPnl`). */
  realizedPnl: bigint;
  /** Lifetime shares bought, micro-units (the subgraph's `totalBought`). */
  totalBought: bigint;
  /** Σ amount × price over buys, in 10^-12 USDC (exact; the subgraph does not keep it). */
  costBought: bigint;
  /** Micro-USDC of fees on this token's fills whose fee is known. */
  fees: bigint;
  /** Fills whose fee is not known: while any is, the position's fees (and profit after fees) are unknown. */
  unknownFees: number;
  fills: number;
  /** Epoch seconds of the first acquisition (buy, split, conversion); null if never acquired. */
  firstEntry: number | null;
  lastEvent: number;
}

export class PositionBook {
  readonly #positions = new Map<string, PositionState>();

  /** The position of `tokenId`, created empty (the subgraph's loadOrCreateUserPosition) without being listed. */
  peek(tokenId: string): PositionState | undefined {
    return this.#positions.get(tokenId);
  }

  /** The position, created when missing; `conditionId`/`outcomeIndex` fill in what an earlier event did not know. */
  open(tokenId: string, conditionId: string, outcomeIndex: number | null): PositionState {
    let position = this.#positions.get(tokenId);
    if (!position) {
      position = {
        tokenId,
        conditionId,
        outcomeIndex,
        amount: 0n,
        avgPrice: 0n,
        realizedPnl: 0n,
        totalBought: 0n,
        costBought: 0n,
        fees: 0n,
        unknownFees: 0,
        fills: 0,
        firstEntry: null,
        lastEvent: 0,
      };
      this.#positions.set(tokenId, position);
    }
    if (position.outcomeIndex === null && outcomeIndex !== null) position.outcomeIndex = outcomeIndex;
    return position;
  }

  /** updateUserPositionWithBuy. */
  buy(position: PositionState, price: bigint, amount: bigint, seconds: number): void {
    position.lastEvent = seconds;
    if (amount <= 0n) return;
    position.avgPrice = (position.avgPrice * position.amount + price * amount) / (position.amount + amount);
    position.amount += amount;
    position.totalBought += amount;
    position.costBought += price * amount;
    position.firstEntry ??= seconds;
  }

  /** updateUserPositionWithSell; returns the shares actually sold. */
  sell(position: PositionState, price: bigint, amount: bigint, seconds: number): bigint {
    position.lastEvent = seconds;
    const adjusted = amount > position.amount ? position.amount : amount;
    position.realizedPnl += (adjusted * (price - position.avgPrice)) / MICRO;
    position.amount -= adjusted;
    return adjusted;
  }

  /** Every position the wallet ever acquired or traded, by condition, outcome and token. */
  listed(): PositionState[] {
    return [...this.#positions.values()]
      .filter((position) => position.firstEntry !== null || position.fills > 0)
      .sort(
        (a, b) =>
          (a.conditionId < b.conditionId ? -1 : a.conditionId > b.conditionId ? 1 : 0) ||
          (a.outcomeIndex ?? 999) - (b.outcomeIndex ?? 999) ||
          (a.tokenId < b.tokenId ? -1 : a.tokenId > b.tokenId ? 1 : 0),
      );
  }
}
