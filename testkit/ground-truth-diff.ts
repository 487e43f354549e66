import type { SimDataset } from '../src/simulator/index.js';
import type { DuckDbWarehouse } from '../src/warehouse/duckdb/index.js';

interface FillLike {
  proxy_wallet: string;
  transaction_hash: string;
  asset: string;
  side: string;
  price: number;
  size: number;
  ts: number;
}

const fillKey = (f: FillLike) => [f.proxy_wallet, f.transaction_hash, f.asset, f.side, f.price, f.size, f.ts].join('|');

function countKeys(keys: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}

const setDiff = (a: Set<string>, b: Set<string>) => [...a].filter((x) => !b.has(x)).length;

/** What differs between the warehouse and the simulator's ground truth (all zero or empty when equal). */
export interface GroundTruthDiff {
  wallets: number;
  trades: number;
  expectedTrades: number;
  markets: number;
  events: number;
  duplicates: number;
  missing: number;
  extra: number;
  marketsMissing: number;
  marketsExtra: number;
  eventsMissing: number;
  eventsExtra: number;
  unresolvedMismatch: number;
  badCheckpoints: string[];
}

/**
 * Compares the warehouse with the simulator's ground truth for these wallets, without asserting:
 * trades as a multiset of fills (identical fills in one transaction are separate fills), markets,
 * events, unresolved ids, and a successful checkpoint per wallet with the right trade count.
 */
export async function compareWithGroundTruth(
  warehouse: DuckDbWarehouse,
  dataset: SimDataset,
  wallets: readonly string[] = dataset.wallets(),
): Promise<GroundTruthDiff> {
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

  const rows = await warehouse.query<Omit<FillLike, 'ts'> & { ts: bigint | number }>(
    'SELECT proxy_wallet, transaction_hash, asset, side, price, size, epoch(timestamp)::BIGINT AS ts FROM trades',
  );
  const actual = countKeys(rows.map((r) => fillKey({ ...r, ts: Number(r.ts) })));
  const expected = countKeys(expectedFills);
  let missing = 0;
  let extra = 0;
  for (const [key, n] of expected) missing += Math.max(0, n - (actual.get(key) ?? 0));
  for (const [key, n] of actual) extra += Math.max(0, n - (expected.get(key) ?? 0));
  const [ids] = await warehouse.query<{ n: bigint; d: bigint }>('SELECT count(*) AS n, count(DISTINCT trade_id) AS d FROM trades');

  const idSet = async (sql: string) => new Set((await warehouse.query<{ id: string }>(sql)).map((r) => r.id));
  const markets = await idSet('SELECT condition_id AS id FROM markets');
  const marketRows = Number((await warehouse.query<{ n: bigint }>('SELECT count(*) AS n FROM markets'))[0]!.n);
  const events = await idSet('SELECT event_id AS id FROM events');
  const eventRows = Number((await warehouse.query<{ n: bigint }>('SELECT count(*) AS n FROM events'))[0]!.n);
  const unresolved = await idSet("SELECT id FROM unresolved_ids WHERE kind = 'market'");

  const checkpoints = await warehouse.query<{ wallet_address: string; ok: boolean; trade_count: bigint }>(
    'SELECT wallet_address, completed AND upload_successful AS ok, trade_count FROM backfill_checkpoint',
  );
  const byWallet = new Map(checkpoints.map((c) => [c.wallet_address, c]));
  const badCheckpoints = wallets.filter((w) => {
    const row = byWallet.get(w);
    return !row || !row.ok || Number(row.trade_count) !== dataset.tradeCount(w);
  });
  return {
    wallets: wallets.length,
    trades: rows.length,
    expectedTrades: expectedFills.length,
    markets: markets.size,
    events: events.size,
    duplicates: Number(ids!.n) - Number(ids!.d) + (marketRows - markets.size) + (eventRows - events.size),
    missing,
    extra,
    marketsMissing: setDiff(expectedMarkets, markets),
    marketsExtra: setDiff(markets, expectedMarkets),
    eventsMissing: setDiff(expectedEvents, events),
    eventsExtra: setDiff(events, expectedEvents),
    unresolvedMismatch: setDiff(expectedUnresolved, unresolved) + setDiff(unresolved, expectedUnresolved),
    badCheckpoints,
  };
}
