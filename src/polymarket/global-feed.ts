/**
 * The global trade feed: `/v2/trades` without `user`, walked by cursor from the newest fill down to an anchor time,
 * for a refresh whose cost follows market activity instead of the number of tracked wallets.
 *
 * What the document says of the bare feed, and what this walk does with it:
 * - it is keyset-walked by (block_timestamp, sequence_id), newest first, "stable across concurrent writes"; rows
 *   carry the timestamp but not the sequence id, which only the cursor holds (base64 JSON with `ts` and `sq`, an
 *   observation, not the contract: `anchor.sequenceId` is read from it when it has that shape, else null);
 * - it serves "the rolling current-plus-previous month" and ignores `start`/`end`, so the walk cannot ask for a
 *   time: it reads down from the newest row and stops at the first row older than the anchor;
 * - `taker_only` defaults to true, one row per fill on its taker side; `false` adds the maker rows, which a
 *   wallet's history needs, so the walk always sends it, with the same `filter_amount` as the wallet walk;
 * - the cursor carries only the seek anchor and page size: filters are re-sent identically on every page.
 *
 * Rows are validated and keyed exactly as the wallet walk does (trade-rows.ts, trade-key.ts), so a fill gets the
 * same `trade_id` from either walk (see FeedFillSequencer for why, and for the two conditions it needs). One of
 * them shapes the checkpoints: a walk resumed inside a timestamp would number that timestamp's twins from 0 again
 * and give two fills one key. So each page's `resume` point is the cursor of the page where its oldest timestamp
 * began, plus that timestamp: a resumed walk re-reads from there and skips the rows newer than it (already stored),
 * re-keying the boundary timestamp whole. Re-read rows get the keys they had, so storing them again changes nothing.
 *
 * The first page is served from a CDN cache (`cache-control: public, max-age=300` on /v2/trades), so the newest
 * rows may lag by up to five minutes: the caller's next anchor should be the walk's newest row minus its overlap.
 */
import { z } from 'zod';
import { InvalidInputError } from '../lib/errors.js';
import { abortReason } from '../lib/sleep.js';
import { KEEP_ALL_FILLS_FILTER_AMOUNT, TRADES_PAGE_SIZE, DATA_TRADES_KEY, fetchV2Page } from './data-api.js';
import type { HttpClient } from './http-client.js';
import { PaginationError } from './http-errors.js';
import { linkedSignal } from './linked-signal.js';
import { PageGuard } from './page-guard.js';
import type { TradeRecord } from './records.js';
import { SmallFillsFilter, refusesFilterAmount } from './small-fills.js';
import { MAX_MAX_PAGES_PER_WALLET } from './source-limits.js';
import { FeedFillSequencer, tradeId } from './trade-key.js';
import { epochSecondsOf, normalizeTradeRow, timestampSchema } from './trade-rows.js';

/**
 * Pages after which a feed walk that still has a cursor stops: 100 M rows at 1000 a page, more than the whole
 * documented window holds (a few million fills a day, maker rows included, over at most two months).
 */
export const DEFAULT_MAX_FEED_PAGES = 100_000;

/** Where a page of the feed ends: its oldest row's block time, and the sequence id the next cursor seeks from. */
export interface FeedAnchor {
  blockTimestamp: number;
  /** From the next cursor when it has the observed shape (see the top of this file); null otherwise or on the last page. */
  sequenceId: string | null;
}

/**
 * Where a walk starts again so that nothing after a committed page is missed and every key comes out the same:
 * from `cursor` (null: from the newest row), skipping rows newer than `blockTimestamp` (null: none).
 * Store it with the page's rows, in the same commit.
 */
export interface FeedResumePoint {
  cursor: string | null;
  blockTimestamp: number | null;
}

export interface GlobalFeedPage {
  /** 1 for the first page of this walk. */
  page: number;
  /** Rows this response held, every wallet, before any was left out. */
  rowsServed: number;
  /**
   * The page's rows at or after the anchor time (and not newer than a resume point's time), of the wallets asked for
   * (all when `wallets` is absent), normalised and keyed as the wallet walk keys them; may be empty.
   */
  records: TradeRecord[];
  /** The page's oldest row; null on an empty page. */
  anchor: FeedAnchor | null;
  /** Where a walk resumes once this page and every earlier one are committed. */
  resume: FeedResumePoint;
}

export interface GlobalFeedOutcome {
  /** `anchor-reached`: a row older than the anchor time was served; `feed-ended`: the feed had no more rows first. */
  ended: 'anchor-reached' | 'feed-ended';
  pages: number;
  rowsServed: number;
  rowsKept: number;
  /** Block time of the newest and oldest rows served (any wallet); null when the feed served none. */
  newestTimestamp: number | null;
  oldestTimestamp: number | null;
  /**
   * The documented window's start (the first day of the previous UTC month, by the source's clock when the walk
   * began). A walk that ended with the feed while its anchor lies at or after it covered the anchor as documented;
   * one whose anchor lies before it did not, and those wallets need a per-wallet refresh. A feed that ends well
   * above an anchor inside this window serves a shorter window than documented.
   */
  documentedWindowStart: number;
}

/** What a feed walk asks; see PolymarketSource.globalTrades. */
export interface GlobalTradesOptions {
  /** The oldest block time wanted, epoch seconds, inclusive (whole, >= 1): the walk stops at the first older row. */
  downToSeconds: number;
  /** Resume a walk from a committed page's `resume` point instead of starting at the newest row. */
  resumeFrom?: FeedResumePoint;
  /** Only rows of these wallets are normalised, keyed and returned (O(1) `has` on lower-case addresses); default all. */
  wallets?: { has(wallet: string): boolean };
  signal?: AbortSignal;
}

export interface FeedWalkOptions extends GlobalTradesOptions {
  /** Pages after which a walk that still has a cursor fails; default DEFAULT_MAX_FEED_PAGES. */
  maxPages?: number;
  /** Clock in epoch milliseconds (future-dated rows, the documented window); default the system clock. */
  now?: () => number;
  /** The run's filter_amount state; default a fresh one. */
  smallFills?: SmallFillsFilter;
  /** Counters the source keeps across walks. */
  counters?: GlobalFeedCounters;
}

/** What the source counts over its feed walks (SourceStats.globalFeed). */
export interface GlobalFeedCounters {
  walks: number;
  /** Pages read (requests answered 200; retries are in the `data:trades` request count). */
  pages: number;
  rowsServed: number;
  rowsKept: number;
}

export interface GlobalFeedWalk extends AsyncIterable<GlobalFeedPage> {
  /** How the walk ended; undefined until it has ended without an error. */
  readonly outcome: GlobalFeedOutcome | undefined;
  /** True when the walk's rows leave out fills under 0.01 shares (the API refused `filter_amount`); final once ended. */
  readonly smallFillsExcluded: boolean;
}

/** The start of the bare feed's documented window: 00:00 UTC on the first day of the month before `nowMs`'s. */
export function feedWindowStart(nowMs: number): number {
  const now = new Date(nowMs);
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1) / 1000;
}

/** The bare `/v2/trades` URL of a feed walk; `cursor` absent on the first page. */
export function globalTradesUrl(dataApiUrl: string, cursor?: string, smallFills = true): URL {
  const url = new URL(`${dataApiUrl.replace(/\/+$/, '')}/v2/trades`);
  // The default `true` serves each fill on its taker side only: the maker rows of every wallet would be missing.
  url.searchParams.set('taker_only', 'false');
  url.searchParams.set('limit', String(TRADES_PAGE_SIZE));
  // The same filters as the wallet walk, or the two would hold different fills (and twins different counts).
  url.searchParams.set('filter_type', 'TOKENS');
  if (smallFills) url.searchParams.set('filter_amount', KEEP_ALL_FILLS_FILTER_AMOUNT);
  if (cursor !== undefined) url.searchParams.set('cursor', cursor);
  return url;
}

const cursorShape = z.object({ data: z.object({ params: z.object({ sq: z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]) }) }) });

/** The sequence id a cursor seeks from, when it has the observed base64-JSON shape; null otherwise. */
export function cursorSequenceId(cursor: string | null | undefined): string | null {
  if (!cursor) return null;
  try {
    const parsed = cursorShape.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return parsed.success ? String(parsed.data.data.params.sq) : null;
  } catch {
    return null;
  }
}

function checkAnchorSeconds(name: string, value: number | null | undefined): void {
  if (value === null || value === undefined) return;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidInputError(`${name} ${String(value)} is not a whole number of epoch seconds >= 1`, {
      hint: 'Pass whole seconds (not milliseconds, not a fraction)',
    });
  }
}

/**
 * Pages of the global feed from the newest row (or a resume point) down to `downToSeconds`, each yielded with its
 * anchor and resume point, never more than one page held. Fails like the wallet walk on a broken envelope, a
 * repeated cursor or page, a page over the limit, past the page cap, on rows out of order and on rows that cannot
 * be keyed (any wallet's: a feed that serves one corrupt row cannot be trusted to page the rest). A refusal of
 * `filter_amount` before any page switches the run to the documented default, as the wallet walk does.
 */
export function globalTradePages(http: HttpClient, dataApiUrl: string, options: FeedWalkOptions): GlobalFeedWalk {
  checkAnchorSeconds('downToSeconds', options.downToSeconds);
  checkAnchorSeconds('resumeFrom.blockTimestamp', options.resumeFrom?.blockTimestamp);
  const smallFills = options.smallFills ?? new SmallFillsFilter();
  const state: { outcome: GlobalFeedOutcome | undefined; smallFillsExcluded: boolean } = {
    outcome: undefined,
    smallFillsExcluded: smallFills.excluded,
  };
  return {
    get outcome() {
      return state.outcome;
    },
    get smallFillsExcluded() {
      return state.smallFillsExcluded;
    },
    [Symbol.asyncIterator]: () => feedPages(http, dataApiUrl, options, smallFills, state),
  };
}

async function* feedPages(
  http: HttpClient,
  dataApiUrl: string,
  options: FeedWalkOptions,
  smallFills: SmallFillsFilter,
  state: { outcome: GlobalFeedOutcome | undefined; smallFillsExcluded: boolean },
): AsyncGenerator<GlobalFeedPage, void, undefined> {
  const link = linkedSignal(options.signal);
  if (options.counters) options.counters.walks += 1;
  try {
    for (;;) {
      const withSmallFills = !smallFills.excluded;
      state.smallFillsExcluded = !withSmallFills;
      let pagesYielded = 0;
      try {
        for await (const page of walk(http, dataApiUrl, options, withSmallFills, link.signal, state)) {
          pagesYielded += 1;
          yield page;
        }
        return;
      } catch (error) {
        if (!withSmallFills || !refusesFilterAmount(error)) throw error;
        smallFills.fallBack(error, KEEP_ALL_FILLS_FILTER_AMOUNT);
        state.smallFillsExcluded = true;
        if (pagesYielded > 0) {
          throw new PaginationError(
            `GET /v2/trades (global feed) was refused filter_amount=${KEEP_ALL_FILLS_FILTER_AMOUNT} after ${pagesYielded} page(s) that accepted it`,
            {
              cause: error,
              kind: 'transient',
              hint: 'The run now asks without it (fills under 0.01 shares left out); resume the feed from the last committed checkpoint',
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
  options: FeedWalkOptions,
  withSmallFills: boolean,
  signal: AbortSignal,
  state: { outcome: GlobalFeedOutcome | undefined },
): AsyncGenerator<GlobalFeedPage, void, undefined> {
  const now = options.now ?? Date.now;
  const documentedWindowStart = feedWindowStart(now());
  const maxPages = options.maxPages ?? DEFAULT_MAX_FEED_PAGES;
  if (!Number.isSafeInteger(maxPages) || maxPages < 1 || maxPages > MAX_MAX_PAGES_PER_WALLET) {
    throw new InvalidInputError(`maxPages ${String(maxPages)} for the global feed is not a whole number from 1 to ${MAX_MAX_PAGES_PER_WALLET}`);
  }
  const guard = new PageGuard({
    limit: TRADES_PAGE_SIZE,
    maxPages,
    repeatedPages: true,
    cap: {
      describe: `the feed walk's cap (${maxPages} pages of ${TRADES_PAGE_SIZE} rows)`,
      hint: 'Tail the feed more often, or refresh per wallet: the feed holds more rows since the anchor than the cap allows',
    },
    consequence: 'The feed walk stops; its committed pages stand and the next walk resumes from the last checkpoint',
  });
  const sequencer = new FeedFillSequencer();
  const counters = options.counters;
  const skipNewerThan = options.resumeFrom?.blockTimestamp ?? null;
  const downTo = options.downToSeconds;
  let cursor: string | undefined = options.resumeFrom?.cursor ?? undefined;
  // The resume point moves with each page: the cursor of the page where the oldest timestamp seen began.
  let resume: FeedResumePoint = { cursor: cursor ?? null, blockTimestamp: skipNewerThan };
  let lastTs: number | undefined;
  const totals = { pages: 0, rowsServed: 0, rowsKept: 0, newest: null as number | null, oldest: null as number | null };

  for (let page = 1; ; page += 1) {
    if (signal.aborted) throw abortReason(signal);
    const { rows, hasMore, nextCursor, shown } = await fetchV2Page(http, globalTradesUrl(dataApiUrl, cursor, withSmallFills), DATA_TRADES_KEY, signal, guard, page);

    const nowMs = now();
    const records: TradeRecord[] = [];
    let pageOldest: number | undefined;
    let reachedAnchor = false;
    for (const [i, raw] of rows.entries()) {
      const ts = rowTimestamp(raw, shown, page, i);
      if (lastTs !== undefined && ts > lastTs) {
        throw new PaginationError(
          `GET ${shown} (page ${page}) row ${i + 1} has block time ${ts}, newer than ${lastTs} already served; the feed must serve newest first`,
          { kind: 'permanent', hint: 'The feed walk stops; its committed pages stand and the next walk resumes from the last checkpoint. Report it if it repeats' },
        );
      }
      lastTs = ts;
      totals.newest ??= ts;
      if (ts < downTo) {
        reachedAnchor = true;
        break;
      }
      pageOldest = ts;
      totals.oldest = ts;
      if (skipNewerThan !== null && ts > skipNewerThan) continue;
      const wallet = rawWallet(raw);
      if (options.wallets && !options.wallets.has(wallet)) continue;
      const row = normalizeTradeRow(raw, wallet, { nowMs });
      const fillSeq = sequencer.next(row.proxy_wallet, {
        transaction_hash: row.transaction_hash,
        asset: row.asset,
        side: row.side,
        price: row.price,
        size: row.size,
        timestamp: epochSecondsOf(row),
      });
      records.push({ trade_id: tradeId({ ...row, fill_seq: fillSeq }), ...row, fill_seq: fillSeq });
    }
    if (pageOldest !== undefined && pageOldest !== resume.blockTimestamp) {
      // The page's oldest timestamp began on this page (an older one than any before), so a resume starts here.
      resume = { cursor: cursor ?? null, blockTimestamp: pageOldest };
    }
    totals.pages += 1;
    totals.rowsServed += rows.length;
    totals.rowsKept += records.length;
    if (counters) {
      counters.pages += 1;
      counters.rowsServed += rows.length;
      counters.rowsKept += records.length;
    }
    yield {
      page,
      rowsServed: rows.length,
      records,
      anchor: pageOldest === undefined ? null : { blockTimestamp: pageOldest, sequenceId: reachedAnchor ? null : cursorSequenceId(nextCursor) },
      resume: { ...resume },
    };

    const next = reachedAnchor ? undefined : guard.next(page, shown, { nextCursor, hasMore, added: rows.length });
    if (next === undefined) {
      state.outcome = {
        ended: reachedAnchor ? 'anchor-reached' : 'feed-ended',
        pages: totals.pages,
        rowsServed: totals.rowsServed,
        rowsKept: totals.rowsKept,
        newestTimestamp: totals.newest,
        oldestTimestamp: totals.oldest,
        documentedWindowStart,
      };
      return;
    }
    cursor = next;
  }
}

function rowTimestamp(raw: unknown, shown: string, page: number, index: number): number {
  const value = typeof raw === 'object' && raw !== null ? (raw as { timestamp?: unknown }).timestamp : undefined;
  const parsed = timestampSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new InvalidInputError(
    `GET ${shown} (page ${page}) row ${index + 1}: field "timestamp" is invalid (${parsed.error.issues[0]?.message ?? 'invalid'}): got ${JSON.stringify(value)}`,
    { hint: 'The feed walk stops, since the anchor cannot be placed without block times; if it repeats, the Data API changed shape: report it' },
  );
}

/** The row's wallet as normalizeTradeRow expects it ('' when absent, which it then refuses by name). */
function rawWallet(raw: unknown): string {
  const row = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const value = row.proxy_wallet ?? row.proxyWallet;
  return typeof value === 'string' ? value.toLowerCase() : '';
}
