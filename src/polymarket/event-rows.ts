/**
 * Gamma event objects as EventRecord rows. `raw` is the event without its nested `markets` array:
 * a neg-risk event nests every member market in full (hundreds of KB for large events), and each of
 * those markets is stored on its own row in `markets` already.
 */
import type { EventRecord } from './records.js';
import { toBool, toIsoTimestamp, toJsonText, toNumber, toText } from './gamma-values.js';

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** The id of a Gamma event as text, or null when it has none. */
export function eventIdOf(raw: unknown): string | null {
  return toText(asObject(raw).id);
}

/** One Gamma event as an EventRecord; `raw` omits `markets`. */
export function normalizeEvent(raw: unknown, fetchedAt: string): EventRecord {
  const event = asObject(raw);
  const { markets: _markets, ...withoutMarkets } = event;
  return {
    event_id: eventIdOf(event) ?? '',
    slug: toText(event.slug),
    title: toText(event.title),
    ticker: toText(event.ticker),
    category: toText(event.category),
    active: toBool(event.active),
    closed: toBool(event.closed),
    neg_risk: toBool(event.negRisk),
    enable_neg_risk: toBool(event.enableNegRisk),
    neg_risk_market_id: toText(event.negRiskMarketID),
    start_date: toIsoTimestamp(event.startDate),
    end_date: toIsoTimestamp(event.endDate),
    volume: toNumber(event.volume),
    liquidity: toNumber(event.liquidity),
    tags: toJsonText(Array.isArray(event.tags) ? event.tags : null),
    raw: JSON.stringify(withoutMarkets),
    fetched_at: fetchedAt,
  };
}
