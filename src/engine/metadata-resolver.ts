import type { PolymarketSource } from '../polymarket/source.js';
import type { EventRecord, MarketRecord, UnresolvedRecord } from '../polymarket/records.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { CoalescingBatcher } from './coalescing-batcher.js';
import { mayResolveLater } from '../polymarket/gamma-api.js';
import { parseEventIds } from '../polymarket/market-rows.js';

export interface WalletMetadata {
  markets: MarketRecord[];
  events: EventRecord[];
  unresolved: UnresolvedRecord[];
  /** Ids this wallet claimed for the run; released again if its load fails, so another wallet re-fetches them. */
  claims: { markets: string[]; events: string[] };
}

/** Ids to ask Gamma again although the warehouse lists them (in `unresolved_ids`, which counts as known). */
export interface AskAgain {
  markets: readonly string[];
  events: readonly string[];
}

type Kind = 'market' | 'event';

/** The run's claim bookkeeping for one kind of id. */
interface Claims {
  /** Ids the warehouse held when a wallet of this run asked: never fetched again this run. */
  held: Set<string>;
  /** Ids a wallet of this run is fetching or has loaded. */
  claimed: Set<string>;
  /** Ids a wallet left to another's claim: should that claim be released, the id is still needed. */
  deferred: Set<string>;
  /** Released ids that some wallet deferred on: the next look-up takes them. */
  released: Set<string>;
}

const NOTHING: AskAgain = { markets: [], events: [] };

/**
 * Fetches each market and event at most once per run across all wallets: ids already in the
 * warehouse are skipped, ids another wallet of this run has claimed are left to that wallet. A
 * wallet that fails gives its claims back; those another wallet left to it go to the next look-up
 * of any wallet (and to takeReleased at the end of the run), so a wallet's failure never leaves the
 * markets of the wallets loaded beside it missing.
 */
export class MetadataResolver {
  readonly #warehouse: Warehouse;
  readonly #markets: CoalescingBatcher<MarketRecord>;
  readonly #events: CoalescingBatcher<EventRecord>;
  readonly #claims: Record<Kind, Claims> = {
    market: { held: new Set(), claimed: new Set(), deferred: new Set(), released: new Set() },
    event: { held: new Set(), claimed: new Set(), deferred: new Set(), released: new Set() },
  };
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

  /**
   * The markets of these condition ids and their events that no one holds or fetches yet, plus the
   * ids released by failed wallets since the last look-up. `again` ids are asked even though the
   * warehouse lists them as unresolved (the retry of lookup-retries.ts).
   */
  async resolve(conditionIds: Iterable<string>, again: AskAgain = NOTHING): Promise<WalletMetadata> {
    const now = new Date().toISOString();
    const marketIds = await this.#claim('market', [...conditionIds], again.markets, (ids) => this.#warehouse.knownConditionIds(ids));
    const result: WalletMetadata = { markets: [], events: [], unresolved: [], claims: { markets: marketIds, events: [] } };
    const miss = (kind: Kind, id: string, reason: string): UnresolvedRecord => ({ kind, id, reason, recorded_at: now, retryable: mayResolveLater(reason) });
    try {
      const markets = await this.#markets.request(marketIds);
      result.markets = [...markets.found.values()];
      for (const [id, reason] of markets.unresolved) result.unresolved.push(miss('market', id, reason));

      const eventIds = new Set<string>();
      for (const market of result.markets) for (const id of parseEventIds(market.event_ids)) eventIds.add(id);
      result.claims.events = await this.#claim('event', [...eventIds], again.events, (ids) => this.#warehouse.knownEventIds(ids));
      const events = await this.#events.request(result.claims.events);
      result.events = [...events.found.values()];
      for (const [id, reason] of events.unresolved) result.unresolved.push(miss('event', id, reason));
      return result;
    } catch (error) {
      this.release(result.claims);
      throw error;
    }
  }

  /** Gives a failed wallet's claims back; those another wallet left to it are looked up again. */
  release(claims: WalletMetadata['claims']): void {
    const give = (kind: Kind, ids: readonly string[]) => {
      const { claimed, deferred, released } = this.#claims[kind];
      for (const id of ids) {
        claimed.delete(id);
        if (deferred.has(id)) released.add(id);
      }
    };
    give('market', claims.markets);
    give('event', claims.events);
  }

  /** Released ids no look-up has taken since (the end of a run asks them itself). */
  releasedCount(): number {
    return this.#claims.market.released.size + this.#claims.event.released.size;
  }

  async #claim(kind: Kind, wanted: readonly string[], again: readonly string[], known: (ids: string[]) => Promise<Set<string>>): Promise<string[]> {
    const asked = new Set(again);
    if (!this.#shared) return [...new Set([...wanted, ...asked])];
    const { held, claimed, deferred, released } = this.#claims[kind];
    const unclaimed: string[] = [];
    for (const id of new Set([...wanted, ...released, ...asked])) {
      if (claimed.has(id)) deferred.add(id);
      // An id asked again is held only as unresolved: the warehouse's word is what is being checked.
      else if (!held.has(id) || asked.has(id)) unclaimed.push(id);
    }
    if (unclaimed.length === 0) return [];
    const checked = unclaimed.filter((id) => !asked.has(id));
    const inWarehouse = checked.length > 0 ? await known(checked) : new Set<string>();
    const mine: string[] = [];
    // Re-check after the await: another wallet may have claimed the same id meanwhile.
    for (const id of unclaimed) {
      if (claimed.has(id)) {
        deferred.add(id);
      } else if (inWarehouse.has(id)) {
        held.add(id);
      } else {
        claimed.add(id);
        released.delete(id);
        mine.push(id);
      }
    }
    return mine;
  }
}
