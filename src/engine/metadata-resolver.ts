import type { PolymarketSource } from '../polymarket/source.js';
import type { EventRecord, MarketRecord, UnresolvedRecord } from '../polymarket/records.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { CoalescingBatcher } from './coalescing-batcher.js';
import { mayResolveLater } from '../polymarket/gamma-api.js';
import { isNegRiskEvent } from '../polymarket/event-rows.js';
import { parseJsonArray } from '../polymarket/gamma-values.js';
import { parseEventIds } from '../polymarket/market-rows.js';

export interface WalletMetadata {
  markets: MarketRecord[];
  events: EventRecord[];
  unresolved: UnresolvedRecord[];
  /** Ids this wallet claimed for the run; released again if its load fails, so another wallet re-fetches them. */
  claims: { markets: string[]; events: string[] };
}

/** Ids to ask Gamma whatever the warehouse says (due unresolved ids, which it lists as known; released claims). */
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
  /**
   * Claims of wallets that failed, not claimed again since: a wallet loaded earlier may have left
   * them to the failed one, so the end of the run asks them (takeReleased).
   */
  released: Set<string>;
}

const NOTHING: AskAgain = { markets: [], events: [] };

/**
 * Fetches each market and event at most once per run across all wallets: ids already in the
 * warehouse are skipped, ids another wallet of this run has claimed are left to that wallet. A
 * wallet that fails gives its claims back: the next wallet that needs one fetches it, and the end
 * of the run asks the rest (takeReleased), since a wallet loaded beside the failed one may have left
 * them to it. They go to no other wallet's look-up: should one of their rows be what failed the
 * load, it would fail that wallet too.
 */
export class MetadataResolver {
  readonly #warehouse: Warehouse;
  readonly #markets: CoalescingBatcher<MarketRecord>;
  readonly #events: CoalescingBatcher<EventRecord>;
  readonly #claims: Record<Kind, Claims> = {
    market: { held: new Set(), claimed: new Set(), released: new Set() },
    event: { held: new Set(), claimed: new Set(), released: new Set() },
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
   * The markets of these condition ids and their events that no one holds or fetches yet, and every member market of
   * the neg-risk events among those events (a conversion hands out YES of every question of its group, so the replay
   * needs them all, traded by a tracked wallet or not). Members come in the same bundle as the event that lists them,
   * so they load in the same transaction. Rounds go on while a round brings markets naming events not yet claimed (a
   * member of two events) or neg-risk events listing markets not yet claimed; each id is claimed once per run, so
   * they end. `again` ids are asked whatever the warehouse says (lookup-retries.ts), unless a wallet claims them.
   */
  async resolve(conditionIds: Iterable<string>, again: AskAgain = NOTHING): Promise<WalletMetadata> {
    const now = new Date().toISOString();
    const result: WalletMetadata = { markets: [], events: [], unresolved: [], claims: { markets: [], events: [] } };
    const miss = (kind: Kind, id: string, reason: string): UnresolvedRecord => ({ kind, id, reason, recorded_at: now, retryable: mayResolveLater(reason) });
    try {
      // Ids this call asked already: without a shared cache (`shared: false`) nothing else stops a member's event from
      // being asked again, and its members, and so on.
      const asked = { market: new Set<string>(), event: new Set<string>() };
      const fresh = (kind: Kind, ids: Iterable<string>) => [...ids].filter((id) => !asked[kind].has(id));
      /** One kind's step of a round: claim what no one holds or fetches yet, fetch it, keep its misses. */
      const step = async <R>(kind: Kind, wanted: Iterable<string>, askedAgain: readonly string[], batcher: CoalescingBatcher<R>): Promise<R[]> => {
        const known = (ids: string[]) => (kind === 'market' ? this.#warehouse.knownConditionIds(ids) : this.#warehouse.knownEventIds(ids));
        const ids = await this.#claim(kind, fresh(kind, wanted), fresh(kind, askedAgain), known);
        for (const id of ids) asked[kind].add(id);
        result.claims[kind === 'market' ? 'markets' : 'events'].push(...ids);
        const answer = await batcher.request(ids);
        for (const [id, reason] of answer.unresolved) result.unresolved.push(miss(kind, id, reason));
        return [...answer.found.values()];
      };
      let wantedMarkets = [...conditionIds];
      let againMarkets = again.markets;
      let againEvents = again.events;
      for (;;) {
        const markets = await step('market', wantedMarkets, againMarkets, this.#markets);
        result.markets.push(...markets);
        const events = await step('event', markets.flatMap((market) => parseEventIds(market.event_ids)), againEvents, this.#events);
        result.events.push(...events);

        // The members of the neg-risk events just found; the next round fetches those no one holds or fetches yet.
        wantedMarkets = events.filter(isNegRiskEvent).flatMap((event) => parseJsonArray(event.market_ids)?.map(String) ?? []);
        againMarkets = [];
        againEvents = [];
        if (fresh('market', wantedMarkets).length === 0) return result;
      }
    } catch (error) {
      this.release(result.claims);
      throw error;
    }
  }

  /** Gives a failed wallet's claims back, to the next wallet that needs them and to takeReleased. */
  release(claims: WalletMetadata['claims']): void {
    const give = (kind: Kind, ids: readonly string[]) => {
      const { claimed, released } = this.#claims[kind];
      for (const id of ids) {
        claimed.delete(id);
        released.add(id);
      }
    };
    give('market', claims.markets);
    give('event', claims.events);
  }

  /** Released claims no wallet claimed since, for the end of the run to ask; forgotten here. */
  takeReleased(): AskAgain {
    const take = (kind: Kind) => {
      const ids = [...this.#claims[kind].released];
      this.#claims[kind].released.clear();
      return ids;
    };
    return { markets: take('market'), events: take('event') };
  }

  async #claim(kind: Kind, wanted: readonly string[], again: readonly string[], known: (ids: string[]) => Promise<Set<string>>): Promise<string[]> {
    const asked = new Set(again);
    if (!this.#shared) return [...new Set([...wanted, ...asked])];
    const { held, claimed, released } = this.#claims[kind];
    // An id asked again may be held only as unresolved: the warehouse's word is what is being checked.
    const unclaimed = [...new Set([...wanted, ...asked])].filter((id) => !claimed.has(id) && (!held.has(id) || asked.has(id)));
    if (unclaimed.length === 0) return [];
    const checked = unclaimed.filter((id) => !asked.has(id));
    const inWarehouse = checked.length > 0 ? await known(checked) : new Set<string>();
    const mine: string[] = [];
    // Re-check after the await: another wallet may have claimed the same id meanwhile.
    for (const id of unclaimed) {
      if (claimed.has(id)) continue;
      if (inWarehouse.has(id)) {
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
