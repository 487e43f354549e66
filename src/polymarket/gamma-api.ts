/**
 * Gamma lookups by id, in batches. Each batch is asked twice, with `closed=true` and `closed=false`:
 * without an explicit `closed` Gamma applies `closed=false` and silently drops closed markets. The
 * keyset listings answer by default, the legacy ones when keyset is not there (gamma-listing.ts); on
 * legacy an explicit `limit` covers the batch because Gamma's default page is smaller than a batch.
 */
import { abortReason } from '../lib/sleep.js';
import type { HttpClient, SourceLogger } from './http-client.js';
import { eventIdOf, normalizeEvent } from './event-rows.js';
import type { GammaKind } from './gamma-keyset.js';
import { GammaListing } from './gamma-listing.js';
import { linkedSignal } from './linked-signal.js';
import { marketConditionId, normalizeMarket } from './market-rows.js';
import { redactUrl } from './redact-url.js';
import type { EventLookup, MarketLookup } from './source.js';

export const GAMMA_MARKETS_KEY = 'gamma:markets';
export const GAMMA_EVENTS_KEY = 'gamma:events';

/** Ids per request; URLs past ~8 KB get 414, and 50 condition ids is a size seen to work live. */
export const GAMMA_MAX_BATCH = 50;

/**
 * Event ids per request at most, whatever the batch size: events come with their nested markets, and a large neg-risk
 * event nests hundreds of KB of them; 20 of the largest stay well under the 32 MiB response cap, 50 might not.
 */
export const GAMMA_EVENTS_MAX_BATCH = 20;

export const UNRESOLVED_COMBO = 'combo or malformed condition id — not a Gamma market';
export const UNRESOLVED_UNKNOWN = 'unknown to Gamma';
export const UNRESOLVED_BAD_EVENT_ID = 'malformed event id — Gamma event ids are numeric';

/** Whether asking again may find an id a look-up missed: ids never sent to Gamma (combo, malformed) cannot be. */
export function mayResolveLater(reason: string): boolean {
  return reason !== UNRESOLVED_COMBO && reason !== UNRESOLVED_BAD_EVENT_ID;
}

const CONDITION_ID = /^0x[0-9a-f]{64}$/;
const EVENT_ID = /^\d+$/;

export interface GammaLookupOptions {
  signal?: AbortSignal;
  /** Ids per request, at most 50. */
  batchSize?: number;
  /** Batches fetched at once; the rate limiter and the in-flight cap bound the actual traffic. */
  concurrency?: number;
  now?: () => Date;
  logger?: SourceLogger;
  /** The listing choice to use and update; a source keeps one per kind for its lifetime. Default: a new one. */
  listing?: GammaListing;
}

function batchSizeOf(options: GammaLookupOptions): number {
  const size = options.batchSize ?? GAMMA_MAX_BATCH;
  if (!Number.isInteger(size) || size < 1 || size > GAMMA_MAX_BATCH) {
    throw new RangeError(`Gamma batch size must be an integer from 1 to ${GAMMA_MAX_BATCH}, got ${String(size)}`);
  }
  return size;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let index = 0; index < items.length; index += size) chunks.push(items.slice(index, index + size));
  return chunks;
}

/** Runs `fn` over `items`, `concurrency` at a time; the first failure aborts the rest and is thrown. */
async function forEachConcurrent<T>(
  items: readonly T[],
  concurrency: number,
  signal: AbortSignal | undefined,
  fn: (item: T, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  if (signal?.aborted) throw abortReason(signal);
  const { controller, dispose } = linkedSignal(signal);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !controller.signal.aborted) {
      const item = items[next] as T;
      next += 1;
      try {
        await fn(item, controller.signal);
      } catch (error) {
        failure ??= { error };
        controller.abort(error);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  } finally {
    dispose();
  }
  if (signal?.aborted) throw abortReason(signal);
  if (failure) throw failure.error;
}

/** The keyset-first listing for `kind`, falling back to the legacy URLs below. */
export function createGammaListing(http: HttpClient, gammaApiUrl: string, kind: GammaKind, logger?: SourceLogger): GammaListing {
  const legacyUrl = kind === 'markets' ? marketsUrl : eventsUrl;
  const endpointKey = kind === 'markets' ? GAMMA_MARKETS_KEY : GAMMA_EVENTS_KEY;
  return new GammaListing({
    http,
    gammaApiUrl,
    kind,
    endpointKey,
    logger,
    legacy: async (ids, closed, signal) => {
      const url = legacyUrl(gammaApiUrl, ids, closed);
      return { url: redactUrl(url), body: await http.getJson(url, endpointKey, signal) };
    },
  });
}

function gammaUrl(base: string, path: string): URL {
  return new URL(`${base.replace(/\/+$/, '')}${path}`);
}

/** The `/markets` URL for one batch and one `closed` value. */
export function marketsUrl(gammaApiUrl: string, conditionIds: readonly string[], closed: boolean): URL {
  const url = gammaUrl(gammaApiUrl, '/markets');
  for (const id of conditionIds) url.searchParams.append('condition_ids', id);
  url.searchParams.set('closed', String(closed));
  url.searchParams.set('limit', String(conditionIds.length));
  // Tags are only served on request; the markets table keeps them.
  url.searchParams.set('include_tag', 'true');
  return url;
}

/** The `/events` URL for one batch and one `closed` value. */
export function eventsUrl(gammaApiUrl: string, eventIds: readonly string[], closed: boolean): URL {
  const url = gammaUrl(gammaApiUrl, '/events');
  for (const id of eventIds) url.searchParams.append('id', id);
  url.searchParams.set('closed', String(closed));
  url.searchParams.set('limit', String(eventIds.length));
  // The nested markets name the event's members (event-rows.ts market_ids). Omitted is the same as true
  // (gamma-OBSERVED.md); sent explicitly so the request says which it is.
  url.searchParams.set('include_markets', 'true');
  return url;
}

/** How one Gamma kind is looked up: id normalisation and checks, and its rows' ids and records. */
interface LookupSpec<R extends { closed?: boolean | null }> {
  kind: GammaKind;
  /** Ids per request at most for this kind, below the batch size asked for. */
  maxBatch: number;
  normalizeId(input: string): string;
  /** Ids that fail are never sent: they come back unresolved with `invalidReason`. */
  valid: RegExp;
  invalidReason: string;
  idOf(raw: unknown): string | null;
  normalize(raw: unknown, fetchedAt: string): R;
}

/**
 * The look-up both kinds share: distinct valid ids in batches, each batch asked with `closed=true`
 * and `closed=false` (the implicit `closed=false` drops closed ones), rows for ids not asked for
 * dropped (Gamma serves an unfiltered page for a filter it ignores), unknown ids unresolved.
 */
async function lookup<R extends { closed?: boolean | null }>(
  http: HttpClient,
  gammaApiUrl: string,
  ids: readonly string[],
  options: GammaLookupOptions,
  spec: LookupSpec<R>,
): Promise<{ records: R[]; unresolved: { id: string; reason: string }[] }> {
  const batchSize = Math.min(batchSizeOf(options), spec.maxBatch);
  const unresolved: { id: string; reason: string }[] = [];
  const wanted: string[] = [];
  const seen = new Set<string>();
  for (const input of ids) {
    const id = spec.normalizeId(String(input));
    if (seen.has(id)) continue;
    seen.add(id);
    if (spec.valid.test(id)) wanted.push(id);
    else unresolved.push({ id, reason: spec.invalidReason });
  }
  const fetchedAt = (options.now ?? (() => new Date()))().toISOString();
  const found = new Map<string, R>();
  const listing = options.listing ?? createGammaListing(http, gammaApiUrl, spec.kind, options.logger);
  await forEachConcurrent(chunk(wanted, batchSize), options.concurrency ?? 4, options.signal, async (batch, signal) => {
    const requested = new Set(batch);
    const [closedRows, openRows] = await Promise.all([listing.rows(batch, true, signal), listing.rows(batch, false, signal)]);
    let foreign = 0;
    for (const raw of [...closedRows, ...openRows]) {
      const id = spec.idOf(raw);
      if (id === null || !requested.has(id)) {
        foreign += 1;
        continue;
      }
      const record = spec.normalize(raw, fetchedAt);
      const previous = found.get(id);
      // One that closed between the two requests shows in both; the closed copy is the newer state.
      if (!previous || (record.closed === true && previous.closed !== true)) found.set(id, record);
    }
    if (foreign > 0) {
      options.logger?.warn({ foreign, batch: batch.length }, `Gamma returned ${foreign} ${spec.kind} that were not requested (batch of ${batch.length} ids); ignored`);
    }
  });
  for (const id of wanted) if (!found.has(id)) unresolved.push({ id, reason: UNRESOLVED_UNKNOWN });
  return { records: wanted.flatMap((id) => found.get(id) ?? []), unresolved };
}

/** Gamma markets for these condition ids; combo, malformed and unknown ids come back as unresolved. */
export async function lookupMarkets(
  http: HttpClient,
  gammaApiUrl: string,
  conditionIds: readonly string[],
  options: GammaLookupOptions = {},
): Promise<MarketLookup> {
  const { records, unresolved } = await lookup(http, gammaApiUrl, conditionIds, options, {
    kind: 'markets',
    maxBatch: GAMMA_MAX_BATCH,
    normalizeId: (id) => id.trim().toLowerCase(),
    // Combo ids (62 hex) and anything else malformed get `400 invalid condition id` and are never markets.
    valid: CONDITION_ID,
    invalidReason: UNRESOLVED_COMBO,
    idOf: marketConditionId,
    normalize: normalizeMarket,
  });
  return { markets: records, unresolved };
}

/** Gamma events for these numeric ids; malformed and unknown ids come back as unresolved. */
export async function lookupEvents(
  http: HttpClient,
  gammaApiUrl: string,
  eventIds: readonly string[],
  options: GammaLookupOptions = {},
): Promise<EventLookup> {
  const { records, unresolved } = await lookup(http, gammaApiUrl, eventIds, options, {
    kind: 'events',
    maxBatch: GAMMA_EVENTS_MAX_BATCH,
    normalizeId: (id) => id.trim(),
    valid: EVENT_ID,
    invalidReason: UNRESOLVED_BAD_EVENT_ID,
    idOf: eventIdOf,
    normalize: (raw, fetchedAt) => normalizeEvent(raw, fetchedAt, (problem) => options.logger?.warn(problem.details, problem.message)),
  });
  return { events: records, unresolved };
}
