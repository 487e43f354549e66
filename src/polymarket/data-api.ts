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
import { InvalidInputError } from '../lib/errors.js';
import { abortReason } from '../lib/sleep.js';
import type { HttpClient } from './http-client.js';
import { PaginationError, UnexpectedResponseError } from './http-errors.js';
import type { TradeRecord } from './records.js';
import { linkedSignal } from './linked-signal.js';
import { PageGuard } from './page-guard.js';
import { redactUrl } from './redact-url.js';
import { DEFAULT_MAX_PAGES_PER_WALLET } from './source-limits.js';
import { FillSequencer, tradeId } from './trade-key.js';
import { epochSecondsOf, normalizeTradeRow } from './trade-rows.js';

/** Endpoint key of `/v2/trades` for rate limits and counters. */
export const DATA_TRADES_KEY = 'data:trades';

/** v2 first-page maximum; later pages keep the size the cursor carries. */
export const TRADES_PAGE_SIZE = 1000;

// Cursors normally come with rows; a run of empty pages that keep minting new cursors would spin forever.
export const MAX_CONSECUTIVE_EMPTY_PAGES = 3;

const WALLET = /^0x[0-9a-fA-F]{40}$/;

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

/** Full history: the oldest block time `start` can ask for (0 would mean "the last three years"). */
export const FULL_HISTORY_START = 1;

/** The `/v2/trades` URL for a wallet walk; `cursor` absent on the first page. */
export function walletTradesUrl(dataApiUrl: string, wallet: string, cursor?: string, startSeconds = FULL_HISTORY_START): URL {
  const url = new URL(`${dataApiUrl.replace(/\/+$/, '')}/v2/trades`);
  url.searchParams.set('user', wallet);
  // The default `true` serves each fill on its taker side only, dropping the wallet's maker fills.
  url.searchParams.set('taker_only', 'false');
  // Without `start` the user shape floors to the last three years; 1 asks for the full history.
  url.searchParams.set('start', String(startSeconds));
  url.searchParams.set('limit', String(TRADES_PAGE_SIZE));
  // The documented default minimum (0.01 shares) silently drops dust fills; ask for every fill.
  url.searchParams.set('filter_type', 'TOKENS');
  url.searchParams.set('filter_amount', '0');
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
}

/**
 * Pages of a wallet's trades, normalised and keyed, newest first; never yields an empty page and
 * never holds more than one page. Throws on an envelope that is not `{data, pagination}`, on
 * `has_more` without a cursor, on a repeated cursor or page, on a page longer than the limit, past
 * the page cap, and on rows that cannot be keyed safely.
 */
export async function* walletTradePages(
  http: HttpClient,
  dataApiUrl: string,
  walletInput: string,
  options: WalletWalkOptions = {},
): AsyncGenerator<TradeRecord[], void, undefined> {
  const wallet = walletInput.trim();
  if (!WALLET.test(wallet)) {
    throw new InvalidInputError(`wallet ${JSON.stringify(walletInput)} is not an address (0x followed by 40 hex digits)`, {
      hint: 'Pass the proxy wallet shown on the Polymarket profile, not a name',
    });
  }
  const startSeconds = options.startSeconds ?? FULL_HISTORY_START;
  if (!Number.isSafeInteger(startSeconds) || startSeconds < FULL_HISTORY_START) {
    throw new InvalidInputError(
      `startSeconds ${String(startSeconds)} for wallet ${wallet} is not a whole number of epoch seconds >= ${FULL_HISTORY_START}`,
      { hint: 'Pass whole seconds (not milliseconds, not a fraction); 1 asks for the full history, and 0 would mean the last three years only' },
    );
  }
  const user = wallet.toLowerCase();
  const link = linkedSignal(options.signal);
  try {
    yield* walk(http, dataApiUrl, user, startSeconds, options.maxPages ?? DEFAULT_MAX_PAGES_PER_WALLET, link.signal);
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
  signal: AbortSignal,
): AsyncGenerator<TradeRecord[], void, undefined> {
  const sequencer = new FillSequencer();
  const guard = new PageGuard({ limit: TRADES_PAGE_SIZE, maxPages });
  let cursor: string | undefined;
  let emptyStreak = 0;
  for (let page = 1; ; page += 1) {
    if (signal.aborted) throw abortReason(signal);
    const url = walletTradesUrl(dataApiUrl, user, cursor, startSeconds);
    const shown = redactUrl(url);
    const body = await http.getJson(url, DATA_TRADES_KEY, signal);
    const parsed = pageSchema.safeParse(body);
    if (!parsed.success) {
      throw new UnexpectedResponseError(
        `GET ${shown} returned JSON without the v2 {data, pagination} envelope (${summarizeIssues(parsed.error)})`,
        { hint: 'The Data API v2 response changed shape; report it' },
      );
    }
    const rows = parsed.data.data ?? [];
    const { has_more: hasMore, next_cursor: nextCursor } = parsed.data.pagination;
    // Before any row is keyed: a repeated page would otherwise pass as twin fills (or trip the
    // ordering check with a less telling message).
    const { limit: servedLimit } = parsed.data.pagination;
    guard.check(page, rows, nextCursor, shown, typeof servedLimit === 'number' ? servedLimit : undefined);
    const records: TradeRecord[] = [];
    for (const raw of rows) {
      const row = normalizeTradeRow(raw, user);
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

    if (nextCursor === null || nextCursor === undefined) {
      if (hasMore === true) {
        throw new PaginationError(
          `GET ${shown} (page ${page}) says has_more=true but gives no next_cursor; the walk cannot continue`,
          { hint: 'The wallet is failed rather than stored incomplete; retry it later' },
        );
      }
      return;
    }
    emptyStreak = rows.length === 0 ? emptyStreak + 1 : 0;
    if (emptyStreak >= MAX_CONSECUTIVE_EMPTY_PAGES) {
      throw new PaginationError(
        `GET ${shown} (page ${page}): ${emptyStreak} empty pages in a row that still carry a next_cursor; stopping instead of looping`,
        { hint: 'The wallet is failed rather than stored incomplete; retry it later' },
      );
    }
    cursor = nextCursor;
  }
}
