/**
 * A wallet's full trade history from Data API v2: `/v2/trades` walked by cursor, newest first.
 * Filters are fixed for the whole walk because the cursor carries only the seek anchor and page size
 * ("re-send identical filters on every page": changing one mid-walk re-anchors silently).
 */
import { z } from 'zod';
import { InvalidInputError } from '../lib/errors.js';
import { abortReason } from '../lib/sleep.js';
import type { HttpClient } from './http-client.js';
import { PaginationError, UnexpectedResponseError } from './http-errors.js';
import type { TradeRecord } from './records.js';
import { linkedSignal } from './linked-signal.js';
import { FillSequencer, tradeId } from './trade-key.js';
import { epochSecondsOf, normalizeTradeRow } from './trade-rows.js';

/** Endpoint key of `/v2/trades` for rate limits and counters. */
export const DATA_TRADES_KEY = 'data:trades';

/** v2 first-page maximum; later pages keep the size the cursor carries. */
export const TRADES_PAGE_SIZE = 1000;

// Cursors normally come with rows; a run of empty pages that keep minting new cursors would spin forever.
const MAX_CONSECUTIVE_EMPTY_PAGES = 3;

const WALLET = /^0x[0-9a-fA-F]{40}$/;

const pageSchema = z.object({
  data: z.array(z.unknown()).nullable(),
  pagination: z.object({
    has_more: z.boolean().optional(),
    next_cursor: z.string().min(1).nullish(),
  }),
});

/** The `/v2/trades` URL for a wallet walk; `cursor` absent on the first page. */
export function walletTradesUrl(dataApiUrl: string, wallet: string, cursor?: string): URL {
  const url = new URL(`${dataApiUrl.replace(/\/+$/, '')}/v2/trades`);
  url.searchParams.set('user', wallet);
  // The default `true` serves each fill on its taker side only, dropping the wallet's maker fills.
  url.searchParams.set('taker_only', 'false');
  // Without `start` the user shape floors to the last three years; 1 asks for the full history.
  url.searchParams.set('start', '1');
  url.searchParams.set('limit', String(TRADES_PAGE_SIZE));
  // The documented default minimum (0.01 shares) silently drops dust fills; ask for every fill.
  url.searchParams.set('filter_type', 'TOKENS');
  url.searchParams.set('filter_amount', '0');
  if (cursor !== undefined) url.searchParams.set('cursor', cursor);
  return url;
}

function summarizeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

/**
 * Pages of a wallet's trades, normalised and keyed, newest first; never yields an empty page and
 * never holds more than one page. Throws on an envelope that is not `{data, pagination}`, on
 * `has_more` without a cursor, on a repeated cursor, and on rows that cannot be keyed safely.
 */
export async function* walletTradePages(
  http: HttpClient,
  dataApiUrl: string,
  walletInput: string,
  signal?: AbortSignal,
): AsyncGenerator<TradeRecord[], void, undefined> {
  const wallet = walletInput.trim();
  if (!WALLET.test(wallet)) {
    throw new InvalidInputError(`wallet ${JSON.stringify(walletInput)} is not an address (0x followed by 40 hex digits)`, {
      hint: 'Pass the proxy wallet shown on the Polymarket profile, not a name',
    });
  }
  const user = wallet.toLowerCase();
  const link = linkedSignal(signal);
  try {
    yield* walk(http, dataApiUrl, user, link.signal);
  } finally {
    link.dispose();
  }
}

async function* walk(
  http: HttpClient,
  dataApiUrl: string,
  user: string,
  signal: AbortSignal,
): AsyncGenerator<TradeRecord[], void, undefined> {
  const sequencer = new FillSequencer();
  const seenCursors = new Set<string>();
  let cursor: string | undefined;
  let emptyStreak = 0;
  for (let page = 1; ; page += 1) {
    if (signal.aborted) throw abortReason(signal);
    const url = walletTradesUrl(dataApiUrl, user, cursor);
    const body = await http.getJson(url, DATA_TRADES_KEY, signal);
    const parsed = pageSchema.safeParse(body);
    if (!parsed.success) {
      throw new UnexpectedResponseError(
        `GET ${url.toString()} returned JSON without the v2 {data, pagination} envelope (${summarizeIssues(parsed.error)})`,
        { hint: 'The Data API v2 response changed shape; report it' },
      );
    }
    const rows = parsed.data.data ?? [];
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

    const { has_more: hasMore, next_cursor: nextCursor } = parsed.data.pagination;
    if (nextCursor === null || nextCursor === undefined) {
      if (hasMore === true) {
        throw new PaginationError(
          `GET ${url.toString()} (page ${page}) says has_more=true but gives no next_cursor; the walk cannot continue`,
          { hint: 'The wallet is failed rather than stored incomplete; retry it later' },
        );
      }
      return;
    }
    if (seenCursors.has(nextCursor)) {
      throw new PaginationError(
        `GET ${url.toString()} (page ${page}) returned a next_cursor already followed (${nextCursor.slice(0, 40)}…); stopping instead of looping`,
        { hint: 'The wallet is failed rather than stored incomplete; retry it later' },
      );
    }
    emptyStreak = rows.length === 0 ? emptyStreak + 1 : 0;
    if (emptyStreak >= MAX_CONSECUTIVE_EMPTY_PAGES) {
      throw new PaginationError(
        `GET ${url.toString()} (page ${page}): ${emptyStreak} empty pages in a row that still carry a next_cursor; stopping instead of looping`,
        { hint: 'The wallet is failed rather than stored incomplete; retry it later' },
      );
    }
    seenCursors.add(nextCursor);
    cursor = nextCursor;
  }
}
