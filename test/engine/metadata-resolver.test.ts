import { describe, expect, it } from 'vitest';

import { MetadataResolver } from '../../src/engine/metadata-resolver.js';
import type { MarketRecord } from '../../src/polymarket/records.js';
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
  it('a claim released by a failed wallet goes to the next look-up when another wallet had left that id to it; ids only the failed wallet needed do not', async () => {
    const asked: string[][] = [];
    const resolver = new MetadataResolver(recordingSource(asked), emptyWarehouse, { lingerMs: 0 });

    const claimer = await resolver.resolve(['m1', 'm2']);
    expect(ids(claimer.markets)).toEqual(['m1', 'm2']);
    // The good wallet needs m1 too: claimed by the first, so left to it.
    const good = await resolver.resolve(['m1', 'm3']);
    expect(ids(good.markets)).toEqual(['m3']);

    // The claimer's load fails: m1, which the good wallet needed, is asked by the next look-up of any wallet.
    resolver.release(claimer.claims);
    const next = await resolver.resolve(['m4']);
    expect(ids(next.markets)).toEqual(['m1', 'm4']);
    expect(next.claims.markets.sort()).toEqual(['m1', 'm4']);
    expect(resolver.releasedCount()).toBe(0);

    // Should that wallet fail too, m1 is still owed: released again, and taken by the end of the run.
    resolver.release(next.claims);
    const end = await resolver.resolve([]);
    expect(ids(end.markets)).toEqual(['m1']);
    expect(asked).toEqual([['m1', 'm2'], ['m3'], ['m1', 'm4'], ['m1']]);
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
