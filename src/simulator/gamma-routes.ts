/**
 * Gamma `GET /markets`, `GET /events` (bare JSON arrays, offset paging) and `GET /markets/keyset`,
 * `GET /events/keyset` (`{ markets | events, next_cursor? }`, cursor paging), with the same filters and the
 * implicit `closed=false` trap on all four. Keyset walks go by ascending id; `next_cursor` is present only when a
 * page is full, as documented, so a client that stops on a short page is right here but only by luck.
 */
import type { Dataset } from './dataset.js';
import type { SimResponse } from './http.js';
import { gammaError, json, listParam, param, parseBool, parseNonNegativeInt } from './http.js';

export const GAMMA_DEFAULT_LIMIT = 20;
export const GAMMA_MAX_LIMIT = 100;
/** Keyset pages are clamped to this (the events keyset spec says 500; the server has been seen to clamp at 100). */
export const KEYSET_MAX_LIMIT = 100;
export const MAX_CONDITION_IDS = 100;

const CONDITION_ID = /^0x[0-9a-fA-F]{64}$/;

type Kind = 'markets' | 'events';

interface Filters {
  closed: boolean;
  /** `include_markets=false` drops the nested markets of events (undocumented, applied by the live server). */
  includeMarkets: boolean;
}

function filters(query: URLSearchParams): Filters | SimResponse {
  // Live Gamma treats a missing `closed` as `closed=false`, silently dropping resolved markets.
  const closed = parseBool(param(query, 'closed'));
  if (closed === undefined) return gammaError(422, 'closed must be true or false');
  const includeMarkets = parseBool(param(query, 'include_markets'));
  if (includeMarkets === undefined) return gammaError(422, 'include_markets must be true or false');
  // Accepted and validated; tags are served as generated (30 % of markets carry them) whatever is asked.
  if (parseBool(param(query, 'include_tag')) === undefined) return gammaError(422, 'include_tag must be true or false');
  return { closed: closed ?? false, includeMarkets: includeMarkets ?? true };
}

/** The requested ids (or every item), in ascending index order, that pass the filters. */
function matching(query: URLSearchParams, kind: Kind, dataset: Dataset, f: Filters): Iterable<number> | SimResponse {
  const { universe } = dataset;
  let ids: string[];
  let find: (id: string) => number | undefined;
  let eventOf: (item: number) => number;
  let count: number;
  if (kind === 'markets') {
    ids = listParam(query, 'condition_ids', 'condition_ids[]');
    if (ids.length > MAX_CONDITION_IDS) return gammaError(400, 'too many condition_ids');
    // Combo ids (62 hex) are not markets; the live API rejects them rather than ignoring them.
    const bad = ids.find((id) => !CONDITION_ID.test(id));
    if (bad !== undefined) return gammaError(400, `invalid condition id: ${bad}`);
    find = (id) => universe.findMarket(id);
    eventOf = (m) => universe.eventOf(m);
    count = universe.marketCount;
  } else {
    ids = listParam(query, 'id', 'id[]');
    const bad = ids.find((id) => !/^\d{1,15}$/.test(id));
    if (bad !== undefined) return gammaError(422, `invalid id: ${bad}`);
    find = (id) => universe.findEvent(id);
    eventOf = (e) => e;
    count = universe.eventCount;
  }
  const keep = (item: number): boolean => {
    const event = universe.eventCore(eventOf(item));
    return !event.ghost && event.closed === f.closed;
  };
  if (ids.length > 0) {
    const found = new Set<number>();
    for (const id of ids) {
      const item = find(id);
      if (item !== undefined) found.add(item);
    }
    return [...found].sort((a, b) => a - b).filter(keep);
  }
  return (function* all() {
    for (let i = 0; i < count; i += 1) if (keep(i)) yield i;
  })();
}

function render(kind: Kind, dataset: Dataset, item: number, f: Filters): Record<string, unknown> {
  if (kind === 'markets') return dataset.universe.marketJson(item, true);
  const event = dataset.universe.eventJson(item);
  if (!f.includeMarkets) delete event.markets;
  return event;
}

function legacy(kind: Kind, query: URLSearchParams, dataset: Dataset): SimResponse {
  const f = filters(query);
  if ('status' in f) return f;
  const limitParam = parseNonNegativeInt(param(query, 'limit'));
  if (limitParam === undefined) return gammaError(422, 'limit must be a non-negative integer');
  const offset = parseNonNegativeInt(param(query, 'offset'));
  if (offset === undefined) return gammaError(422, 'offset must be a non-negative integer');
  const items = matching(query, kind, dataset, f);
  if ('status' in items) return items;
  const limit = Math.min(GAMMA_MAX_LIMIT, limitParam ?? GAMMA_DEFAULT_LIMIT);
  const out: number[] = [];
  let skipped = 0;
  if (limit > 0) {
    for (const item of items) {
      if (skipped < (offset ?? 0)) {
        skipped += 1;
        continue;
      }
      out.push(item);
      if (out.length >= limit) break;
    }
  }
  return json(200, out.map((item) => render(kind, dataset, item, f)));
}

/** Keyset cursors: opaque base64url of the last index served. */
function encodeAfter(kind: Kind, item: number): string {
  return Buffer.from(JSON.stringify({ k: kind, after: item })).toString('base64url');
}

function decodeAfter(kind: Kind, text: string): number | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as { k?: unknown; after?: unknown };
    return parsed.k === kind && Number.isSafeInteger(parsed.after) && (parsed.after as number) >= 0
      ? (parsed.after as number)
      : undefined;
  } catch {
    return undefined;
  }
}

function keyset(kind: Kind, query: URLSearchParams, dataset: Dataset): SimResponse {
  if (query.has('offset')) return gammaError(422, 'offset is not allowed on keyset endpoints');
  const f = filters(query);
  if ('status' in f) return f;
  const limitParam = parseNonNegativeInt(param(query, 'limit'));
  if (limitParam === undefined || limitParam === 0) return gammaError(422, 'limit must be a positive integer');
  const limit = Math.min(KEYSET_MAX_LIMIT, limitParam ?? GAMMA_DEFAULT_LIMIT);
  const cursorText = param(query, 'after_cursor');
  let after = -1;
  if (cursorText !== null && cursorText !== '') {
    const decoded = decodeAfter(kind, cursorText);
    if (decoded === undefined) return gammaError(422, 'invalid after_cursor');
    after = decoded;
  }
  const items = matching(query, kind, dataset, f);
  if ('status' in items) return items;
  const out: number[] = [];
  for (const item of items) {
    if (item <= after) continue;
    out.push(item);
    if (out.length >= limit) break;
  }
  const body: Record<string, unknown> = { [kind]: out.map((item) => render(kind, dataset, item, f)) };
  const last = out[out.length - 1];
  if (out.length === limit && last !== undefined) body.next_cursor = encodeAfter(kind, last);
  return json(200, body);
}

export const handleMarkets = (query: URLSearchParams, dataset: Dataset): SimResponse => legacy('markets', query, dataset);
export const handleEvents = (query: URLSearchParams, dataset: Dataset): SimResponse => legacy('events', query, dataset);
export const handleMarketsKeyset = (query: URLSearchParams, dataset: Dataset): SimResponse =>
  keyset('markets', query, dataset);
export const handleEventsKeyset = (query: URLSearchParams, dataset: Dataset): SimResponse =>
  keyset('events', query, dataset);

/** The legacy listings after their retirement. */
export function legacyGone(): SimResponse {
  return json(410, { type: 'gone error', error: 'this listing is retired; use /markets/keyset or /events/keyset' });
}

/** The keyset routes on a Gamma that predates them. */
export function keysetMissing(): SimResponse {
  return json(404, { type: 'not found error', error: 'not found' });
}
