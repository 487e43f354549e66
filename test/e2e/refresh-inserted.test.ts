import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import type { RunSummary } from '../../src/engine/run-summary.js';
import { openWarehouse, paths, seedTraders } from '../../testkit/backfill-harness.js';
import { runArgs, runCli } from '../../testkit/cli.js';
import { withTempDir } from '../../testkit/temp-dir.js';

/** What the warehouse holds: trades, and the `trades` figure of the newest run recorded in backfill_runs. */
async function held(dir: string): Promise<{ trades: number; lastRunTrades: number }> {
  const wh = await openWarehouse(dir);
  try {
    const [count] = await wh.query<{ n: bigint }>('SELECT count(*) AS n FROM trades');
    const [run] = await wh.query<{ trades: bigint }>('SELECT trades FROM backfill_runs ORDER BY finished_at DESC LIMIT 1');
    return { trades: Number(count!.n), lastRunTrades: Number(run!.trades) };
  } finally {
    await wh.close();
  }
}

/**
 * A refresh re-fetches an overlap of fills the warehouse holds already (the MERGE matches them):
 * "new trades" — on stdout, in the JSON summary and in backfill_runs — are the rows it inserted.
 */
describe('refresh reports the trades it inserted, not the rows it fetched', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 61, wallets: 20, maxTradesPerWallet: 500 });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('a refresh with nothing new prints 0 new trades though its windows re-served held rows; after new fills it counts exactly the rows added', async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());
      const backfill = await runCli(runArgs(paths(dir), sim.url));
      expect(backfill.code, backfill.stderr).toBe(0);
      const args = runArgs(paths(dir), sim.url);
      args[0] = 'refresh';

      sim.resetStats();
      const quiet = await runCli(args);
      expect(quiet.code, quiet.stderr).toBe(0);
      // The overlap was fetched again (rows served), and none of it is new.
      expect(sim.stats().tradeRowsServed).toBeGreaterThan(0);
      expect(quiet.stdout).toMatch(/^refresh .*: complete — 20 wallet\(s\) refreshed, 0 failed, 0 invalid, 0 new trades/m);
      expect((await held(dir)).lastRunTrades).toBe(0);

      const before = (await held(dir)).trades;
      const step = sim.advance({ seconds: 2 * 86_400, seed: 5 });
      expect(step.fills).toBeGreaterThan(0);
      sim.resetStats();
      const busy = await runCli([...args, '--json']);
      expect(busy.code, busy.stderr).toBe(0);
      const summary = JSON.parse(busy.stdout.trim().split('\n').at(-1)!) as RunSummary;
      const after = await held(dir);
      expect(after.trades - before).toBe(step.fills);
      expect(sim.stats().tradeRowsServed).toBeGreaterThan(step.fills);
      expect(summary).toMatchObject({ mode: 'refresh', outcome: 'complete', trades: step.fills });
      expect(after.lastRunTrades).toBe(step.fills);
    });
  });
});
