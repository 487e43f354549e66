import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { FEES_UNKNOWN_HINT } from '../../src/cli/commands/stats.js';
import type { PnlVerification } from '../../src/library/pnl-verify.js';
import { DEFAULT_ACTIVITY_TYPES } from '../../src/polymarket/activity-rows.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import type { DuckDbWarehouse } from '../../src/warehouse/duckdb/index.js';
import type { WalletStatsRow } from '../../src/warehouse/warehouse.js';
import { clockBehind, openWarehouse, paths, runBackfill, seedTraders } from '../../testkit/backfill-harness.js';
import { runCli } from '../../testkit/cli.js';
import { withTempDir } from '../../testkit/temp-dir.js';

const UNTHROTTLED_CHECK = ['--rate-limit', 'data:positions=100000/10s,data:user-pnl=100000/10s', '--log-level', 'error'];

interface Figures {
  proxy_wallet: string;
  fills: number;
  realized_pnl: number;
  realized_pnl_after_fees: number | null;
  fees_usdc: number | null;
  return_on_cost: number | null;
}

/**
 * Fees end to end, on the simulator: a run with the default `--activity-types` (no TRADE) holds no fee of any fill, so
 * every figure after fees is NULL in positions and wallet_stats, and `backfill stats` shows "—" and says how to get
 * them; a run that names TRADE holds every fill's TRADE row, matches each fill to it, and fills them in (the
 * simulator charges no fee: every fee is a known 0, so after fees equals before). Profit before fees — what
 * `verify-pnl` compares — is the same either way.
 */
describe('fees: unknown without TRADE activity, known with it', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 37, wallets: 8, maxTradesPerWallet: 150, nowSeconds: clockBehind() });
  });
  afterAll(async () => {
    await sim.close();
  });

  const figuresOf = async (wh: DuckDbWarehouse) =>
    (
      await wh.query<Figures>(
        'SELECT proxy_wallet, fills, realized_pnl, realized_pnl_after_fees, fees_usdc, return_on_cost FROM wallet_stats ORDER BY proxy_wallet',
      )
    ).map((r) => ({ ...r, fills: Number(r.fills) }));
  /** Positions by whether a fill touched them: [with fills, their after-fees figures] and [without, theirs]. */
  const positionFees = async (wh: DuckDbWarehouse) =>
    wh.query<{ filled: boolean; n: bigint; after_null: bigint; fees_null: bigint; fees_zero: bigint; after_is_before: bigint }>(
      `SELECT fills > 0 AS filled, count(*) AS n, count(*) FILTER (WHERE realized_pnl_after_fees IS NULL) AS after_null,
        count(*) FILTER (WHERE fees_usdc IS NULL) AS fees_null, count(*) FILTER (WHERE fees_usdc = 0) AS fees_zero,
        count(*) FILTER (WHERE realized_pnl_after_fees = realized_pnl) AS after_is_before
      FROM positions GROUP BY ALL ORDER BY filled`,
    );

  it('a default-configured run leaves every figure after fees NULL and stats says so; a run with TRADE collected fills them, before-fees figures unchanged', async () => {
    let defaultFigures: Figures[] = [];
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());
      expect(await runBackfill(dir, sim.url)).toMatchObject({ outcome: 'complete', loaded: 8 });
      const wh = await openWarehouse(dir);
      try {
        expect(await wh.query(`SELECT type FROM activity WHERE type = 'TRADE'`)).toEqual([]);
        defaultFigures = await figuresOf(wh);
        expect(defaultFigures).toHaveLength(8);
        const traded = defaultFigures.filter((w) => w.fills > 0);
        expect(traded.length).toBeGreaterThan(5);
        for (const w of traded) expect([w.proxy_wallet, w.realized_pnl_after_fees, w.fees_usdc, w.return_on_cost]).toEqual([w.proxy_wallet, null, null, null]);
        const [unfilled, filled] = await positionFees(wh);
        // Positions a fill touched have unknown fees; those only splits or conversions made were charged none (0).
        expect(Number(filled!.n)).toBeGreaterThan(20);
        expect(filled).toMatchObject({ filled: true, after_null: filled!.n, fees_null: filled!.n });
        if (unfilled) expect(unfilled).toMatchObject({ filled: false, after_null: 0n, fees_zero: unfilled.n, after_is_before: unfilled.n });
      } finally {
        await wh.close();
      }

      // `backfill stats`: null in JSON with the note, "—" in the table with the one line saying how to get them.
      const { warehouse, stage } = paths(dir);
      const store = ['--warehouse', warehouse, '--stage', stage];
      const json = await runCli(['stats', ...store, '--top', '100', '--by', 'roi', '--json']);
      expect(json.code, json.stderr).toBe(0);
      const ranked = JSON.parse(json.stdout) as { wallets: WalletStatsRow[]; after_fees_note?: string };
      expect(ranked.after_fees_note).toBe(FEES_UNKNOWN_HINT);
      expect(ranked.wallets.filter((w) => (w.fills ?? 0) > 0).map((w) => [w.realized_pnl_after_fees, w.fees_usdc, w.return_on_cost])).toEqual(
        ranked.wallets.filter((w) => (w.fills ?? 0) > 0).map(() => [null, null, null]),
      );
      const table = await runCli(['stats', ...store, '--top', '3']);
      expect(table.code, table.stderr).toBe(0);
      const [header, first] = table.stdout.split('\n') as [string, string];
      expect(header).toMatch(/^#\s+wallet\s+realized\s+after fees\s+volume\s+return/);
      expect(first).toMatch(/^1\s+0x[0-9a-f]{40}\s+-?\$[\d,.]+\s+—\s+\$[\d,.]+\s+—\s/);
      expect(table.stdout).not.toContain('NaN');
      expect(table.stderr).toContain(FEES_UNKNOWN_HINT);
      expect(FEES_UNKNOWN_HINT).toContain(`--activity-types ${DEFAULT_ACTIVITY_TYPES.join(',')},TRADE`);
      const one = await runCli(['stats', ...store, '--wallet', first.split(/\s+/)[1]!]);
      expect(one.code, one.stderr).toBe(0);
      expect(one.stdout).toMatch(/realized profit {3}-?\$[\d,.]+ before fees, — after fees \(fees unknown\)/);
      expect(one.stdout).toMatch(/\(after fees —\)/);
      expect(one.stdout).toContain(FEES_UNKNOWN_HINT);
    });

    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());
      const summary = await runBackfill(dir, sim.url, {}, { activityTypes: [...DEFAULT_ACTIVITY_TYPES, 'TRADE'] });
      expect(summary).toMatchObject({ outcome: 'complete', loaded: 8 });
      const wh = await openWarehouse(dir);
      try {
        // Every fill has its TRADE row.
        const [counts] = await wh.query<{ fills: bigint; trade_rows: bigint }>(
          `SELECT (SELECT count(*) FROM trades) AS fills, (SELECT count(*) FROM activity WHERE type = 'TRADE') AS trade_rows`,
        );
        expect(Number(counts!.trade_rows)).toBe(Number(counts!.fills));
        const figures = await figuresOf(wh);
        // Before fees: the same figures as without TRADE rows (they move no position).
        expect(figures.map((w) => [w.proxy_wallet, w.realized_pnl, w.fills])).toEqual(defaultFigures.map((w) => [w.proxy_wallet, w.realized_pnl, w.fills]));
        // After fees: known, every fee a known 0 (the simulator's usdc_size is size × price).
        for (const w of figures) expect([w.proxy_wallet, w.realized_pnl_after_fees, w.fees_usdc]).toEqual([w.proxy_wallet, w.realized_pnl, 0]);
        expect(figures.filter((w) => w.return_on_cost !== null).length).toBeGreaterThan(5);
        const groups = await positionFees(wh);
        for (const g of groups) expect(g).toMatchObject({ after_null: 0n, fees_null: 0n, fees_zero: g.n, after_is_before: g.n });
      } finally {
        await wh.close();
      }
      const { warehouse, stage } = paths(dir);
      const store = ['--warehouse', warehouse, '--stage', stage];
      const table = await runCli(['stats', ...store, '--top', '3']);
      expect(table.code, table.stderr).toBe(0);
      expect(table.stdout.split('\n')[1]).toMatch(/^1\s+0x[0-9a-f]{40}\s+-?\$[\d,.]+\s+-?\$[\d,.]+\s+\$[\d,.]+\s+-?[\d.]+%\s/);
      expect(table.stderr).not.toContain(FEES_UNKNOWN_HINT);

      // verify-pnl compares profit before fees: TRADE rows held change nothing there.
      const check = await runCli(['verify-pnl', ...store, '--data-api-url', sim.url, '--sample', '100', '--json', ...UNTHROTTLED_CHECK]);
      expect(check.code, check.stdout + check.stderr).toBe(0);
      expect(JSON.parse(check.stdout) as PnlVerification).toMatchObject({ differ: 0, failed: 0, shareWithin: 1 });
    });
  }, 90_000);
});
