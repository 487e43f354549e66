import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RunEvents } from '../../src/engine/run-events.js';
import type { PolymarketSource } from '../../src/polymarket/source.js';
import { normalizeMarket } from '../../src/polymarket/market-rows.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import type { DuckDbWarehouse } from '../../src/warehouse/duckdb/index.js';
import { UNRESOLVED_MAX_LOOKUPS } from '../../src/warehouse/sql/unresolved-sql.js';
import { openWarehouse, paths, runBackfill, seedTraders } from '../../testkit/backfill-harness.js';
import { runArgs, runCli } from '../../testkit/cli.js';
import { withWarehouseFaults } from '../../testkit/faulty-warehouse.js';
import { expectEqualsGroundTruth } from '../../testkit/ground-truth.js';
import { compareWithGroundTruth } from '../../testkit/ground-truth-diff.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { withTempDir } from '../../testkit/temp-dir.js';
import { OMISSIONS, startHidingGamma } from '../fakes/hiding-gamma.js';

const CONDITION_ID = /^0x[0-9a-f]{64}$/;

/**
 * The clock moves on for these unresolved ids: every timestamp of their rows goes back `hours`
 * (whatever columns the schema has), as if their last look-up were that long ago.
 */
async function age(wh: DuckDbWarehouse, hours: number, ids?: readonly string[]): Promise<void> {
  const columns = await wh.query<{ name: string }>(
    "SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'unresolved_ids' AND data_type LIKE 'TIMESTAMP%'",
  );
  const set = columns.map((c) => `"${c.name}" = "${c.name}" - to_hours(CAST($hours AS BIGINT))`).join(', ');
  if (ids) for (const id of ids) await wh.query(`UPDATE unresolved_ids SET ${set} WHERE id = $id`, { hours, id });
  else await wh.query(`UPDATE unresolved_ids SET ${set}`, { hours });
}

async function agedBy(dir: string, hours: number, ids?: readonly string[]): Promise<void> {
  const wh = await openWarehouse(dir);
  try {
    await age(wh, hours, ids);
  } finally {
    await wh.close();
  }
}

let sim: RunningSimulator;

describe('look-ups that lose nothing', () => {
  beforeAll(async () => {
    sim = await startSimulator({ seed: 73, wallets: 30, maxTradesPerWallet: 300 });
  });
  afterAll(async () => {
    await sim.close();
  });

  /** A closed market some wallet traded, so a loaded row carries a winner, and the wallets to seed. */
  const closedMarket = () => {
    const now = new Date().toISOString();
    for (const wallet of sim.dataset.wallets()) {
      const id = sim.dataset.conditionIds(wallet).resolvable.find((m) => normalizeMarket(sim.dataset.market(m), now).winning_label !== null);
      if (id) return { wallet, id, winner: normalizeMarket(sim.dataset.market(id), now).winning_label };
    }
    throw new Error('the simulated world has no closed market');
  };

  it.each(OMISSIONS)(
    'edge 4 — a market Gamma once answered without (%s) is asked again once its backoff has passed, and `refresh` then loads its status and winner',
    async (omission) => {
      const gamma = await startHidingGamma(sim.url, omission);
      try {
        await withTempDir(async (dir) => {
          const market = closedMarket();
          await seedTraders(dir, [market.wallet]);
          gamma.hidden.add(market.id);
          const first = await runCli(runArgs(paths(dir), gamma.url));
          expect(first.code, first.stderr).toBe(0);
          const refreshArgs = runArgs(paths(dir), gamma.url);
          refreshArgs[0] = 'refresh';

          // Gamma serves it now, but the miss is minutes old: not asked yet (the backoff).
          gamma.hidden.clear();
          const asked = gamma.asked(market.id);
          const early = await runCli(refreshArgs);
          expect(early.code, early.stderr).toBe(0);
          expect(gamma.asked(market.id)).toBe(asked);
          expect(early.stdout).not.toContain('look-ups asked again');

          // Two hours on: due, asked, found, loaded with its winner, and no longer unresolved.
          await agedBy(dir, 2, [market.id]);
          const later = await runCli(refreshArgs);
          expect(later.code, later.stderr).toBe(0);
          expect(gamma.asked(market.id)).toBeGreaterThan(asked);
          const check = await openWarehouse(dir);
          try {
            const [row] = await check.query<{ closed: boolean; winning_label: string | null }>('SELECT closed, winning_label FROM markets WHERE condition_id = $id', { id: market.id });
            expect(row).toEqual({ closed: true, winning_label: market.winner });
            expect(await check.query('SELECT id FROM unresolved_ids WHERE id = $id', { id: market.id })).toEqual([]);
            await expectEqualsGroundTruth(check, sim.dataset, [market.wallet]);
          } finally {
            await check.close();
          }
          expect(later.stdout).toContain('look-ups asked again: 1 unresolved id(s) due (1 found, 0 given up), 0 id(s) released by failed wallets');
        });
      } finally {
        await gamma.close();
      }
    },
  );

  it('edge 4 — an id Gamma never knows is asked again after each backoff, given up after the last look-up (given_up_at, reported), and never asked after; combo ids are never asked again', async () => {
    await withTempDir(async (dir) => {
      const wallet = sim.dataset.wallets().find((w) => {
        const ids = sim.dataset.conditionIds(w).unresolvable;
        return ids.some((id) => CONDITION_ID.test(id)) && ids.some((id) => !CONDITION_ID.test(id));
      });
      expect(wallet, 'a wallet holding both an unknown market and a combo id').toBeDefined();
      await seedTraders(dir, [wallet!]);
      expect(await runBackfill(dir, sim.url)).toMatchObject({ outcome: 'complete', loaded: 1 });
      const unknown = sim.dataset.conditionIds(wallet!).unresolvable.filter((id) => CONDITION_ID.test(id));

      const given: string[] = [];
      for (let lookup = 2; lookup <= UNRESOLVED_MAX_LOOKUPS; lookup += 1) {
        // Longer than any backoff: every row, combo ids included, is as old as can be.
        await agedBy(dir, 10 * 24);
        const events = new RunEvents();
        events.on('lookups:asked', ({ givenUpIds }) => given.push(...givenUpIds));
        const summary = await runBackfill(dir, sim.url, {}, {}, events);
        expect(summary.lookups, `look-up ${lookup}`).toEqual({
          released: 0,
          due: unknown.length,
          found: 0,
          givenUp: lookup === UNRESOLVED_MAX_LOOKUPS ? unknown.length : 0,
          groups: 0,
          members: 0,
        });
      }
      expect(given.sort()).toEqual(unknown.map((id) => `market ${id}`).sort());

      await agedBy(dir, 100 * 24);
      expect((await runBackfill(dir, sim.url)).lookups).toBeUndefined();
      const check = await openWarehouse(dir);
      try {
        const rows = await check.query<{ id: string; attempts: bigint | null; retryable: boolean; given_up: boolean }>(
          'SELECT id, attempts, retryable, given_up_at IS NOT NULL AS given_up FROM unresolved_ids ORDER BY id',
        );
        for (const row of rows) {
          if (unknown.includes(row.id)) expect(row, row.id).toMatchObject({ attempts: BigInt(UNRESOLVED_MAX_LOOKUPS), retryable: true, given_up: true });
          else expect(row, row.id).toMatchObject({ attempts: 1n, retryable: false, given_up: false });
        }
        expect(rows.length).toBeGreaterThan(unknown.length);
        await expectEqualsGroundTruth(check, sim.dataset, [wallet!]);
      } finally {
        await check.close();
      }
    });
  });

  it('edge 8 — a market claimed by a wallet whose load then fails is still loaded for the wallet beside it that needed it, in that run and in the next', async () => {
    await withTempDir(async (dir) => {
      // Two wallets trading one market: the poison claims it first, then its load always fails.
      const wallets = sim.dataset.wallets().filter((w) => sim.dataset.tradeCount(w) > 0);
      let pair: { poison: string; good: string; shared: string } | undefined;
      for (const poison of wallets) {
        for (const good of wallets) {
          const shared = good !== poison ? sim.dataset.conditionIds(good).resolvable.find((id) => sim.dataset.conditionIds(poison).resolvable.includes(id)) : undefined;
          if (shared) pair = { poison, good, shared };
          if (pair) break;
        }
        if (pair) break;
      }
      expect(pair, 'two wallets sharing a market').toBeDefined();
      const { poison, good, shared } = pair!;
      await seedTraders(dir, [poison, good]);

      // The good wallet's fills arrive only once the poison's look-up of the shared market went out:
      // the poison holds the claim when the good wallet asks.
      let claimed!: () => void;
      const claimedByPoison = new Promise<void>((resolve) => (claimed = resolve));
      const gated = (source: PolymarketSource): PolymarketSource =>
        new Proxy(source, {
          get(target, property) {
            if (property === 'markets') {
              return (ids: readonly string[], signal?: AbortSignal) => {
                if (ids.includes(shared)) claimed();
                return target.markets(ids, signal);
              };
            }
            if (property === 'walletTrades') {
              return async function* (wallet: string, options?: Parameters<PolymarketSource['walletTrades']>[1]) {
                if (wallet === good) await claimedByPoison;
                yield* target.walletTrades(wallet, options);
              };
            }
            const value: unknown = Reflect.get(target, property, target);
            return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
          },
        });

      const poisoned = (w: Warehouse) => withWarehouseFaults(w, { poisonWallet: poison }).warehouse;
      const summary = await runBackfill(dir, sim.url, { concurrency: 2 }, {}, undefined, poisoned, gated);
      expect(summary).toMatchObject({ outcome: 'some-failed', loaded: 1, failed: 1 });
      await expectGoodWalletWhole(dir, good, shared);
      expect(summary.lookups?.released).toBeGreaterThan(0);

      // Across runs: a run stopped before its end left the good wallet complete without the market;
      // the next run, in which the poison fetches again (not its staged bundle, which claims
      // nothing), claims it and fails again, loads it.
      const wh = await openWarehouse(dir);
      await wh.query('DELETE FROM markets WHERE condition_id = $id', { id: shared });
      await wh.close();
      expect(await runBackfill(dir, sim.url, { reuseStaged: false }, {}, undefined, poisoned)).toMatchObject({ outcome: 'some-failed', planned: 1, failed: 1 });
      await expectGoodWalletWhole(dir, good, shared);
    });
  });
});

/**
 * The good wallet's fills, checkpoint, markets (the shared one included) and their events are all
 * held. Markets of the poison's alone may be held too: its claims were looked up at the end of the run.
 */
async function expectGoodWalletWhole(dir: string, good: string, shared: string): Promise<void> {
  const check = await openWarehouse(dir);
  try {
    expect(await check.query('SELECT condition_id FROM markets WHERE condition_id = $id', { id: shared })).toEqual([{ condition_id: shared }]);
    const diff = await compareWithGroundTruth(check, sim.dataset, [good]);
    expect(diff).toMatchObject({ missing: 0, extra: 0, duplicates: 0, marketsMissing: 0, eventsMissing: 0, badCheckpoints: [] });
  } finally {
    await check.close();
  }
}
