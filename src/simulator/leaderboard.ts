/**
 * The trader boards behind `/v2/leaderboard`, computed from the dataset's fills so that they move with `advance`.
 * Per wallet and window: `volume` is the shares traded (both sides), `pnl` what its fills in resolved markets
 * realised (a buy pays `payout - price` per share, a sell `price - payout`); open markets count for nothing,
 * which is the `all` board's realized-only rule applied to every window. Combo fills count as resolved, won or
 * lost by a seeded draw. Ranks are competition ranks (ties share one, the next skips), ties broken by address.
 */
import type { Dataset } from './dataset.js';
import { unitOf } from './epochs.js';
import { Stream } from './prng.js';

export const BOARD_PERIODS = { day: 86_400, week: 7 * 86_400, month: 30 * 86_400, all: undefined } as const;
export type BoardPeriod = keyof typeof BOARD_PERIODS;
export type BoardSort = 'PNL' | 'VOLUME';

export interface BoardStanding {
  wallet: number;
  address: string;
  pnl: number;
  volume: number;
}

/** Six decimals, like USDC: keeps float noise from splitting ties. */
const round6 = (value: number): number => Math.round(value * 1e6) / 1e6;

/**
 * Every wallet with at least one fill in the window (trailing `period` seconds up to `now`, or all history) and the
 * category: `overall`, a Gamma event category (any case), or `combos`. Unknown categories give an empty list.
 */
export function standings(dataset: Dataset, now: number, period: BoardPeriod, category: string): BoardStanding[] {
  const { universe } = dataset;
  const length = BOARD_PERIODS[period];
  const since = length === undefined ? Number.NEGATIVE_INFINITY : now - length;
  const out: BoardStanding[] = [];
  for (let w = 0; w < dataset.walletCount; w += 1) {
    if (dataset.tradeCountOf(w) === 0) continue;
    const trades = dataset.trades(w);
    let pnl = 0;
    let volume = 0;
    let counted = 0;
    // Rows are newest first: skip those after `now`, stop at the first one before the window.
    for (let r = 0; r < trades.count; r += 1) {
      const ts = trades.timestamp[r] ?? 0;
      if (ts > now) continue;
      if (ts <= since) break;
      const market = trades.market[r] ?? 0;
      let payout: number | undefined;
      if (market < 0) {
        if (category !== 'overall' && category !== 'combos') continue;
        payout = unitOf(dataset.seed, Stream.leaderboard, w, -1 - market) < 0.4 ? 1 : 0;
      } else {
        const core = universe.marketCore(market);
        const event = universe.eventCore(core.eventIndex);
        if (category !== 'overall' && event.category.toLowerCase() !== category) continue;
        if (event.closed) {
          const yesWins = event.negRisk ? event.winner === core.position : event.winner === 0;
          payout = (trades.outcome[r] === 0) === yesWins ? 1 : 0;
        }
      }
      const size = trades.size[r] ?? 0;
      const price = trades.price[r] ?? 0;
      volume += size;
      if (payout !== undefined) pnl += (trades.sell[r] === 1 ? price - payout : payout - price) * size;
      counted += 1;
    }
    if (counted > 0) out.push({ wallet: w, address: trades.address, pnl: round6(pnl), volume: round6(volume) });
  }
  return out;
}

/** The standings as one board, best first, with competition ranks. */
export function rankBoard(rows: readonly BoardStanding[], sort: BoardSort): { standing: BoardStanding; rank: number }[] {
  const metric = (row: BoardStanding): number => (sort === 'PNL' ? row.pnl : row.volume);
  const sorted = [...rows].sort((a, b) => metric(b) - metric(a) || (a.address < b.address ? -1 : 1));
  const ranked: { standing: BoardStanding; rank: number }[] = [];
  sorted.forEach((standing, i) => {
    const previous = ranked[i - 1];
    const tied = previous !== undefined && metric(previous.standing) === metric(standing);
    ranked.push({ standing, rank: tied ? previous.rank : i + 1 });
  });
  return ranked;
}
