/**
 * What a cursor walk must not accept from the server, checked page by page:
 * - a page longer than the limit asked for: the server is not paging as documented, so what it
 *   serves next cannot be trusted to line up with what it served;
 * - a page whose rows equal an earlier page's under a new cursor: older routes repeat a page past an
 *   offset cap, and since identical rows in one transaction are kept as twin fills, a repeated page
 *   would silently inflate the wallet's fills. The one legitimate way to get an identical page is a
 *   full page that lies entirely inside one block, made of twin fills: rows come newest first, so a
 *   later page equal to an earlier one means the earlier page's newest and oldest rows share a
 *   timestamp, and only the last page of a walk may be short, so it cannot equal an earlier one.
 *   Such pages are let through (at 1000 rows a page that takes 2000 identical fills in one
 *   transaction; a server repeating one without end still meets the page cap);
 * - a cursor already followed, and a walk that still has a cursor after the page cap.
 * Each fails the wallet (permanent) rather than storing a history that may be wrong.
 *
 * Memory is one 128-bit digest per page and per cursor, and the page cap bounds both: at the default
 * 20 000 pages that is a few MB for a wallet of 20 M fills, never the cursors or rows themselves.
 */
import { createHash } from 'node:crypto';
import { PaginationError } from './http-errors.js';
import { MAX_MAX_PAGES_PER_WALLET } from './source-limits.js';

export interface PageGuardOptions {
  /** Rows per page the walk asks for. */
  limit: number;
  /** Pages after which a walk that still has a next cursor fails. */
  maxPages: number;
}

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

export class PageGuard {
  readonly #limit: number;
  readonly #maxPages: number;
  /** Page digest → the first page that had it. Empty pages are left out: the empty-page streak handles them. */
  readonly #pages = new Map<string, number>();
  readonly #cursors = new Set<string>();

  constructor(options: PageGuardOptions) {
    if (!Number.isSafeInteger(options.maxPages) || options.maxPages < 1 || options.maxPages > MAX_MAX_PAGES_PER_WALLET) {
      throw new RangeError(`maxPages must be an integer from 1 to ${MAX_MAX_PAGES_PER_WALLET}, got ${String(options.maxPages)}`);
    }
    this.#limit = options.limit;
    this.#maxPages = options.maxPages;
  }

  /**
   * Checks page `page` as it came: its raw rows (parsed, before any normalisation), the next cursor
   * it hands out (null at the end) and the page size it says it serves (`pagination.limit`, else the
   * limit asked for). `shown` is the redacted request URL.
   */
  check(page: number, rows: readonly unknown[], nextCursor: string | null | undefined, shown: string, pageSize?: number): void {
    const cursorKey = nextCursor ? digest((hash) => hash.update(nextCursor)) : undefined;
    if (nextCursor && cursorKey !== undefined && this.#cursors.has(cursorKey)) {
      throw new PaginationError(
        `GET ${shown} (page ${page}) returned a next_cursor already followed (${nextCursor.slice(0, 40)}…); stopping instead of looping`,
        { kind: 'permanent', hint: 'The wallet is failed rather than stored incomplete; retry it later' },
      );
    }
    this.#checkRows(page, rows, shown, pageSize ?? this.#limit);
    if (cursorKey === undefined) return;
    if (page >= this.#maxPages) {
      const fills = (this.#maxPages * this.#limit).toLocaleString('en-US');
      throw new PaginationError(
        `GET ${shown} (page ${page}) still has a next_cursor after ${this.#maxPages} pages, the cap per wallet ` +
          `(--max-pages-per-wallet ${this.#maxPages}, i.e. ${fills} fills at ${this.#limit} per page); the walk stops there`,
        {
          kind: 'permanent',
          hint:
            'The wallet is failed rather than stored incomplete. If it really has more fills, raise --max-pages-per-wallet ' +
            `(maxPagesPerWallet), up to ${MAX_MAX_PAGES_PER_WALLET.toLocaleString('en-US')}`,
        },
      );
    }
    this.#cursors.add(cursorKey);
  }

  #checkRows(page: number, rows: readonly unknown[], shown: string, pageSize: number): void {
    if (rows.length > this.#limit) {
      throw new PaginationError(
        `GET ${shown} (page ${page}) returned ${rows.length} rows, more than the limit of ${this.#limit} asked for; ` +
          'a server that ignores the page size cannot be trusted to page the rest without gaps or repeats',
        { kind: 'permanent', hint: 'The wallet is failed rather than stored with rows missing or repeated; report it if it persists' },
      );
    }
    if (rows.length === 0) return;
    const key = pageDigest(rows);
    const earlier = this.#pages.get(key);
    if (earlier !== undefined && !(rows.length === pageSize && withinOneBlock(rows))) {
      throw new PaginationError(
        `GET ${shown} (page ${page}) returned the same ${rows.length} row(s) as page ${earlier}, under a new cursor; ` +
          'storing them would count the same fills twice (identical rows are otherwise kept as separate twin fills)',
        {
          kind: 'permanent',
          hint: 'The wallet is failed rather than stored with inflated fills; older Data API routes repeat pages past an offset cap — report it if it persists',
        },
      );
    }
    if (earlier === undefined) this.#pages.set(key, page);
  }
}
