/** Gamma `GET /markets` and `GET /events`: bare JSON arrays, with the implicit `closed=false` trap. */
import type { Dataset } from './dataset.js';
import type { SimResponse } from './http.js';
import { gammaError, json, listParam, param, parseBool, parseNonNegativeInt } from './http.js';

export const GAMMA_DEFAULT_LIMIT = 20;
export const GAMMA_MAX_LIMIT = 100;
export const MAX_CONDITION_IDS = 100;

const CONDITION_ID = /^0x[0-9a-fA-F]{64}$/;

interface Paging {
  closed: boolean;
  limit: number;
  offset: number;
}

function paging(query: URLSearchParams): Paging | SimResponse {
  // Live Gamma treats a missing `closed` as `closed=false`, silently dropping resolved markets.
  const closed = parseBool(param(query, 'closed'));
  if (closed === undefined) return gammaError(422, 'closed must be true or false');
  const limit = parseNonNegativeInt(param(query, 'limit'));
  if (limit === undefined) return gammaError(422, 'limit must be a non-negative integer');
  const offset = parseNonNegativeInt(param(query, 'offset'));
  if (offset === undefined) return gammaError(422, 'offset must be a non-negative integer');
  return {
    closed: closed ?? false,
    limit: Math.min(GAMMA_MAX_LIMIT, limit ?? GAMMA_DEFAULT_LIMIT),
    offset: offset ?? 0,
  };
}

/** Walks candidate indices in order, keeping those that pass, and returns one page of them. */
function page(candidates: Iterable<number>, keep: (index: number) => boolean, p: Paging): number[] {
  const out: number[] = [];
  let skipped = 0;
  if (p.limit === 0) return out;
  for (const index of candidates) {
    if (!keep(index)) continue;
    if (skipped < p.offset) {
      skipped += 1;
      continue;
    }
    out.push(index);
    if (out.length >= p.limit) break;
  }
  return out;
}

function* range(n: number): Iterable<number> {
  for (let i = 0; i < n; i += 1) yield i;
}

export function handleMarkets(query: URLSearchParams, dataset: Dataset): SimResponse {
  const ids = listParam(query, 'condition_ids', 'condition_ids[]');
  if (ids.length > MAX_CONDITION_IDS) return gammaError(400, 'too many condition_ids');
  // Combo ids (62 hex) are not markets; the live API rejects them rather than ignoring them.
  const bad = ids.find((id) => !CONDITION_ID.test(id));
  if (bad !== undefined) return gammaError(400, `invalid condition id: ${bad}`);
  const { universe } = dataset;
  return listing(query, ids, {
    find: (id) => universe.findMarket(id),
    count: universe.marketCount,
    eventOf: (m) => universe.eventOf(m),
    render: (m) => universe.marketJson(m, true),
    universe,
  });
}

export function handleEvents(query: URLSearchParams, dataset: Dataset): SimResponse {
  const ids = listParam(query, 'id', 'id[]');
  const bad = ids.find((id) => !/^\d{1,15}$/.test(id));
  if (bad !== undefined) return gammaError(422, `invalid id: ${bad}`);
  const { universe } = dataset;
  return listing(query, ids, {
    find: (id) => universe.findEvent(id),
    count: universe.eventCount,
    eventOf: (e) => e,
    render: (e) => universe.eventJson(e),
    universe,
  });
}

/** Both Gamma listings: look up the ids (or list everything), drop ghosts, apply `closed` and paging. */
function listing(
  query: URLSearchParams,
  ids: string[],
  kind: {
    find: (id: string) => number | undefined;
    count: number;
    eventOf: (item: number) => number;
    render: (item: number) => unknown;
    universe: Dataset['universe'];
  },
): SimResponse {
  const p = paging(query);
  if ('status' in p) return p;
  let candidates: Iterable<number>;
  if (ids.length > 0) {
    const found = new Set<number>();
    for (const id of ids) {
      const item = kind.find(id);
      if (item !== undefined) found.add(item);
    }
    candidates = [...found].sort((a, b) => a - b);
  } else {
    candidates = range(kind.count);
  }
  const keep = (item: number): boolean => {
    const event = kind.universe.eventCore(kind.eventOf(item));
    return !event.ghost && event.closed === p.closed;
  };
  return json(200, page(candidates, keep, p).map(kind.render));
}
