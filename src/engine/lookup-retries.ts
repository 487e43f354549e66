import { describeError } from '../lib/errors.js';
import type { StageStore, WalletManifest } from '../staging/stage-store.js';
import { UNRESOLVED_MAX_LOOKUPS } from '../warehouse/sql/unresolved-sql.js';
import type { DueUnresolved, Warehouse } from '../warehouse/warehouse.js';
import type { MetadataResolver } from './metadata-resolver.js';
import type { RunEvents } from './run-events.js';
import { writeRows } from './wallet-stager.js';

export interface LookupRetryDeps {
  stage: StageStore;
  warehouse: Warehouse;
  events: RunEvents;
  runId: string;
  signal: AbortSignal;
  /** Where the files are staged: a refresh keeps its files apart. */
  area: 'backfill' | 'refresh';
}

/** What the end of a run asked again. */
export interface LookupRetries {
  /** Ids claimed by wallets that failed, which no wallet claimed since. */
  released: number;
  /** Unresolved ids whose backoff had passed. */
  due: number;
  /** Of those, found now (their rows loaded, their unresolved_ids rows removed). */
  found: number;
  /** Of those, missed for the last time: `given_up_at` is set and they are not asked again. */
  givenUp: number;
  /** Held neg-risk events asked again for their members: never listed with them (held from before), or some missing. */
  groups: number;
  /** Markets loaded because a neg-risk event lists them: members no tracked wallet traded. */
  members: number;
  /** The look-up or its load failed: the due ids stay due, and are asked by the next run. */
  failed?: string;
}

/** Unresolved ids asked again per run at most; the longest waiting first. */
export const DUE_UNRESOLVED_LIMIT = 5_000;

/**
 * Neg-risk events asked again per run at most for their members, the least recently fetched first: a warehouse filled
 * before events were fetched with their markets gets its groups whole over a few runs, at ~2 requests per 20 events
 * plus the members' look-ups, rather than in one long end of a run.
 */
export const INCOMPLETE_GROUPS_LIMIT = 2_000;

/**
 * The end of a run (backfill or refresh): ids claimed by wallets that failed (a wallet loaded
 * beside one may have left them to it), ids in `unresolved_ids` whose backoff has passed
 * (unresolved-sql.ts) and held neg-risk events whose members are not all held (neg-risk-sql.ts:
 * events fetched without their markets before migration 12, or members a crash left out) are
 * looked up in one go through the run's resolver, which fetches the members those events list,
 * staged as a bundle of no wallet and loaded, so a failed wallet never takes a market of the
 * wallets loaded beside it along, in this run or (its claims being released at every failure) in
 * any later one. The load flags the holders of groups it completes stale, so the stats sweep that
 * follows recomputes them. Found ids leave `unresolved_ids`; missed ones count a miss there. A
 * failure is reported and fails no wallet: due ids stay due for the next run.
 */
export async function lookUpAgain(deps: LookupRetryDeps, resolver: MetadataResolver, now = new Date()): Promise<LookupRetries | undefined> {
  const released = resolver.takeReleased();
  const releasedCount = released.markets.length + released.events.length;
  let due: DueUnresolved[] = [];
  let groups: string[] = [];
  try {
    due = await deps.warehouse.dueUnresolved({ now: now.toISOString(), limit: DUE_UNRESOLVED_LIMIT });
    groups = (await deps.warehouse.incompleteNegRiskEvents({ limit: INCOMPLETE_GROUPS_LIMIT })).map((g) => g.eventId);
    if (releasedCount === 0 && due.length === 0 && groups.length === 0) return undefined;
    const again = { markets: idsOf(due, 'market'), events: idsOf(due, 'event') };
    const metadata = await resolver.resolve([], { markets: [...again.markets, ...released.markets], events: [...new Set([...again.events, ...released.events, ...groups])] });
    try {
      const name = `lookups-${deps.runId}`;
      const files: WalletManifest['files'] = {};
      if (metadata.markets.length > 0) files.markets = await writeRows(deps.stage, 'markets', name, deps.area, metadata.markets);
      if (metadata.events.length > 0) files.events = await writeRows(deps.stage, 'events', name, deps.area, metadata.events);
      if (metadata.unresolved.length > 0) files.unresolved = await writeRows(deps.stage, 'unresolved', name, deps.area, metadata.unresolved);
      if (files.markets || files.events || files.unresolved) await deps.warehouse.loadBundles([{ wallet: name, tradeCount: 0, files, metadataOnly: true }]);
    } catch (error) {
      resolver.release(metadata.claims);
      throw error;
    }
    const foundMarkets = new Set(metadata.markets.map((m) => m.condition_id));
    const foundEvents = new Set(metadata.events.map((e) => e.event_id));
    const found = { market: again.markets.filter((id) => foundMarkets.has(id)), event: again.events.filter((id) => foundEvents.has(id)) };
    // After the load: killed in between, a found id is merely asked once more and found again.
    await deps.warehouse.forgetUnresolved('market', found.market);
    await deps.warehouse.forgetUnresolved('event', found.event);
    const missed = new Map(metadata.unresolved.map((u) => [`${u.kind}:${u.id}`, u]));
    const givenUp = due.filter((d) => d.attempts + 1 >= UNRESOLVED_MAX_LOOKUPS && missed.get(`${d.kind}:${d.id}`)?.retryable === true);
    const askedMarkets = new Set([...again.markets, ...released.markets]);
    const result: LookupRetries = {
      released: releasedCount,
      due: due.length,
      found: found.market.length + found.event.length,
      givenUp: givenUp.length,
      groups: groups.length,
      members: metadata.markets.filter((m) => !askedMarkets.has(m.condition_id)).length,
    };
    deps.events.safeEmit('lookups:asked', { ...result, givenUpIds: givenUp.map((d) => `${d.kind} ${d.id}`) });
    return result;
  } catch (error) {
    if (deps.signal.aborted) return undefined;
    const result: LookupRetries = { released: releasedCount, due: due.length, found: 0, givenUp: 0, groups: groups.length, members: 0, failed: describeError(error) };
    deps.events.safeEmit('lookups:failed', { released: releasedCount, due: due.length, groups: groups.length, error: result.failed! });
    return result;
  }
}

function idsOf(due: readonly DueUnresolved[], kind: DueUnresolved['kind']): string[] {
  return due.filter((d) => d.kind === kind).map((d) => d.id);
}
