/**
 * `GET /v2/leaderboard`: the Data API v2 trader board (docs.polymarket.com/api-reference/boards/
 * get-the-trader-leaderboard, data-api.polymarket.com/v2/openapi.json). `time_period` day|week|month|all (default
 * day), `category` overall (default) or any other string (unknown ones give an empty board), `sort_by` PNL|VOLUME
 * (default PNL), `limit` first page only (default 100, at most 1000). Deeper pages come only from the cursor,
 * which pins sort, window and category: restating them is fine, contradicting them is a 400. `user` answers one
 * wallet's standing on both boards instead of a page.
 */
import { decodeBoardCursor, encodeBoardCursor } from './cursor.js';
import type { Dataset } from './dataset.js';
import type { SimResponse } from './http.js';
import { json, param, parseNonNegativeInt, unknownParameter, v2Error } from './http.js';
import type { BoardPeriod, BoardSort, BoardStanding } from './leaderboard.js';
import { BOARD_PERIODS, rankBoard, standings } from './leaderboard.js';
import { unitOf } from './epochs.js';
import { Stream } from './prng.js';

/** The operation's declared parameters (the Data API v2 document), snake_case; anything else is a 400. */
export const LEADERBOARD_PARAMETERS = ['time_period', 'category', 'sort_by', 'user', 'limit', 'cursor'] as const;

export const DEFAULT_BOARD_LIMIT = 100;
export const MAX_BOARD_LIMIT = 1000;

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

export interface LeaderboardContext {
  dataset: Dataset;
  cursorSecret: string;
  nowSeconds: number;
  traceId: string;
  /** Standings memoised by the caller per (window, category, data version). */
  standings: (period: BoardPeriod, category: string) => BoardStanding[];
}

/** A memo for `LeaderboardContext.standings` that forgets everything when the data or the clock moves. */
export function standingsMemo(dataset: Dataset): (now: number, period: BoardPeriod, category: string) => BoardStanding[] {
  const memo = new Map<string, BoardStanding[]>();
  let version = '';
  return (now, period, category) => {
    const current = `${dataset.universe.epochs.length}|${now}`;
    if (current !== version) {
      memo.clear();
      version = current;
    }
    const key = `${period}|${category}`;
    let rows = memo.get(key);
    if (!rows) {
      rows = standings(dataset, now, period, category);
      memo.set(key, rows);
    }
    return rows;
  };
}

function profileFields(dataset: Dataset, standing: BoardStanding): Record<string, unknown> {
  const profile = dataset.trades(standing.wallet).profile;
  return {
    user_name: profile.name,
    profile_image: profile.profile_image,
    x_username: '',
    verified: unitOf(dataset.seed, Stream.leaderboard, standing.wallet) < 0.05,
  };
}

export function handleLeaderboard(query: URLSearchParams, ctx: LeaderboardContext): SimResponse {
  const { traceId } = ctx;
  const invalid = (parameter: string, error: string): SimResponse =>
    v2Error(400, 'invalid_request', error, traceId, { parameter });

  if (query.has('offset')) return invalid('offset', 'offset is not allowed');
  const unknown = unknownParameter(query, LEADERBOARD_PARAMETERS);
  if (unknown !== undefined) return invalid(unknown, `unknown query parameter: ${unknown}`);
  const periodText = param(query, 'time_period', 'timePeriod');
  const period = (periodText ?? 'day').toLowerCase();
  if (!Object.hasOwn(BOARD_PERIODS, period)) return invalid('time_period', 'time_period must be one of day, week, month, all');
  const sortText = param(query, 'sort_by', 'sortBy');
  const sort = (sortText ?? 'PNL').toUpperCase();
  if (sort !== 'PNL' && sort !== 'VOLUME') return invalid('sort_by', 'sort_by must be PNL or VOLUME');
  const categoryText = param(query, 'category');
  const category = (categoryText ?? 'overall').trim().toLowerCase();

  const user = param(query, 'user');
  if (user !== null) {
    if (!ADDRESS.test(user.trim())) return invalid('user', `invalid user address: ${user}`);
    const wallet = user.trim().toLowerCase();
    const rows = ctx.standings(period as BoardPeriod, category);
    const standing = rows.find((row) => row.address === wallet);
    if (!standing) return json(200, { data: null }, { 'x-trace-id': traceId });
    const rankOn = (board: BoardSort): number | null =>
      board === 'VOLUME' && category === 'combos'
        ? null
        : (rankBoard(rows, board).find((entry) => entry.standing === standing)?.rank ?? null);
    return json(200, {
      data: {
        user_id: standing.address,
        pnl: standing.pnl,
        volume: standing.volume,
        ...profileFields(ctx.dataset, standing),
        rank_pnl: rankOn('PNL'),
        rank_volume: rankOn('VOLUME'),
      },
    }, { 'x-trace-id': traceId });
  }

  const cursorText = param(query, 'cursor');
  if (cursorText !== null && cursorText !== '') {
    const cursor = decodeBoardCursor(ctx.cursorSecret, cursorText, MAX_BOARD_LIMIT);
    if (!cursor) return invalid('cursor', 'invalid cursor');
    const contradicts =
      (periodText !== null && period !== cursor.t) ||
      (sortText !== null && sort !== cursor.s) ||
      (categoryText !== null && category !== cursor.c);
    if (contradicts) return invalid('cursor', 'cursor was minted for a different board (sort, window or category)');
    return page(ctx, cursor.t as BoardPeriod, cursor.s as BoardSort, cursor.c, cursor.l, cursor.o);
  }
  const limitParam = parseNonNegativeInt(param(query, 'limit'));
  if (limitParam === undefined) return invalid('limit', 'limit must be a non-negative integer');
  if (limitParam !== null && limitParam > MAX_BOARD_LIMIT) return invalid('limit', `limit must be at most ${MAX_BOARD_LIMIT}`);
  const limit = limitParam === null || limitParam === 0 ? DEFAULT_BOARD_LIMIT : limitParam;
  return page(ctx, period as BoardPeriod, sort, category, limit, 0);
}

function page(ctx: LeaderboardContext, period: BoardPeriod, sort: BoardSort, category: string, limit: number, offset: number): SimResponse {
  // The volume board has no combos rows.
  const rows = sort === 'VOLUME' && category === 'combos' ? [] : ctx.standings(period, category);
  const board = rankBoard(rows, sort);
  const slice = board.slice(offset, offset + limit);
  const hasMore = offset + limit < board.length;
  const next = hasMore
    ? encodeBoardCursor(ctx.cursorSecret, { l: limit, o: offset + limit, s: sort, t: period, c: category })
    : null;
  // Field order as in a live capture (polyoxide-data/tests/fixtures/v2/leaderboard.json).
  const data = slice.map(({ standing, rank }) => {
    const profile = profileFields(ctx.dataset, standing);
    return {
      rank,
      user_id: standing.address,
      pnl: standing.pnl,
      volume: standing.volume,
      user_name: profile.user_name,
      profile_image: profile.profile_image,
      x_username: profile.x_username,
      verified: profile.verified,
    };
  });
  return {
    ...json(200, { data, pagination: { limit, offset, has_more: hasMore, next_cursor: next } }, { 'x-trace-id': ctx.traceId }),
    rows: data.length,
  };
}
