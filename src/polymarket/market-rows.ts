/**
 * Gamma market objects as MarketRecord rows. Never throws on odd field values; `raw` keeps the
 * market exactly as parsed.
 */
import type { MarketRecord } from './records.js';
import { parseJsonArray, toBool, toIsoTimestamp, toJsonText, toNumber, toText } from './gamma-values.js';

function asObject(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** The lower-cased `conditionId` of a Gamma market, or null when it has none. */
export function marketConditionId(raw: unknown): string | null {
  const id = asObject(raw)?.conditionId;
  return typeof id === 'string' && id !== '' ? id.toLowerCase() : null;
}

/**
 * The winning outcome of a closed market: the single outcome whose price parses to exactly 1.
 * Null while open, when no price is 1 (unresolved, or a 50-50 resolution), or when several are.
 */
export function winningOutcome(
  closed: boolean | null,
  outcomes: unknown[] | null,
  prices: unknown[] | null,
  tokenIds: unknown[] | null,
): { label: string | null; tokenId: string | null } {
  if (closed !== true || !prices) return { label: null, tokenId: null };
  const winners = prices.flatMap((price, index) => (toNumber(price) === 1 ? [index] : []));
  if (winners.length !== 1) return { label: null, tokenId: null };
  const index = winners[0] as number;
  return { label: toText(outcomes?.[index]), tokenId: toText(tokenIds?.[index]) };
}

/** One Gamma market as a MarketRecord; `conditionId` must be present (see `marketConditionId`). */
export function normalizeMarket(raw: unknown, fetchedAt: string): MarketRecord {
  const market = asObject(raw) ?? {};
  const closed = toBool(market.closed);
  const outcomes = parseJsonArray(market.outcomes);
  const prices = parseJsonArray(market.outcomePrices);
  const tokenIds = parseJsonArray(market.clobTokenIds);
  const winner = winningOutcome(closed, outcomes, prices, tokenIds);
  const events = (parseJsonArray(market.events) ?? []).map(asObject);
  const eventIds = events.flatMap((event) => {
    const id = toText(event?.id);
    return id ? [id] : [];
  });
  const tags = Array.isArray(market.tags) ? market.tags : null;
  return {
    condition_id: marketConditionId(market) ?? '',
    market_id: toText(market.id) ?? '',
    question: toText(market.question),
    slug: toText(market.slug),
    status: closed === true ? 'closed' : 'open',
    active: toBool(market.active),
    closed,
    outcomes: outcomes ? JSON.stringify(outcomes) : null,
    outcome_prices: prices ? JSON.stringify(prices) : null,
    clob_token_ids: tokenIds ? JSON.stringify(tokenIds) : null,
    winning_label: winner.label,
    winning_token_id: winner.tokenId,
    start_date: toIsoTimestamp(market.startDate),
    end_date: toIsoTimestamp(market.endDate),
    closed_time: toIsoTimestamp(market.closedTime),
    // `volume`/`liquidity` arrive as strings; the *Num twins are numbers but not always present.
    volume: toNumber(market.volume) ?? toNumber(market.volumeNum),
    liquidity: toNumber(market.liquidity) ?? toNumber(market.liquidityNum),
    neg_risk: toBool(market.negRisk),
    neg_risk_market_id: toText(market.negRiskMarketID),
    event_ids: JSON.stringify(eventIds),
    event_slug: toText(events[0]?.slug),
    tags: toJsonText(tags),
    raw: JSON.stringify(raw),
    fetched_at: fetchedAt,
  };
}

/**
 * A market's `event_ids` (JSON text, as stored) back as a list; empty for NULL or anything that is
 * not a JSON array, so one damaged row never fails a run.
 */
export function parseEventIds(json: string | null): string[] {
  return (parseJsonArray(json) ?? []).map(String);
}
