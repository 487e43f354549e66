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
