import { describeError } from '../lib/errors.js';
import type { ResolutionRecord } from '../polymarket/records.js';
import type { ResolutionCandidate } from '../warehouse/warehouse.js';
import type { MarketRefreshDeps } from './market-refresh.js';
import { writeRows } from './wallet-stager.js';

/** A run's step deps (as the market refresh's), and where its files are staged. */
export interface ResolutionsRefreshDeps extends MarketRefreshDeps {
  area: 'backfill' | 'refresh';
}

/** What the end of a run asked `/v2/resolutions`. */
export interface ResolutionsRefreshed {
  /** Held markets, closed or past their end date, without a final resolution. */
  asked: number;
  /** Of those, now resolved (final: not asked again). */
  resolved: number;
  /** The look-up or its load failed: the markets stay candidates, asked by the next run. */
  failed?: string;
}

/** Markets asked per round (20 per request), the longest ended first; rounds follow until none is left. */
export const RESOLUTIONS_PER_ROUND = 2_000;

/** A market awaiting its resolution is asked at most once per this window. */
export const RESOLUTION_ASK_AGAIN_MS = 3_600_000;

/** The status recorded for a market `/v2/resolutions` served no row for: asked again after the window like any other. */
export const NO_RESOLUTION_ROW = 'not_served';

/** A row of `market_resolutions` as staged: payouts as JSON text, the winner's label from the market's outcomes. */
export type StagedResolution = Omit<ResolutionRecord, 'payouts'> & { payouts: string | null; winning_label: string | null };

/** The label of the outcome paid in full (outcomes as Gamma's JSON array text); null for none, a split, or bad labels. */
export function winningLabel(outcomes: string | null, winningIndex: number | null): string | null {
  if (winningIndex === null || outcomes === null) return null;
  try {
    const labels: unknown = JSON.parse(outcomes);
    const label = Array.isArray(labels) ? labels[winningIndex] : undefined;
    return typeof label === 'string' ? label : null;
  } catch {
    return null;
  }
}

export function stagedResolution(record: ResolutionRecord, outcomes: string | null): StagedResolution {
  return {
    ...record,
    payouts: record.payouts === null ? null : JSON.stringify(record.payouts),
    winning_label: record.status === 'resolved' ? winningLabel(outcomes, record.winning_outcome_index) : null,
  };
}

function notServed(id: string, fetchedAt: string): StagedResolution {
  return {
    condition_id: id,
    status: NO_RESOLUTION_ROW,
    payouts: null,
    winning_outcome_index: null,
    winning_label: null,
    resolved_at: null,
    resolved_block: null,
    market_type: null,
    was_disputed: false,
    resolution_source: null,
    reporter: null,
    raw: 'null',
    fetched_at: fetchedAt,
  };
}

/**
 * The end of a run (backfill or refresh): held markets that closed or passed their end date and have no final
 * resolution are asked `/v2/resolutions` (20 ids per request, their own rate bucket), staged as a bundle of no wallet
 * and upserted into `market_resolutions`; a resolved market's `winning_label` then comes from its payouts. A market
 * is asked again by later runs (at most once an hour) until its status is `resolved`. A failure is reported and fails
 * no wallet.
 */
export async function refreshResolutions(
  deps: ResolutionsRefreshDeps,
  now = new Date(),
  onResolved?: (conditionIds: string[]) => Promise<void>,
): Promise<ResolutionsRefreshed | undefined> {
  const total: ResolutionsRefreshed = { asked: 0, resolved: 0 };
  let candidates: ResolutionCandidate[] = [];
  // Each market once per call, whatever the stored rows say (a source clock behind ours dates them as stale).
  const asked = new Set<string>();
  try {
    // Round after round until none is left: each round's markets are stored (fetched now), so the next round's
    // question no longer lists them. A backlog (a first backfill holds thousands of ended markets) is not left for
    // later runs, which the schedule may not bring soon.
    for (;;) {
      candidates = (
        await deps.warehouse.resolutionCandidates({
          now: now.toISOString(),
          recentBefore: new Date(now.getTime() - RESOLUTION_ASK_AGAIN_MS).toISOString(),
          limit: RESOLUTIONS_PER_ROUND,
        })
      ).filter((c) => !asked.has(c.condition_id));
      if (candidates.length === 0) break;
      for (const c of candidates) asked.add(c.condition_id);
      const outcomes = new Map(candidates.map((c) => [c.condition_id, c.outcomes]));
      const lookup = await deps.source.resolutions(candidates.map((c) => c.condition_id), deps.signal);
      const fetchedAt = now.toISOString();
      const rows: StagedResolution[] = [
        ...lookup.resolutions.map((r) => stagedResolution(r, outcomes.get(r.condition_id) ?? null)),
        ...lookup.unresolved.map((u) => notServed(u.id, fetchedAt)),
      ];
      const name = `resolutions-${deps.runId}-${total.asked}`;
      const file = await writeRows(deps.stage, 'resolutions', name, deps.area, rows);
      await deps.warehouse.loadBundles([{ wallet: name, tradeCount: 0, files: { resolutions: file }, metadataOnly: true }]);
      const resolved = lookup.resolutions.filter((r) => r.status === 'resolved').map((r) => r.condition_id);
      if (resolved.length > 0) await onResolved?.(resolved);
      total.asked += candidates.length;
      total.resolved += resolved.length;
      candidates = [];
      if (deps.signal.aborted) break;
    }
    if (total.asked === 0) return undefined;
    deps.events.safeEmit('resolutions:asked', total);
    return total;
  } catch (error) {
    if (deps.signal.aborted) return total.asked > 0 ? total : undefined;
    const result: ResolutionsRefreshed = { ...total, asked: total.asked + candidates.length, failed: describeError(error) };
    deps.events.safeEmit('resolutions:failed', { markets: candidates.length, error: result.failed! });
    return result;
  }
}
