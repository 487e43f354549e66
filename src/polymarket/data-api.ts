/**
 * A wallet's full trade history from Data API v2: `/v2/trades` walked by cursor, newest first.
 * Filters are fixed for the whole walk because the cursor carries only the seek anchor and page size
 * ("re-send identical filters on every page": changing one mid-walk re-anchors silently).
 *
 * The walk trusts nothing about the server's paging: a page longer than the limit asked for, a page
 * that repeats an earlier one under a new cursor, and a walk past the page cap all fail the wallet,
 * because each would otherwise store a wrong history without a word (see PageGuard).
 */
import { z } from 'zod';
import { toWallet } from '../domain/wallet-address.js';
import { InvalidInputError } from '../lib/errors.js';
import { abortReason } from '../lib/sleep.js';
import type { HttpClient } from './http-client.js';
import { PaginationError, UnexpectedResponseError } from './http-errors.js';
import type { TradeRecord } from './records.js';
import { linkedSignal } from './linked-signal.js';
import { PageGuard } from './page-guard.js';
import { redactUrl } from './redact-url.js';
import { SmallFillsFilter, refusesFilterAmount } from './small-fills.js';
import { DEFAULT_MAX_PAGES_PER_WALLET } from './source-limits.js';
import { FillSequencer, tradeId } from './trade-key.js';
import { epochSecondsOf, normalizeTradeRow } from './trade-rows.js';

/** Endpoint key of `/v2/trades` for rate limits and counters. */
export const DATA_TRADES_KEY = 'data:trades';

/** v2 first-page maximum; later pages keep the size the cursor carries. */
export const TRADES_PAGE_SIZE = 1000;


/** The v2 `{ data, pagination }` envelope of the cursor-paged feeds (trades, activity, combo activity). */
export const pageSchema = z.object({
  data: z.array(z.unknown()).nullable(),
  pagination: z.object({
    // The page size the server says it serves; read leniently, it only tells a short page from a full one.
    limit: z.unknown().optional(),
    has_more: z.boolean().optional(),
    next_cursor: z.string().min(1).nullish(),
  }),
});

/** One page of a v2 cursor walk, its envelope checked: the rows, the paging fields, and the URL as shown in errors. */
export interface V2Page {
  rows: unknown[];
  hasMore: boolean | undefined;
  nextCursor: string | null | undefined;
  shown: string;
}

/**
 * Fetches one page of a v2 cursor walk, checks its `{data, pagination}` envelope, and lets the walk's PageGuard
 * check it before any row is read (a repeated page would otherwise pass as twin rows): the one page step of every
 * v2 walk (trades, activity, combos, the global feed, closed positions).
 */
export async function fetchV2Page(http: HttpClient, url: URL, endpointKey: string, signal: AbortSignal | undefined, guard: PageGuard, page: number): Promise<V2Page> {
  const shown = redactUrl(url);
  const parsed = pageSchema.safeParse(await http.getJson(url, endpointKey, signal));
  if (!parsed.success) {
    throw new UnexpectedResponseError(`GET ${shown} returned JSON without the v2 {data, pagination} envelope (${summarizeIssues(parsed.error)})`, {
      hint: 'The Data API v2 response changed shape; report it',
    });
  }
  const rows = parsed.data.data ?? [];
  const { has_more: hasMore, next_cursor: nextCursor, limit: servedLimit } = parsed.data.pagination;
  guard.check(page, rows, nextCursor, shown, typeof servedLimit === 'number' ? servedLimit : undefined);
  return { rows, hasMore, nextCursor, shown };
}

/** Full history: the oldest block time `start` can ask for (0 would mean "the last three years"). */
export const FULL_HISTORY_START = 1;

/**
 * `filter_amount` that keeps every fill: one on-chain unit of a share (outcome tokens have 6
 * decimals), so no fill is smaller. 0 would not do: the document says `filter_amount` "defaults to
 * 0.01, and 0 means the same".
 */
export const KEEP_ALL_FILLS_FILTER_AMOUNT = '0.000001';

/**
 * The `/v2/trades` URL for a wallet walk; `cursor` absent on the first page. `smallFills` false
 * omits `filter_amount` (the fallback after the API refused it; see SmallFillsFilter).
 */
export function walletTradesUrl(
  dataApiUrl: string,
  wallet: string,
  cursor?: string,
  startSeconds = FULL_HISTORY_START,
  smallFills = true,
): URL {
  const url = new URL(`${dataApiUrl.replace(/\/+$/, '')}/v2/trades`);
  url.searchParams.set('user', wallet);
  // The default `true` serves each fill on its taker side only, dropping the wallet's maker fills.
  url.searchParams.set('taker_only', 'false');
  // Without `start` the user shape floors to the last three years; 1 asks for the full history.
  url.searchParams.set('start', String(startSeconds));
  url.searchParams.set('limit', String(TRADES_PAGE_SIZE));
  // The documented default minimum (0.01 shares) silently drops smaller fills; ask for every fill.
  url.searchParams.set('filter_type', 'TOKENS');
  if (smallFills) url.searchParams.set('filter_amount', KEEP_ALL_FILLS_FILTER_AMOUNT);
  if (cursor !== undefined) url.searchParams.set('cursor', cursor);
  return url;
}

export function summarizeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

export interface WalletWalkOptions {
  signal?: AbortSignal;
  /** Oldest block time asked for, epoch seconds (whole, >= 1); default 1, the full history. */
  startSeconds?: number;
  /** Pages after which a walk that still has a next_cursor fails; default 20 000. */
  maxPages?: number;
  /** Clock in epoch milliseconds; rows dated after it (plus a clock-skew margin) fail the walk. Default: the system clock. */
  now?: () => number;
  /** The run's filter_amount state; default a fresh one (every walk asks for the small fills first). */
  smallFills?: SmallFillsFilter;
}

/** A wallet walk: its pages, and whether it ran without the fills under 0.01 shares. */
export interface TradeWalk extends AsyncIterable<TradeRecord[]> {
  /**
   * True when the walk's rows leave out fills under 0.01 shares: the API refused `filter_amount` in
   * this run (before or during this walk), so it was asked at the documented default. Final once the
   * walk has ended.
   */
  readonly smallFillsExcluded: boolean;
}

/**
 * Pages of a wallet's trades, normalised and keyed, newest first; never yields an empty page and
 * never holds more than one page. Throws on an envelope that is not `{data, pagination}`, on
 * `has_more` without a cursor, on a repeated cursor or page, on a page longer than the limit, past
 * the page cap, and on rows that cannot be keyed safely. A 400 refusing `filter_amount` switches the
 * run to the documented default (SmallFillsFilter) and starts the walk again without it.
 */
export function walletTradePages(
  http: HttpClient,
  dataApiUrl: string,
  walletInput: string,
  options: WalletWalkOptions = {},
): TradeWalk {
  const smallFills = options.smallFills ?? new SmallFillsFilter();
  const state = { smallFillsExcluded: smallFills.excluded };
  const pages = walletPages(http, dataApiUrl, walletInput, options, smallFills, state);
  return {
    get smallFillsExcluded() {
      return state.smallFillsExcluded;
    },
    [Symbol.asyncIterator]: () => pages,
  };
}

async function* walletPages(
  http: HttpClient,
  dataApiUrl: string,
  walletInput: string,
  options: WalletWalkOptions,
  smallFills: SmallFillsFilter,
  state: { smallFillsExcluded: boolean },
): AsyncGenerator<TradeRecord[], void, undefined> {
  // The one wallet rule (domain/wallet-address.ts): trimmed, lower-cased, 0x + 40 hex, else an InvalidInputError naming it.
  const wallet = toWallet(walletInput);
  const startSeconds = options.startSeconds ?? FULL_HISTORY_START;
  if (!Number.isSafeInteger(startSeconds) || startSeconds < FULL_HISTORY_START) {
    throw new InvalidInputError(
      `startSeconds ${String(startSeconds)} for wallet ${wallet} is not a whole number of epoch seconds >= ${FULL_HISTORY_START}`,
      { hint: 'Pass whole seconds (not milliseconds, not a fraction); 1 asks for the full history, and 0 would mean the last three years only' },
    );
  }
  const user = wallet.toLowerCase();
  const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES_PER_WALLET;
  const link = linkedSignal(options.signal);
  try {
    // At most twice: with filter_amount, then (refused) without it, which cannot be refused again for it.
    for (;;) {
      const withSmallFills = !smallFills.excluded;
      state.smallFillsExcluded = !withSmallFills;
      let pagesYielded = 0;
      try {
        for await (const records of walk(http, dataApiUrl, user, startSeconds, maxPages, withSmallFills, options.now ?? Date.now, link.signal)) {
          pagesYielded += 1;
          yield records;
        }
        return;
      } catch (error) {
        if (!withSmallFills || !refusesFilterAmount(error)) throw error;
        smallFills.fallBack(error, KEEP_ALL_FILLS_FILTER_AMOUNT);
        state.smallFillsExcluded = true;
        // The filters must be the same on every page of a walk, and pages already handed on cannot be
        // taken back: a refusal after them fails the wallet without counting, for the next run to fetch whole.
        if (pagesYielded > 0) {
          throw new PaginationError(
            `GET /v2/trades for wallet ${user} was refused filter_amount=${KEEP_ALL_FILLS_FILTER_AMOUNT} after ${pagesYielded} page(s) that accepted it`,
            {
              cause: error,
              kind: 'transient',
              hint: 'The run now asks without it (fills under 0.01 shares left out); this wallet is fetched again from the start by the next run',
            },
          );
        }
      }
    }
  } finally {
    link.dispose();
  }
}

async function* walk(
  http: HttpClient,
  dataApiUrl: string,
  user: string,
  startSeconds: number,
  maxPages: number,
  withSmallFills: boolean,
  now: () => number,
  signal: AbortSignal,
): AsyncGenerator<TradeRecord[], void, undefined> {
  const sequencer = new FillSequencer();
  // Any row is progress: identical rows are twin fills, and a repeated page is caught as such.
  const guard = new PageGuard({ limit: TRADES_PAGE_SIZE, maxPages, repeatedPages: true });
  let cursor: string | undefined;
  for (let page = 1; ; page += 1) {
    if (signal.aborted) throw abortReason(signal);
    // Checked by the guard before any row is keyed: a repeated page would otherwise pass as twin fills (or trip the
    // ordering check with a less telling message).
    const { rows, hasMore, nextCursor, shown } = await fetchV2Page(http, walletTradesUrl(dataApiUrl, user, cursor, startSeconds, withSmallFills), DATA_TRADES_KEY, signal, guard, page);
    const records: TradeRecord[] = [];
    const nowMs = now();
    for (const raw of rows) {
      const row = normalizeTradeRow(raw, user, { nowMs });
      const fillSeq = sequencer.next({
        transaction_hash: row.transaction_hash,
        asset: row.asset,
        side: row.side,
        price: row.price,
        size: row.size,
        timestamp: epochSecondsOf(row),
      });
      records.push({ trade_id: tradeId({ ...row, fill_seq: fillSeq }), ...row, fill_seq: fillSeq });
    }
    if (records.length > 0) yield records;

    const next = guard.next(page, shown, { nextCursor, hasMore, added: rows.length });
    if (next === undefined) return;
    cursor = next;
  }
}
