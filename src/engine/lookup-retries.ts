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
  /** The look-up or its load failed: the due ids stay due, and are asked by the next run. */
  failed?: string;
}

/** Unresolved ids asked again per run at most; the longest waiting first. */
export const DUE_UNRESOLVED_LIMIT = 5_000;

/**
 * The end of a run (backfill or refresh): ids claimed by wallets that failed (a wallet loaded
 * beside one may have left them to it) and ids in `unresolved_ids` whose backoff has passed
 * (unresolved-sql.ts) are looked up in one go through the run's resolver, staged as a bundle of no
 * wallet and loaded, so a failed wallet never takes a market of the wallets loaded beside it along,
 * in this run or (its claims being released at every failure) in any later one. Found ids leave
 * `unresolved_ids`; missed ones count a miss there. A failure is reported and fails no wallet: due
 * ids stay due for the next run.
 */
export async function lookUpAgain(deps: LookupRetryDeps, resolver: MetadataResolver, now = new Date()): Promise<LookupRetries | undefined> {
  const released = resolver.takeReleased();
  const releasedCount = released.markets.length + released.events.length;
  let due: DueUnresolved[] = [];
  try {
    due = await deps.warehouse.dueUnresolved({ now: now.toISOString(), limit: DUE_UNRESOLVED_LIMIT });
    if (releasedCount === 0 && due.length === 0) return undefined;
    const again = { markets: idsOf(due, 'market'), events: idsOf(due, 'event') };
    const metadata = await resolver.resolve([], { markets: [...again.markets, ...released.markets], events: [...again.events, ...released.events] });
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
    const result: LookupRetries = { released: releasedCount, due: due.length, found: found.market.length + found.event.length, givenUp: givenUp.length };
    deps.events.safeEmit('lookups:asked', { ...result, givenUpIds: givenUp.map((d) => `${d.kind} ${d.id}`) });
    return result;
  } catch (error) {
    if (deps.signal.aborted) return undefined;
    const result: LookupRetries = { released: releasedCount, due: due.length, found: 0, givenUp: 0, failed: describeError(error) };
    deps.events.safeEmit('lookups:failed', { released: releasedCount, due: due.length, error: result.failed! });
    return result;
  }
}

function idsOf(due: readonly DueUnresolved[], kind: DueUnresolved['kind']): string[] {
  return due.filter((d) => d.kind === kind).map((d) => d.id);
}
