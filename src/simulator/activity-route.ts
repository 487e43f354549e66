/**
 * `GET /v2/activity?user=…` and `GET /v2/activity/combos?user=…`, the Data API v2 activity feeds of one wallet.
 *
 * `/v2/activity` serves the wallet's fills as TRADE rows merged with its other activity (activity.ts), ordered by
 * (timestamp, sequence), DESC by default or ASC with `sort_direction=ASC`; the cursor binds the direction it was
 * minted under and a resume adopts it. `type` filters (default every type but the opt-in TIP), DEPOSIT and
 * WITHDRAWAL stay hidden while `exclude_deposits_withdrawals` is true (the default), and `start`/`end` follow the
 * v2 window convention (omitted or 0 `start` floors to three years back, `start=1` is the full history).
 * `/v2/activity/combos` serves the combo lifecycle rows newest first by (block_number, log_index).
 */
import type { ActivityType } from './activity.js';
import { ACTIVITY_TYPES, SLOTS_PER_FILL, tradeActivityRow } from './activity.js';
import { decodeActivityCursor, decodeComboCursor, encodeActivityCursor, encodeComboCursor } from './cursor.js';
import type { Dataset } from './dataset.js';
import type { SimResponse } from './http.js';
import { firstIndex, json, listParam, param, parseBool, parseNonNegativeInt, v2Error } from './http.js';
import { END_SLACK_SECONDS, THREE_YEARS_SECONDS } from './trades-route.js';

export const DEFAULT_ACTIVITY_LIMIT = 100;
export const MAX_ACTIVITY_LIMIT = 1000;
/** At most this many distinct `condition` or `event_id` values per request. */
export const MAX_FILTER_IDS = 20;

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
/** Market condition ids are 64 hex digits, combo condition ids 62. */
const CONDITION_ID = /^0x(?:[0-9a-fA-F]{64}|[0-9a-fA-F]{62})$/;
const EVENT_ID = /^[1-9]\d{0,15}$/;
const DEPOSITS_WITHDRAWALS: readonly ActivityType[] = ['DEPOSIT', 'WITHDRAWAL'];

export interface FeedContext {
  dataset: Dataset;
  cursorSecret: string;
  nowSeconds: number;
  traceId: string;
}

/** One ordered list the feed merges: the wallet's fills, or its other activity. */
interface Source {
  length: number;
  ts(k: number): number;
  key(k: number): number;
  passes(k: number): boolean;
  row(k: number): unknown;
}

type Invalid = (parameter: string, error: string) => SimResponse;

/** What both activity feeds check first: no `offset`, a `user` address, a `limit` within the maximum. */
function checkFeedQuery(query: URLSearchParams, invalid: Invalid): { user: string; limitParam: number | null } | SimResponse {
  if (query.has('offset')) return invalid('offset', 'offset is not allowed');
  const user = checkUser(query, invalid);
  if (typeof user !== 'string') return user;
  const limitParam = checkLimit(query, invalid);
  if (typeof limitParam === 'object' && limitParam !== null) return limitParam;
  return { user, limitParam };
}

function pageResponse(traceId: string, rows: unknown[], limit: number, offset: number, next: string | null): SimResponse {
  return {
    ...json(200, { data: rows, pagination: { limit, offset, has_more: next !== null, next_cursor: next } }, { 'x-trace-id': traceId }),
    rows: rows.length,
  };
}

function checkUser(query: URLSearchParams, invalid: Invalid): string | SimResponse {
  const user = param(query, 'user');
  if (user === null || user.trim() === '') return invalid('user', "required query param 'user' not provided");
  if (!ADDRESS.test(user.trim())) return invalid('user', `invalid user address: ${user}`);
  return user.trim();
}

function checkLimit(query: URLSearchParams, invalid: Invalid): number | null | SimResponse {
  const limit = parseNonNegativeInt(param(query, 'limit'));
  if (limit === undefined) return invalid('limit', 'limit must be a non-negative integer');
  if (limit !== null && limit > MAX_ACTIVITY_LIMIT) return invalid('limit', `limit must be at most ${MAX_ACTIVITY_LIMIT}, got ${limit}`);
  return limit;
}

/** Distinct values of a list filter, each checked; a response when one is malformed or there are too many. */
function checkIds(values: string[], parameter: string, pattern: RegExp, invalid: Invalid): string[] | SimResponse {
  const distinct = [...new Set(values.map((value) => value.toLowerCase()))];
  for (const value of distinct) if (!pattern.test(value)) return invalid(parameter, `invalid ${parameter} id: ${value}`);
  if (distinct.length > MAX_FILTER_IDS) return invalid(parameter, `at most ${MAX_FILTER_IDS} distinct ${parameter} values, got ${distinct.length}`);
  return distinct;
}

function checkTypes(query: URLSearchParams, excludeDepositsWithdrawals: boolean, invalid: Invalid): Set<ActivityType> | SimResponse {
  const asked = listParam(query, 'type').map((value) => value.toUpperCase());
  for (const value of asked) {
    if (!(ACTIVITY_TYPES as readonly string[]).includes(value)) {
      return invalid('type', `invalid activity type: ${value}; valid types: ${ACTIVITY_TYPES.join(', ')}`);
    }
  }
  const types = new Set<ActivityType>(asked.length > 0 ? (asked as ActivityType[]) : ACTIVITY_TYPES.filter((type) => type !== 'TIP'));
  if (excludeDepositsWithdrawals) for (const type of DEPOSITS_WITHDRAWALS) types.delete(type);
  return types;
}

export function handleActivity(query: URLSearchParams, ctx: FeedContext): SimResponse {
  const { traceId, dataset } = ctx;
  const invalid: Invalid = (parameter, error) => v2Error(400, 'invalid_request', error, traceId, { parameter });
  const common = checkFeedQuery(query, invalid);
  if ('status' in common) return common;
  const { user, limitParam } = common;
  const exclude = parseBool(param(query, 'exclude_deposits_withdrawals', 'excludeDepositsWithdrawals'));
  if (exclude === undefined) return invalid('exclude_deposits_withdrawals', 'exclude_deposits_withdrawals must be true or false');
  const types = checkTypes(query, exclude ?? true, invalid);
  if (!(types instanceof Set)) return types;
  const conditionValues = listParam(query, 'condition', 'condition_id', 'conditionId');
  const eventValues = listParam(query, 'event_id', 'eventId');
  if (conditionValues.length > 0 && eventValues.length > 0) return invalid('condition', 'condition and event_id are mutually exclusive');
  const conditions = checkIds(conditionValues, 'condition', CONDITION_ID, invalid);
  if (!Array.isArray(conditions)) return conditions;
  const events = checkIds(eventValues, 'event_id', EVENT_ID, invalid);
  if (!Array.isArray(events)) return events;
  const sideParam = param(query, 'side');
  const side = sideParam === null ? null : sideParam.trim().toUpperCase();
  if (side !== null && side !== 'BUY' && side !== 'SELL') return invalid('side', 'side must be BUY or SELL');
  const startParam = parseNonNegativeInt(param(query, 'start'));
  if (startParam === undefined) return invalid('start', 'start must be epoch seconds');
  const endParam = parseNonNegativeInt(param(query, 'end'));
  if (endParam === undefined) return invalid('end', 'end must be epoch seconds');
  const sortBy = param(query, 'sort_by', 'sortBy');
  if (sortBy !== null && sortBy.trim().toUpperCase() !== 'TIMESTAMP') {
    // The live message is stale (ASC is accepted too); kept verbatim (data-api-v2-observed.md).
    return invalid('sort_by', 'only sortBy=TIMESTAMP with sortDirection=DESC is supported');
  }
  const directionParam = (param(query, 'sort_direction', 'sortDirection') ?? 'DESC').trim().toUpperCase();
  if (directionParam !== 'ASC' && directionParam !== 'DESC') return invalid('sort_direction', 'sort_direction must be ASC or DESC');
  const cursorText = param(query, 'cursor');
  let cursor: ReturnType<typeof decodeActivityCursor>;
  if (cursorText !== null && cursorText !== '') {
    cursor = decodeActivityCursor(ctx.cursorSecret, cursorText, MAX_ACTIVITY_LIMIT);
    if (!cursor) return invalid('cursor', 'invalid cursor');
  }

  // The cursor's page size and direction win: a replay cannot flip the walk mid-stream.
  const limit = cursor ? cursor.l : Math.min(MAX_ACTIVITY_LIMIT, Math.max(1, limitParam ?? DEFAULT_ACTIVITY_LIMIT));
  const ascending = (cursor ? cursor.s : directionParam) === 'ASC';
  const start = startParam ? startParam : ctx.nowSeconds - THREE_YEARS_SECONDS;
  const end = endParam ? endParam : ctx.nowSeconds + END_SLACK_SECONDS;
  const offset = cursor ? cursor.o : 0;

  const trades = dataset.tradesOf(user);
  if (!trades) return pageResponse(traceId, [], limit, offset, null);
  const { universe } = dataset;

  // Filters by market index (activity rows) and combo index (fills of combos, market -1 - k).
  let markets: Set<number> | undefined;
  if (conditions.length > 0 || events.length > 0) {
    markets = new Set<number>();
    for (const id of conditions) {
      const m = universe.findMarket(id);
      if (m !== undefined) markets.add(m);
      trades.combos.forEach((combo, k) => {
        if (combo.conditionId === id) markets?.add(-1 - k);
      });
    }
    for (const id of events) {
      const e = universe.findEvent(id);
      if (e === undefined || universe.eventCore(e).ghost) continue;
      const first = universe.firstMarketOf(e);
      for (let m = first; m < first + universe.eventCore(e).size; m += 1) markets.add(m);
    }
  }

  const sources: Source[] = [];
  if (types.has('TRADE')) {
    const n = trades.count;
    sources.push({
      length: n,
      ts: (k) => trades.timestamp[n - 1 - k] ?? 0,
      key: (k) => k * SLOTS_PER_FILL,
      passes: (k) => {
        const r = n - 1 - k;
        if (markets && !markets.has(trades.market[r] ?? 0)) return false;
        return side === null || (trades.sell[r] === 1 ? 'SELL' : 'BUY') === side;
      },
      row: (k) => tradeActivityRow(trades, n - 1 - k),
    });
  }
  const activity = dataset.activityOf(trades);
  sources.push({
    length: activity.count,
    ts: (k) => activity.timestamp[k] ?? 0,
    key: (k) => activity.key[k] ?? 0,
    // Non-trade rows have no side, so a side filter keeps none of them.
    passes: (k) => types.has(activity.typeOf(k)) && side === null && (!markets || markets.has(activity.market[k] ?? -1)),
    row: (k) => activity.row(k),
  });

  const anchor = cursor ? { ts: cursor.ts, key: Number(cursor.sq) } : undefined;
  const walks = sources.map((source) => walkOf(source, ascending, start, end, anchor));
  const rows: unknown[] = [];
  let last: { ts: number; key: number } | undefined;
  let more = false;
  for (;;) {
    const next = pickNext(walks, ascending);
    if (!next) break;
    if (rows.length === limit) {
      more = true;
      break;
    }
    rows.push(next.source.row(next.k));
    last = { ts: next.source.ts(next.k), key: next.source.key(next.k) };
    next.advance();
  }
  const nextCursor =
    more && last
      ? encodeActivityCursor(ctx.cursorSecret, { l: limit, ts: last.ts, sq: String(last.key), s: ascending ? 'ASC' : 'DESC', o: offset + rows.length })
      : null;
  return pageResponse(traceId, rows, limit, offset, nextCursor);
}

/** A position in one source, moving in the walk's direction over rows inside the window and past the anchor. */
interface Walk {
  source: Source;
  k: number;
  stop: number;
}

function walkOf(source: Source, ascending: boolean, start: number, end: number, anchor: { ts: number; key: number } | undefined): Walk {
  // Rows are ascending by (timestamp, key), so each bound is a binary search: O(log n + page) when rows pass.
  const lo = firstIndex(source.length, (k) => source.ts(k) >= start);
  const hi = Math.max(lo, firstIndex(source.length, (k) => source.ts(k) > end));
  const after = (k: number): boolean => {
    if (!anchor) return true;
    const ts = source.ts(k);
    return ts > anchor.ts || (ts === anchor.ts && source.key(k) > anchor.key);
  };
  if (ascending) {
    const begin = anchor ? Math.max(lo, firstIndex(source.length, after)) : lo;
    return { source, k: Math.min(begin, hi), stop: hi };
  }
  // Descending: from just below the anchor (or the window's top) down to `lo`.
  const top = anchor ? Math.min(hi, firstIndex(source.length, (k) => after(k) || (source.ts(k) === anchor.ts && source.key(k) === anchor.key))) : hi;
  return { source, k: Math.max(top, lo) - 1, stop: lo - 1 };
}

/** The next passing row over all walks (smallest key ascending, largest descending), with a way to move past it. */
function pickNext(walks: Walk[], ascending: boolean): { source: Source; k: number; advance: () => void } | undefined {
  let best: Walk | undefined;
  for (const walk of walks) {
    const step = ascending ? 1 : -1;
    while (walk.k !== walk.stop && !walk.source.passes(walk.k)) walk.k += step;
    if (walk.k === walk.stop) continue;
    if (!best) {
      best = walk;
      continue;
    }
    const a = walk.source;
    const b = best.source;
    const cmp = a.ts(walk.k) - b.ts(best.k) || a.key(walk.k) - b.key(best.k);
    if (ascending ? cmp < 0 : cmp > 0) best = walk;
  }
  if (!best) return undefined;
  const chosen = best;
  return {
    source: chosen.source,
    k: chosen.k,
    advance: () => {
      chosen.k += ascending ? 1 : -1;
    },
  };
}

export function handleComboActivity(query: URLSearchParams, ctx: FeedContext): SimResponse {
  const { traceId, dataset } = ctx;
  const invalid: Invalid = (parameter, error) => v2Error(400, 'invalid_request', error, traceId, { parameter });
  const common = checkFeedQuery(query, invalid);
  if ('status' in common) return common;
  const { user, limitParam } = common;
  const conditions = checkIds(listParam(query, 'condition', 'condition_id', 'conditionId'), 'condition', CONDITION_ID, invalid);
  if (!Array.isArray(conditions)) return conditions;
  const cursorText = param(query, 'cursor');
  let cursor: ReturnType<typeof decodeComboCursor>;
  if (cursorText !== null && cursorText !== '') {
    cursor = decodeComboCursor(ctx.cursorSecret, cursorText, MAX_ACTIVITY_LIMIT);
    if (!cursor) return invalid('cursor', 'invalid cursor');
  }
  const limit = cursor ? cursor.l : Math.min(MAX_ACTIVITY_LIMIT, Math.max(1, limitParam ?? DEFAULT_ACTIVITY_LIMIT));
  const offset = cursor ? cursor.o : 0;

  const trades = dataset.tradesOf(user);
  if (!trades) return pageResponse(traceId, [], limit, offset, null);
  const combos = dataset.comboActivityOf(trades);
  const wanted = conditions.length > 0 ? new Set(conditions) : undefined;
  const rows: unknown[] = [];
  let last: { block: number; sortKey: number } | undefined;
  let more = false;
  // Newest first by (block_number, sort key): a combo wallet has a handful of rows, so a scan is enough.
  for (let k = 0; k < combos.events.length; k += 1) {
    const event = combos.events[k];
    if (!event) continue;
    if (cursor && !(event.block < cursor.ts || (event.block === cursor.ts && event.sortKey < Number(cursor.sq)))) continue;
    if (wanted && !wanted.has(trades.combos[event.combo]?.conditionId ?? '')) continue;
    if (rows.length === limit) {
      more = true;
      break;
    }
    rows.push(combos.row(k));
    last = { block: event.block, sortKey: event.sortKey };
  }
  const next = more && last ? encodeComboCursor(ctx.cursorSecret, { l: limit, ts: last.block, sq: String(last.sortKey), o: offset + rows.length }) : null;
  return pageResponse(traceId, rows, limit, offset, next);
}
