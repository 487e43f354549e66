/**
 * Rows no fill can have, served by a hostile Data API in front of the simulator, through the real
 * CLI on a real DuckDB file: each fails its wallet with a message naming the value, and the
 * checkpoint agrees with what the warehouse holds. Edges 3 (a fill dated in the future) and 6 (a
 * fill repeated under another timestamp) of issue 17.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { hostileRow, startHostilePolymarket } from '../fakes/hostile-polymarket.js';
import type { RunningHostilePolymarket } from '../fakes/hostile-polymarket.js';
import { openWarehouse, paths, seedTraders } from '../../testkit/backfill-harness.js';
import { runArgs, runCli } from '../../testkit/cli.js';
import { withTempDir } from '../../testkit/temp-dir.js';

/** 2100-01-01T00:00:00Z. */
const YEAR_2100 = 4_102_444_800;
const OVERLAP_SECONDS = 3_600;

/** A wallet the simulator does not know: its trades come from the hostile server's script only. */
const TWINS = `0x${'6'.repeat(40)}`;
const FAR_TWINS = `0x${'7'.repeat(40)}`;

/** Two rows equal but for their timestamps (`hostileRow` 0, repeated at `repeatAt`), with distinct fills between. */
function twinPages(wallet: string, rows: number, repeatAt: number): unknown[][] {
  const all = Array.from({ length: rows }, (_, index) => hostileRow(wallet, index));
  all[repeatAt] = { ...hostileRow(wallet, 0), timestamp: hostileRow(wallet, repeatAt).timestamp };
  const pages: unknown[][] = [];
  for (let start = 0; start < rows; start += 1000) pages.push(all.slice(start, start + 1000));
  return pages;
}

interface CheckpointState {
  wallet_address: string;
  completed: boolean;
  upload_successful: boolean;
  trade_count: number;
  error: string | null;
  refresh_error: string | null;
  held: number;
}

async function checkpoints(dir: string, wallets: string[]): Promise<Map<string, CheckpointState>> {
  const wh = await openWarehouse(dir);
  try {
    const states = new Map<string, CheckpointState>();
    for (const wallet of wallets) {
      const [row] = await wh.query<CheckpointState & { held: bigint; trade_count: bigint }>(
        `SELECT k.wallet_address, k.completed, k.upload_successful, k.trade_count, k.error, k.refresh_error,
           (SELECT count(*) FROM trades AS t WHERE t.proxy_wallet = k.wallet_address) AS held
         FROM backfill_checkpoint AS k WHERE k.wallet_address = $w`,
        { w: wallet },
      );
      if (row) states.set(wallet, { ...row, trade_count: Number(row.trade_count), held: Number(row.held) });
    }
    return states;
  } finally {
    await wh.close();
  }
}

describe('fills no wallet can have, refused at fetch and at load', () => {
  let sim: RunningSimulator;
  let hostile: RunningHostilePolymarket;
  let futureWallet: string;
  let heldFutureWallet: string;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 71, wallets: 4, maxTradesPerWallet: 300 });
    const trading = sim.dataset.wallets().filter((w) => sim.dataset.tradeCount(w) > 0);
    expect(trading.length).toBeGreaterThanOrEqual(2);
    [futureWallet, heldFutureWallet] = [trading[0]!, trading[1]!];
    hostile = await startHostilePolymarket({
      upstream: sim.url,
      wallets: {},
      scripted: {
        // Newest first: a fill dated 2100, then an ordinary one.
        [futureWallet]: [[{ ...hostileRow(futureWallet, 0), timestamp: YEAR_2100 }, hostileRow(futureWallet, 1)]],
        [TWINS]: twinPages(TWINS, 3, 2),
        // The twin 10,999 fills after the first: beyond what the fetch remembers, left to the load.
        [FAR_TWINS]: twinPages(FAR_TWINS, 11_000, 10_999),
      },
    });
  });
  afterAll(async () => {
    await hostile.close();
    await sim.close();
  });

  it('refresh refuses a fill dated in the year 2100 naming it, and refreshes a wallet already holding one from now minus the overlap', async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());
      const backfill = await runCli(runArgs(paths(dir), sim.url));
      expect(backfill.code, backfill.stderr).toBe(0);
      // A warehouse loaded before future fills were refused: one held, and the newest fill it records.
      const wh = await openWarehouse(dir);
      await wh.query(
        "INSERT INTO trades SELECT * REPLACE ('future-' || trade_id AS trade_id, TIMESTAMP '2100-01-01 00:00:00' AS timestamp) FROM trades WHERE proxy_wallet = $w LIMIT 1",
        { w: heldFutureWallet },
      );
      await wh.query("UPDATE backfill_checkpoint SET last_trade_at = TIMESTAMP '2100-01-01 00:00:00' WHERE wallet_address = $w", { w: heldFutureWallet });
      await wh.close();

      const args = runArgs(paths(dir), hostile.url, ['--overlap', '1h']);
      args[0] = 'refresh';
      const before = Math.floor(Date.now() / 1000);
      const refresh = await runCli(args);
      const after = Math.floor(Date.now() / 1000);
      expect(refresh.code, refresh.stderr).toBe(2);
      expect(refresh.stdout).toMatch(/^refresh .*: some-failed — 3 wallet\(s\) refreshed, 1 failed/m);

      const failed = await runCli(['failed', '--refresh', '--json', '--warehouse', paths(dir).warehouse, '--stage', paths(dir).stage]);
      const rows = failed.stdout.trim().split('\n').map((line) => JSON.parse(line) as { wallet_address: string; error: string });
      expect(rows.map((r) => r.wallet_address)).toEqual([futureWallet]);
      expect(rows[0]!.error).toMatch(
        /field "timestamp" is invalid \(dated 2100-01-01T00:00:00Z, after now \(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\) plus the 10-minute clock-skew margin: no fill can be dated in the future\): got 4102444800/,
      );

      // The window of the wallet holding a 2100 fill starts an hour before now, not an hour before 2100.
      const [sent] = hostile.tradeQueries(heldFutureWallet);
      expect(hostile.tradeQueries(heldFutureWallet)).toHaveLength(1);
      expect(Number(sent!.get('start'))).toBeGreaterThanOrEqual(before - OVERLAP_SECONDS);
      expect(Number(sent!.get('start'))).toBeLessThanOrEqual(after - OVERLAP_SECONDS);

      const state = await checkpoints(dir, [futureWallet, heldFutureWallet]);
      expect(state.get(heldFutureWallet)).toMatchObject({ upload_successful: true, refresh_error: null });
      // The refused wallet keeps its completed backfill; nothing of the refused page was loaded.
      expect(state.get(futureWallet)).toMatchObject({ upload_successful: true, trade_count: sim.dataset.tradeCount(futureWallet), held: sim.dataset.tradeCount(futureWallet) });
    });
  });

  it('a run refuses two rows equal but for their timestamps, at fetch when near and at load when far apart; nothing of either wallet is held', async () => {
    await withTempDir(async (dir) => {
      const normal = sim.dataset.wallets().filter((w) => w !== futureWallet);
      await seedTraders(dir, [...normal, TWINS, FAR_TWINS]);
      const run = await runCli(runArgs(paths(dir), hostile.url));
      expect(run.code, run.stderr).toBe(2);
      expect(run.stdout).toMatch(/^run .*: some-failed — 3 wallet\(s\) loaded, 2 failed/m);

      const state = await checkpoints(dir, [...normal, TWINS, FAR_TWINS]);
      const [first, , repeated] = twinPages(TWINS, 3, 2)[0] as Record<string, unknown>[];
      expect(state.get(TWINS)).toMatchObject({ completed: true, upload_successful: false, trade_count: 0, held: 0 });
      expect(state.get(TWINS)!.error).toContain(
        `trade row 3 (tx ${String(first!.transaction_hash)}, asset ${String(first!.token_id)}, BUY 10 at 0.5) has timestamp ${String(repeated!.timestamp)}, but an identical row came with timestamp ${String(first!.timestamp)}`,
      );
      expect(state.get(FAR_TWINS)).toMatchObject({ completed: true, upload_successful: false, trade_count: 0, held: 0 });
      expect(state.get(FAR_TWINS)!.error).toMatch(/holds 11000 rows under only 10999 distinct trade ids: a fill \(tx, asset, side, price, size\) repeated under another timestamp/);
      // Refused by the warehouse: its staged bundle is set aside, so the next run fetches it again.
      expect(state.get(FAR_TWINS)!.error).toContain('the next `backfill run` fetches the wallet again from the API');
      // The wallets beside them are loaded whole, and every checkpoint counts the rows held.
      for (const wallet of normal) {
        expect(state.get(wallet), wallet).toMatchObject({ upload_successful: true, trade_count: sim.dataset.tradeCount(wallet), held: sim.dataset.tradeCount(wallet) });
      }
    });
  });
});
