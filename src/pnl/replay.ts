/**
 * One wallet's positions and realized profit, replayed from its fills and activity by the method of Polymarket's
 * PnL subgraph (Polymarket/polymarket-subgraph, pnl-subgraph), so that the figures reconcile with Polymarket's:
 * - a fill is an `OrderFilled` of the wallet's order (src/ExchangeMapping.ts): a BUY buys, a SELL sells, at the
 *   fill's price (src/utils/parseOrderFilled.ts; the price rebuilt as quote × 10^6 / base, truncated);
 * - SPLIT buys both outcomes at FIFTY_CENTS, MERGE sells both at FIFTY_CENTS (src/ConditionalTokensMapping.ts and
 *   src/NegRiskAdapterMapping.ts, handlePositionSplit / handlePositionsMerge);
 * - REDEEM sells at the payout, `payoutNumerators[i] × 10^6 / Σ payoutNumerators`: in a plain market the whole
 *   holding of both outcomes (ConditionalTokensMapping.handlePayoutRedemption: "the user redeems their entire
 *   amount"), in a neg-risk market the amount redeemed of that outcome (NegRiskAdapterMapping.handlePayoutRedemption);
 * - CONVERSION sells the converted NO tokens at their own average price (realizing nothing) and buys YES of every
 *   other question of the group at `computeNegRiskYesPrice` (NegRiskAdapterMapping.handlePositionsConverted,
 *   src/utils/computeNegRiskYesPrice.ts).
 * The subgraph indexes neither combo trades (their exchange is not among its sources) nor rewards, rebates or
 * transfers (notes.md: "transfers outside of these 5 event type are not tracked"); neither does the replay. Fees
 * are not in the subgraph's figures either: they are kept beside them, so profit is reported before fees (to
 * reconcile) and after (what the trader kept) — after fees only where every fill's fee is known (`PnlFill.fee_usdc`).
 */
import type { OrderedEvent, PnlActivity, PnlFill, PnlMarket, WalletHistory } from './inputs.js';
import { orderEvents } from './inputs.js';
import type { PositionState } from './position-book.js';
import { PositionBook } from './position-book.js';
import { FIFTY_CENTS, MICRO, fillPriceMicro, fromMicro, toMicro } from './units.js';

/** A market condition id; combo condition ids (62 hex digits) are not markets the subgraph follows. */
const MARKET_CONDITION = /^0x[0-9a-f]{64}$/;

/** open: held, unresolved. closed: nothing held. redeemable: held, resolved, pays. lost: held, resolved, pays nothing. */
export type PositionStatus = 'open' | 'closed' | 'redeemable' | 'lost';

/** One (wallet, token) position after the replay. USDC and shares are exact to the micro-unit. */
export interface PnlPosition {
  proxy_wallet: string;
  condition_id: string;
  token_id: string;
  /** From the market's token list, else from the fills; null when neither says. */
  outcome_index: number | null;
  /** Shares held now. */
  shares: number;
  /** Weighted-average price of what was bought, USDC per share (kept after the holding is gone, as the subgraph does). */
  avg_price: number;
  /** Lifetime shares bought, splits and conversions included (the subgraph's `totalBought`). */
  total_bought: number;
  /** Lifetime USDC paid for them: Σ shares × price over every buy. */
  cost_bought_usdc: number;
  /** Realized profit before fees, USDC: what Polymarket reports. */
  realized_pnl: number;
  /**
   * Realized profit minus this token's fill fees; null when any of its fills has no known fee (an unknown fee is
   * not a zero fee: a figure after fees that silently counted it as 0 would be the before-fees figure mislabelled).
   */
  realized_pnl_after_fees: number | null;
  /** Σ the fees of this token's fills; 0 without fills (a split charges none); null when any fill's fee is unknown. */
  fees_usdc: number | null;
  status: PositionStatus;
  /** The resolved payout per share of this outcome; null while unresolved (or the outcome is unknown). */
  payout_price: number | null;
  /**
   * Once resolved, realized profit plus what the holding left is worth at the payout (a loser never redeemed
   * counts its loss here); before fees; null while unresolved.
   */
  settled_pnl: number | null;
  fills: number;
  /** ISO-8601 of the first acquisition (buy, split, conversion); null for a token only ever sold. */
  first_entry_at: string | null;
  last_event_at: string;
}

/** What the replay left out, by reason; none of it moves a figure the subgraph would have moved. */
export interface ReplaySkipped {
  /** Fills of combo positions (62-hex condition ids): no subgraph handler. */
  combo_fills: number;
  /** Fills whose side is neither BUY nor SELL. */
  unknown_side_fills: number;
  /** SPLIT, MERGE, REDEEM or CONVERSION rows of markets whose tokens (or neg-risk group) are unknown. */
  unknown_market_activity: number;
  /** REDEEM rows of a market without a known resolution, valued at their own `usdc_size / size` instead. */
  redeems_without_resolution: number;
  /** Rows of types that move no position (rewards, rebates, yield, …), by type. */
  other_activity: Record<string, number>;
}

export interface WalletReplay {
  wallet: string;
  positions: PnlPosition[];
  skipped: ReplaySkipped;
}

interface MarketIndex {
  market(conditionId: string): PnlMarket | undefined;
  /** Token ids by outcome index: the market's, else those the wallet's fills show (outcome unknown). */
  tokens(conditionId: string): readonly string[];
  outcomeOf(tokenId: string): number | undefined;
  /** The members of a neg-risk group by question index, and the group's question count. */
  group(negRiskMarketId: string): { members: Map<number, PnlMarket>; questionCount: number } | undefined;
}

function indexMarkets(markets: readonly PnlMarket[], fills: readonly PnlFill[]): MarketIndex {
  const byCondition = new Map<string, PnlMarket>();
  const outcomes = new Map<string, number>();
  const groups = new Map<string, Map<number, PnlMarket>>();
  for (const market of markets) {
    const conditionId = market.condition_id.toLowerCase();
    byCondition.set(conditionId, market);
    market.token_ids.forEach((token, index) => outcomes.set(token, index));
    if (market.neg_risk && market.neg_risk_market_id && market.question_index !== null) {
      const id = market.neg_risk_market_id.toLowerCase();
      let members = groups.get(id);
      if (!members) groups.set(id, (members = new Map()));
      members.set(market.question_index, market);
    }
  }
  // A market Gamma does not know still shows its tokens in the wallet's fills.
  const seen = new Map<string, Set<string>>();
  for (const fill of fills) {
    const conditionId = fill.condition_id.toLowerCase();
    if (byCondition.has(conditionId) || !MARKET_CONDITION.test(conditionId)) continue;
    let tokens = seen.get(conditionId);
    if (!tokens) seen.set(conditionId, (tokens = new Set()));
    tokens.add(fill.asset);
  }
  const learned = new Map([...seen].map(([id, tokens]) => [id, [...tokens].sort()]));
  return {
    market: (conditionId) => byCondition.get(conditionId),
    tokens: (conditionId) => byCondition.get(conditionId)?.token_ids ?? learned.get(conditionId) ?? [],
    outcomeOf: (tokenId) => outcomes.get(tokenId),
    group: (id) => {
      const members = groups.get(id.toLowerCase());
      if (!members) return undefined;
      // The subgraph counts QuestionPrepared events; the group's members are what is known of them.
      return { members, questionCount: Math.max(members.size, ...[...members.keys()].map((k) => k + 1)) };
    },
  };
}

/** `payoutNumerators[i] × 10^6 / Σ payoutNumerators` per outcome; undefined while unresolved. */
function payoutPrices(payouts: readonly number[] | null, status: string): bigint[] | undefined {
  if (status !== 'resolved' || !payouts || payouts.length === 0) return undefined;
  const numerators = payouts.map((payout) => BigInt(Math.round(payout)));
  const denominator = numerators.reduce((sum, n) => sum + n, 0n);
  if (denominator <= 0n) return undefined;
  return numerators.map((n) => (n * MICRO) / denominator);
}

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();

/** Replays one wallet's history; pure, and the same rows always give the same figures. */
export function replayWallet(history: WalletHistory): WalletReplay {
  const wallet = history.wallet.toLowerCase();
  const markets = indexMarkets(history.markets, history.fills);
  const payouts = new Map<string, bigint[]>();
  for (const resolution of history.resolutions) {
    const prices = payoutPrices(resolution.payouts, resolution.status);
    if (prices) payouts.set(resolution.condition_id.toLowerCase(), prices);
  }
  const book = new PositionBook();
  const skipped: ReplaySkipped = { combo_fills: 0, unknown_side_fills: 0, unknown_market_activity: 0, redeems_without_resolution: 0, other_activity: {} };
  const outcomeOf = (tokenId: string, fallback: number | null): number | null => {
    const known = markets.outcomeOf(tokenId);
    if (known !== undefined) return known;
    return fallback !== null && fallback >= 0 && fallback < 999 ? fallback : null;
  };
  const positionOf = (tokenId: string, conditionId: string, outcome: number | null): PositionState =>
    book.open(tokenId, conditionId, outcomeOf(tokenId, outcome));

  const events = orderEvents(history.fills, history.activity);
  for (let k = 0; k < events.length; k += 1) {
    const event = events[k]!;
    if (event.kind === 'fill') {
      applyFill(event.fill, event.seconds);
      continue;
    }
    const row = event.activity;
    const type = row.type.toUpperCase();
    const conditionId = (row.condition_id ?? '').toLowerCase();
    if (type === 'SPLIT' || type === 'MERGE') {
      const tokens = markets.tokens(conditionId);
      if (tokens.length === 0) {
        skipped.unknown_market_activity += 1;
        continue;
      }
      const amount = toMicro(row.size);
      tokens.forEach((token, index) => {
        const position = positionOf(token, conditionId, markets.market(conditionId) ? index : null);
        if (type === 'SPLIT') book.buy(position, FIFTY_CENTS, amount, event.seconds);
        else book.sell(position, FIFTY_CENTS, amount, event.seconds);
      });
    } else if (type === 'REDEEM') {
      applyRedeem(row, conditionId, event.seconds);
    } else if (type === 'CONVERSION') {
      k = applyConversion(events, k) - 1;
    } else {
      skipped.other_activity[type] = (skipped.other_activity[type] ?? 0) + 1;
    }
  }

  function applyFill(fill: PnlFill, seconds: number): void {
    const conditionId = fill.condition_id.toLowerCase();
    if (!MARKET_CONDITION.test(conditionId)) {
      skipped.combo_fills += 1;
      return;
    }
    const side = fill.side.toUpperCase();
    if (side !== 'BUY' && side !== 'SELL') {
      skipped.unknown_side_fills += 1;
      return;
    }
    const position = positionOf(fill.asset, conditionId, fill.outcome_index);
    position.fills += 1;
    if (fill.fee_usdc === null || fill.fee_usdc === undefined) position.unknownFees += 1;
    else position.fees += toMicro(fill.fee_usdc);
    const shares = toMicro(fill.size);
    const price = fillPriceMicro(shares, fill.price);
    if (side === 'BUY') book.buy(position, price, shares, seconds);
    else book.sell(position, price, shares, seconds);
  }

  function applyRedeem(row: PnlActivity, conditionId: string, seconds: number): void {
    const prices = payouts.get(conditionId);
    const market = markets.market(conditionId);
    if (!prices) {
      // No resolution held yet: the row itself says what this outcome paid.
      const shares = toMicro(row.size);
      if (!row.token_id || shares <= 0n) {
        skipped.unknown_market_activity += 1;
        return;
      }
      skipped.redeems_without_resolution += 1;
      book.sell(positionOf(row.token_id, conditionId, row.outcome_index), (toMicro(row.usdc_size) * MICRO) / shares, shares, seconds);
      return;
    }
    if (market?.neg_risk) {
      const outcome = row.token_id ? outcomeOf(row.token_id, row.outcome_index) : row.outcome_index;
      const token = row.token_id ?? (outcome === null ? undefined : market.token_ids[outcome]);
      const price = outcome === null ? undefined : prices[outcome];
      if (token === undefined || price === undefined) {
        skipped.unknown_market_activity += 1;
        return;
      }
      book.sell(positionOf(token, conditionId, outcome), price, toMicro(row.size), seconds);
      return;
    }
    const tokens = markets.tokens(conditionId);
    if (tokens.length === 0) {
      skipped.unknown_market_activity += 1;
      return;
    }
    for (const token of tokens) {
      const position = positionOf(token, conditionId, null);
      const price = position.outcomeIndex === null ? undefined : prices[position.outcomeIndex];
      if (price === undefined) continue;
      book.sell(position, price, position.amount, seconds);
    }
  }

  /** Applies the conversion starting at events[start] (its rows of one transaction together); returns the next index. */
  function applyConversion(all: OrderedEvent[], start: number): number {
    const first = all[start] as Extract<OrderedEvent, { kind: 'activity' }>;
    const firstMarket = markets.market((first.activity.condition_id ?? '').toLowerCase());
    const groupId = firstMarket?.neg_risk ? firstMarket.neg_risk_market_id : null;
    const indexSet = new Set<number>();
    let end = start;
    for (; end < all.length; end += 1) {
      const next = all[end]!;
      if (next.kind !== 'activity' || next.activity.type.toUpperCase() !== 'CONVERSION' || next.seconds !== first.seconds) break;
      if (next.activity.transaction_hash.toLowerCase() !== first.activity.transaction_hash.toLowerCase()) break;
      const market = markets.market((next.activity.condition_id ?? '').toLowerCase());
      if (end > start && market?.neg_risk_market_id !== groupId) break;
      if (market?.question_index !== null && market?.question_index !== undefined) indexSet.add(market.question_index);
    }
    const group = groupId ? markets.group(groupId) : undefined;
    if (!group || indexSet.size === 0) {
      skipped.unknown_market_activity += end - start;
      return end;
    }
    const seconds = first.seconds;
    const amount = toMicro(first.activity.size);
    // 1. Sell each converted NO at its own average price, and average those prices.
    let noCount = 0n;
    let noPriceSum = 0n;
    for (let q = 0; q < group.questionCount; q += 1) {
      if (!indexSet.has(q)) continue;
      const member = group.members.get(q);
      const noToken = member?.token_ids[1];
      if (!member || noToken === undefined) continue;
      noCount += 1n;
      const position = positionOf(noToken, member.condition_id.toLowerCase(), 1);
      book.sell(position, position.avgPrice, amount, seconds);
      noPriceSum += position.avgPrice;
    }
    if (noCount === 0n) return end;
    const noPrice = noPriceSum / noCount;
    const questionCount = BigInt(group.questionCount);
    if (questionCount === noCount) return end;
    // 2. computeNegRiskYesPrice: (noPrice × noCount − 10^6 × (noCount − 1)) / (questionCount − noCount).
    const yesPrice = (noPrice * noCount - MICRO * (noCount - 1n)) / (questionCount - noCount);
    for (let q = 0; q < group.questionCount; q += 1) {
      if (indexSet.has(q)) continue;
      const member = group.members.get(q);
      const yesToken = member?.token_ids[0];
      if (!member || yesToken === undefined) {
        skipped.unknown_market_activity += 1;
        continue;
      }
      book.buy(positionOf(yesToken, member.condition_id.toLowerCase(), 0), yesPrice, amount, seconds);
    }
    return end;
  }

  const positions = book.listed().map((state): PnlPosition => {
    const prices = payouts.get(state.conditionId);
    const payout = prices && state.outcomeIndex !== null ? prices[state.outcomeIndex] : undefined;
    let status: PositionStatus;
    if (state.amount === 0n) status = 'closed';
    else if (prices) status = payout === undefined || payout > 0n ? 'redeemable' : 'lost';
    else status = 'open';
    const settled = payout === undefined ? null : state.realizedPnl + (state.amount * (payout - state.avgPrice)) / MICRO;
    return {
      proxy_wallet: wallet,
      condition_id: state.conditionId,
      token_id: state.tokenId,
      outcome_index: state.outcomeIndex,
      shares: fromMicro(state.amount),
      avg_price: fromMicro(state.avgPrice),
      total_bought: fromMicro(state.totalBought),
      cost_bought_usdc: Number(state.costBought) / 1e12,
      realized_pnl: fromMicro(state.realizedPnl),
      realized_pnl_after_fees: state.unknownFees > 0 ? null : fromMicro(state.realizedPnl - state.fees),
      fees_usdc: state.unknownFees > 0 ? null : fromMicro(state.fees),
      status,
      payout_price: payout === undefined ? null : fromMicro(payout),
      settled_pnl: settled === null ? null : fromMicro(settled),
      fills: state.fills,
      first_entry_at: state.firstEntry === null ? null : iso(state.firstEntry),
      last_event_at: iso(state.lastEvent),
    };
  });
  return { wallet, positions, skipped };
}
