/**
 * `GET /v2/trades?user=…`: the Data API v2 trade feed of one wallet, cursor-paged, with the documented
 * semantics the product depends on: `filter_amount` 0 or omitted is the 0.01 floor, `start` 0 or
 * omitted floors to three years back (`start=1` is the full history), and `limit` over 1000, `offset`
 * or an undeclared parameter is a 400 `invalid_request` naming it.
 *
 * Without `user` it is the global feed (global-feed.ts): every wallet's fills, keyset-walked by
 * (timestamp, sequence) newest first over the rolling current-plus-previous month, `start`/`end` ignored
 * as documented, `taker_only` (default true) honoured unless the simulator's GlobalFeedMode says otherwise.
 */
import { decodeCursor, encodeCursor } from './cursor.js';
import type { Dataset } from './dataset.js';
import { feedWindowStart } from './global-feed.js';
import type { SimResponse } from './http.js';
import { firstIndex, json, param, parseBool, parseNonNegativeInt, unknownParameter, v2Error } from './http.js';
import type { GlobalFeedMode } from './types.js';

export const DEFAULT_TRADES_LIMIT = 100;
export const MAX_TRADES_LIMIT = 1000;
/** The v2 default window reaches this far back when `start` is omitted or 0. */
export const THREE_YEARS_SECONDS = 3 * 365 * 86_400;
/** An omitted or 0 `end` is now plus one day. */
export const END_SLACK_SECONDS = 86_400;
/** `filter_amount` "defaults to 0.01, and 0 means the same": the floor unless a positive value asks for less. */
export const DEFAULT_FILTER_AMOUNT = 0.01;

/**
 * The operation's declared parameters (the Data API v2 document), snake_case; `condition_id` is the
 * documented alias of `condition`. Anything else is a 400, like `offset`.
 */
export const TRADES_PARAMETERS = [
  'user', 'limit', 'cursor', 'taker_only', 'filter_type', 'filter_amount', 'start', 'end', 'condition', 'condition_id', 'event_id', 'side',
] as const;

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

export interface TradesContext {
  dataset: Dataset;
  cursorSecret: string;
  nowSeconds: number;
  traceId: string;
  /** How the global feed behaves; default as documented. */
  feed?: GlobalFeedMode;
}

export function handleTrades(query: URLSearchParams, ctx: TradesContext): SimResponse {
  const { traceId } = ctx;
  const invalid = (parameter: string, error: string): SimResponse =>
    v2Error(400, 'invalid_request', error, traceId, { parameter });

  if (query.has('offset')) return invalid('offset', 'offset is not allowed');
  const unknown = unknownParameter(query, TRADES_PARAMETERS);
  if (unknown !== undefined) return invalid(unknown, `unknown query parameter: ${unknown}`);
  // The market and event shapes of the feed are documented but not simulated: the product never asks for them.
  const shape = ['condition', 'condition_id', 'conditionId', 'event_id', 'eventId'].find((name) => query.has(name));
  if (shape !== undefined) return invalid(shape, `the simulator serves only the user shape of /v2/trades, not ${shape}`);
  const user = param(query, 'user');
  // Absent, `user` asks for the global feed; present, it must be an address.
  if (user !== null && user.trim() === '') return invalid('user', 'user must not be blank; omit it for the global feed');
  if (user !== null && !ADDRESS.test(user.trim())) return invalid('user', `invalid user address: ${user}`);

  const limitParam = parseNonNegativeInt(param(query, 'limit'));
  if (limitParam === undefined) return invalid('limit', 'limit must be a non-negative integer');
  if (limitParam !== null && limitParam > MAX_TRADES_LIMIT) return invalid('limit', `limit must be at most ${MAX_TRADES_LIMIT}`);
  const takerOnly = parseBool(param(query, 'taker_only', 'takerOnly'));
  if (takerOnly === undefined) return invalid('taker_only', 'taker_only must be true or false');
  const startParam = parseNonNegativeInt(param(query, 'start'));
  if (startParam === undefined) return invalid('start', 'start must be epoch seconds');
  const endParam = parseNonNegativeInt(param(query, 'end'));
  if (endParam === undefined) return invalid('end', 'end must be epoch seconds');
  const filterType = (param(query, 'filter_type', 'filterType') ?? 'TOKENS').toUpperCase();
  if (filterType !== 'TOKENS' && filterType !== 'CASH') return invalid('filter_type', 'filter_type must be TOKENS or CASH');
  const filterAmountText = param(query, 'filter_amount', 'filterAmount');
  const asked = filterAmountText === null ? 0 : Number(filterAmountText);
  if (filterAmountText?.trim() === '' || !Number.isFinite(asked) || asked < 0) return invalid('filter_amount', 'filter_amount must be a number >= 0');
  // Documented: "defaults to 0.01, and 0 means the same": fills under 0.01 (shares, or USD with CASH)
  // are left out unless a positive value below it is sent.
  const filterAmount = asked === 0 ? DEFAULT_FILTER_AMOUNT : asked;
  const sideText = param(query, 'side');
  const side = sideText === null ? undefined : sideText.trim().toUpperCase();
  if (side !== undefined && side !== 'BUY' && side !== 'SELL') return invalid('side', 'side must be BUY or SELL');
  const cursorText = param(query, 'cursor');
  let cursor: ReturnType<typeof decodeCursor>;
  if (cursorText !== null && cursorText !== '') {
    cursor = decodeCursor(ctx.cursorSecret, cursorText, MAX_TRADES_LIMIT);
    if (!cursor) return invalid('cursor', 'invalid cursor');
  }

  // The cursor's page size wins; `limit` only shapes the first page.
  const limit = cursor ? cursor.l : Math.max(1, limitParam ?? DEFAULT_TRADES_LIMIT);
  const start = startParam ? startParam : ctx.nowSeconds - THREE_YEARS_SECONDS;
  const end = endParam ? endParam : ctx.nowSeconds + END_SLACK_SECONDS;

  const respond = (rows: unknown[], offset: number, hasMore: boolean, next: string | null): SimResponse => ({
    ...json(200, { data: rows, pagination: { limit, offset, has_more: hasMore, next_cursor: next } }, {
      'x-trace-id': traceId,
    }),
    rows: rows.length,
  });
  const filters = { limit, takerOnly, filterType, filterAmount, side, cursor };
  if (user === null) return globalFeedPage(ctx, filters, respond);

  const trades = ctx.dataset.tradesOf(user.trim());
  if (!trades) return respond([], 0, false, null);

  const view = takerOnly === false ? undefined : trades.takerRows;
  const length = view ? view.length : trades.count;
  const rowAt = (k: number): number => (view ? (view[k] ?? 0) : k);
  const tsAt = (k: number): number => trades.timestamp[rowAt(k)] ?? 0;
  const seqAt = (k: number): number => trades.count - 1 - rowAt(k);

  // Rows are in (timestamp, sequence) DESC order, so every bound is a binary search: O(log n + page).
  const windowBegin = firstIndex(length, (k) => tsAt(k) <= end);
  const windowEnd = Math.max(windowBegin, firstIndex(length, (k) => tsAt(k) < start));
  let begin = windowBegin;
  if (cursor) {
    const anchorTs = cursor.ts;
    const anchorSeq = Number(cursor.sq);
    const afterAnchor = firstIndex(length, (k) => {
      const ts = tsAt(k);
      return ts < anchorTs || (ts === anchorTs && seqAt(k) < anchorSeq);
    });
    begin = Math.min(windowEnd, Math.max(windowBegin, afterAnchor));
  }
  const passes = (k: number): boolean => {
    const r = rowAt(k);
    const size = trades.size[r] ?? 0;
    if (side !== undefined && (trades.sell[r] === 1 ? 'SELL' : 'BUY') !== side) return false;
    return (filterType === 'CASH' ? size * (trades.price[r] ?? 0) : size) >= filterAmount;
  };
  const rows: unknown[] = [];
  let k = begin;
  let last = begin - 1;
  for (; k < windowEnd && rows.length < limit; k += 1) {
    if (!passes(k)) continue;
    rows.push(trades.row(rowAt(k)));
    last = k;
  }
  while (k < windowEnd && !passes(k)) k += 1;
  const hasMore = k < windowEnd;
  const next = hasMore ? encodeCursor(ctx.cursorSecret, { l: limit, ts: tsAt(last), sq: String(seqAt(last)) }) : null;
  return respond(rows, begin - windowBegin, hasMore, next);
}

interface FeedFilters {
  limit: number;
  takerOnly: boolean | null;
  filterType: string;
  filterAmount: number;
  side: string | undefined;
  cursor: ReturnType<typeof decodeCursor>;
}

/**
 * A page of the global feed. The window is the documented current-plus-previous month, or the mode's shorter
 * one; a mode that ignores `taker_only` serves the taker rows only even when `false` asks for the maker rows.
 */
function globalFeedPage(
  ctx: TradesContext,
  filters: FeedFilters,
  respond: (rows: unknown[], offset: number, hasMore: boolean, next: string | null) => SimResponse,
): SimResponse {
  const mode = ctx.feed ?? {};
  const since = mode.windowSeconds === undefined ? feedWindowStart(ctx.nowSeconds) : ctx.nowSeconds - mode.windowSeconds;
  const feed = ctx.dataset.globalFeed(since);
  const takerRowsOnly = filters.takerOnly !== false || mode.takerOnly === 'ignored';
  const { limit, filterType, filterAmount, side, cursor } = filters;
  let begin = 0;
  if (cursor) {
    const anchorSeq = Number(cursor.sq);
    begin = firstIndex(feed.length, (k) => {
      const ts = feed.timestamp[k] ?? 0;
      return ts < cursor.ts || (ts === cursor.ts && (feed.sequence[k] ?? 0) < anchorSeq);
    });
  }
  const passes = (k: number): boolean => {
    if (takerRowsOnly && feed.taker[k] !== 1) return false;
    if (side !== undefined && (feed.sell[k] === 1 ? 'SELL' : 'BUY') !== side) return false;
    const size = feed.size[k] ?? 0;
    return (filterType === 'CASH' ? size * (feed.price[k] ?? 0) : size) >= filterAmount;
  };
  const rows: unknown[] = [];
  let k = begin;
  let last = begin - 1;
  for (; k < feed.length && rows.length < limit; k += 1) {
    if (!passes(k)) continue;
    rows.push(ctx.dataset.trades(feed.wallet[k] ?? 0).row(feed.row[k] ?? 0));
    last = k;
  }
  while (k < feed.length && !passes(k)) k += 1;
  const hasMore = k < feed.length;
  const next = hasMore
    ? encodeCursor(ctx.cursorSecret, { l: limit, ts: feed.timestamp[last] ?? 0, sq: String(feed.sequence[last] ?? 0) })
    : null;
  return respond(rows, begin, hasMore, next);
}
