import { describe, expect, it } from 'vitest';
import { createDataset } from '../../src/simulator/index.js';
import type { GroundTruthFill, SimDataset } from '../../src/simulator/index.js';
import { SMALL } from './helpers.js';

function allFills(dataset: SimDataset): GroundTruthFill[] {
  return dataset.wallets().flatMap((wallet) => [...dataset.fills(wallet)]);
}

describe('createDataset', () => {
  const dataset = createDataset(SMALL);

  it('is deterministic: the same options give identical wallets, fills and Gamma objects', () => {
    const again = createDataset(SMALL);
    expect(again.wallets()).toEqual(dataset.wallets());
    expect(JSON.stringify(allFills(again))).toBe(JSON.stringify(allFills(dataset)));
    const whale = dataset.walletAddress(SMALL.wallets);
    const ids = dataset.conditionIds(whale).resolvable.slice(0, 20);
    expect(ids.map((id) => JSON.stringify(again.market(id)))).toEqual(ids.map((id) => JSON.stringify(dataset.market(id))));
  });

  it('generates a different world for a different seed', () => {
    const other = createDataset({ ...SMALL, seed: SMALL.seed + 1 });
    expect(other.walletAddress(0)).not.toBe(dataset.walletAddress(0));
  });

  it('makes wallet addresses lower-case 0x + 40 hex, whales last with exactly the asked trade count', () => {
    expect(dataset.walletCount).toBe(SMALL.wallets + 1);
    for (const wallet of dataset.wallets()) expect(wallet).toMatch(/^0x[0-9a-f]{40}$/);
    expect(new Set(dataset.wallets()).size).toBe(dataset.walletCount);
    const whale = dataset.walletAddress(SMALL.wallets);
    expect(dataset.tradeCount(whale)).toBe(6_000);
    expect([...dataset.fills(whale)]).toHaveLength(6_000);
    expect(dataset.tradeCount(whale.toUpperCase().replace('0X', '0x'))).toBe(6_000);
    expect(dataset.tradeCount(`0x${'0'.repeat(40)}`)).toBe(0);
    expect(() => dataset.walletAddress(dataset.walletCount)).toThrow(RangeError);
  });

  it('draws heavy-tailed trade counts: mostly a handful, some zero, a long tail capped at maxTradesPerWallet', () => {
    const big = createDataset({ seed: 3, wallets: 2_000, maxTradesPerWallet: 50_000 });
    const counts = big.wallets().map((wallet) => big.tradeCount(wallet));
    const small = counts.filter((c) => c >= 1 && c <= 20).length;
    expect(small / counts.length).toBeGreaterThan(0.6);
    expect(counts.filter((c) => c === 0).length).toBeGreaterThan(0);
    expect(counts.filter((c) => c >= 1_000).length).toBeGreaterThan(0);
    expect(Math.max(...counts)).toBeLessThanOrEqual(50_000);
    expect(Math.max(...counts)).toBeGreaterThan(10_000);
  });

  it('orders fills newest first, with timestamps in 2020-06-01..2026-10-31', () => {
    for (const wallet of dataset.wallets()) {
      const fills = [...dataset.fills(wallet)];
      for (let i = 1; i < fills.length; i += 1) {
        expect(fills[i]!.timestamp).toBeLessThanOrEqual(fills[i - 1]!.timestamp);
      }
      for (const fill of fills) {
        expect(fill.timestamp).toBeGreaterThanOrEqual(Date.UTC(2020, 5, 1) / 1000);
        expect(fill.timestamp).toBeLessThan(Date.UTC(2026, 10, 1) / 1000);
      }
    }
  });

  it('contains exact duplicate fills (two real fills, identical rows) and multi-fill transactions', () => {
    const fills = allFills(dataset);
    let duplicates = 0;
    let sameTxDifferentFill = 0;
    for (let i = 1; i < fills.length; i += 1) {
      const [a, b] = [fills[i - 1]!, fills[i]!];
      if (a.transaction_hash !== b.transaction_hash) continue;
      expect(b.timestamp).toBe(a.timestamp);
      if (JSON.stringify(a) === JSON.stringify(b)) duplicates += 1;
      else sameTxDifferentFill += 1;
    }
    expect(duplicates / fills.length).toBeGreaterThan(0.01);
    expect(sameTxDifferentFill / fills.length).toBeGreaterThan(0.05);
  });

  it('contains combo condition ids (62 hex) that Gamma cannot resolve, and a ghost market unknown to Gamma', () => {
    const whale = dataset.walletAddress(SMALL.wallets);
    const { resolvable, unresolvable } = dataset.conditionIds(whale);
    const combos = unresolvable.filter((id) => /^0x[0-9a-f]{62}$/.test(id));
    expect(combos.length).toBeGreaterThan(0);
    for (const id of combos) {
      expect(dataset.market(id)).toBeUndefined();
      expect(dataset.eventIdsOfMarket(id)).toEqual([]);
    }
    for (const id of resolvable) expect(id).toMatch(/^0x[0-9a-f]{64}$/);

    const ghosts = new Set<string>();
    const wide = createDataset({ seed: 11, wallets: 400, maxTradesPerWallet: 3_000 });
    for (const wallet of wide.wallets()) {
      for (const id of wide.conditionIds(wallet).unresolvable) if (id.length === 66) ghosts.add(id);
    }
    expect(ghosts.size).toBeGreaterThan(0);
    for (const id of ghosts) expect(wide.market(id)).toBeUndefined();
  });

  it('gives every resolvable market a parent event whose nested markets include it, with matching token ids', () => {
    const whale = dataset.walletAddress(SMALL.wallets);
    const tokensByCondition = new Map<string, Set<string>>();
    for (const fill of dataset.fills(whale)) {
      const set = tokensByCondition.get(fill.condition_id) ?? new Set<string>();
      set.add(fill.asset);
      tokensByCondition.set(fill.condition_id, set);
    }
    for (const id of dataset.conditionIds(whale).resolvable) {
      const market = dataset.market(id) as { conditionId: string; clobTokenIds: string; events: { id: string }[] };
      expect(market.conditionId).toBe(id);
      const tokenIds = JSON.parse(market.clobTokenIds) as string[];
      for (const token of tokensByCondition.get(id) ?? []) expect(tokenIds).toContain(token);
      const eventIds = dataset.eventIdsOfMarket(id);
      expect(eventIds).toEqual(market.events.map((e) => e.id));
      const event = dataset.event(eventIds[0]!) as { markets: { conditionId: string; events?: unknown }[] };
      expect(event.markets.map((m) => m.conditionId)).toContain(id);
      for (const nested of event.markets) expect(nested).not.toHaveProperty('events');
    }
  });
});
