/**
 * Gamma event objects as EventRecord rows. `raw` is the event without its nested `markets` array:
 * a neg-risk event nests every member market in full (hundreds of KB for large events), and each of
 * those markets is stored on its own row in `markets` already. What the event keeps of them is the
 * list of their condition ids (`market_ids`): a neg-risk conversion hands out YES of every question
 * of the group, so the profit replay needs every member, traded by a tracked wallet or not.
 */
import { z } from 'zod';
import type { EventRecord } from './records.js';
import { toBool, toIsoTimestamp, toJsonText, toNumber, toText } from './gamma-values.js';

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** A nested market as far as an event row reads it: its condition id, 0x + 64 hex (Gamma sends it lower case; any case is accepted). */
const nestedMarketSchema = z.object({ conditionId: z.string().regex(/^0x[0-9a-fA-F]{64}$/) });

/** Something wrong with an event's nested markets that was left out rather than failing the look-up. */
export interface EventRowProblem {
  message: string;
  details: Record<string, unknown>;
}

/** The id of a Gamma event as text, or null when it has none. */
export function eventIdOf(raw: unknown): string | null {
  return toText(asObject(raw).id);
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * The lower-cased condition ids of the markets nested in an event, in Gamma's order, once each; null when the event
 * came without its `markets` (asked with `include_markets=false`, or a body that leaves them out): then nothing is
 * known of its members, which is not the same as an event without any. A nested market without a well-formed
 * condition id is left out and reported through `problem`: no look-up could ask for it.
 */
export function eventMarketIds(raw: unknown, problem?: (p: EventRowProblem) => void): string[] | null {
  const event = asObject(raw);
  const markets = event.markets;
  if (markets === undefined || markets === null) return null;
  const eventId = eventIdOf(event);
  if (!Array.isArray(markets)) {
    problem?.({
      message: `Gamma event ${String(eventId)} has \`markets\` ${shown(markets)}, not an array of markets; its members are not recorded (a neg-risk event is asked again at the end of a later run)`,
      details: { eventId, markets: shown(markets) },
    });
    return null;
  }
  const ids: string[] = [];
  markets.forEach((market, index) => {
    const parsed = nestedMarketSchema.safeParse(market);
    if (!parsed.success) {
      const value = asObject(market).conditionId;
      problem?.({
        message: `Gamma event ${String(eventId)} nests a market (index ${index}) whose conditionId ${shown(value)} is not 0x + 64 hex; left out of the event's members, so it is not looked up`,
        details: { eventId, index, conditionId: shown(value) },
      });
      return;
    }
    const id = parsed.data.conditionId.toLowerCase();
    if (!ids.includes(id)) ids.push(id);
  });
  return ids;
}

/** One Gamma event as an EventRecord; `raw` omits `markets`, `market_ids` lists them (see eventMarketIds). */
export function normalizeEvent(raw: unknown, fetchedAt: string, problem?: (p: EventRowProblem) => void): EventRecord {
  const event = asObject(raw);
  const { markets: _markets, ...withoutMarkets } = event;
  const marketIds = eventMarketIds(event, problem);
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
    market_ids: marketIds === null ? null : JSON.stringify(marketIds),
    raw: JSON.stringify(withoutMarkets),
    fetched_at: fetchedAt,
  };
}

/** Whether an event is a neg-risk group (its conversions need every member market). */
export function isNegRiskEvent(event: Pick<EventRecord, 'neg_risk' | 'enable_neg_risk'>): boolean {
  return event.neg_risk === true || event.enable_neg_risk === true;
}
