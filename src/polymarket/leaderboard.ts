/**
 * Trader discovery from the Data API v2 trader board, `GET /v2/leaderboard` (documented in
 * data-api.polymarket.com/v2/openapi.json and docs.polymarket.com/api-reference/boards/get-the-trader-leaderboard):
 * `time_period` day|week|month|all (default day), `category` overall or a Gamma market category (also `combos`,
 * `esports`; any string is accepted, an unknown one gives an empty board), `sort_by` PNL|VOLUME, `limit` the
 * first page's size (at most 1000). Deeper pages come only from `pagination.next_cursor`, which pins the board,
 * so it is sent alone. Rows are `{ rank, user_id, pnl, volume, user_name, profile_image, x_username, verified }`:
 * `user_id` is the proxy wallet, `rank` a competition rank (ties share one), `volume` in shares, not USDC.
 * The board is an offset walk, so a page taken across a data refresh can repeat or skip rows; repeats are dropped.
 * The walk goes through the PageGuard; a board that stops bringing new wallets ends it early (see LeaderboardResult).
 */
import { redactUrl } from './redact-url.js';
import { z } from 'zod';
import { parseWalletAddress } from '../domain/wallet-address.js';
import type { Wallet } from '../domain/wallet-address.js';
import { ConfigError } from '../lib/errors.js';
import type { HttpClient, SourceLogger } from './http-client.js';
import { UnexpectedResponseError } from './http-errors.js';
import { PageGuard, PagingStalledError } from './page-guard.js';

/** Endpoint key of `/v2/leaderboard` for rate limits and counters. */
export const DATA_LEADERBOARD_KEY = 'data:leaderboard';

/**
 * Polymarket publishes no per-route figure for the board; this is a small share of the documented Data API
 * budget (1,000 requests per 10 s), plenty for discovery, which reads a few pages per run.
 */
export const LEADERBOARD_RATE_LIMIT = { requests: 50, perMs: 10_000 };

/** Documented maximum of the first page. */
export const LEADERBOARD_MAX_PAGE = 1000;

/** More wallets than any board holds; guards against a typo asking for billions. */
export const LEADERBOARD_MAX_LIMIT = 1_000_000;

export const LEADERBOARD_PERIODS = ['day', 'week', 'month', 'all'] as const;
export type LeaderboardPeriod = (typeof LEADERBOARD_PERIODS)[number];
export const LEADERBOARD_ORDERS = ['PNL', 'VOLUME'] as const;
export type LeaderboardOrder = (typeof LEADERBOARD_ORDERS)[number];

export interface LeaderboardQuery {
  /** `overall` (default), a Gamma market category such as `sports` or `politics`, `combos`, `esports`. */
  category?: string;
  /** Default `day`, as the API's. */
  timePeriod?: LeaderboardPeriod;
  /** Default `PNL`, as the API's. */
  orderBy?: LeaderboardOrder;
  /** How many wallets at most; paging stops there or at the end of the board. */
  limit: number;
  signal?: AbortSignal;
}

export interface LeaderboardEntry {
  /** The proxy wallet (`user_id`), lower-cased. */
  wallet: Wallet;
  /** Competition rank on the requested board: tied wallets share a rank and the next one skips. */
  rank: number;
  userName: string | null;
  /** USDC over the window: marked for day/week/month, realized-only for all. */
  pnl: number | null;
  /** Shares traded over the window, both sides; not USDC. */
  volume: number | null;
  xUsername: string | null;
  verified: boolean | null;
  profileImage: string | null;
}

const CATEGORY = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const rowSchema = z.object({
  rank: z.number().int().nonnegative(),
  user_id: z.string().transform((value, ctx) => {
    const parsed = parseWalletAddress(value);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.reason });
    return parsed.ok ? parsed.wallet : (value as Wallet);
  }),
  pnl: z.number().nullish(),
  volume: z.number().nullish(),
  user_name: z.string().nullish(),
  profile_image: z.string().nullish(),
  x_username: z.string().nullish(),
  verified: z.boolean().nullish(),
});

const pageSchema = z.object({
  data: z.array(z.unknown()).nullable(),
  pagination: z.object({
    has_more: z.boolean().optional(),
    next_cursor: z.string().nullish(),
  }),
});

function summarizeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

/** The checked query; throws ConfigError naming the bad value before anything is sent. */
export function checkLeaderboardQuery(query: LeaderboardQuery): Required<Omit<LeaderboardQuery, 'signal'>> {
  const category = (query.category ?? 'overall').trim().toLowerCase();
  if (!CATEGORY.test(category)) {
    throw new ConfigError(`leaderboard category ${JSON.stringify(query.category)} is not a category name`, {
      hint: 'Use overall, or a Gamma market category such as politics, sports, crypto, esports, combos',
    });
  }
  const timePeriod = query.timePeriod ?? 'day';
  if (!LEADERBOARD_PERIODS.includes(timePeriod)) {
    throw new ConfigError(`leaderboard time period ${JSON.stringify(timePeriod)} is not one of ${LEADERBOARD_PERIODS.join(', ')}`);
  }
  const orderBy = query.orderBy ?? 'PNL';
  if (!LEADERBOARD_ORDERS.includes(orderBy)) {
    throw new ConfigError(`leaderboard order ${JSON.stringify(orderBy)} is not one of ${LEADERBOARD_ORDERS.join(', ')}`);
  }
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > LEADERBOARD_MAX_LIMIT) {
    throw new ConfigError(`leaderboard limit must be a whole number from 1 to ${LEADERBOARD_MAX_LIMIT}, got ${String(query.limit)}`);
  }
  return { category, timePeriod, orderBy, limit: query.limit };
}

/** The first-page URL; later pages are the cursor alone. */
export function leaderboardUrl(dataApiUrl: string, query: Required<Omit<LeaderboardQuery, 'signal'>>): URL {
  const url = new URL(`${dataApiUrl.replace(/\/+$/, '')}/v2/leaderboard`);
  url.searchParams.set('time_period', query.timePeriod);
  url.searchParams.set('category', query.category);
  url.searchParams.set('sort_by', query.orderBy);
  url.searchParams.set('limit', String(Math.min(query.limit, LEADERBOARD_MAX_PAGE)));
  return url;
}

/** A board walk's answer: the wallets, and why the walk stopped short when it did. */
export interface LeaderboardResult {
  /** The board's first distinct wallets, best first: `limit` of them, or all the board has. */
  entries: LeaderboardEntry[];
  /**
   * Set when the board stopped making progress before its end or the limit (a repeated cursor, pages of
   * wallets already returned, the page cap): what was seen. `entries` are then the wallets collected until
   * then, a true prefix of the board, but fewer than asked.
   */
  stopped?: string;
}

/**
 * The board's first `limit` distinct wallets, best first. A board that stops making progress ends the walk
 * with the wallets collected so far and `stopped` saying why; anything else wrong with it throws.
 */
export async function leaderboard(
  http: HttpClient,
  dataApiUrl: string,
  input: LeaderboardQuery,
  logger?: SourceLogger,
): Promise<LeaderboardResult> {
  const query = checkLeaderboardQuery(input);
  const pageSize = Math.min(query.limit, LEADERBOARD_MAX_PAGE);
  // Later pages keep the first page's size, so the limit takes this many pages; twice that and some leaves
  // room for a board refreshed mid-walk, while a board that serves one new wallet a page meets the cap.
  const maxPages = 2 * Math.ceil(query.limit / pageSize) + 10;
  const guard = new PageGuard({
    limit: pageSize,
    maxPages,
    item: 'wallet',
    cap: {
      describe: `more than the ${query.limit} wallet(s) asked for can take at ${pageSize} a page`,
      hint: 'report it if it persists',
    },
    consequence: 'Discovery stops with the wallets collected so far',
  });
  const entries: LeaderboardEntry[] = [];
  const seen = new Set<string>();
  let repeated = 0;
  let url = leaderboardUrl(dataApiUrl, query);
  try {
    for (let pageNumber = 1; ; pageNumber += 1) {
      const shown = redactUrl(url);
      const body = await http.getJson(url, DATA_LEADERBOARD_KEY, input.signal);
      const page = pageSchema.safeParse(body);
      if (!page.success) {
        throw new UnexpectedResponseError(
          `GET ${shown} did not return the v2 envelope { data, pagination }: ${summarizeIssues(page.error)}`,
          { hint: 'The leaderboard response changed shape; report it' },
        );
      }
      const rows = page.data.data ?? [];
      const { next_cursor: nextCursor, has_more: hasMore } = page.data.pagination;
      guard.check(pageNumber, rows, nextCursor, shown);
      let added = 0;
      for (const [index, raw] of rows.entries()) {
        const row = rowSchema.safeParse(raw);
        if (!row.success) {
          throw new UnexpectedResponseError(
            `GET ${shown} returned leaderboard row ${index} that cannot be used: ${summarizeIssues(row.error)}`,
            { hint: 'The leaderboard row shape changed; report it' },
          );
        }
        const wallet = row.data.user_id;
        if (seen.has(wallet)) {
          repeated += 1;
          continue;
        }
        seen.add(wallet);
        added += 1;
        entries.push({
          wallet,
          rank: row.data.rank,
          userName: row.data.user_name ?? null,
          pnl: row.data.pnl ?? null,
          volume: row.data.volume ?? null,
          xUsername: row.data.x_username || null,
          verified: row.data.verified ?? null,
          profileImage: row.data.profile_image || null,
        });
        if (entries.length >= query.limit) break;
      }
      if (entries.length >= query.limit) break;
      const next = guard.next(pageNumber, shown, { nextCursor, hasMore, added });
      if (next === undefined) break;
      url = new URL(`${dataApiUrl.replace(/\/+$/, '')}/v2/leaderboard`);
      url.searchParams.set('cursor', next);
    }
  } catch (error) {
    // The caller reports it: the wallets collected so far are still a true prefix of the board.
    if (!(error instanceof PagingStalledError)) throw error;
    return { entries, stopped: error.message };
  }
  if (repeated > 0) {
    logger?.info({ repeated }, `leaderboard pages repeated ${repeated} wallet(s) (the board refreshed mid-walk); kept the first of each`);
  }
  return { entries };
}
