/**
 * A wallet's standing from its replayed positions and its fills: the numbers a ranking of traders reads. Profit is
 * the replay's (the subgraph's method), before and after fees; wins and losses are counted per resolved market on
 * what the wallet's positions there settled at, so a loser never redeemed (nothing sold, nothing realized) still
 * counts as the loss it is.
 */
import type { PnlFill } from './inputs.js';
import { epochSeconds } from './inputs.js';
import type { WalletReplay } from './replay.js';
import { toMicro } from './units.js';

export interface CategoryVolume {
  category: string;
  volume_usdc: number;
  fills: number;
}

export interface WalletStats {
  proxy_wallet: string;
  /** Σ realized profit before fees, USDC (Polymarket's figure). */
  realized_pnl: number;
  /** Σ realized profit after fees; null unless every position's fees are known (see PnlPosition). */
  realized_pnl_after_fees: number | null;
  /** Σ fees; 0 for a wallet without fills (nothing was charged); null unless every position's fees are known. */
  fees_usdc: number | null;
  /** Σ size × price over every fill, combos included. */
  volume_usdc: number;
  /** Every fill, combos included. */
  fills: number;
  /** Distinct markets the wallet held or traded a position in (combos not included). */
  markets_traded: number;
  /** Of those, markets resolved with payouts. */
  resolved_markets_traded: number;
  /**
   * Resolved markets where the wallet's positions settled above zero after fees, and below; a position whose fees are
   * unknown counts at its settled figure before fees (a win or loss is decided by far more than a fee, and an
   * unknown fee would otherwise leave the market undecided).
   */
  wins: number;
  losses: number;
  /** wins / (wins + losses); null without a decided market. */
  win_rate: number | null;
  /** wins + losses: the sample the win rate rests on (a market settled at exactly zero is in neither). */
  win_rate_sample: number;
  /** Σ USDC paid for every buy (fills, splits, conversions). */
  cost_bought_usdc: number;
  /** realized_pnl_after_fees / cost_bought_usdc; null when nothing was bought or the fees are unknown. */
  return_on_cost: number | null;
  first_trade_at: string | null;
  last_trade_at: string | null;
  /** Share of the fills whose role is known that were maker fills; null when no fill's role is known. */
  maker_share: number | null;
  /** Fills whose role is known. */
  maker_share_sample: number;
  /** The categories with the most volume, largest first. */
  top_categories: CategoryVolume[];
}

export interface SummaryOptions {
  /** The category of a market (from its events), or null/undefined when unknown. */
  categoryOf?: (conditionId: string) => string | null | undefined;
  /** How many categories to keep; default 3. */
  topCategories?: number;
}

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();
const usdc = (micro: bigint): number => Number(micro) / 1e6;

/** The wallet's statistics from its replay and the fills it was replayed from. */
export function summarizeWallet(replay: WalletReplay, fills: readonly PnlFill[], options: SummaryOptions = {}): WalletStats {
  let realized = 0n;
  let fees = 0n;
  // Any position with an unknown fee makes the wallet's fees unknown: a partial sum would pass for the whole.
  let feesKnown = true;
  let costBought = 0;
  const settledByMarket = new Map<string, bigint | null>();
  for (const position of replay.positions) {
    realized += toMicro(position.realized_pnl);
    if (position.fees_usdc === null) feesKnown = false;
    else fees += toMicro(position.fees_usdc);
    costBought += position.cost_bought_usdc;
    const settled = position.settled_pnl === null ? null : toMicro(position.settled_pnl) - toMicro(position.fees_usdc ?? 0);
    const previous = settledByMarket.get(position.condition_id);
    // A market is decided only when every position in it settled.
    settledByMarket.set(position.condition_id, previous === null || settled === null ? null : (previous ?? 0n) + settled);
  }
  let wins = 0;
  let losses = 0;
  let resolved = 0;
  for (const settled of settledByMarket.values()) {
    if (settled === null) continue;
    resolved += 1;
    if (settled > 0n) wins += 1;
    else if (settled < 0n) losses += 1;
  }

  let volume = 0n;
  let first: number | undefined;
  let last: number | undefined;
  let makers = 0;
  let roles = 0;
  const categories = new Map<string, { volume: bigint; fills: number }>();
  for (const fill of fills) {
    const cash = (toMicro(fill.size) * toMicro(fill.price)) / 1_000_000n;
    volume += cash;
    const seconds = epochSeconds(fill.timestamp);
    if (first === undefined || seconds < first) first = seconds;
    if (last === undefined || seconds > last) last = seconds;
    if (fill.role === 'maker' || fill.role === 'taker') {
      roles += 1;
      if (fill.role === 'maker') makers += 1;
    }
    const category = options.categoryOf?.(fill.condition_id.toLowerCase());
    if (category) {
      const entry = categories.get(category) ?? { volume: 0n, fills: 0 };
      entry.volume += cash;
      entry.fills += 1;
      categories.set(category, entry);
    }
  }
  const realizedAfterFees = feesKnown ? realized - fees : null;
  const top = [...categories]
    .sort(([a, x], [b, y]) => (y.volume > x.volume ? 1 : y.volume < x.volume ? -1 : 0) || y.fills - x.fills || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, options.topCategories ?? 3)
    .map(([category, entry]) => ({ category, volume_usdc: usdc(entry.volume), fills: entry.fills }));

  return {
    proxy_wallet: replay.wallet,
    realized_pnl: usdc(realized),
    realized_pnl_after_fees: realizedAfterFees === null ? null : usdc(realizedAfterFees),
    fees_usdc: feesKnown ? usdc(fees) : null,
    volume_usdc: usdc(volume),
    fills: fills.length,
    markets_traded: settledByMarket.size,
    resolved_markets_traded: resolved,
    wins,
    losses,
    win_rate: wins + losses > 0 ? wins / (wins + losses) : null,
    win_rate_sample: wins + losses,
    cost_bought_usdc: Math.round(costBought * 1e6) / 1e6,
    return_on_cost: costBought > 0 && realizedAfterFees !== null ? usdc(realizedAfterFees) / costBought : null,
    first_trade_at: first === undefined ? null : iso(first),
    last_trade_at: last === undefined ? null : iso(last),
    maker_share: roles > 0 ? makers / roles : null,
    maker_share_sample: roles,
    top_categories: top,
  };
}
