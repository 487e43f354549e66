/**
 * What Cloud Logging receives from a Cloud Run job: the real CLI run with CLOUD_RUN_JOB set, its
 * stderr parsed line by line. Every line must be one JSON entry with a severity, a message, a time
 * and the run id label; failed wallets are WARNING, a tripped breaker and unexpected errors ERROR.
 */
import { createServer } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { openWarehouse, paths, seedTraders } from '../../testkit/backfill-harness.js';
import { runArgs, runCli } from '../../testkit/cli.js';
import { withTempDir } from '../../testkit/temp-dir.js';
import { asWallets } from '../../testkit/wallets.js';

const CLOUD_RUN = { CLOUD_RUN_JOB: 'polycopy-backfill', CLOUD_RUN_EXECUTION: 'polycopy-backfill-x7k2p', CLOUD_RUN_TASK_INDEX: '0', CLOUD_RUN_TASK_COUNT: '1' };
const LABELS = 'logging.googleapis.com/labels';
const SEVERITIES = new Set(['DEBUG', 'INFO', 'NOTICE', 'WARNING', 'ERROR', 'CRITICAL']);

interface Entry {
  severity: string;
  message: string;
  time: string;
  [LABELS]?: { run_id?: string };
  event?: string;
  stack_trace?: string;
  [key: string]: unknown;
}

/** Every stderr line as a Cloud Logging entry; fails on any line that is not one. */
function entries(stderr: string): Entry[] {
  const lines = stderr.split('\n').filter((line) => line !== '');
  expect(lines.length).toBeGreaterThan(0);
  return lines.map((line) => {
    let entry: Entry;
    try {
      entry = JSON.parse(line) as Entry;
    } catch {
      throw new Error(`stderr line is not JSON: ${line}`);
    }
    expect(SEVERITIES.has(entry.severity), line).toBe(true);
    expect(typeof entry.message, line).toBe('string');
    expect(entry.message.length, line).toBeGreaterThan(0);
    expect(Number.isNaN(Date.parse(entry.time)), line).toBe(false);
    expect(entry, line).not.toHaveProperty('level');
    return entry;
  });
}

/** A port with nothing listening: every request is refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('log lines on Cloud Run', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 51, wallets: 12, maxTradesPerWallet: 800 });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('a run with a malformed wallet: every line an entry with severity, message, time and the run id; the failed wallet WARNING with its kind', async () => {
    await withTempDir(async (dir) => {
      const seed = await openWarehouse(dir);
      await seed.addTraders(asWallets(sim.dataset.wallets()), 'test');
      await seed.query('INSERT INTO traders (wallet_address) VALUES ($v)', { v: '0xnot-a-wallet' });
      await seed.close();
      const args = runArgs(paths(dir), sim.url).filter((arg, i, all) => arg !== '--log-level' && all[i - 1] !== '--log-level');
      const result = await runCli([...args, '--log-level', 'info', '--json'], CLOUD_RUN);
      // Cloud Run's default is --exit-codes schedule: an invalid address does not fail the execution.
      expect(result.code, result.stderr).toBe(0);
      const logged = entries(result.stderr);
      const runIds = new Set(logged.map((e) => e[LABELS]?.run_id));
      expect(runIds.size).toBe(1);
      const [runId] = [...runIds];
      expect(runId).toMatch(/^\d{8}T\d{6}-[0-9a-f]{8}$/);
      expect(logged.find((e) => e.message.startsWith(`run started: ${runId} on duckdb:`))).toMatchObject({ severity: 'INFO' });

      const failed = logged.filter((e) => e.event === 'wallet_failed');
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ severity: 'WARNING', wallet: '0xnot-a-wallet', stage: 'invalid', error_kind: 'permanent' });
      expect(failed[0]!.message).toContain('0xnot-a-wallet');

      const finished = logged.find((e) => e.event === 'run_finished');
      expect(finished).toMatchObject({ severity: 'INFO', exit_code: 0, outcome: 'some-failed', invalid: 1 });
      expect(logged.filter((e) => e.severity === 'ERROR')).toEqual([]);
      // stdout stays the result only.
      expect(JSON.parse(result.stdout.trim().split('\n').pop()!)).toMatchObject({ loaded: 12, runId });
    });
  });

  it('an API that is down: failed wallets WARNING (transient), the tripped circuit breaker ERROR, exit 3 even on the schedule', async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());
      const down = `http://127.0.0.1:${await closedPort()}`;
      const result = await runCli(
        ['run', '--warehouse', paths(dir).warehouse, '--stage', paths(dir).stage, '--data-api-url', down, '--gamma-api-url', down, '--max-attempts', '1', '--breaker-window', '5', '--concurrency', '1'],
        CLOUD_RUN,
      );
      expect(result.code, result.stderr).toBe(3);
      const logged = entries(result.stderr);
      expect(new Set(logged.map((e) => e[LABELS]?.run_id)).size).toBe(1);
      const failed = logged.filter((e) => e.event === 'wallet_failed');
      expect(failed.length).toBeGreaterThanOrEqual(5);
      for (const entry of failed) expect(entry).toMatchObject({ severity: 'WARNING', error_kind: 'transient', stage: 'fetch' });
      const breaker = logged.filter((e) => e.event === 'circuit_breaker_open');
      expect(breaker).toHaveLength(1);
      expect(breaker[0]).toMatchObject({ severity: 'ERROR', stop_kind: 'circuit-breaker' });
      expect(breaker[0]!.message).toContain('circuit breaker open');
    });
  });

  it('a configuration error and an unexpected error are single ERROR entries, the latter with its stack for Error Reporting', async () => {
    await withTempDir(async (dir) => {
      const usage = await runCli(['run', '--warehouse', `${dir}/w.duckdb`, '--bogus'], CLOUD_RUN);
      expect(usage.code).toBe(64);
      expect(entries(usage.stderr)).toEqual([expect.objectContaining({ severity: 'ERROR', message: "error: unknown option '--bogus'" })]);

      const config = await runCli(['run', '--warehouse', `${dir}/w.duckdb`, '--concurrency', '0'], CLOUD_RUN);
      expect(config.code).toBe(64);
      expect(entries(config.stderr)).toEqual([expect.objectContaining({ severity: 'ERROR', message: expect.stringContaining('--concurrency "0"') })]);

      // A directory where the DuckDB file should be.
      const broken = await runCli(['status', '--warehouse', dir, '--stage', `${dir}/stage`], CLOUD_RUN);
      expect(broken.code).toBe(1);
      const [entry, ...rest] = entries(broken.stderr);
      expect(rest).toEqual([]);
      expect(entry).toMatchObject({ severity: 'ERROR' });
      expect(entry!.message).toContain(`Could not open DuckDB warehouse ${dir}`);
      expect(entry!.stack_trace).toMatch(/^BackfillError: Could not open DuckDB warehouse[^\n]*\n\s+at /);
    });
  });

  it('--log-format pretty gives short readable lines, json keeps pino lines', async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets().slice(0, 2));
      const args = runArgs(paths(dir), sim.url).filter((arg, i, all) => arg !== '--log-level' && all[i - 1] !== '--log-level');
      const pretty = await runCli([...args, '--log-level', 'info', '--log-format', 'pretty']);
      expect(pretty.code, pretty.stderr).toBe(0);
      const lines = pretty.stderr.split('\n').filter((l) => l !== '');
      expect(lines.find((l) => l.includes('run started'))).toMatch(/^\[\d{2}:\d{2}:\d{2}\] INFO: run started: \S+ on duckdb:\S+, stage \S+, concurrency \d+$/);
      expect(lines.find((l) => l.includes('run finished'))).toMatch(/^\[\d{2}:\d{2}:\d{2}\] INFO: run finished: complete, 2 loaded, 0 failed, exit 0$/);
      // No JSON objects, nothing over a wide terminal for lines that are not an error text.
      for (const line of lines) {
        expect(line, line).not.toContain('{');
        expect(line.length, line).toBeLessThan(240);
      }

      const json = await runCli([...args, '--log-level', 'info', '--log-format', 'json']);
      const parsed = json.stderr.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { level: number; msg: string; run_id?: string });
      expect(parsed.find((e) => e.msg.startsWith('run started'))).toMatchObject({ level: 30, run_id: expect.stringMatching(/T/) });
    });
  });
});
