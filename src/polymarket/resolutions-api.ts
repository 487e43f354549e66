/**
 * Market resolutions from Data API v2, `GET /v2/resolutions?condition=a,b,…` in batches of at most 20 distinct
 * condition ids (the documented cap). Combo and malformed ids are never sent (the route answers them with a 400
 * that would fail the whole batch); ids the API has no row for come back as unresolved, with the reason.
 */
import { z } from 'zod';
import { InvalidInputError } from '../lib/errors.js';
import { abortReason } from '../lib/sleep.js';
import { summarizeIssues } from './data-api.js';
import type { HttpClient } from './http-client.js';
import { UnexpectedResponseError } from './http-errors.js';
import type { ResolutionRecord } from './records.js';
import { redactUrl } from './redact-url.js';

export const DATA_RESOLUTIONS_KEY = 'data:resolutions';

/** Documented: at most 20 distinct values per selector. */
export const RESOLUTIONS_MAX_BATCH = 20;

export const UNRESOLVED_NOT_A_MARKET = 'combo or malformed condition id — not a market the resolutions API knows';
export const UNRESOLVED_NO_RESOLUTION = 'no row from /v2/resolutions';

const CONDITION_ID = /^0x[0-9a-f]{64}$/;

const envelopeSchema = z.object({ data: z.array(z.unknown()).nullable() });

const isoSchema = z.string().refine((text) => !Number.isNaN(Date.parse(text)), 'expected an RFC 3339 time');

const rowSchema = z.object({
  condition_id: z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected 0x followed by 64 hex digits'),
  status: z.string().min(1, 'expected a status'),
  was_disputed: z.boolean(),
  payouts: z.array(z.number().int().nonnegative('expected micro-USDC >= 0')).nullish(),
  resolved_at: isoSchema.nullish(),
  resolved_block: z.number().int().positive().nullish(),
  market_type: z.string().nullish(),
  resolution_source: z.string().nullish(),
  reporter: z.string().nullish(),
});

export interface ResolutionLookup {
  resolutions: ResolutionRecord[];
  unresolved: { id: string; reason: string }[];
}

export interface ResolutionLookupOptions {
  signal?: AbortSignal;
  /** Ids per request, 1 to 20 (the default). */
  batchSize?: number;
  /** Clock for `fetched_at`. */
  now?: () => Date;
}

/** The outcome paid in full while every other pays nothing; null for a split payout (50/50) or none yet. */
export function payoutWinner(payouts: readonly number[] | null): number | null {
  if (!payouts || payouts.length === 0) return null;
  const paying = payouts.flatMap((payout, index) => (payout > 0 ? [index] : []));
  return paying.length === 1 ? (paying[0] ?? null) : null;
}

function normalizeResolution(raw: unknown, asked: ReadonlySet<string>, shown: string, fetchedAt: string): ResolutionRecord {
  const parsed = rowSchema.safeParse(raw);
  if (!parsed.success) {
    const id = typeof raw === 'object' && raw !== null ? (raw as { condition_id?: unknown }).condition_id : undefined;
    throw new InvalidInputError(`GET ${shown} returned a resolution row for ${JSON.stringify(id) ?? '(no condition_id)'} that cannot be used: ${summarizeIssues(parsed.error)}`, {
      hint: 'The markets of this batch are left unresolved and asked again later; if it repeats, the Data API changed shape',
    });
  }
  const row = parsed.data;
  const conditionId = row.condition_id.toLowerCase();
  if (!asked.has(conditionId)) {
    throw new InvalidInputError(`GET ${shown} returned a resolution row for ${conditionId}, which was not asked for`, {
      hint: 'The API ignored the condition filter; nothing of this batch is stored',
    });
  }
  const payouts = row.payouts ?? null;
  return {
    condition_id: conditionId,
    status: row.status,
    payouts,
    winning_outcome_index: row.status === 'resolved' ? payoutWinner(payouts) : null,
    resolved_at: row.resolved_at ? new Date(Date.parse(row.resolved_at)).toISOString() : null,
    resolved_block: row.resolved_block ?? null,
    market_type: row.market_type ?? null,
    was_disputed: row.was_disputed,
    resolution_source: row.resolution_source ?? null,
    reporter: row.reporter ?? null,
    raw: JSON.stringify(raw),
    fetched_at: fetchedAt,
  };
}

/** Resolution rows for these condition ids (deduplicated, lower-cased), batch by batch. */
export async function lookupResolutions(
  http: HttpClient,
  dataApiUrl: string,
  conditionIds: readonly string[],
  options: ResolutionLookupOptions = {},
): Promise<ResolutionLookup> {
  const batchSize = options.batchSize ?? RESOLUTIONS_MAX_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > RESOLUTIONS_MAX_BATCH) {
    throw new RangeError(`resolutions batch size must be an integer from 1 to ${RESOLUTIONS_MAX_BATCH}, got ${String(batchSize)}`);
  }
  const now = options.now ?? (() => new Date());
  const unresolved: ResolutionLookup['unresolved'] = [];
  const ids: string[] = [];
  for (const id of new Set(conditionIds.map((value) => value.trim().toLowerCase()))) {
    if (CONDITION_ID.test(id)) ids.push(id);
    else unresolved.push({ id, reason: UNRESOLVED_NOT_A_MARKET });
  }
  const resolutions: ResolutionRecord[] = [];
  for (let offset = 0; offset < ids.length; offset += batchSize) {
    if (options.signal?.aborted) throw abortReason(options.signal);
    const batch = ids.slice(offset, offset + batchSize);
    const url = new URL(`${dataApiUrl.replace(/\/+$/, '')}/v2/resolutions`);
    url.searchParams.set('condition', batch.join(','));
    const shown = redactUrl(url);
    const envelope = envelopeSchema.safeParse(await http.getJson(url, DATA_RESOLUTIONS_KEY, options.signal));
    if (!envelope.success) {
      throw new UnexpectedResponseError(`GET ${shown} returned JSON without the v2 {data} envelope (${summarizeIssues(envelope.error)})`, {
        hint: 'The Data API v2 response changed shape; report it',
      });
    }
    const asked = new Set(batch);
    const fetchedAt = now().toISOString();
    const found = new Map<string, ResolutionRecord>();
    // A condition answers one row; should the API ever send more, the last wins rather than storing two.
    for (const raw of envelope.data.data ?? []) {
      const record = normalizeResolution(raw, asked, shown, fetchedAt);
      found.set(record.condition_id, record);
    }
    for (const id of batch) {
      const record = found.get(id);
      if (record) resolutions.push(record);
      else unresolved.push({ id, reason: UNRESOLVED_NO_RESOLUTION });
    }
  }
  return { resolutions, unresolved };
}
