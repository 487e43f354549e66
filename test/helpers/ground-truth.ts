import { expect } from 'vitest';

import type { SimDataset } from '../../src/simulator/index.js';
import type { DuckDbWarehouse } from '../../src/warehouse/duckdb/duckdb-warehouse.js';

const fillKey = (f: { proxy_wallet: string; transaction_hash: string; asset: string; side: string; price: number; size: number; ts: number }) =>
  [f.proxy_wallet, f.transaction_hash, f.asset, f.side, f.price, f.size, f.ts].join('|');

function countKeys(keys: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}

export interface GroundTruthReport {
  wallets: number;
  trades: number;
  markets: number;
  events: number;
  duplicates: number;
  missing: number;
  extra: number;
}

/**
 * Asserts the warehouse holds exactly the simulator's ground truth for these wallets: every fill once
 * (identical fills in one transaction counted as the separate fills they are), every resolvable
 * market and its events, every unresolvable id recorded, and a successful checkpoint per wallet
 * with the right trade count.
 */
export async function expectEqualsGroundTruth(
  warehouse: DuckDbWarehouse,
  dataset: SimDataset,
  wallets: readonly string[] = dataset.wallets(),
): Promise<GroundTruthReport> {
  const expectedFills: string[] = [];
  const expectedMarkets = new Set<string>();
  const expectedUnresolved = new Set<string>();
  const expectedEvents = new Set<string>();
  for (const wallet of wallets) {
    for (const f of dataset.fills(wallet)) expectedFills.push(fillKey({ ...f, ts: f.timestamp }));
    const ids = dataset.conditionIds(wallet);
    for (const id of ids.resolvable) {
      expectedMarkets.add(id);
      for (const e of dataset.eventIdsOfMarket(id)) expectedEvents.add(e);
    }
    for (const id of ids.unresolvable) expectedUnresolved.add(id);
  }

  const rows = await warehouse.query<{ proxy_wallet: string; transaction_hash: string; asset: string; side: string; price: number; size: number; ts: bigint | number }>(
    'SELECT proxy_wallet, transaction_hash, asset, side, price, size, epoch(timestamp)::BIGINT AS ts FROM trades',
  );
  const actual = countKeys(rows.map((r) => fillKey({ ...r, ts: Number(r.ts) })));
  const expected = countKeys(expectedFills);
  let missing = 0;
  let extra = 0;
  for (const [key, n] of expected) missing += Math.max(0, n - (actual.get(key) ?? 0));
  for (const [key, n] of actual) extra += Math.max(0, n - (expected.get(key) ?? 0));
  const [ids] = await warehouse.query<{ n: bigint; d: bigint }>('SELECT count(*) AS n, count(DISTINCT trade_id) AS d FROM trades');
  const duplicates = Number(ids!.n) - Number(ids!.d);

  expect({ missing, extra, duplicates }).toEqual({ missing: 0, extra: 0, duplicates: 0 });
  expect(rows.length).toBe(expectedFills.length);

  const markets = await warehouse.query<{ id: string }>('SELECT condition_id AS id FROM markets');
  expect(new Set(markets.map((m) => m.id))).toEqual(expectedMarkets);
  expect(markets.length).toBe(expectedMarkets.size);
  const events = await warehouse.query<{ id: string }>('SELECT event_id AS id FROM events');
  expect(new Set(events.map((e) => e.id))).toEqual(expectedEvents);
  expect(events.length).toBe(expectedEvents.size);
  const unresolved = await warehouse.query<{ id: string }>("SELECT id FROM unresolved_ids WHERE kind = 'market'");
  expect(new Set(unresolved.map((u) => u.id))).toEqual(expectedUnresolved);

  const checkpoints = await warehouse.query<{ wallet_address: string; ok: boolean; trade_count: bigint }>(
    'SELECT wallet_address, completed AND upload_successful AS ok, trade_count FROM backfill_checkpoint',
  );
  const byWallet = new Map(checkpoints.map((c) => [c.wallet_address, c]));
  for (const wallet of wallets) {
    const row = byWallet.get(wallet);
    expect(row, `checkpoint of ${wallet}`).toBeDefined();
    expect(row!.ok).toBe(true);
    expect(Number(row!.trade_count)).toBe(dataset.tradeCount(wallet));
  }
  return {
    wallets: wallets.length,
    trades: rows.length,
    markets: expectedMarkets.size,
    events: expectedEvents.size,
    duplicates,
    missing,
    extra,
  };
}
