/**
 * The one guard every paging walk of this source goes through (the wallet trades walk, the Gamma keyset
 * listings, the Gamma legacy listing's single page, the trader board): what a walk must not accept from
 * the server, checked page by page.
 * - a page longer than the limit asked for: the server is not paging as documented, so what it
 *   serves next cannot be trusted to line up with what it served;
 * - a cursor already followed: the walk is going round in circles;
 * - pages that add nothing new while still handing out a fresh cursor (empty pages, or pages of rows
 *   the walk already had): a server can mint cursors forever, and such a walk would never end
 *   (seen: a Gamma keyset listing answering empty pages with a new cursor, 2,604 requests in 90 s);
 * - a walk that still has a cursor after its page cap;
 * - `has_more` without a cursor: the walk cannot go on, and stopping there would pass a part as the whole;
 * - for the trades walk only (`repeatedPages`): a page whose rows equal an earlier page's under a new
 *   cursor. Older routes repeat a page past an offset cap, and since identical rows in one transaction
 *   are kept as twin fills, a repeated page would silently inflate the wallet's fills. The one
 *   legitimate way to get an identical page is a full page that lies entirely inside one block, made
 *   of twin fills: rows come newest first, so a later page equal to an earlier one means the earlier
 *   page's newest and oldest rows share a timestamp, and only the last page of a walk may be short, so
 *   it cannot equal an earlier one. Such pages are let through (at 1000 rows a page that takes 2000
 *   identical fills in one transaction; a server repeating one without end still meets the page cap).
 * Each throws a PaginationError naming the request, the page number and what was seen, with the
 * walk's consequence as hint; the three that say the walk stopped making progress (repeated cursor,
 * no progress, page cap) are PagingStalledError, which a caller that can use a partial answer (the
 * board) tells apart.
 *
 * What counts as "new" is the walk's to say (`added` in `next`): any row of the trades walk (identical
 * rows are twin fills, and repeated pages are caught above), a Gamma row of an id not seen before, a
 * board wallet not returned before.
 *
 * Memory is one 128-bit digest per page and per cursor, and the page cap bounds both: at the default
 * 20 000 pages that is a few MB for a wallet of 20 M fills, never the cursors or rows themselves.
 */
import { createHash } from 'node:crypto';
import { PaginationError } from './http-errors.js';
import { MAX_MAX_PAGES_PER_WALLET } from './source-limits.js';

/** Pages in a row that add nothing new while still carrying a cursor, after which a walk stops. */
export const DEFAULT_MAX_IDLE_PAGES = 3;

export interface PageGuardOptions {
  /** Rows per page the walk asks for; a longer page fails the walk. */
  limit: number;
  /** Pages after which a walk that still has a next cursor fails. */
  maxPages: number;
  /**
   * How the page cap reads in its message and how to raise it. Default: the per-wallet cap,
   * `--max-pages-per-wallet`.
   */
  cap?: { describe: string; hint: string };
  /** Pages in a row that add nothing new (see `next`) while still carrying a cursor; default 3. */
  maxIdlePages?: number;
  /** What the walk's items are called in messages ("row", "market", "wallet"); default "row". */
  item?: string;
  /** Fail on a page whose rows repeat an earlier page's (the trades walk); default false. */
  repeatedPages?: boolean;
  /** What a failure means for the caller, first sentence of every hint; default: the wallet is failed. */
  consequence?: string;
}

/** A PaginationError saying the walk stopped making progress (repeated cursor, no progress, page cap). */
export class PagingStalledError extends PaginationError {
  /** Pages read when the walk stopped. */
  readonly pages: number;
  constructor(message: string, options: { hint: string; pages: number }) {
    super(message, { kind: 'permanent', hint: options.hint });
    this.pages = options.pages;
  }
}

const WALLET_CONSEQUENCE = 'The wallet is failed rather than stored incomplete';

/** 128 bits of sha256 as base64: collisions are out of reach even at a million pages. */
function digest(update: (hash: ReturnType<typeof createHash>) => void): string {
  const hash = createHash('sha256');
  update(hash);
  return hash.digest('base64').slice(0, 22);
}

/** Digest of a page's rows as parsed JSON, in order; the same rows give the same digest whatever the whitespace. */
export function pageDigest(rows: readonly unknown[]): string {
  return digest((hash) => {
    for (const row of rows) hash.update(JSON.stringify(row) ?? 'undefined').update('\n');
  });
}

/** True when every row carries the same `timestamp` (one block), so identical pages may be twin fills. */
function withinOneBlock(rows: readonly unknown[]): boolean {
  const first = timestampOf(rows[0]);
  return first !== undefined && rows.every((row) => timestampOf(row) === first);
}

function timestampOf(row: unknown): unknown {
  return typeof row === 'object' && row !== null ? (row as { timestamp?: unknown }).timestamp : undefined;
}

const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;

export interface NextPage {
  /** The next cursor the page hands out; null, undefined or '' at the end. */
  nextCursor: string | null | undefined;
  /** The page's `has_more`, where the envelope has one. */
  hasMore?: boolean;
  /** How many of the page's items were new to this walk. */
  added: number;
}

export class PageGuard {
  readonly #limit: number;
  readonly #maxPages: number;
  readonly #maxIdlePages: number;
  readonly #cap: { describe: string; hint: string };
  readonly #item: string;
  readonly #repeatedPages: boolean;
  readonly #consequence: string;
  /** Page digest → the first page that had it. Empty pages are left out: the idle streak handles them. */
  readonly #pages = new Map<string, number>();
  readonly #cursors = new Set<string>();
  #idle = 0;
  #items = 0;

  constructor(options: PageGuardOptions) {
    if (!Number.isSafeInteger(options.maxPages) || options.maxPages < 1 || options.maxPages > MAX_MAX_PAGES_PER_WALLET) {
      throw new RangeError(`maxPages must be an integer from 1 to ${MAX_MAX_PAGES_PER_WALLET}, got ${String(options.maxPages)}`);
    }
    const maxIdlePages = options.maxIdlePages ?? DEFAULT_MAX_IDLE_PAGES;
    if (!Number.isSafeInteger(maxIdlePages) || maxIdlePages < 1) {
      throw new RangeError(`maxIdlePages must be a whole number >= 1, got ${String(maxIdlePages)}`);
    }
    this.#limit = options.limit;
    this.#maxPages = options.maxPages;
    this.#maxIdlePages = maxIdlePages;
    this.#item = options.item ?? 'row';
    this.#repeatedPages = options.repeatedPages ?? false;
    this.#consequence = options.consequence ?? WALLET_CONSEQUENCE;
    const fills = (options.maxPages * options.limit).toLocaleString('en-US');
    this.#cap = options.cap ?? {
      describe: `the cap per wallet (--max-pages-per-wallet ${options.maxPages}, i.e. ${fills} fills at ${options.limit} per page)`,
      hint:
        'If it really has more fills, raise --max-pages-per-wallet ' +
        `(maxPagesPerWallet), up to ${MAX_MAX_PAGES_PER_WALLET.toLocaleString('en-US')}`,
    };
  }

  #hint(advice: string): string {
    return `${this.#consequence}; ${advice}`;
  }

  /**
   * Checks page `page` as it came, before any of its rows is used: its raw rows (parsed, before any
   * normalisation), the next cursor it hands out (null at the end) and the page size it says it serves
   * (`pagination.limit`, else the limit asked for). `shown` is the redacted request.
   */
  check(page: number, rows: readonly unknown[], nextCursor: string | null | undefined, shown: string, pageSize?: number): void {
    const cursorKey = nextCursor ? digest((hash) => hash.update(nextCursor)) : undefined;
    if (nextCursor && cursorKey !== undefined && this.#cursors.has(cursorKey)) {
      throw new PagingStalledError(
        `GET ${shown} (page ${page}) returned a next_cursor already followed (${nextCursor.slice(0, 40)}…); stopping instead of looping`,
        { pages: page, hint: this.#hint('retry later, and report it if it persists') },
      );
    }
    this.#checkRows(page, rows, shown, pageSize ?? this.#limit);
    if (cursorKey === undefined) return;
    if (page >= this.#maxPages) {
      throw new PagingStalledError(
        `GET ${shown} (page ${page}) still has a next_cursor after ${this.#maxPages} pages, ${this.#cap.describe}; the walk stops there`,
        { pages: page, hint: this.#hint(this.#cap.hint) },
      );
    }
    this.#cursors.add(cursorKey);
  }

  /**
   * After page `page`'s rows were taken, `added` of them new to this walk: the cursor to follow next,
   * or undefined at the end of the walk. Throws on `has_more` without a cursor, and once
   * `maxIdlePages` pages in a row added nothing while still handing out a cursor.
   */
  next(page: number, shown: string, { nextCursor, hasMore, added }: NextPage): string | undefined {
    this.#items += added;
    if (nextCursor === null || nextCursor === undefined || nextCursor === '') {
      if (hasMore === true) {
        throw new PaginationError(`GET ${shown} (page ${page}) says has_more=true but gives no next_cursor; the walk cannot continue`, {
          kind: 'permanent',
          hint: this.#hint('retry later'),
        });
      }
      return undefined;
    }
    this.#idle = added > 0 ? 0 : this.#idle + 1;
    if (this.#idle >= this.#maxIdlePages) {
      throw new PagingStalledError(
        `GET ${shown} (page ${page}): ${this.#idle} pages in a row added no new ${this.#item} yet still handed out a fresh next_cursor ` +
          `(${plural(this.#items, this.#item)} in ${plural(page, 'page')}); the server is paging without progress, stopping instead of looping`,
        { pages: page, hint: this.#hint('retry later, and report it if it persists') },
      );
    }
    return nextCursor;
  }

  #checkRows(page: number, rows: readonly unknown[], shown: string, pageSize: number): void {
    if (rows.length > this.#limit) {
      throw new PaginationError(
        `GET ${shown} (page ${page}) returned ${rows.length} rows, more than the limit of ${this.#limit} asked for; ` +
          'a server that ignores the page size cannot be trusted to page the rest without gaps or repeats',
        { kind: 'permanent', hint: this.#hint('report it if it persists') },
      );
    }
    if (!this.#repeatedPages || rows.length === 0) return;
    const key = pageDigest(rows);
    const earlier = this.#pages.get(key);
    if (earlier !== undefined && !(rows.length === pageSize && withinOneBlock(rows))) {
      throw new PaginationError(
        `GET ${shown} (page ${page}) returned the same ${rows.length} row(s) as page ${earlier}, under a new cursor; ` +
          'storing them would count the same fills twice (identical rows are otherwise kept as separate twin fills)',
        {
          kind: 'permanent',
          hint: this.#hint('older Data API routes repeat pages past an offset cap — report it if it persists'),
        },
      );
    }
    if (earlier === undefined) this.#pages.set(key, page);
  }
}
