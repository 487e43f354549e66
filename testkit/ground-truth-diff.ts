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
  /** Activity rows (every fetched type) held, expected, missing from and extra in the warehouse, as multisets. */
  activity: number;
  expectedActivity: number;
  activityMissing: number;
  activityExtra: number;
  /** Combo lifecycle rows missing or extra, by their id; rows stored twice (activity and combo). */
  comboMismatch: number;
  /** The combo rows behind `comboMismatch` (the first 20): whose, which, and which side holds it. */
  comboDiffs: ComboDiff[];
  activityDuplicates: number;
  /** market_resolutions rows whose status or payouts differ from what the simulator serves, and closed markets held without one. */
  resolutions: number;
  resolutionsMismatch: number;
  resolutionsMissing: number;
  /** Wallets whose checkpoint activity_count is not their activity row count, or activity_loaded not set. */
  badActivityCheckpoints: string[];
}

/** One combo lifecycle row held by only one side: the warehouse (`held`) or the simulator's ground truth (`truth`). */
export interface ComboDiff {
  wallet: string;
  id: string;
  type: string;
  timestamp: number;
  held: boolean;
  truth: boolean;
}

/** The activity types a run fetches by default: every one but TRADE (fills come apart) and the opt-in cash moves. */
const UNFETCHED_TYPES = new Set(['TRADE', 'DEPOSIT', 'WITHDRAWAL', 'TIP']);

interface ActivityLike {
  proxy_wallet: string;
  type: string;
  condition_id: string | null;
  token_id: string | null;
  size: number;
  usdc_size: number;
  transaction_hash: string;
  ts: number;
}

const activityKey = (a: ActivityLike) =>
  [a.proxy_wallet, a.type, a.condition_id ?? '', a.token_id ?? '', a.size, a.usdc_size, a.transaction_hash.toLowerCase(), a.ts].join('|');

function multisetDiff(expected: Map<string, number>, actual: Map<string, number>): { missing: number; extra: number } {
  let missing = 0;
  let extra = 0;
  for (const [key, n] of expected) missing += Math.max(0, n - (actual.get(key) ?? 0));
  for (const [key, n] of actual) extra += Math.max(0, n - (expected.get(key) ?? 0));
  return { missing, extra };
}

/**
 * Compares the warehouse with the simulator's ground truth for these wallets, without asserting:
 * trades as a multiset of fills (identical fills in one transaction are separate fills), markets
 * (every member of the neg-risk events held included), events, unresolved ids, and a successful
 * checkpoint per wallet with the right trade count.
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
  // Every member of a neg-risk event held is held too, traded or not: the profit replay's conversions need them.
  for (const eventId of expectedEvents) {
    const event = dataset.event(eventId) as { negRisk?: boolean; markets?: { conditionId: string }[] } | undefined;
    if (event?.negRisk) for (const m of event.markets ?? []) expectedMarkets.add(m.conditionId.toLowerCase());
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

  const checkpoints = await warehouse.query<{ wallet_address: string; ok: boolean; trade_count: bigint; activity_ok: boolean | null; activity_count: bigint | null }>(
    'SELECT wallet_address, completed AND upload_successful AS ok, trade_count, activity_loaded AS activity_ok, activity_count FROM backfill_checkpoint',
  );

  const expectedActivity: string[] = [];
  const expectedActivityCount = new Map<string, number>();
  const expectedCombos = new Map<string, { wallet: string; type: string; timestamp: number }>();
  for (const wallet of wallets) {
    let count = 0;
    for (const a of dataset.activity(wallet)) {
      if (UNFETCHED_TYPES.has(a.type)) continue;
      expectedActivity.push(activityKey({ ...a, condition_id: a.condition_id || null, token_id: a.token_id || null, ts: a.timestamp }));
      count += 1;
    }
    expectedActivityCount.set(wallet, count);
    for (const c of dataset.comboActivity(wallet)) expectedCombos.set(String(c.id).toLowerCase(), { wallet, type: String(c.type), timestamp: Number(c.timestamp) });
  }
  const activityRows = await warehouse.query<Omit<ActivityLike, 'ts'> & { ts: bigint | number }>(
    'SELECT proxy_wallet, type, condition_id, token_id, size, usdc_size, transaction_hash, epoch(timestamp)::BIGINT AS ts FROM activity',
  );
  const activityDiff = multisetDiff(countKeys(expectedActivity), countKeys(activityRows.map((r) => activityKey({ ...r, ts: Number(r.ts) }))));
  const [activityIds] = await warehouse.query<{ n: bigint; d: bigint }>('SELECT count(*) AS n, count(DISTINCT activity_id) AS d FROM activity');
  const [comboIds] = await warehouse.query<{ n: bigint; d: bigint }>('SELECT count(*) AS n, count(DISTINCT combo_activity_id) AS d FROM combo_activity');
  const comboRows = await warehouse.query<{ id: string; wallet: string; type: string; ts: bigint | number }>(
    'SELECT combo_activity_id AS id, proxy_wallet AS wallet, type, epoch(timestamp)::BIGINT AS ts FROM combo_activity',
  );
  const combos = new Map(comboRows.map((r) => [r.id, { wallet: r.wallet, type: r.type, timestamp: Number(r.ts) }]));
  const comboDiffs: ComboDiff[] = [
    ...[...expectedCombos].filter(([id]) => !combos.has(id)).map(([id, c]) => ({ ...c, id, held: false, truth: true })),
    ...[...combos].filter(([id]) => !expectedCombos.has(id)).map(([id, c]) => ({ ...c, id, held: true, truth: false })),
  ];

  const resolutions = await warehouse.query<{ condition_id: string; status: string; payouts: string | null }>('SELECT condition_id, status, payouts FROM market_resolutions');
  let resolutionsMismatch = 0;
  for (const r of resolutions) {
    const served = dataset.resolution(r.condition_id) as { status?: string; payouts?: number[] } | undefined;
    const payouts = r.payouts === null ? null : (JSON.parse(r.payouts) as number[]);
    if (!served || served.status !== r.status || JSON.stringify(served.payouts ?? null) !== JSON.stringify(payouts)) resolutionsMismatch += 1;
  }
  const withResolution = new Set(resolutions.map((r) => r.condition_id));
  const closed = await idSet('SELECT condition_id AS id FROM markets WHERE closed');
  const resolutionsMissing = [...closed].filter((id) => !withResolution.has(id)).length;
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
    activity: activityRows.length,
    expectedActivity: expectedActivity.length,
    activityMissing: activityDiff.missing,
    activityExtra: activityDiff.extra,
    comboMismatch: comboDiffs.length,
    comboDiffs: comboDiffs.slice(0, 20),
    activityDuplicates: Number(activityIds!.n) - Number(activityIds!.d) + Number(comboIds!.n) - Number(comboIds!.d),
    resolutions: resolutions.length,
    resolutionsMismatch,
    resolutionsMissing,
    badActivityCheckpoints: wallets.filter((w) => {
      const row = byWallet.get(w);
      return !row || row.activity_ok !== true || Number(row.activity_count) !== expectedActivityCount.get(w);
    }),
  };
}
