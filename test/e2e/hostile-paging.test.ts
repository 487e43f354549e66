/**
 * Paging walks against a server that pages without progress, through the real CLI: before the walks had a
 * no-progress limit, each of these never ended (a Gamma keyset listing of empty pages with fresh cursors ran
 * 2,604 requests in 90 s; a board repeating its wallets printed nothing). Every CLI call here is bounded by the
 * test's timeout, so such a hang fails the test instead of stalling the suite, and the child is killed after it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { openWarehouse, paths, seedTraders } from '../../testkit/backfill-harness.js';
import { runArgs, runCli } from '../../testkit/cli.js';
import { withTempDir } from '../../testkit/temp-dir.js';
import { startHostilePaging } from '../fakes/hostile-paging.js';
import type { RunningHostilePaging } from '../fakes/hostile-paging.js';

interface FailedRow {
  wallet_address: string;
  error: string;
  attempts: number;
}

const failedRows = async (dir: string): Promise<FailedRow[]> => {
  const failed = await runCli(['failed', '--json', '--warehouse', paths(dir).warehouse, '--stage', paths(dir).stage]);
  expect(failed.code, failed.stderr).toBe(0);
  return failed.stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as FailedRow);
};

let sim: RunningSimulator;
let hostile: RunningHostilePaging | undefined;

beforeAll(async () => {
  sim = await startSimulator({ seed: 17, wallets: 3, maxTradesPerWallet: 40 });
});
afterAll(async () => {
  await sim.close();
});
afterEach(async () => {
  await hostile?.close();
  hostile = undefined;
});

describe('a Gamma keyset listing that answers empty pages with a fresh cursor every time', () => {
  it('fails the wallet waiting on it with an error naming the listing, the pages and what was seen; the run ends on its own, and so does the next', { timeout: 60_000 }, async () => {
    hostile = await startHostilePaging({ upstream: sim.url, keyset: 'empty-fresh-cursors' });
    // One wallet: the claims of a wallet that fails are another matter (two wallets sharing markets would
    // leave the second one nothing to look up).
    const wallets = sim.dataset.wallets().filter((wallet) => sim.dataset.tradeCount(wallet) > 0).slice(0, 1);
    expect(wallets).toHaveLength(1);
    await withTempDir(async (dir) => {
      await seedTraders(dir, wallets);
      // --max-runtime only as a backstop: the walk must stop long before it.
      const args = runArgs(paths(dir), hostile!.url, ['--json', '--max-runtime', '45s']);
      const first = await runCli(args);
      expect(first.code, first.stderr).toBe(2);
      expect(JSON.parse(first.stdout)).toMatchObject({ outcome: 'some-failed', loaded: 0, failed: wallets.length, stopReason: null });

      const rows = await failedRows(dir);
      expect(rows.map((row) => row.wallet_address).sort()).toEqual([...wallets].sort());
      for (const row of rows) {
        expect(row.error).toMatch(
          /GET http:\/\/127\.0\.0\.1:\d+\/markets\/keyset\?closed=(true|false)&limit=100&include_tag=true&after_cursor=\*\*\* \(\d+ condition_ids\) \(page 3\): 3 pages in a row added no new market yet still handed out a fresh next_cursor \(0 markets in 3 pages\)/,
        );
        expect(row.error).toContain('the wallets waiting on it are failed rather than stored without their markets; retry later');
        expect(row.attempts).toBe(1);
      }
      // A handful of pages per batch and listing value, not thousands.
      expect(hostile!.requests('/markets/keyset')).toBeLessThan(50);

      // The next run does not hang on it either: the wallets fail again, one more attempt each.
      const second = await runCli(args);
      expect(second.code, second.stderr).toBe(2);
      for (const row of await failedRows(dir)) expect(row.attempts).toBe(2);
    });
  });
});

describe('a stop by --max-runtime while a wallet waits on a Gamma look-up', () => {
  it('leaves the wallet pending, not failed, with a checkpoint error saying what the stop interrupted', { timeout: 60_000 }, async () => {
    hostile = await startHostilePaging({ upstream: sim.url, keyset: 'hang' });
    const wallet = sim.dataset.wallets().find((w) => sim.dataset.tradeCount(w) > 0)!;
    await withTempDir(async (dir) => {
      await seedTraders(dir, [wallet]);
      // The look-up is held unanswered, so once the wallet reaches it, it is there when --max-runtime fires;
      // 6 s leaves the process time to start and fetch the trades first on a loaded machine.
      const result = await runCli(runArgs(paths(dir), hostile!.url, ['--json', '--max-runtime', '6s']));
      expect(result.code, result.stderr).toBe(3);
      expect(JSON.parse(result.stdout)).toMatchObject({ outcome: 'stopped', stopKind: 'max-runtime', loaded: 0, failed: 0 });
      expect(hostile!.requests('/markets/keyset')).toBeGreaterThan(0);

      const warehouse = await openWarehouse(dir);
      const rows = await warehouse.query<{ completed: boolean; attempts: unknown; error: string | null; in_flight_run_id: string | null }>(
        'SELECT completed, attempts, error, in_flight_run_id FROM backfill_checkpoint WHERE wallet_address = $w',
        { w: wallet },
      );
      await warehouse.close();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ completed: false, in_flight_run_id: null });
      expect(Number(rows[0]!.attempts)).toBe(0);
      expect(rows[0]!.error).toBe(
        `interrupted: the run stopped (--max-runtime 6s reached) while the markets and events of its ${sim.dataset.tradeCount(wallet)} trade(s) ` +
          'were being looked up on Gamma; nothing of this wallet was stored and the attempt is not counted as a failure: the next run fetches it again',
      );
      expect(await failedRows(dir)).toEqual([]);
    });
  });
});

describe('`traders discover --leaderboard` on a board that keeps paging with wallets it already returned', () => {
  it('stops after 3 pages without a new wallet, adds the wallets found, says why on stderr and exits 2', { timeout: 30_000 }, async () => {
    const board = sim.dataset.wallets().slice(0, 2);
    hostile = await startHostilePaging({ upstream: sim.url, board: 'repeating-wallets', boardWallets: board });
    await withTempDir(async (dir) => {
      const store = ['--warehouse', paths(dir).warehouse, '--stage', paths(dir).stage, '--data-api-url', hostile!.url];
      const result = await runCli(['traders', 'discover', '--leaderboard', '--count', '50', ...store]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stdout).toBe('leaderboard leaderboard:overall:week:PNL: 2 wallet(s) found, 2 new in traders\n');
      expect(result.stderr).toMatch(
        /^warning: the leaderboard stopped making progress, so discovery stopped at 2 of the 50 wallet\(s\) asked for; those found were added: GET http:\/\/127\.0\.0\.1:\d+\/v2\/leaderboard\?cursor=fresh-3 \(page 4\): 3 pages in a row added no new wallet yet still handed out a fresh next_cursor \(2 wallets in 4 pages\)/,
      );
      expect(hostile!.requests('/v2/leaderboard')).toBe(4);
      const warehouse = await openWarehouse(dir);
      const rows = await warehouse.query<{ wallet_address: string }>('SELECT wallet_address FROM traders ORDER BY wallet_address');
      await warehouse.close();
      expect(rows.map((row) => row.wallet_address)).toEqual([...board].sort());
    });
  });
});
