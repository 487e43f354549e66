/**
 * Polymarket's own profit figures for one wallet, to check ours against (issue 20, `verify-pnl`):
 * - `GET /v2/positions?user=W&status=CLOSED&limit=1000`, every page (the cursor binds wallet, status, sort and
 *   direction; each next page sends it with the same `user` and restates `status`, as the document allows), one row
 *   per closed token with its cumulative `realized_pnl`;
 * - `GET /v2/user-pnl?user=W&interval=all`, whose last point's `realized_pnl` is the wallet's realized profit.
 *   A `null` (or no point at all) means Polymarket has no figure: it is returned as null, never as zero
 *   (UserPnlPoint: "Clients must not coerce them to zero"). The series is on a grid with no point after its last
 *   step (data-api-v2-observed.md), so fills in the last partial step are not in it yet.
 * Each route has its own rate-limit key; neither runs during a backfill, so PNL_CHECK_RATE_LIMITS are small shares
 * of the measured pins (200 and 400 per 10 s), like the leaderboard's.
 */
import { z } from 'zod';
import { InvalidInputError } from '../lib/errors.js';
import { abortReason } from '../lib/sleep.js';
import { checkWallet } from './activity-api.js';
import { fetchV2Page, summarizeIssues } from './data-api.js';
import type { HttpClient } from './http-client.js';
import { PaginationError, UnexpectedResponseError } from './http-errors.js';
import { PageGuard } from './page-guard.js';
import type { RateLimit } from './rate-limiter.js';
import { redactUrl } from './redact-url.js';
import { DEFAULT_MAX_PAGES_PER_WALLET } from './source-limits.js';

export const DATA_POSITIONS_KEY = 'data:positions';
export const DATA_USER_PNL_KEY = 'data:user-pnl';

/** Rate limits of the two routes, to pass to the RateLimiter of a profit check. */
export const PNL_CHECK_RATE_LIMITS: Readonly<Record<string, RateLimit>> = Object.freeze({
  [DATA_POSITIONS_KEY]: { requests: 50, perMs: 10_000 },
  [DATA_USER_PNL_KEY]: { requests: 50, perMs: 10_000 },
});

/** The documented maximum page of `/v2/positions`. */
export const POSITIONS_PAGE_SIZE = 1000;


const closedPositionSchema = z.object({
  proxy_wallet: z.string(),
  token_id: z.string().min(1, 'expected a token id'),
  condition_id: z.string().regex(/^0x[0-9a-fA-F]+$/, 'expected a 0x condition id'),
  outcome_index: z.number().int(),
  current_size: z.number(),
  avg_price: z.number(),
  total_size: z.number(),
  realized_pnl: z.number().nullable(),
  status: z.string(),
  first_entry_at: z.number().int(),
  last_event_at: z.number().int(),
});

/** One closed position as Polymarket reports it. */
export interface ClosedPosition {
  token_id: string;
  condition_id: string;
  outcome_index: number;
  /** USDC; null when the API has no figure. */
  realized_pnl: number | null;
  avg_price: number;
  /** Lifetime shares bought. */
  total_size: number;
  /** ~0 on a closed position. */
  current_size: number;
  /** Epoch seconds. */
  first_entry_at: number;
  last_event_at: number;
}

const pointSchema = z.object({
  timestamp: z.number().int(),
  realized_pnl: z.number().nullable(),
  realized_market_pnl: z.number().nullable().optional(),
  realized_combo_pnl: z.number().nullable().optional(),
  realized_lp_pnl: z.number().nullable().optional(),
});
const userPnlSchema = z.object({
  data: z
    .object({
      proxy_wallet: z.string(),
      points: z.array(z.unknown()).nullable(),
    })
    .nullable(),
});

/** The last point of a wallet's `/v2/user-pnl?interval=all` series. */
export interface UserPnlLatest {
  /** Epoch seconds of the point. */
  timestamp: number;
  /** Realized profit, USDC: market + LP + combo. Null: the source is not covered, which is not zero. */
  realized_pnl: number | null;
  /** The market-positions part, what a replay of market fills and activity can match; null when absent. */
  realized_market_pnl: number | null;
  realized_combo_pnl: number | null;
  realized_lp_pnl: number | null;
}

export interface PnlCheckOptions {
  signal?: AbortSignal;
  /** Pages after which a positions walk that still has a next_cursor fails; default 20 000. */
  maxPages?: number;
}


/** The `/v2/positions` URL of a closed-positions walk; `cursor` absent on the first page. */
export function closedPositionsUrl(dataApiUrl: string, wallet: string, cursor?: string): URL {
  const url = new URL(`${dataApiUrl.replace(/\/+$/, '')}/v2/positions`);
  url.searchParams.set('user', wallet);
  url.searchParams.set('status', 'CLOSED');
  // "First-page size. Ignored when `cursor` is supplied (the cursor's size wins)."
  if (cursor === undefined) url.searchParams.set('limit', String(POSITIONS_PAGE_SIZE));
  else url.searchParams.set('cursor', cursor);
  return url;
}

export function userPnlUrl(dataApiUrl: string, wallet: string): URL {
  const url = new URL(`${dataApiUrl.replace(/\/+$/, '')}/v2/user-pnl`);
  url.searchParams.set('user', wallet);
  url.searchParams.set('interval', 'all');
  return url;
}

/**
 * Every closed position of the wallet, one per token. Throws like the other walks on a broken envelope or
 * paging, InvalidInputError on a row that fails validation or belongs to another wallet, and PaginationError
 * when a token comes twice (an offset walk taken across a data refresh can repeat rows; a sum over them would
 * count one twice).
 */
export async function walletClosedPositions(http: HttpClient, dataApiUrl: string, walletInput: string, options: PnlCheckOptions = {}): Promise<ClosedPosition[]> {
  const wallet = checkWallet(walletInput);
  const guard = new PageGuard({ limit: POSITIONS_PAGE_SIZE, maxPages: options.maxPages ?? DEFAULT_MAX_PAGES_PER_WALLET, item: 'position', consequence: 'The wallet\'s check is failed rather than compared on part of its positions' });
  const positions = new Map<string, ClosedPosition>();
  let cursor: string | undefined;
  for (let page = 1; ; page += 1) {
    if (options.signal?.aborted) throw abortReason(options.signal);
    const { rows, hasMore, nextCursor, shown } = await fetchV2Page(http, closedPositionsUrl(dataApiUrl, wallet, cursor), DATA_POSITIONS_KEY, options.signal, guard, page);
    let added = 0;
    for (const raw of rows) {
      const row = closedPositionSchema.safeParse(raw);
      if (!row.success) {
        throw new InvalidInputError(`GET ${shown} returned a position that cannot be used: ${summarizeIssues(row.error)}`, {
          hint: 'The wallet\'s check is failed; if it repeats, the Data API changed shape',
        });
      }
      const position = row.data;
      if (position.proxy_wallet.toLowerCase() !== wallet) {
        throw new InvalidInputError(`GET ${shown} returned a position of wallet ${position.proxy_wallet}, not the requested ${wallet}`, {
          hint: 'The API ignored the user filter; nothing of this wallet is compared',
        });
      }
      if (positions.has(position.token_id)) {
        throw new PaginationError(`GET ${shown} (page ${page}) served closed position ${position.token_id} a second time in one walk`, {
          kind: 'permanent',
          hint: 'The positions changed during the walk; check the wallet again later',
        });
      }
      added += 1;
      positions.set(position.token_id, {
        token_id: position.token_id,
        condition_id: position.condition_id.toLowerCase(),
        outcome_index: position.outcome_index,
        realized_pnl: position.realized_pnl,
        avg_price: position.avg_price,
        total_size: position.total_size,
        current_size: position.current_size,
        first_entry_at: position.first_entry_at,
        last_event_at: position.last_event_at,
      });
    }
    const next = guard.next(page, shown, { nextCursor, hasMore, added });
    if (next === undefined) return [...positions.values()];
    cursor = next;
  }
}

/** The last point of the wallet's all-time series; null when Polymarket has none (no data is not zero). */
export async function latestUserPnl(http: HttpClient, dataApiUrl: string, walletInput: string, options: Pick<PnlCheckOptions, 'signal'> = {}): Promise<UserPnlLatest | null> {
  const wallet = checkWallet(walletInput);
  const url = userPnlUrl(dataApiUrl, wallet);
  const shown = redactUrl(url);
  const parsed = userPnlSchema.safeParse(await http.getJson(url, DATA_USER_PNL_KEY, options.signal));
  if (!parsed.success) {
    throw new UnexpectedResponseError(`GET ${shown} returned JSON without the v2 {data: {proxy_wallet, points}} envelope (${summarizeIssues(parsed.error)})`, {
      hint: 'The Data API v2 response changed shape; report it',
    });
  }
  const data = parsed.data.data;
  if (data === null) return null;
  if (data.proxy_wallet.toLowerCase() !== wallet) {
    throw new InvalidInputError(`GET ${shown} returned the series of wallet ${data.proxy_wallet}, not the requested ${wallet}`, {
      hint: 'The API ignored the user filter; nothing of this wallet is compared',
    });
  }
  const points = data.points ?? [];
  if (points.length === 0) return null;
  const last = pointSchema.safeParse(points[points.length - 1]);
  if (!last.success) {
    throw new InvalidInputError(`GET ${shown} returned a last point that cannot be used: ${summarizeIssues(last.error)}`, {
      hint: 'The wallet\'s check is failed; if it repeats, the Data API changed shape',
    });
  }
  const point = last.data;
  return {
    timestamp: point.timestamp,
    realized_pnl: point.realized_pnl,
    realized_market_pnl: point.realized_market_pnl ?? null,
    realized_combo_pnl: point.realized_combo_pnl ?? null,
    realized_lp_pnl: point.realized_lp_pnl ?? null,
  };
}
