import type { PolymarketSource } from '../polymarket/source.js';
import type { EventRecord, MarketRecord, UnresolvedRecord } from '../polymarket/records.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { CoalescingBatcher } from './coalescing-batcher.js';
import { parseEventIds } from '../polymarket/market-rows.js';

export interface WalletMetadata {
  markets: MarketRecord[];
  events: EventRecord[];
  unresolved: UnresolvedRecord[];
  /** Ids this wallet claimed for the run; released again if its load fails, so another wallet re-fetches them. */
  claims: { markets: string[]; events: string[] };
}

/**
 * Fetches each market and event at most once per run across all wallets: ids already in the
 * warehouse are skipped, ids another wallet of this run has claimed are left to that wallet.
 */
export class MetadataResolver {
  readonly #warehouse: Warehouse;
  readonly #markets: CoalescingBatcher<MarketRecord>;
  readonly #events: CoalescingBatcher<EventRecord>;
  readonly #claimedMarkets = new Set<string>();
  readonly #claimedEvents = new Set<string>();
  readonly #shared: boolean;

  constructor(
    source: PolymarketSource,
    warehouse: Warehouse,
    options: { lingerMs?: number; signal?: AbortSignal; shared?: boolean } = {},
  ) {
    this.#warehouse = warehouse;
    this.#shared = options.shared ?? true;
    const lingerMs = this.#shared ? (options.lingerMs ?? 50) : 0;
    this.#markets = new CoalescingBatcher({
      maxIds: 200,
      lingerMs,
      fetch: async (ids) => {
        const lookup = await source.markets(ids, options.signal);
        return {
          found: new Map(lookup.markets.map((m) => [m.condition_id, m])),
          unresolved: new Map(lookup.unresolved.map((u) => [u.id, u.reason])),
        };
      },
    });
    this.#events = new CoalescingBatcher({
      maxIds: 200,
      lingerMs,
      fetch: async (ids) => {
        const lookup = await source.events(ids, options.signal);
        return {
          found: new Map(lookup.events.map((e) => [e.event_id, e])),
          unresolved: new Map(lookup.unresolved.map((u) => [u.id, u.reason])),
        };
      },
    });
  }

  async resolve(conditionIds: Iterable<string>): Promise<WalletMetadata> {
    const now = new Date().toISOString();
    const marketIds = await this.#claim([...conditionIds], this.#claimedMarkets, (ids) =>
      this.#warehouse.knownConditionIds(ids),
    );
    const result: WalletMetadata = { markets: [], events: [], unresolved: [], claims: { markets: marketIds, events: [] } };
    try {
      const markets = await this.#markets.request(marketIds);
      result.markets = [...markets.found.values()];
      for (const [id, reason] of markets.unresolved) result.unresolved.push({ kind: 'market', id, reason, recorded_at: now });

      const eventIds = new Set<string>();
      for (const market of result.markets) for (const id of parseEventIds(market.event_ids)) eventIds.add(id);
      result.claims.events = await this.#claim([...eventIds], this.#claimedEvents, (ids) =>
        this.#warehouse.knownEventIds(ids),
      );
      const events = await this.#events.request(result.claims.events);
      result.events = [...events.found.values()];
      for (const [id, reason] of events.unresolved) result.unresolved.push({ kind: 'event', id, reason, recorded_at: now });
      return result;
    } catch (error) {
      this.release(result.claims);
      throw error;
    }
  }

  release(claims: WalletMetadata['claims']): void {
    for (const id of claims.markets) this.#claimedMarkets.delete(id);
    for (const id of claims.events) this.#claimedEvents.delete(id);
  }

  async #claim(ids: string[], claimed: Set<string>, known: (ids: string[]) => Promise<Set<string>>): Promise<string[]> {
    if (!this.#shared) return [...new Set(ids)];
    const unclaimed = ids.filter((id) => !claimed.has(id));
    if (unclaimed.length === 0) return [];
    const inWarehouse = await known(unclaimed);
    const mine: string[] = [];
    // Re-check after the await: another wallet may have claimed the same id meanwhile.
    for (const id of unclaimed) {
      if (claimed.has(id)) continue;
      claimed.add(id);
      if (!inWarehouse.has(id)) mine.push(id);
    }
    return mine;
  }
}

