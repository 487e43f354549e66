import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { PnlVerification } from '../../src/library/pnl-verify.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import type { WalletStatsRow } from '../../src/warehouse/warehouse.js';
import { clockBehind, openWarehouse, paths, runBackfill, seedTraders } from '../../testkit/backfill-harness.js';
import { runCli } from '../../testkit/cli.js';
import { withTempDir } from '../../testkit/temp-dir.js';

const UNTHROTTLED_CHECK = ['--rate-limit', 'data:positions=100000/10s,data:user-pnl=100000/10s', '--log-level', 'error'];

/**
 * `backfill stats` and `backfill verify-pnl` as a user runs them (the built CLI, real exit codes) on a warehouse
 * backfilled from the simulator: the check agrees with the simulator's own /v2/positions and /v2/user-pnl and exits 0,
 * and exits 2 naming the one wallet a second simulator (same world) misreports.
 */
describe('backfill stats and verify-pnl against the simulator', () => {
  const now = clockBehind();
  const world = { seed: 31, wallets: 16, maxTradesPerWallet: 300, nowSeconds: now };
  let honest: RunningSimulator;
  let liar: RunningSimulator;
  let target: string;
  beforeAll(async () => {
    honest = await startSimulator(world);
    target = honest.dataset.wallets().find((w) => honest.dataset.tradeCount(w) > 100)!;
    liar = await startSimulator({ ...world, misreport: { wallet: target, usdc: -25 } });
  });
  afterAll(async () => {
    await Promise.all([honest?.close(), liar?.close()]);
  });

  it('ranks by profit, shows a wallet by market, agrees with the simulator (exit 0) and names the misreported wallet (exit 2)', async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, honest.dataset.wallets());
      expect(await runBackfill(dir, honest.url)).toMatchObject({ outcome: 'complete', loaded: 16 });
      const { warehouse, stage } = paths(dir);
      const store = ['--warehouse', warehouse, '--stage', stage];

      // The ranking: every wallet with figures, best first, the same rows the warehouse holds.
      const ranked = await runCli(['stats', ...store, '--top', '100', '--json']);
      expect(ranked.code, ranked.stderr).toBe(0);
      const { wallets, counts } = JSON.parse(ranked.stdout) as { wallets: WalletStatsRow[]; counts: { computed: number; stale: number } };
      expect(counts).toMatchObject({ computed: 16, stale: 0 });
      expect(wallets.map((w) => w.realized_pnl)).toEqual([...wallets.map((w) => w.realized_pnl)].sort((a, b) => b! - a!));
      const wh = await openWarehouse(dir);
      const held = await wh.query<{ w: string; pnl: number }>('SELECT proxy_wallet AS w, realized_pnl AS pnl FROM wallet_stats ORDER BY pnl DESC, w');
      await wh.close();
      expect(wallets.map((w) => [w.proxy_wallet, w.realized_pnl])).toEqual(held.map((r) => [r.w, r.pnl]));
      const table = await runCli(['stats', ...store, '--top', '3', '--by', 'volume']);
      expect(table.code).toBe(0);
      expect(table.stdout.split('\n')[0]).toMatch(/^#\s+wallet\s+realized\s+after fees\s+volume/);
      expect(table.stdout.trim().split('\n')).toHaveLength(4);
      expect(table.stderr).toContain('16 wallet(s) with figures');
      const one = await runCli(['stats', ...store, '--wallet', target.toUpperCase().replace('0X', '0x')]);
      expect(one.code, one.stderr).toBe(0);
      expect(one.stdout).toContain(`wallet            ${target}`);
      expect(one.stdout).toMatch(/realized profit {3}-?\$[\d,.]+ before fees/);
      expect(one.stdout).toMatch(/^0x[0-9a-f]{64} {2}.+ {2}realized -?\$/m);

      // The honest simulator: every wallet agrees (those with fills; a wallet without any has no figure there).
      const ok = await runCli(['verify-pnl', ...store, '--data-api-url', honest.url, '--sample', '100', '--json', ...UNTHROTTLED_CHECK]);
      expect(ok.code, ok.stdout + ok.stderr).toBe(0);
      const agreed = JSON.parse(ok.stdout) as PnlVerification;
      expect(agreed).toMatchObject({ differ: 0, failed: 0, shareWithin: 1 });
      expect(agreed.agree).toBeGreaterThan(10);
      expect(agreed.agree + agreed.noData).toBe(16);
      for (const check of agreed.wallets.filter((c) => c.verdict === 'agree')) {
        expect(check.difference, check.wallet).toBe(0);
        expect(check.closed.differing, check.wallet).toBe(0);
      }
      expect(agreed.wallets.reduce((n, c) => n + c.closed.compared, 0)).toBeGreaterThan(50);

      // The same world, one wallet misreported by $25: exit 2, that wallet named, the others agree.
      const list = join(dir, 'wallets.txt');
      await writeFile(list, `${honest.dataset.wallets().join('\n')}\n`);
      const named = await runCli(['verify-pnl', ...store, '--data-api-url', liar.url, '--wallets', list, ...UNTHROTTLED_CHECK]);
      expect(named.code, named.stderr).toBe(2);
      expect(named.stdout).toContain(`differ: ${target}\n`);
      expect(named.stdout.match(/ DIFFER /g)).toHaveLength(1);
      // ours − theirs: the simulator took $25 off; one closed token carries it.
      expect(named.stdout).toMatch(new RegExp(`^${target}  DIFFER .*Δ\\s+\\+25\\.000000  closed tokens (\\d+)/(\\d+) agree`, 'm'));
      expect(named.stdout).toMatch(new RegExp(`^${agreed.agree - 1} of ${agreed.agree} wallet\\(s\\) within tolerance`, 'm'));
    });
  }, 60_000);

  it('`backfill sim --misreport` refuses a malformed spec as a configuration error', async () => {
    const result = await runCli(['sim', '--misreport', 'someone=lots']);
    expect(result.code).toBe(64);
    expect(result.stderr).toContain('Bad misreport "someone=lots"');
  });
});
