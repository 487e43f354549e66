/**
 * Watching a backfill while it runs, as its owner would from another terminal or a cron job: a real
 * `backfill run` child process against the simulator, and `backfill status --json` started as a
 * separate process every second while it holds the DuckDB file.
 */
import { readFile } from 'node:fs/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { StatusJson } from '../../src/status/status-json.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { openWarehouse, paths, seedTraders } from '../../testkit/backfill-harness.js';
import { runArgs, runCli, startCli, waitFor } from '../../testkit/cli.js';
import { withTempDir } from '../../testkit/temp-dir.js';

interface Poll {
  code: number | null;
  ms: number;
  status: StatusJson | undefined;
  stderr: string;
}

async function pollStatus(where: { warehouse: string; stage: string }): Promise<Poll> {
  const started = performance.now();
  const result = await runCli(['status', '--json', '--warehouse', where.warehouse, '--stage', where.stage]);
  const ms = performance.now() - started;
  let status: StatusJson | undefined;
  try {
    status = JSON.parse(result.stdout) as StatusJson;
  } catch {
    status = undefined;
  }
  return { code: result.code, ms, status, stderr: result.stderr };
}

/** The mission's figures and the row counts: what must agree between a snapshot and the warehouse. */
const figures = (s: StatusJson) => ({
  completed: s.completed,
  failed: s.failed,
  parked: s.parked,
  pending: s.pending,
  total: s.total,
  percent_complete: s.percent_complete,
  rows: s.rows,
});

/**
 * Few wallets of a few pages each: the run's length comes from the simulator's latency (waiting, not the machine's
 * CPU), so it lasts several polls on any machine and costs this one little.
 */
const WALLETS = 40;

describe('status while a run holds the warehouse', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 31, wallets: WALLETS, maxTradesPerWallet: 600 });
    // Generated now, so serving pages during the run costs the machine little: the timings below
    // are the status command's, not the simulator's (a real API's CPU is not on this machine).
    for (const wallet of sim.dataset.wallets()) sim.dataset.fills(wallet)[Symbol.iterator]().next();
  });
  afterAll(async () => {
    await sim.close();
  });

  it('status --json polled every second from another process: exit 0 within 2 s each time, live figures that never go back, and the last ones equal the warehouse after the run', async () => {
    await withTempDir(async (dir) => {
      const where = paths(dir);
      await seedTraders(dir, sim.dataset.wallets());
      // Slow enough for several polls while it runs, even on a fast machine: every wallet waits out at least one
      // round trip of its walks and one of its look-ups, two wallets at a time.
      sim.setLatency({ min: 60, max: 90 });
      const run = startCli(runArgs(where, sim.url, ['--concurrency', '2', '--commit-every', '10', '--commit-interval', '300ms']), { BACKFILL_STATUS_INTERVAL: '500ms' });
      let exited = false;
      void run.result.then(() => (exited = true));

      const polls: Poll[] = [];
      try {
        while (!exited) {
          const tick = Date.now();
          polls.push(await pollStatus(where));
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - (Date.now() - tick))));
        }
      } finally {
        // A failed poll loop must not leave the run working after the test.
        if (!exited) run.child.kill('SIGKILL');
      }
      const result = await run.result;
      sim.setLatency({ min: 0, max: 0 });
      expect(result.code, result.stderr).toBe(0);

      const timings = polls.map((p) => Math.round(p.ms)).join(', ');
      for (const poll of polls) {
        expect(poll.code, poll.stderr).toBe(0);
        // Runs in the 'timed' project, alone after the suite: beside other test files' DuckDB loads
        // on two cores a poll once took 2.5 s, which measured the machine, not the status read.
        expect(poll.ms, `status took ${Math.round(poll.ms)} ms (polls: ${timings})`).toBeLessThan(2_000);
        expect(poll.status).toBeDefined();
      }
      const live = polls.map((p) => p.status!).filter((s) => s.live);
      expect(live.length).toBeGreaterThanOrEqual(3);
      for (const s of live) {
        expect(s.source).toBe('snapshot');
        expect(s.stale).toBe(false);
        expect(s.run?.state).toBe('running');
        expect(s.total).toBe(WALLETS);
      }
      // Live figures are published as they grow; a later one never shows less done.
      const completed = polls.map((p) => p.status!.completed);
      expect(completed).toEqual([...completed].sort((a, b) => a - b));
      expect(new Set(live.map((s) => s.completed)).size).toBeGreaterThan(1);
      const runId = live[0]!.run!.run_id;

      // After the run: read from the warehouse, with the same keys, the run finished.
      const after = await pollStatus(where);
      expect(after.code, after.stderr).toBe(0);
      const final = after.status!;
      expect(Object.keys(final).sort()).toEqual(Object.keys(live[0]!).sort());
      expect(final).toMatchObject({ source: 'warehouse', live: false, stale: false, completed: WALLETS, failed: 0, percent_complete: 100 });
      expect(final.run).toMatchObject({ run_id: runId, state: 'finished', loaded: WALLETS, eta_seconds: null, current_batch: null });

      // The run's last published figures are the warehouse's.
      const snapshot = JSON.parse(await readFile(`${where.warehouse}.status.json`, 'utf8')) as { status: StatusJson };
      expect(snapshot.status.run?.state).toBe('finished');
      expect(figures(snapshot.status)).toEqual(figures(final));
      expect(live.at(-1)!.completed).toBeLessThanOrEqual(final.completed);
      const check = await openWarehouse(dir);
      const held = await check.status();
      await check.close();
      expect({ completed: held.completed, failed: held.failed, total: held.total, rows: held.rows }).toEqual({
        completed: final.completed,
        failed: final.failed,
        total: final.total,
        rows: final.rows,
      });
      console.log(`status polls during the run: ${polls.length}, ${live.length} live, slowest ${Math.round(Math.max(...polls.map((p) => p.ms)))} ms (${timings}; sources ${polls.map((p) => p.status?.source?.[0] ?? p.code).join("")})`);
    });
  });

  it('a snapshot left by a SIGKILLed run is reported stale, with the warehouse figures, never as live', async () => {
    await withTempDir(async (dir) => {
      const where = paths(dir);
      await seedTraders(dir, sim.dataset.wallets());
      sim.setLatency({ min: 20, max: 40 });
      const run = startCli(runArgs(where, sim.url, ['--concurrency', '2', '--commit-every', '5', '--commit-interval', '200ms']), { BACKFILL_STATUS_INTERVAL: '200ms' });
      let seen: StatusJson | undefined;
      try {
        await waitFor(() => {
          void readFile(`${where.warehouse}.status.json`, 'utf8')
            .then((text) => (seen = (JSON.parse(text) as { status: StatusJson }).status))
            .catch(() => undefined);
          return seen !== undefined && seen.completed > 0;
        });
      } finally {
        run.child.kill('SIGKILL');
      }
      await run.result;
      sim.setLatency({ min: 0, max: 0 });

      const poll = await pollStatus(where);
      expect(poll.code, poll.stderr).toBe(0);
      const status = poll.status!;
      expect(status).toMatchObject({ source: 'warehouse', live: false, stale: true });
      expect(status.run).toMatchObject({ state: 'stopped', eta_seconds: null, current_batch: null });
      expect(status.completed).toBeGreaterThanOrEqual(seen!.completed);

      const text = await runCli(['status', '--warehouse', where.warehouse, '--stage', where.stage]);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/ended unexpectedly \(stale/);
      expect(text.stdout).toContain('figures from      the warehouse');
    });
  });
});
