import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { auditWallet } from '../../src/chain/audit-wallet.js';
import type { WalletAuditReport } from '../../src/chain/audit-wallet.js';
import { ORDER_FILLED_V1_TOPIC, ORDER_FILLED_V2_TOPIC, addressTopic } from '../../src/chain/exchanges.js';
import { fromRaw } from '../../src/chain/chain-facts.js';
import { decodeOrderFilled } from '../../src/chain/order-filled.js';
import type { ChainFill, Undecodable } from '../../src/chain/order-filled.js';
import { warehouseAuditStore } from '../../src/library/audit.js';
import { WalletStatsUpdater } from '../../src/engine/wallet-stats.js';
import { UNRESOLVED_COMBO, UNRESOLVED_UNKNOWN } from '../../src/polymarket/gamma-api.js';
import { UNRESOLVED_MAX_LOOKUPS } from '../../src/warehouse/sql/unresolved-sql.js';
import { MIGRATIONS } from '../../src/warehouse/table-schemas.js';
import type { CheckpointRow, FailureClass, WalletBundle } from '../../src/warehouse/warehouse.js';
import { trade } from '../../testkit/trade-row.js';
import { WAREHOUSE_BACKENDS, stageRows } from './warehouse-backends.js';
import type { WarehouseFixture } from './warehouse-backends.js';
import { asWallet } from '../../testkit/wallets.js';
import { ChainLogBuilder, heldRowsOf, plantDifferences } from '../../testkit/chain-logs.js';
import { startFakeRpc } from '../../testkit/fake-rpc.js';
import { MINUTE_CLOCK, rpcClient, syntheticFills } from '../chain/helpers.js';

/**
 * The warehouse contract, run over every backend: what is planned, how loads MERGE, how a
 * checkpoint counts attempts and parks, what status reports. The rules are written once
 * (src/warehouse/sql); this proves they hold on each backend that runs them.
 */

const W1 = asWallet('0x' + '1'.repeat(40));
const W2 = asWallet('0x' + 'a'.repeat(40));
const W3 = asWallet('0x' + 'b'.repeat(40));

const checkpoint = (wallet: string, ok: boolean, error: string | null = null): CheckpointRow => ({
  wallet_address: wallet,
  ...(ok ? { outcome: 'loaded', error: null } : { outcome: 'failed', error: error ?? 'failed', failure_class: 'data' }),
  trade_count: 2,
  gcs_file: '/x',
  processed_at: new Date().toISOString(),
  run_id: 'r1',
}) as CheckpointRow;

describe.each(WAREHOUSE_BACKENDS)('warehouse contract: $name', (backend) => {
  let f: WarehouseFixture;
  beforeEach(async () => {
    f = await backend.open();
  });
  afterEach(async () => {
    await f.close();
  });

  const plan = async (retryParked = false): Promise<string[]> => {
    const out: string[] = [];
    for await (const chunk of f.warehouse.planWallets({ retryParked, chunkSize: 2 })) out.push(...chunk.map((p) => p.wallet));
    return out;
  };

  const stageTrades = async (wallet: string, ids: string[], timestamp?: string): Promise<WalletBundle> => ({
    wallet,
    tradeCount: ids.length,
    files: { trades: await stageRows(f.stage, 'trades', wallet, ids.map((id) => trade(wallet, id, timestamp))) },
  });

  it('migrates idempotently: a second migrate on the same warehouse changes nothing', async () => {
    await f.warehouse.migrate();
    const rows = await f.sql<{ version: number }>('SELECT version FROM schema_migrations');
    expect(rows.map((r) => Number(r.version)).sort((a, b) => a - b)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it('migration 13 flags every computed wallet stale once (its after-fees figures were the before-fees ones), and only when it is first applied', async () => {
    await f.sql(`INSERT INTO wallet_stats (proxy_wallet, stale, computed_at) VALUES ('${W1}', FALSE, TIMESTAMP '2026-11-01 00:00:00'), ('${W2}', FALSE, NULL)`);
    // A warehouse of version 12: the step runs when 13 is recorded.
    await f.sql('DELETE FROM schema_migrations WHERE version = 13');
    await f.warehouse.migrate();
    const flags = async () =>
      Object.fromEntries((await f.sql<{ w: string; stale: boolean }>('SELECT proxy_wallet AS w, stale FROM wallet_stats')).map((r) => [r.w, Boolean(r.stale)]));
    expect(await flags()).toEqual({ [W1]: true, [W2]: false });
    await f.sql(`UPDATE wallet_stats SET stale = FALSE WHERE proxy_wallet = '${W1}'`);
    await f.warehouse.migrate();
    expect(await flags()).toEqual({ [W1]: false, [W2]: false });
  });

  it('plans valid wallets once each, normalised and ordered, and records every malformed value by name without harming any table', async () => {
    const hostile = [
      `  ${W2.toUpperCase().replace('0X', '0x')}  `,
      W2,
      W1,
      W1,
      null,
      '',
      'not-a-wallet',
      "0x'; DROP TABLE trades; --",
      "Robert'); DELETE FROM backfill_checkpoint; --",
      '0x' + 'g'.repeat(40),
      '0x' + '1'.repeat(39),
    ];
    for (const value of hostile) await f.insertTrader(value);
    expect(await plan()).toEqual([W1, W2]);

    const invalid = await f.warehouse.recordInvalidTraders('run-1');
    expect(invalid.map((i) => i.value).sort()).toEqual(
      ['', 'not-a-wallet', "0x'; DROP TABLE trades; --", "Robert'); DELETE FROM backfill_checkpoint; --", '0x' + 'g'.repeat(40), '0x' + '1'.repeat(39)].sort(),
    );
    for (const i of invalid) expect(i.reason).toContain(JSON.stringify(i.value));
    // Reported once: a second run does not record them again.
    expect(await f.warehouse.recordInvalidTraders('run-2')).toEqual([]);
    const failed = await f.warehouse.failedWallets();
    expect(failed.filter((r) => r.parked)).toHaveLength(6);
    // Tables intact.
    const tables = await f.sql<{ name: string }>('SELECT table_name AS name FROM information_schema.tables ORDER BY 1');
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['backfill_checkpoint', 'events', 'markets', 'traders', 'trades', 'unresolved_ids']));
  });

  it('loads staged files with MERGE: loading the same bundle twice leaves one row per trade, and reports what the warehouse holds per wallet', async () => {
    const b1 = await stageTrades(W1, ['t1', 't2']);
    const b2 = await stageTrades(W2, ['t3']);
    const first = await f.warehouse.loadBundles([b1, b2]);
    expect(first.merged.trades).toBe(3);
    expect(first.tradeCounts).toEqual({ [W1]: 2, [W2]: 1 });
    const again = await f.warehouse.loadBundles([b1]);
    expect(again.merged.trades).toBe(0);
    expect(again.tradeCounts).toEqual({ [W1]: 2 });
    const rows = await f.sql<{ trade_id: string; title: string; ts: string }>(
      "SELECT trade_id, title, strftime(timestamp, '%Y-%m-%dT%H:%M:%S') AS ts FROM trades ORDER BY trade_id",
    );
    expect(rows.map((r) => r.trade_id)).toEqual(['t1', 't2', 't3']);
    expect(rows[0]!.title).toBe("it's a \"title\"");
    expect(rows[0]!.ts).toBe('2024-01-02T03:04:05');
  });

  it('refuses a staged trades file whose rows repeat a key (a fill under two timestamps), before its MERGE: nothing of the batch is held', async () => {
    // Merging one row of the two would leave a checkpoint counting the staged rows against fewer held.
    const repeated = await stageTrades(W1, ['t1', 't1', 't2']);
    const other = await stageTrades(W2, ['t3']);
    await expect(f.warehouse.loadBundles([repeated, other])).rejects.toThrow(
      new RegExp(`of wallet ${W1} holds 3 rows under only 2 distinct trade ids: a fill \\(tx, asset, side, price, size\\) repeated under another timestamp`),
    );
    expect(await f.sql('SELECT trade_id FROM trades')).toEqual([]);
    expect((await f.warehouse.loadBundles([other])).tradeCounts).toEqual({ [W2]: 1 });
  });

  it('refuses a staged file whose row count is not what its manifest says, or that holds another wallet\'s rows: nothing is merged', async () => {
    const short = { ...(await stageTrades(W1, ['t1', 't2'])), tradeCount: 5 };
    await expect(f.warehouse.loadBundles([short])).rejects.toThrow(/holds 2 row\(s\) but its manifest says 5/);
    const foreign = { wallet: W2, tradeCount: 1, files: { trades: await stageRows(f.stage, 'trades', W2, [trade(W3, 'x1')]) } };
    await expect(f.warehouse.loadBundles([foreign])).rejects.toThrow(new RegExp(`row\\(s\\) of wallet "${W3}", which is not in the batch`));
    expect(await f.sql('SELECT trade_id FROM trades')).toEqual([]);
  });

  const activityRow = (wallet: string, id: string, extra: Record<string, unknown> = {}) => ({
    activity_id: id,
    proxy_wallet: wallet,
    type: 'REDEEM',
    condition_id: `0x${'c'.repeat(64)}`,
    token_id: '123',
    outcome_index: 0,
    outcome: 'Yes',
    side: '',
    size: 10,
    usdc_size: 10,
    price: 1,
    timestamp: '2024-02-03T04:05:06.000Z',
    transaction_hash: '0xdef',
    title: "it's \"redeemed\"",
    slug: 's',
    event_slug: '',
    activity_seq: 0,
    raw: '{"type":"REDEEM"}',
    ...extra,
  });
  const comboRow = (wallet: string, id: string) => ({
    combo_activity_id: id,
    proxy_wallet: wallet,
    type: 'SPLIT',
    combo_condition_id: `0x${'d'.repeat(62)}`,
    combo_position_id: '77',
    block_number: 12,
    timestamp: '2024-02-03T04:05:06.000Z',
    transaction_hash: '0xfed',
    amount_usdc: 5,
    payout_usdc: null,
    legs: '[]',
    raw: '{}',
  });

  it('loads activity and combo rows with MERGE on their keys (twice leaves one row each), reports what each wallet holds, and refuses a file unlike what it was written with', async () => {
    const bundle: WalletBundle = {
      wallet: W1,
      tradeCount: 1,
      files: {
        trades: await stageRows(f.stage, 'trades', W1, [trade(W1, 't1')]),
        activity: await stageRows(f.stage, 'activity', W1, [activityRow(W1, 'a1'), activityRow(W1, 'a2', { timestamp: '2024-05-06T07:08:09.000Z', type: 'SPLIT' })]),
        combo_activity: await stageRows(f.stage, 'combo_activity', W1, [comboRow(W1, '0xfed-3')]),
      },
    };
    const first = await f.warehouse.loadBundles([bundle]);
    expect(first.merged).toMatchObject({ trades: 1, activity: 2, combo_activity: 1 });
    expect(first.activityCounts).toEqual({ [W1]: 2 });
    expect(first.lastActivityAt[W1]).toMatch(/^2024-05-06T07:08:09/);
    const again = await f.warehouse.loadBundles([bundle]);
    expect(again.merged).toMatchObject({ trades: 0, activity: 0, combo_activity: 0 });
    expect(await f.sql('SELECT activity_id, type, title FROM activity ORDER BY activity_id')).toEqual([
      { activity_id: 'a1', type: 'REDEEM', title: "it's \"redeemed\"" },
      { activity_id: 'a2', type: 'SPLIT', title: "it's \"redeemed\"" },
    ]);
    // Activity alone (the fills loaded by an earlier run): the trade count is read from what the warehouse holds.
    const activityOnly: WalletBundle = { wallet: W1, tradeCount: 0, activityOnly: true, files: { activity: await stageRows(f.stage, 'activity', W1, [activityRow(W1, 'a3')]) } };
    expect(await f.warehouse.loadBundles([activityOnly])).toMatchObject({ tradeCounts: { [W1]: 1 }, activityCounts: { [W1]: 3 } });
    const foreign: WalletBundle = { wallet: W2, tradeCount: 0, files: { activity: await stageRows(f.stage, 'activity', W2, [activityRow(W3, 'x1')]) } };
    await expect(f.warehouse.loadBundles([foreign])).rejects.toThrow(new RegExp(`staged activity of this batch hold 1 row\\(s\\) of wallet "${W3}"`));
    const twice: WalletBundle = { wallet: W2, tradeCount: 0, files: { activity: await stageRows(f.stage, 'activity', W2, [activityRow(W2, 'y1'), activityRow(W2, 'y1')]) } };
    await expect(f.warehouse.loadBundles([twice])).rejects.toThrow(/holds 2 rows under only 1 distinct activity_id values/);
    expect(await f.sql(`SELECT activity_id FROM activity WHERE proxy_wallet <> '${W1}'`)).toEqual([]);
  });

  it('per-kind completion: a load sets fills_loaded and activity_loaded; wallets completed before activity existed are reopened (neither done nor failed), planned for their activity only, and keep fills_loaded through a failure', async () => {
    await f.warehouse.addTraders([W1, W2, W3], 'test');
    const loaded = { ...checkpoint(W1, true), activity_count: 4, last_activity_at: '2024-05-06T07:08:09.000Z' } as CheckpointRow;
    await f.warehouse.writeCheckpoints([loaded, checkpoint(W2, true)], { maxFailedAttempts: 3 });
    // W3 as an older version left it: completed, with no per-kind column set.
    await f.sql(`INSERT INTO backfill_checkpoint (wallet_address, completed, upload_successful, trade_count) VALUES ('${W3}', TRUE, TRUE, 7)`);
    const kinds = async () =>
      f.sql<{ w: string; done: boolean; fills: boolean | null; activity: boolean | null; n: unknown }>(
        'SELECT wallet_address AS w, completed AND upload_successful AS done, fills_loaded AS fills, activity_loaded AS activity, activity_count AS n FROM backfill_checkpoint ORDER BY w',
      );
    expect((await kinds()).map((r) => [r.w, r.done, r.fills, r.activity, r.n === null ? null : Number(r.n)])).toEqual([
      [W1, true, true, true, 4],
      [W2, true, true, true, null],
      [W3, true, null, null, null],
    ]);
    expect(await f.warehouse.reopenForActivity()).toBe(1);
    expect(await f.warehouse.reopenForActivity()).toBe(0);
    const status = await f.warehouse.status();
    // The mission's figures: W3 is no longer done, nor failed; it awaits its activity.
    expect(status).toMatchObject({ completed: 2, failed: 0, activity: { loaded_wallets: 2, pending_wallets: 1 } });
    const planned: { wallet: string; fillsLoaded: boolean }[] = [];
    for await (const chunk of f.warehouse.planWallets({ retryParked: false })) planned.push(...chunk);
    expect(planned).toEqual([{ wallet: W3, fillsLoaded: true }]);
    await f.warehouse.writeCheckpoints([checkpoint(W3, false, 'activity walk failed')], { maxFailedAttempts: 3 });
    const again: { wallet: string; fillsLoaded: boolean }[] = [];
    for await (const chunk of f.warehouse.planWallets({ retryParked: false })) again.push(...chunk);
    expect(again).toEqual([{ wallet: W3, fillsLoaded: true }]);
    // Set back to pending by hand after a whole load: fetched whole.
    await f.sql(`UPDATE backfill_checkpoint SET upload_successful = FALSE WHERE wallet_address = '${W1}'`);
    const whole: { wallet: string; fillsLoaded: boolean }[] = [];
    for await (const chunk of f.warehouse.planWallets({ retryParked: false })) whole.push(...chunk);
    expect(whole).toEqual([{ wallet: W1, fillsLoaded: false }, { wallet: W3, fillsLoaded: true }]);
  });

  it('market resolutions: ended markets without a final resolution are candidates (asked at most once per window unless the market changed); a resolved payout sets winning_label, a split payout clears it', async () => {
    const yes = `0x${'1'.repeat(64)}`;
    const split = `0x${'2'.repeat(64)}`;
    const open = `0x${'3'.repeat(64)}`;
    const combo = `0x${'4'.repeat(62)}`;
    await f.sql(`INSERT INTO markets (condition_id, closed, end_date, outcomes, winning_label, loaded_at) VALUES
      ('${yes}', TRUE, TIMESTAMP '2024-01-01 00:00:00', '["Yes","No"]', 'No', TIMESTAMP '2024-01-01 00:00:00'),
      ('${split}', FALSE, TIMESTAMP '2024-01-02 00:00:00', '["Yes","No"]', 'Yes', TIMESTAMP '2024-01-01 00:00:00'),
      ('${open}', FALSE, TIMESTAMP '2099-01-01 00:00:00', '["Yes","No"]', NULL, TIMESTAMP '2024-01-01 00:00:00'),
      ('${combo}', TRUE, TIMESTAMP '2024-01-01 00:00:00', NULL, NULL, TIMESTAMP '2024-01-01 00:00:00')`);
    const now = '2026-06-01T00:00:00.000Z';
    const candidates = () => f.warehouse.resolutionCandidates({ now, recentBefore: '2026-05-31T23:00:00.000Z', limit: 10 });
    expect((await candidates()).map((c) => c.condition_id)).toEqual([yes, split]);
    expect((await candidates())[0]!.outcomes).toBe('["Yes","No"]');
    const row = (id: string, status: string, payouts: string | null, label: string | null) => ({
      condition_id: id,
      status,
      payouts,
      winning_outcome_index: null,
      winning_label: label,
      resolved_at: null,
      resolved_block: null,
      market_type: 'BINARY',
      was_disputed: false,
      resolution_source: null,
      reporter: null,
      raw: '{}',
      fetched_at: '2026-05-31T23:30:00.000Z',
    });
    const file = await stageRows(f.stage, 'resolutions', 'resolutions-r1', [row(yes, 'resolved', '[1000000,0]', 'Yes'), row(split, 'proposed', null, null)]);
    const result = await f.warehouse.loadBundles([{ wallet: 'resolutions-r1', tradeCount: 0, metadataOnly: true, files: { resolutions: file } }]);
    expect(result.merged.resolutions).toBe(2);
    // Resolved is final; a proposed one was just asked and its market has not changed since.
    expect(await candidates()).toEqual([]);
    const labels = async () => Object.fromEntries((await f.sql<{ c: string; l: string | null }>('SELECT condition_id AS c, winning_label AS l FROM markets')).map((r) => [r.c, r.l]));
    expect(await labels()).toMatchObject({ [yes]: 'Yes', [split]: 'Yes' });
    // Resolved 50/50: no single winner.
    const later = await stageRows(f.stage, 'resolutions', 'resolutions-r2', [row(split, 'resolved', '[500000,500000]', null)]);
    await f.warehouse.loadBundles([{ wallet: 'resolutions-r2', tradeCount: 0, metadataOnly: true, files: { resolutions: later } }]);
    expect(await labels()).toMatchObject({ [yes]: 'Yes', [split]: null });
    expect(await f.sql(`SELECT status, payouts FROM market_resolutions WHERE condition_id = '${split}'`)).toEqual([{ status: 'resolved', payouts: '[500000,500000]' }]);
  });

  /** The rows of a small world for the profit replay: markets (one neg-risk group of three), an event, fills, activity. */
  const pnlWorld = () => {
    const cond = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
    const group = `0x${'9'.repeat(62)}00`;
    const market = (n: number, extra: Record<string, unknown> = {}) => ({
      condition_id: cond(n), market_id: String(n), question: `Question ${n}?`, slug: `q${n}`, status: 'open', active: true, closed: false,
      outcomes: '["Yes","No"]', outcome_prices: '["0.5","0.5"]', clob_token_ids: `["${n}01","${n}02"]`, winning_label: null, winning_token_id: null,
      start_date: '2024-01-01T00:00:00.000Z', end_date: null, closed_time: null, volume: 1, liquidity: null, neg_risk: false, neg_risk_market_id: null,
      event_ids: '["77"]', event_slug: 'e', tags: null, raw: '{}', fetched_at: '2024-05-01T00:00:00.000Z', ...extra,
    });
    const member = (n: number, q: number) => market(n, { neg_risk: true, neg_risk_market_id: group, raw: JSON.stringify({ questionID: `0x${'9'.repeat(62)}0${q}` }) });
    const event = {
      event_id: '77', slug: 'e', title: 'E', ticker: 'e', category: 'Sports', active: true, closed: false, neg_risk: false, enable_neg_risk: false,
      neg_risk_market_id: null, start_date: null, end_date: null, volume: 1, liquidity: null, tags: null, raw: '{}', fetched_at: '2024-05-01T00:00:00.000Z',
    };
    let second = 0;
    const at = () => new Date(Date.UTC(2024, 2, 1) + (second += 60) * 1000).toISOString();
    const fill = (w: string, id: string, n: number, outcome: number, side: 'BUY' | 'SELL', size: number, price: number) =>
      trade(w, id, at(), { side, asset: `${n}0${outcome + 1}`, condition_id: cond(n), outcome_index: outcome, size, price, transaction_hash: `0x${id}` });
    const act = (w: string, id: string, type: string, n: number, size: number, outcome: number | null) =>
      activityRow(w, id, { type, condition_id: cond(n), token_id: outcome === null ? null : `${n}0${outcome + 1}`, outcome_index: outcome ?? 999, size, usdc_size: 0, timestamp: at(), transaction_hash: `0x${id}` });
    return {
      cond,
      markets: [market(1), member(2, 0), member(3, 1), member(4, 2), market(5), market(6)],
      event,
      // W1: M1 round trip (+9); M2 NO bought at 0.70, 100 converted into YES of M3 and M4 at 0.35, M3 YES sold at 0.50 (+15);
      // M5 NO bought at 0.30 and lost when M5 resolves YES (-15 settled, nothing realized); M6 split 10, YES sold at 0.60 (+1).
      w1Trades: [
        fill(W1, 'f1', 1, 0, 'BUY', 100, 0.4),
        fill(W1, 'f2', 1, 0, 'SELL', 60, 0.55),
        fill(W1, 'f3', 2, 1, 'BUY', 200, 0.7),
        fill(W1, 'f5', 5, 1, 'BUY', 50, 0.3),
      ],
      w1Activity: [act(W1, 'a1', 'CONVERSION', 2, 100, 1), act(W1, 'a2', 'SPLIT', 6, 10, null), act(W1, 'a3', 'REWARD', 6, 3, null)],
      w1Later: [fill(W1, 'f4', 3, 0, 'SELL', 100, 0.5), fill(W1, 'f6', 6, 0, 'SELL', 10, 0.6)],
      w2Trades: [fill(W2, 'g1', 1, 0, 'BUY', 10, 0.5)],
      resolution: (n: number, payouts: string) => ({
        condition_id: cond(n), status: 'resolved', payouts, winning_outcome_index: 0, winning_label: 'Yes', resolved_at: '2024-04-01T00:00:00.000Z',
        resolved_block: 1, market_type: 'BINARY', was_disputed: false, resolution_source: null, reporter: null, raw: '{}', fetched_at: '2024-05-01T00:00:00.000Z',
      }),
    };
  };

  it('positions and wallet_stats: a batch replayed from the rows the warehouse holds gives the hand-worked figures, the same on every backend; loads and resolutions flag exactly the wallets they change', async () => {
    const world = pnlWorld();
    const updater = new WalletStatsUpdater({ warehouse: f.warehouse, now: () => new Date('2024-06-01T00:00:00.000Z') });
    const stale = () => f.warehouse.staleStatsWallets({ limit: 100 });
    const load = async (wallet: string, trades: object[], activity: object[], extra: Partial<WalletBundle['files']> = {}, partial = false) =>
      f.warehouse.loadBundles([
        {
          wallet,
          tradeCount: trades.length,
          ...(partial ? { partial: true } : {}),
          files: {
            ...(trades.length > 0 ? { trades: await stageRows(f.stage, 'trades', wallet, trades) } : {}),
            ...(activity.length > 0 ? { activity: await stageRows(f.stage, 'activity', wallet, activity) } : {}),
            ...extra,
          },
        },
      ]);
    await load(W1, world.w1Trades, world.w1Activity, {
      markets: await stageRows(f.stage, 'markets', W1, world.markets),
      events: await stageRows(f.stage, 'events', W1, [world.event]),
    });
    // W2's fill with its /v2/activity TRADE row: 10 × 0.50 = 5.00 paid plus a fee of 0.05 inside usdc_size 5.05.
    const w2Fill = world.w2Trades[0]!;
    const w2Trade = activityRow(W2, 'g1-trade', {
      type: 'TRADE', condition_id: w2Fill.condition_id, token_id: w2Fill.asset, outcome_index: 0, side: 'BUY', size: 10, price: 0.5, usdc_size: 5.05,
      timestamp: w2Fill.timestamp, transaction_hash: w2Fill.transaction_hash, raw: '{"type":"TRADE"}',
    });
    await load(W2, world.w2Trades, [w2Trade]);
    // Loaded, not yet computed: both flagged; W3 was never loaded.
    expect(await stale()).toEqual([W1, W2]);
    expect(await f.warehouse.walletStats({ by: 'pnl', limit: 10, minMarkets: 0 })).toEqual([]);
    expect(await updater.recompute([W1, W2])).toEqual({ written: 2, unchanged: 0, positions: 8 });
    expect(await stale()).toEqual([]);

    await load(W1, world.w1Later, [], {}, true);
    expect(await stale()).toEqual([W1]);
    // The same figures again write nothing: only the flag clears.
    expect(await updater.recompute([W2])).toMatchObject({ written: 0, unchanged: 1 });
    expect(await updater.recompute([W1])).toMatchObject({ written: 1, unchanged: 0 });
    // A final resolution reaches the holders of its market (W1 holds M5), and no one else.
    const resolutions = await stageRows(f.stage, 'resolutions', 'resolutions-p1', [world.resolution(5, '[1000000,0]')]);
    await f.warehouse.loadBundles([{ wallet: 'resolutions-p1', tradeCount: 0, metadataOnly: true, files: { resolutions } }]);
    expect(await stale()).toEqual([W1]);
    // Loaded again, it is no change: no one is flagged.
    await updater.recompute([W1]);
    await f.warehouse.loadBundles([{ wallet: 'resolutions-p1', tradeCount: 0, metadataOnly: true, files: { resolutions } }]);
    expect(await stale()).toEqual([]);

    const [first, second] = await f.warehouse.walletStats({ by: 'pnl', limit: 10, minMarkets: 0 });
    expect(first).toMatchObject({
      proxy_wallet: W1,
      stale: false,
      // 60 × (0.55 − 0.40) + 100 × (0.50 − 0.35) + 10 × (0.60 − 0.50)
      realized_pnl: 25,
      // No TRADE activity held for W1's fills: their fees, and so every figure after fees, are unknown (NULL, not 0).
      realized_pnl_after_fees: null,
      fees_usdc: null,
      return_on_cost: null,
      // Paid for buys: 100×0.40 + 200×0.70 + 50×0.30 + conversion YES 2 × 100×0.35 + split 2 × 10×0.50.
      cost_bought_usdc: 275,
      // 100×0.40 + 60×0.55 + 200×0.70 + 50×0.30 + 100×0.50 + 10×0.60
      volume_usdc: 284,
      fills: 6,
      markets_traded: 6,
      resolved_markets_traded: 1,
      wins: 0,
      losses: 1,
      win_rate: 0,
      win_rate_sample: 1,
      first_trade_at: '2024-03-01T00:01:00Z',
      top_categories: [{ category: 'Sports', volume_usdc: 284, fills: 6 }],
      computed_at: '2024-06-01T00:00:00Z',
    });
    // W2's one fee is known: 0 − 0.05 after fees, over the 5.00 it paid.
    expect(second).toMatchObject({ proxy_wallet: W2, realized_pnl: 0, realized_pnl_after_fees: -0.05, fees_usdc: 0.05, return_on_cost: -0.01, volume_usdc: 5, markets_traded: 1 });
    // By return: a known return (W2's −1 %) ranks before an unknown one (W1's, +25 / 275 ≈ +9 % before fees).
    expect((await f.warehouse.walletStats({ by: 'roi', limit: 10, minMarkets: 0 })).map((r) => [r.proxy_wallet, r.return_on_cost])).toEqual([
      [W2, -0.01],
      [W1, null],
    ]);
    expect(await f.warehouse.walletPositions(W2)).toEqual([expect.objectContaining({ realized_pnl: 0, realized_pnl_after_fees: -0.05, fees_usdc: 0.05 })]);
    expect((await f.warehouse.walletStats({ by: 'volume', limit: 1, minMarkets: 2 })).map((r) => r.proxy_wallet)).toEqual([W1]);
    expect(await f.warehouse.walletStatsOf(W3)).toBeUndefined();
    expect(await f.warehouse.statsCounts()).toEqual({ wallets: 2, computed: 2, stale: 0 });

    const positions = await f.warehouse.walletPositions(W1);
    const pick = (n: number, outcome: number) => positions.find((p) => p.token_id === `${n}0${outcome + 1}`);
    expect(positions).toHaveLength(7);
    expect(pick(1, 0)).toMatchObject({ status: 'open', shares: 40, avg_price: 0.4, realized_pnl: 9, realized_pnl_after_fees: null, fees_usdc: null, question: 'Question 1?', first_entry_at: '2024-03-01T00:01:00Z' });
    expect(pick(2, 1)).toMatchObject({ status: 'open', shares: 100, avg_price: 0.7, realized_pnl: 0 });
    expect(pick(3, 0)).toMatchObject({ status: 'closed', shares: 0, avg_price: 0.35, realized_pnl: 15 });
    expect(pick(4, 0)).toMatchObject({ status: 'open', shares: 100, avg_price: 0.35, realized_pnl: 0 });
    expect(pick(5, 1)).toMatchObject({ status: 'lost', shares: 50, payout_price: 0, settled_pnl: -15 });
    expect(pick(6, 0)).toMatchObject({ status: 'closed', realized_pnl: 1 });
    expect(pick(6, 1)).toMatchObject({ status: 'open', shares: 10, avg_price: 0.5 });
    // M6's NO came from the split alone: no fill, no fee, a known 0 (its YES was sold by a fill of unknown fee).
    expect(pick(6, 1)).toMatchObject({ realized_pnl_after_fees: 0, fees_usdc: 0 });
    expect(pick(6, 0)).toMatchObject({ realized_pnl_after_fees: null, fees_usdc: null });
  });

  it('neg-risk groups: held events never listed with their markets, or listing a member held neither as a market nor as an unresolved id, are incomplete (least recently fetched first, at most the limit); a look-up that completes a group flags every holder of the group, and no one else', async () => {
    const world = pnlWorld();
    const { cond } = world;
    const group = world.markets[1]!.neg_risk_market_id;
    const updater = new WalletStatsUpdater({ warehouse: f.warehouse, now: () => new Date('2024-06-01T00:00:00.000Z') });
    const stale = () => f.warehouse.staleStatsWallets({ limit: 100 });
    const pnlOf = async (wallet: string) => (await f.warehouse.walletStatsOf(wallet))?.realized_pnl;
    const negRiskEvent = (id: string, marketIds: string[] | null, fetchedAt: string, extra: Record<string, unknown> = {}) => ({
      ...world.event, event_id: id, neg_risk: true, enable_neg_risk: true, neg_risk_market_id: group, market_ids: marketIds === null ? null : JSON.stringify(marketIds), fetched_at: fetchedAt, ...extra,
    });
    const incomplete = async (limit = 100) => (await f.warehouse.incompleteNegRiskEvents({ limit })).map((g) => `${g.eventId} ${g.listed ? 'listed' : 'unlisted'}`);
    // The group's third member (M4) is not held, and its event was fetched before events listed their markets.
    const events = [
      world.event,
      negRiskEvent('88', null, '2024-05-02T00:00:00.000Z'),
      negRiskEvent('89', [cond(2), cond(3)], '2024-04-01T00:00:00.000Z'),
      negRiskEvent('90', [cond(2), cond(7)], '2024-04-01T00:00:00.000Z'),
      negRiskEvent('91', [cond(3), cond(8)], '2024-05-01T00:00:00.000Z'),
      negRiskEvent('92', null, '2024-04-01T00:00:00.000Z'),
      { ...negRiskEvent('93', null, '2024-04-01T00:00:00.000Z'), neg_risk: false, enable_neg_risk: null },
      { ...negRiskEvent('94', [cond(9)], '2024-04-01T00:00:00.000Z'), neg_risk: null, enable_neg_risk: true },
    ];
    await f.warehouse.loadBundles([
      {
        wallet: W1,
        tradeCount: world.w1Trades.length + world.w1Later.length,
        files: {
          trades: await stageRows(f.stage, 'trades', W1, [...world.w1Trades, ...world.w1Later]),
          activity: await stageRows(f.stage, 'activity', W1, world.w1Activity),
          markets: await stageRows(f.stage, 'markets', W1, world.markets.filter((m) => m.condition_id !== cond(4))),
          events: await stageRows(f.stage, 'events', W1, events),
        },
      },
    ]);
    await f.warehouse.loadBundles([{ wallet: W2, tradeCount: 1, files: { trades: await stageRows(f.stage, 'trades', W2, world.w2Trades) } }]);
    await f.sql(`INSERT INTO unresolved_ids (kind, id) VALUES ('market', '${cond(7)}'), ('event', '92')`);
    await updater.recompute([W1, W2]);
    // Short of M4, the conversion of M2's NO hands out YES of M3 alone, at 0.70: its sale at 0.50 loses 20 (9 − 20 + 1).
    expect(await pnlOf(W1)).toBe(-10);

    // 91 lists M8, 94 (enable_neg_risk only) lists M9: neither held. 90's M7 is unresolved, 92 is itself unresolved, 93 is no group.
    expect(await incomplete()).toEqual(['94 listed', '91 listed', '88 unlisted']);
    expect(await incomplete(2)).toEqual(['94 listed', '91 listed']);

    // A later look-up brings M4: W1, who converted in the group, is flagged; W2, who holds no market of it, is not.
    const lookups = (n: number, files: Partial<WalletBundle['files']>) => f.warehouse.loadBundles([{ wallet: `lookups-${n}`, tradeCount: 0, metadataOnly: true, files }]);
    await lookups(1, { markets: await stageRows(f.stage, 'markets', 'lookups-1', [world.markets[3]!]) });
    expect(await stale()).toEqual([W1]);
    await updater.recompute([W1]);
    // The group whole: YES of M3 and M4 at 0.35, the sale at 0.50 makes 15 (9 + 15 + 1).
    expect(await pnlOf(W1)).toBe(25);

    // Event 88 listed with its markets for the first time flags the group's holders; listed again, no one.
    const listed = negRiskEvent('88', [cond(2), cond(3), cond(4)], '2024-06-01T00:00:00.000Z');
    await lookups(2, { events: await stageRows(f.stage, 'events', 'lookups-2', [listed]) });
    expect(await stale()).toEqual([W1]);
    await updater.recompute([W1]);
    await lookups(3, { events: await stageRows(f.stage, 'events', 'lookups-3', [listed]) });
    expect(await stale()).toEqual([]);
    expect(await incomplete()).toEqual(['94 listed', '91 listed']);
    expect(await f.sql(`SELECT market_ids FROM events WHERE event_id = '88'`)).toEqual([{ market_ids: JSON.stringify([cond(2), cond(3), cond(4)]) }]);
  });

  it('counts failed attempts across runs, parks at the limit, and a success resets the count', async () => {
    await f.warehouse.addTraders([W1, W2, W3], 'test');
    await f.warehouse.writeCheckpoints([checkpoint(W1, true), checkpoint(W2, false, 'boom')], { maxFailedAttempts: 2 });
    expect(await plan()).toEqual([W2, W3]);
    await f.warehouse.writeCheckpoints([checkpoint(W2, false, 'boom again')], { maxFailedAttempts: 2 });
    expect(await plan()).toEqual([W3]);
    expect(await plan(true)).toEqual([W2, W3]);
    const [failed] = await f.warehouse.failedWallets();
    expect(failed).toMatchObject({ wallet_address: W2, attempts: 2, parked: true, error: 'boom again' });
    await f.warehouse.writeCheckpoints([checkpoint(W2, true)], { maxFailedAttempts: 2 });
    expect(await f.warehouse.failedWallets()).toEqual([]);
  });

  it('a failed checkpoint (backfill, outage or refresh) records the trades the warehouse holds for the wallet, whatever count the caller passed', async () => {
    await f.warehouse.loadBundles([await stageTrades(W1, ['t1', 't2', 't3'])]);
    const counts = async () =>
      Object.fromEntries(
        (await f.sql<{ wallet_address: string; trade_count: unknown }>('SELECT wallet_address, trade_count FROM backfill_checkpoint ORDER BY wallet_address')).map((r) => [
          r.wallet_address,
          Number(r.trade_count),
        ]),
      );
    // A staged count passed in (99, 5) is not what the warehouse holds: 3 for W1, none for W2 and W3.
    await f.warehouse.writeCheckpoints(
      [
        { ...checkpoint(W1, false, 'load failed permanently'), trade_count: 99 },
        { ...checkpoint(W2, false, 'load failed permanently'), trade_count: 5 },
        { ...checkpoint(W3, false, 'API down'), trade_count: 5, outcome: 'transient', failure_class: 'API unavailable' } as CheckpointRow,
      ],
      { maxFailedAttempts: 5 },
    );
    expect(await counts()).toEqual({ [W1]: 3, [W2]: 0, [W3]: 0 });
    // A completed wallet whose refresh failed: still what is held, never a stale or passed-in figure.
    await f.warehouse.writeCheckpoints([{ ...checkpoint(W2, true), trade_count: 0 }], { maxFailedAttempts: 5 });
    await f.warehouse.loadBundles([await stageTrades(W2, ['t4', 't5'])]);
    await f.warehouse.writeCheckpoints([{ ...checkpoint(W2, false, 'refresh load failed'), trade_count: 42, refresh: true }], { maxFailedAttempts: 5 });
    expect((await counts())[W2]).toBe(2);
  });

  it('records a transient (API outage) failure without counting it towards parking', async () => {
    await f.warehouse.addTraders([W1], 'test');
    for (let run = 0; run < 3; run += 1) {
      await f.warehouse.writeCheckpoints([{ ...checkpoint(W1, false, 'API down'), outcome: 'transient', failure_class: 'API unavailable' } as CheckpointRow], { maxFailedAttempts: 2 });
    }
    expect((await f.warehouse.failedWallets())[0]).toMatchObject({ wallet_address: W1, attempts: 0, parked: false, error: 'API down' });
    expect(await plan()).toEqual([W1]);
    await f.warehouse.writeCheckpoints([checkpoint(W1, false, 'bad row')], { maxFailedAttempts: 2 });
    await f.warehouse.writeCheckpoints([{ ...checkpoint(W1, false, 'API down'), outcome: 'transient', failure_class: 'API unavailable' } as CheckpointRow], { maxFailedAttempts: 2 });
    expect((await f.warehouse.failedWallets())[0]).toMatchObject({ attempts: 1, parked: false });
  });

  it('notes why interrupted wallets have no outcome on pending rows only: a failed row keeps its failure, nothing is counted, both are planned again', async () => {
    await f.warehouse.addTraders([W1, W2], 'test');
    await f.warehouse.writeCheckpoints([checkpoint(W2, false, 'bad row')], { maxFailedAttempts: 5 });
    await f.warehouse.markInFlight([W1, W2], 'r2');
    await f.warehouse.noteInterrupted([
      { wallet: W1, note: "interrupted: the run stopped (--max-runtime 5s reached) while it's being looked up" },
      { wallet: W2, note: 'interrupted: not this one' },
    ]);
    await f.warehouse.clearInFlight('r2');
    const rows = await f.sql<{ wallet_address: string; completed: boolean; error: string; attempts: unknown }>(
      'SELECT wallet_address, completed, error, attempts FROM backfill_checkpoint ORDER BY wallet_address',
    );
    expect(rows.map((r) => ({ ...r, attempts: Number(r.attempts) }))).toEqual([
      { wallet_address: W1, completed: false, error: "interrupted: the run stopped (--max-runtime 5s reached) while it's being looked up", attempts: 0 },
      { wallet_address: W2, completed: true, error: 'bad row', attempts: 1 },
    ]);
    expect(await plan()).toEqual([W1, W2]);
  });

  it('records small_fills_excluded from a load, keeps it through a failure, and a refresh fetched without the small fills sets it for good', async () => {
    const flag = async (): Promise<unknown> =>
      (await f.sql<{ w: string; x: unknown }>('SELECT wallet_address AS w, small_fills_excluded AS x FROM backfill_checkpoint')).find((r) => r.w === W1)?.x;
    const write = (row: CheckpointRow) => f.warehouse.writeCheckpoints([row], { maxFailedAttempts: 5 });
    await write({ ...checkpoint(W1, true), small_fills_excluded: true } as CheckpointRow);
    expect(await flag()).toBe(true);
    // A failure loads nothing, so the flag about what is held stays.
    await write(checkpoint(W1, false, 'boom'));
    expect(await flag()).toBe(true);
    // A full history loaded with the small fills replaces it.
    await write({ ...checkpoint(W1, true), small_fills_excluded: false } as CheckpointRow);
    expect(await flag()).toBe(false);
    await write({ ...checkpoint(W1, true), refresh: true, small_fills_excluded: true } as CheckpointRow);
    expect(await flag()).toBe(true);
    // A later window with the small fills does not bring back what the earlier one left out.
    await write({ ...checkpoint(W1, true), refresh: true, small_fills_excluded: false } as CheckpointRow);
    expect(await flag()).toBe(true);
  });

  it('stores the failure class the engine gives with the failure, clears it on a load, and keeps a refresh failure\'s class apart', async () => {
    await f.warehouse.addTraders([W1, W2], 'test');
    const failed = (w: string, failureClass: FailureClass, refresh = false) =>
      ({ ...checkpoint(w, false, 'boom'), failure_class: failureClass, ...(refresh ? { refresh: true } : {}) }) as CheckpointRow;
    await f.warehouse.writeCheckpoints([failed(W1, 'hostile response'), failed(W2, 'load')], { maxFailedAttempts: 5 });
    // Newest first by processed_at, which both rows may share: compared in address order.
    expect((await f.warehouse.failedWallets()).map((r) => [r.wallet_address, r.failure_class]).sort()).toEqual([
      [W1, 'hostile response'],
      [W2, 'load'],
    ]);
    await f.warehouse.writeCheckpoints([checkpoint(W1, true)], { maxFailedAttempts: 5 });
    await f.warehouse.writeCheckpoints([failed(W1, 'API unavailable', true)], { maxFailedAttempts: 5 });
    expect((await f.warehouse.failedWallets()).map((r) => r.wallet_address)).toEqual([W2]);
    expect((await f.warehouse.failedWallets({ kind: 'refresh' })).map((r) => [r.wallet_address, r.failure_class])).toEqual([[W1, 'API unavailable']]);
    const rows = await f.sql<{ wallet_address: string; failure_class: string | null }>('SELECT wallet_address, failure_class FROM backfill_checkpoint');
    expect(rows.find((r) => r.wallet_address === W1)?.failure_class).toBeNull();
  });

  it("answers the mission document's three monitoring queries, run verbatim with bare table names", async () => {
    await f.warehouse.addTraders([W1, W2, W3], 'test');
    await f.warehouse.writeCheckpoints([checkpoint(W1, true), checkpoint(W2, false, 'x')], { maxFailedAttempts: 5 });
    // Copied from ../shared/seed/000_87d0028ba7c537a7.txt; only the project-qualified names are replaced.
    const completed = await f.sql('SELECT COUNT(*) as completed FROM backfill_checkpoint WHERE completed = true AND upload_successful = true');
    const failed = await f.sql('SELECT wallet_address, trade_count, processed_at FROM backfill_checkpoint WHERE completed = true AND upload_successful = false');
    const progress = await f.sql(
      'SELECT (SELECT COUNT(*) FROM backfill_checkpoint WHERE completed = true AND upload_successful = true) as completed, (SELECT COUNT(DISTINCT wallet_address) FROM traders WHERE wallet_address IS NOT NULL) as total, ROUND((SELECT COUNT(*) FROM backfill_checkpoint WHERE completed = true AND upload_successful = true) * 100.0 / (SELECT COUNT(DISTINCT wallet_address) FROM traders WHERE wallet_address IS NOT NULL), 2) as percent_complete',
    );
    expect(Number(completed[0]!.completed)).toBe(1);
    expect(failed.map((r) => r.wallet_address)).toEqual([W2]);
    expect(Number(progress[0]!.total)).toBe(3);
    expect(Number(progress[0]!.percent_complete)).toBe(33.33);
    const status = await f.warehouse.status();
    expect(status).toMatchObject({ completed: 1, total: 3, percent_complete: 33.33, failed: 1, pending: 2, valid_wallets: 3 });
    expect(status.last_processed_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('answers id look-ups from markets, events and the ids known to be unresolvable', async () => {
    await f.sql(`INSERT INTO markets (condition_id) VALUES ('m1')`);
    await f.sql(`INSERT INTO unresolved_ids (kind, id) VALUES ('market', 'm2'), ('event', 'e9')`);
    await f.sql(`INSERT INTO events (event_id) VALUES ('e1')`);
    await plan();
    expect(await f.warehouse.knownConditionIds(['m1', 'm2', 'm3'])).toEqual(new Set(['m1', 'm2']));
    expect(await f.warehouse.knownEventIds(['e1', 'e9', 'e2'])).toEqual(new Set(['e1', 'e9']));
  });

  it('unresolved ids: each look-up that misses counts once (a reload counts nothing), is due again after its backoff, given up after the last; found ids are forgotten; combo ids are never due', async () => {
    const at = (hours: number) => new Date(Date.UTC(2026, 0, 1) + hours * 3_600_000).toISOString();
    const miss = (kind: 'market' | 'event', id: string, hours: number, reason = UNRESOLVED_UNKNOWN) => ({ kind, id, reason, recorded_at: at(hours), retryable: reason !== UNRESOLVED_COMBO });
    let files = 0;
    const load = async (rows: object[]) => {
      files += 1;
      const file = await stageRows(f.stage, 'unresolved', `lookups-${files}`, rows);
      await f.warehouse.loadBundles([{ wallet: `lookups-${files}`, tradeCount: 0, files: { unresolved: file }, metadataOnly: true }]);
      return file;
    };
    const due = async (hours: number) => (await f.warehouse.dueUnresolved({ now: at(hours), limit: 100 })).map((d) => `${d.kind} ${d.id} ${d.attempts}`);
    const row = async (id: string) =>
      (await f.sql<{ attempts: unknown; first: string; last: string; given_up: string | null }>(
        `SELECT attempts, strftime(recorded_at, '%H') AS first, strftime(last_attempt_at, '%Y-%m-%dT%H') AS last, strftime(given_up_at, '%Y-%m-%dT%H') AS given_up FROM unresolved_ids WHERE id = '${id}'`,
      ))[0];

    const first = await load([miss('market', 'm1', 0), miss('market', 'c1', 0, UNRESOLVED_COMBO), miss('event', 'e1', 0), miss('event', 'e1', 0)]);
    await f.warehouse.loadBundles([{ wallet: 'again', tradeCount: 0, files: { unresolved: first }, metadataOnly: true }]);
    expect(await row('m1')).toMatchObject({ first: '00', given_up: null });
    expect(Number((await row('m1'))!.attempts)).toBe(1);
    // A row of an older version (no attempts, no retryable) counts as one miss at recorded_at.
    await f.sql(`INSERT INTO unresolved_ids (kind, id, reason, recorded_at) VALUES ('market', 'old', '${UNRESOLVED_UNKNOWN}', '${at(0).slice(0, 19)}')`);
    expect(await due(0.5)).toEqual([]);
    expect(await due(1.5)).toEqual(['event e1 1', 'market m1 1', 'market old 1']);

    // The second miss, 2 h later: counted once however often its file loads; an older file changes nothing.
    const second = await load([miss('market', 'm1', 2)]);
    await f.warehouse.loadBundles([{ wallet: 'again', tradeCount: 0, files: { unresolved: second }, metadataOnly: true }]);
    await f.warehouse.loadBundles([{ wallet: 'old', tradeCount: 0, files: { unresolved: first }, metadataOnly: true }]);
    expect(Number((await row('m1'))!.attempts)).toBe(2);
    expect(await row('m1')).toMatchObject({ first: '00', last: '2026-01-01T02' });
    expect(await due(2 + 5)).toEqual(['event e1 1', 'market old 1']);
    expect(await due(2 + 7)).toEqual(['event e1 1', 'market old 1', 'market m1 2']);

    // Misses up to the last look-up: then given up, and never due again.
    let hours = 2;
    for (let attempt = 3; attempt <= UNRESOLVED_MAX_LOOKUPS; attempt += 1) {
      hours += 200;
      await load([miss('market', 'm1', hours)]);
    }
    expect(Number((await row('m1'))!.attempts)).toBe(UNRESOLVED_MAX_LOOKUPS);
    expect((await row('m1'))!.given_up).toBe(at(hours).slice(0, 13));
    expect(await due(hours + 10_000)).not.toContain(`market m1 ${UNRESOLVED_MAX_LOOKUPS}`);
    expect((await due(hours + 10_000)).some((d) => d.includes('c1'))).toBe(false);

    // Found by a later look-up: the row goes.
    expect(await f.warehouse.forgetUnresolved('event', ['e1', 'e-unknown'])).toBe(1);
    expect(await f.sql(`SELECT id FROM unresolved_ids WHERE kind = 'event'`)).toEqual([]);
  });

  it('adds traders once each, however often they are listed', async () => {
    expect(await f.warehouse.addTraders([W1, W2, W1], 'a')).toBe(2);
    expect(await f.warehouse.addTraders([W2, W3], 'b')).toBe(1);
    expect(await f.sql<{ wallet_address: string; source: string }>('SELECT wallet_address, source FROM traders ORDER BY 1')).toEqual([
      { wallet_address: W1, source: 'a' },
      { wallet_address: W2, source: 'a' },
      { wallet_address: W3, source: 'b' },
    ]);
  });
  /** W's fills decoded from the logs a builder made of `count` synthetic fills, with a combo log among them. */
  const chainOf = (wallet: string, count: number) => {
    const builder = new ChainLogBuilder({ clock: MINUTE_CLOCK });
    const fills = syntheticFills(wallet, count, (i) => i * 30);
    builder.addFills(fills);
    builder.addComboLog(wallet, fills[2]!.timestamp);
    // What the audit's filter asks for: OrderFilled of either version with the wallet as the order's maker.
    const own = builder.logs().filter((log) => [ORDER_FILLED_V1_TOPIC, ORDER_FILLED_V2_TOPIC].includes(log.topics[0] as `0x${string}`) && log.topics[2] === addressTopic(wallet));
    const decoded = own.map(decodeOrderFilled);
    return {
      fills: decoded.filter((e): e is ChainFill => e.kind === 'fill'),
      undecodable: decoded.filter((e): e is Undecodable => e.kind === 'undecodable'),
    };
  };

  it('chain audit store: a range saved twice holds its logs once (uint256 amounts exact), progress moves with it, clear forgets both; held trades are the wallet\'s rows of trades', async () => {
    const { fills, undecodable } = chainOf(W1, 6);
    expect(undecodable).toHaveLength(1);
    // An amount past 2^53 must come back exact: the table holds decimal text.
    const usdcRaw = 2n ** 70n + 1n;
    const huge = { ...fills[0]!, usdcRaw, usdc: fromRaw(usdcRaw), price: Number(usdcRaw) / Number(fills[0]!.sharesRaw), feeRaw: 123_456_789_012_345_678_901n };
    const range = { fromBlock: 1_000, toBlock: 5_000, fills: [huge, ...fills.slice(1, 4)], undecodable };
    expect(await f.warehouse.auditProgress(W1)).toBeUndefined();
    await f.warehouse.saveAuditRange(W1, range);
    await f.warehouse.saveAuditRange(W1, range);
    await f.warehouse.saveAuditRange(W1, { fromBlock: 5_001, toBlock: 9_000, fills: fills.slice(4), undecodable: [] });
    expect(await f.warehouse.auditProgress(W1)).toBe(9_000);
    expect(await f.warehouse.auditProgress(W2)).toBeUndefined();
    const stored = await f.warehouse.auditChainFills(W1);
    expect(stored.fills).toEqual([huge, ...fills.slice(1)]);
    expect(stored.undecodable).toEqual(undecodable);
    expect(await f.warehouse.auditChainFills(W2)).toEqual({ fills: [], undecodable: [] });
    await f.warehouse.clearAudit(W1);
    expect(await f.warehouse.auditProgress(W1)).toBeUndefined();
    expect(await f.warehouse.auditChainFills(W1)).toEqual({ fills: [], undecodable: [] });

    await f.warehouse.loadBundles([
      {
        wallet: W1,
        tradeCount: 2,
        files: {
          trades: await stageRows(f.stage, 'trades', W1, [
            trade(W1, 't1', '2025-03-04T05:06:07.000Z', { transaction_hash: '0x' + 'e'.repeat(64), asset: '42', side: 'SELL', size: 2.5, price: 0.4 }),
            trade(W1, 't2'),
          ]),
        },
      },
      { wallet: W2, tradeCount: 1, files: { trades: await stageRows(f.stage, 'trades', W2, [trade(W2, 't3')]) } },
    ]);
    const held = await f.warehouse.auditHeldTrades(W1);
    expect(held.sort((a, b) => a.trade_id.localeCompare(b.trade_id))).toEqual([
      { trade_id: 't1', proxy_wallet: W1, transaction_hash: '0x' + 'e'.repeat(64), asset: '42', side: 'SELL', size: 2.5, price: 0.4, timestamp: '2025-03-04T05:06:07Z' },
      { trade_id: 't2', proxy_wallet: W1, transaction_hash: '0xabc', asset: '123', side: 'BUY', size: 1.5, price: 0.25, timestamp: '2024-01-02T03:04:05Z' },
    ]);
  });

  it('chain audit store: auditWallet over the warehouse finds the planted differences, resumes from the stored progress to the same result, and the result with its mismatches is replaced, not added to', async () => {
    const all = syntheticFills(W1, 40, (i) => i * 45);
    const planted = plantDifferences(all, { missingFromApi: 2, heldNotOnChain: 1, underMinimum: 1, seed: 'contract' });
    const builder = new ChainLogBuilder({ clock: MINUTE_CLOCK });
    builder.addFills(planted.chain);
    const toBlock = MINUTE_CLOCK.blockOf(Math.max(...all.map((fill) => fill.timestamp))) + 1;
    const fake = await startFakeRpc({ logs: builder.logs(), head: toBlock + 64, clock: MINUTE_CLOCK, maxBlockRange: 500 });
    try {
      const rows = heldRowsOf(planted.held).map((row) => trade(W1, row.trade_id, row.timestamp, { transaction_hash: row.transaction_hash, asset: row.asset, side: row.side, size: row.size, price: row.price }));
      await f.warehouse.loadBundles([{ wallet: W1, tradeCount: rows.length, files: { trades: await stageRows(f.stage, 'trades', W1, rows) } }]);
      const store = warehouseAuditStore(f.warehouse, () => '2026-12-01T00:00:00.000Z');
      const options = { store, fromBlock: 1_000, toBlock, window: { initialBlocks: 1_000 } };
      const controller = new AbortController();
      let ranges = 0;
      const stopped = auditWallet(W1, {
        ...options,
        rpc: rpcClient(fake.url),
        signal: controller.signal,
        onRange: () => {
          if ((ranges += 1) === 2) controller.abort(new Error('stopped'));
        },
      });
      await expect(stopped).rejects.toThrow('stopped');
      const progress = await f.warehouse.auditProgress(W1);
      expect(progress).toBeGreaterThan(1_000);
      const report: WalletAuditReport = await auditWallet(W1, { ...options, rpc: rpcClient(fake.url) });
      expect(report.resumedAfter).toBe(progress);
      expect(report).toMatchObject({ onChain: 40, held: 38, matched: 37, missingFromApi: 2, heldNotOnChain: 1, underMinimum: 1, complete: false });
      const [result] = await f.warehouse.auditResults([W1, W2]);
      expect(result).toMatchObject({
        wallet: W1,
        from_block: 1_000,
        to_block: toBlock,
        on_chain: 40,
        held: 38,
        matched: 37,
        missing_from_api: 2,
        held_not_on_chain: 1,
        under_minimum: 1,
        undecodable: 0,
        complete: false,
        mismatches: 4,
        resumed_after: progress,
        audited_at: '2026-12-01T00:00:00Z',
      });
      const mismatches = await f.warehouse.auditMismatches(W1);
      expect(mismatches.map((m) => m.kind).sort()).toEqual(['held-not-on-chain', 'missing-from-api', 'missing-from-api', 'under-minimum']);
      expect(mismatches.find((m) => m.kind === 'held-not-on-chain')).toMatchObject({ tradeId: expect.any(String), logIndex: null, heldSize: planted.heldNotOnChain[0]!.size });
      expect(mismatches.map(({ auditedAt: _, ...m }) => m).sort((a, b) => a.detail.localeCompare(b.detail))).toEqual([...report.mismatches].sort((a, b) => a.detail.localeCompare(b.detail)));

      // Audited again with nothing left to walk: one result, its mismatches replaced.
      const again = await auditWallet(W1, { ...options, rpc: rpcClient(fake.url) });
      expect(again.logRequests).toBe(0);
      expect(await f.warehouse.auditMismatches(W1)).toHaveLength(4);
      expect(await f.warehouse.auditResults()).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });

  it('chain audit sample: wallets whose fills are loaded, in a stable order that is not the address order, at most the limit', async () => {
    const wallets = Array.from({ length: 12 }, (_, i) => asWallet('0x' + (i + 1).toString(16).padStart(2, '0').repeat(20)));
    await f.warehouse.addTraders(wallets, 'test');
    await f.warehouse.writeCheckpoints([...wallets.slice(0, 10).map((w) => checkpoint(w, true)), checkpoint(wallets[10]!, false, 'x')], { maxFailedAttempts: 5 });
    const all = await f.warehouse.auditSample(100);
    expect([...all].sort()).toEqual(wallets.slice(0, 10));
    expect(all).not.toEqual([...all].sort());
    expect(await f.warehouse.auditSample(4)).toEqual(all.slice(0, 4));
  });
});
