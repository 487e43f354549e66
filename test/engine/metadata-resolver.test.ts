import { describe, expect, it } from 'vitest';

import { MetadataResolver } from '../../src/engine/metadata-resolver.js';
import type { EventRecord, MarketRecord } from '../../src/polymarket/records.js';
import type { PolymarketSource } from '../../src/polymarket/source.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';

/** A Gamma that knows every market asked (no events), recording each batch of ids it was asked. */
function recordingSource(asked: string[][]): PolymarketSource {
  return {
    markets: (ids: readonly string[]) => {
      asked.push([...ids].sort());
      return Promise.resolve({ markets: ids.map((id) => ({ condition_id: id, event_ids: null }) as unknown as MarketRecord), unresolved: [] });
    },
    events: () => Promise.resolve({ events: [], unresolved: [] }),
  } as unknown as PolymarketSource;
}

const emptyWarehouse = {
  knownConditionIds: () => Promise.resolve(new Set<string>()),
  knownEventIds: () => Promise.resolve(new Set<string>()),
} as unknown as Warehouse;

const ids = (markets: readonly MarketRecord[]) => markets.map((m) => m.condition_id).sort();

describe('MetadataResolver claims', () => {
  it('a failed wallet\'s claims go back: the next wallet that needs one fetches it, and the end of the run gets the rest (which a wallet loaded earlier may have left to it), never another wallet\'s look-up', async () => {
    const asked: string[][] = [];
    const resolver = new MetadataResolver(recordingSource(asked), emptyWarehouse, { lingerMs: 0 });

    const claimer = await resolver.resolve(['m1', 'm2']);
    expect(ids(claimer.markets)).toEqual(['m1', 'm2']);
    // The good wallet needs m1 too: claimed by the first, so left to it.
    const good = await resolver.resolve(['m1', 'm3']);
    expect(ids(good.markets)).toEqual(['m3']);

    // The claimer's load fails. A wallet that does not need its ids is not handed them; one that needs m2 fetches it.
    resolver.release(claimer.claims);
    expect(ids((await resolver.resolve(['m4'])).markets)).toEqual(['m4']);
    expect(ids((await resolver.resolve(['m2'])).markets)).toEqual(['m2']);
    // m1, which the good wallet left to the claimer, is for the end of the run; m2 is claimed again.
    const rest = resolver.takeReleased();
    expect(rest).toEqual({ markets: ['m1'], events: [] });
    expect(ids((await resolver.resolve([], rest)).markets)).toEqual(['m1']);
    expect(resolver.takeReleased()).toEqual({ markets: [], events: [] });
    expect(asked).toEqual([['m1', 'm2'], ['m3'], ['m4'], ['m2'], ['m1']]);
  });

  it('an id asked again (a due unresolved id, which the warehouse lists as known) is fetched even after wallets found it known, and only once', async () => {
    const asked: string[][] = [];
    const knowsAll = { ...emptyWarehouse, knownConditionIds: (list: readonly string[]) => Promise.resolve(new Set(list)) } as unknown as Warehouse;
    const resolver = new MetadataResolver(recordingSource(asked), knowsAll, { lingerMs: 0 });
    expect(ids((await resolver.resolve(['u1'])).markets)).toEqual([]);
    expect(ids((await resolver.resolve([], { markets: ['u1'], events: [] })).markets)).toEqual(['u1']);
    expect(ids((await resolver.resolve([], { markets: ['u1'], events: [] })).markets)).toEqual([]);
    expect(asked).toEqual([['u1']]);
  });
});

/**
 * A Gamma of one neg-risk event E1 (members g1…g4, g4 also listed by a second neg-risk event E2 of members g4 and g5)
 * and a plain event E3 (market p1), recording every batch of ids asked per kind.
 */
function groupsSource(asked: { markets: string[][]; events: string[][] }): PolymarketSource {
  const eventsOf: Record<string, string[]> = { g1: ['E1'], g2: ['E1'], g3: ['E1'], g4: ['E1', 'E2'], g5: ['E2'], p1: ['E3'] };
  const members: Record<string, { ids: string[]; negRisk: boolean }> = {
    E1: { ids: ['g1', 'g2', 'g3', 'g4'], negRisk: true },
    E2: { ids: ['g4', 'g5'], negRisk: true },
    E3: { ids: ['p1', 'p2'], negRisk: false },
  };
  return {
    markets: (ids: readonly string[]) => {
      asked.markets.push([...ids].sort());
      const known = ids.filter((id) => eventsOf[id]);
      return Promise.resolve({
        markets: known.map((id) => ({ condition_id: id, event_ids: JSON.stringify(eventsOf[id]) }) as unknown as MarketRecord),
        unresolved: ids.filter((id) => !eventsOf[id]).map((id) => ({ id, reason: 'unknown to Gamma' })),
      });
    },
    events: (ids: readonly string[]) => {
      asked.events.push([...ids].sort());
      return Promise.resolve({
        events: ids.map((id) => ({ event_id: id, neg_risk: members[id]!.negRisk, enable_neg_risk: null, market_ids: JSON.stringify(members[id]!.ids) }) as unknown as EventRecord),
        unresolved: [],
      });
    },
  } as unknown as PolymarketSource;
}

describe('MetadataResolver and neg-risk groups', () => {
  it('a wallet that traded one member of a neg-risk event gets every member market with it, and the members of a second group one of them belongs to; a plain event brings no members', async () => {
    const asked = { markets: [] as string[][], events: [] as string[][] };
    const resolver = new MetadataResolver(groupsSource(asked), emptyWarehouse, { lingerMs: 0 });
    const wallet = await resolver.resolve(['g2', 'p1']);
    expect(ids(wallet.markets)).toEqual(['g1', 'g2', 'g3', 'g4', 'g5', 'p1']);
    expect(wallet.events.map((e) => e.event_id).sort()).toEqual(['E1', 'E2', 'E3']);
    // p2 is listed by E3, which is no neg-risk group: never asked. Each id once.
    expect(asked).toEqual({ markets: [['g2', 'p1'], ['g1', 'g3', 'g4'], ['g5']], events: [['E1', 'E3'], ['E2']] });
    expect({ markets: [...wallet.claims.markets].sort(), events: [...wallet.claims.events].sort() }).toEqual({ markets: ['g1', 'g2', 'g3', 'g4', 'g5', 'p1'], events: ['E1', 'E2', 'E3'] });
  });

  it('members the warehouse holds, or another wallet of the run fetched, are not fetched again (request counts)', async () => {
    const asked = { markets: [] as string[][], events: [] as string[][] };
    const holds = new Set(['g3']);
    const warehouse = { knownConditionIds: (list: readonly string[]) => Promise.resolve(new Set(list.filter((id) => holds.has(id)))), knownEventIds: () => Promise.resolve(new Set<string>()) } as unknown as Warehouse;
    const resolver = new MetadataResolver(groupsSource(asked), warehouse, { lingerMs: 0 });
    expect(ids((await resolver.resolve(['g1'])).markets)).toEqual(['g1', 'g2', 'g4', 'g5']);
    // A second wallet of the group finds every member and both events claimed: nothing is asked.
    const second = await resolver.resolve(['g5', 'g2']);
    expect(second.markets).toEqual([]);
    expect(second.events).toEqual([]);
    expect(asked).toEqual({ markets: [['g1'], ['g2', 'g4'], ['g5']], events: [['E1'], ['E2']] });
  });

  it('without the shared cache a member\'s event is not asked again by the same look-up: it ends', async () => {
    const asked = { markets: [] as string[][], events: [] as string[][] };
    const resolver = new MetadataResolver(groupsSource(asked), emptyWarehouse, { lingerMs: 0, shared: false });
    expect(ids((await resolver.resolve(['g1'])).markets)).toEqual(['g1', 'g2', 'g3', 'g4', 'g5']);
    expect(asked).toEqual({ markets: [['g1'], ['g2', 'g3', 'g4'], ['g5']], events: [['E1'], ['E2']] });
  });

  it('a neg-risk event asked again (its members may be missing) brings the members no one holds', async () => {
    const asked = { markets: [] as string[][], events: [] as string[][] };
    const holds = new Set(['g1', 'g2']);
    const warehouse = {
      knownConditionIds: (list: readonly string[]) => Promise.resolve(new Set(list.filter((id) => holds.has(id)))),
      knownEventIds: (list: readonly string[]) => Promise.resolve(new Set(list)),
    } as unknown as Warehouse;
    const resolver = new MetadataResolver(groupsSource(asked), warehouse, { lingerMs: 0 });
    const lookups = await resolver.resolve([], { markets: [], events: ['E1'] });
    expect(ids(lookups.markets)).toEqual(['g3', 'g4']);
    // E2 (g4's other event) is held: asked neither, nor its members.
    expect(asked).toEqual({ markets: [['g3', 'g4']], events: [['E1']] });
  });
});
