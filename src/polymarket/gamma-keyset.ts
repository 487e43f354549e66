/**
 * Gamma keyset listings, `GET /markets/keyset` and `GET /events/keyset`: the same filters as the legacy listings,
 * paged by `after_cursor` = the previous page's `next_cursor`, which is "present only when the number of returned
 * rows equals the effective limit". The walk follows `next_cursor` until it is absent and never stops on a short
 * page: the server clamps `limit` (documented 500, seen clamped to 100), so a page can be shorter than asked and
 * still not be the last.
 */
import { redactUrl } from './redact-url.js';
import { z } from 'zod';
import type { HttpClient, SourceLogger } from './http-client.js';
import { eventIdOf } from './event-rows.js';
import { UnexpectedResponseError } from './http-errors.js';
import { marketConditionId } from './market-rows.js';
import { DEFAULT_MAX_IDLE_PAGES, PageGuard } from './page-guard.js';

export type GammaKind = 'markets' | 'events';

/** Asked per keyset page; above any id batch, so one page normally answers a batch. */
export const KEYSET_PAGE_LIMIT = 100;

const pageSchemas = {
  markets: z.object({ markets: z.array(z.unknown()), next_cursor: z.string().nullish() }),
  events: z.object({ events: z.array(z.unknown()), next_cursor: z.string().nullish() }),
};

function gammaUrl(base: string, path: string): URL {
  return new URL(`${base.replace(/\/+$/, '')}${path}`);
}

/** The keyset URL for one batch, one `closed` value and one page (`afterCursor` absent on the first). */
export function keysetUrl(
  gammaApiUrl: string,
  kind: GammaKind,
  ids: readonly string[],
  closed: boolean,
  afterCursor?: string,
): URL {
  const url = gammaUrl(gammaApiUrl, `/${kind}/keyset`);
  for (const id of ids) url.searchParams.append(kind === 'markets' ? 'condition_ids' : 'id', id);
  url.searchParams.set('closed', String(closed));
  url.searchParams.set('limit', String(KEYSET_PAGE_LIMIT));
  // As on the legacy listings: tags are only served on request; events come with their nested markets, whose
  // condition ids name the event's members.
  if (kind === 'markets') url.searchParams.set('include_tag', 'true');
  else url.searchParams.set('include_markets', 'true');
  if (afterCursor !== undefined) url.searchParams.set('after_cursor', afterCursor);
  return url;
}

function describeBody(body: unknown): string {
  if (body === null) return 'null';
  if (Array.isArray(body)) return 'an array';
  if (typeof body === 'object') return `an object with keys ${Object.keys(body).slice(0, 5).join(', ') || '(none)'}`;
  return `a ${typeof body}`;
}

/** The request as shown in messages: the redacted URL without its id list (up to 50 ids, 3 KB), which is counted instead. */
export function keysetRequestShown(url: URL, kind: GammaKind): string {
  const idParameter = kind === 'markets' ? 'condition_ids' : 'id';
  const ids = url.searchParams.getAll(idParameter).length;
  const short = new URL(url);
  short.searchParams.delete(idParameter);
  return `${redactUrl(short)} (${ids} ${idParameter})`;
}

/**
 * Every row of a keyset walk for one batch. Stops early (with a warning) when the walk returns more rows than
 * ids were asked for plus one page: Gamma serves an unfiltered listing when it ignores a filter, and such a walk
 * would page through all of Gamma; the caller ignores rows it did not ask for anyway. Every page goes through the
 * PageGuard: a repeated cursor, pages that bring no id not seen before while still handing out a cursor, or more
 * pages than a batch can need fail the batch's look-up.
 */
export async function keysetRows(
  http: HttpClient,
  gammaApiUrl: string,
  kind: GammaKind,
  endpointKey: string,
  ids: readonly string[],
  closed: boolean,
  signal: AbortSignal | undefined,
  logger?: SourceLogger,
): Promise<unknown[]> {
  const idOf = kind === 'markets' ? marketConditionId : eventIdOf;
  // One page normally answers a batch; even at one row a page, the ids asked for and the rows past them that
  // stop the walk fit within this many pages.
  const maxPages = ids.length + KEYSET_PAGE_LIMIT + DEFAULT_MAX_IDLE_PAGES;
  const guard = new PageGuard({
    limit: KEYSET_PAGE_LIMIT,
    maxPages,
    item: kind === 'markets' ? 'market' : 'event',
    cap: {
      describe: `more than a batch of ${ids.length} id(s) can need at up to ${KEYSET_PAGE_LIMIT} rows a page`,
      hint: 'report it if it persists',
    },
    consequence: `The Gamma ${kind} look-up of this batch cannot finish, so the wallets waiting on it are failed rather than stored without their ${kind}`,
  });
  const rows: unknown[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let pageNumber = 1; ; pageNumber += 1) {
    const url = keysetUrl(gammaApiUrl, kind, ids, closed, cursor);
    const shown = keysetRequestShown(url, kind);
    const body = await http.getJson(url, endpointKey, signal);
    const parsed = pageSchemas[kind].safeParse(body);
    if (!parsed.success) {
      throw new UnexpectedResponseError(
        `GET ${shown} returned ${describeBody(body)}, not the keyset page { ${kind}: [...], next_cursor? } Gamma documents`,
        { hint: 'The Gamma keyset response changed shape; report it' },
      );
    }
    const page = parsed.data;
    const pageRows = 'markets' in page ? page.markets : page.events;
    guard.check(pageNumber, pageRows, page.next_cursor, shown);
    let added = 0;
    for (const row of pageRows) {
      const id = idOf(row);
      if (id === null || seen.has(id)) continue;
      seen.add(id);
      added += 1;
    }
    rows.push(...pageRows);
    const next = guard.next(pageNumber, shown, { nextCursor: page.next_cursor, added });
    if (next === undefined) return rows;
    if (rows.length > ids.length + KEYSET_PAGE_LIMIT) {
      logger?.warn(
        { url: shown, rows: rows.length, ids: ids.length },
        `Gamma /${kind}/keyset kept paging past the ids asked for (filter ignored?); stopped the walk`,
      );
      return rows;
    }
    cursor = next;
  }
}
