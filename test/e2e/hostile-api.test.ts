import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { HOSTILE_BEHAVIOURS, startHostilePolymarket } from '../fakes/hostile-polymarket.js';
import type { HostileBehaviour, RunningHostilePolymarket } from '../fakes/hostile-polymarket.js';
import { openWarehouse, paths } from '../../testkit/backfill-harness.js';
import { runArgs, runCli } from '../../testkit/cli.js';
import { expectEqualsGroundTruth } from '../../testkit/ground-truth.js';
import { withTempDir } from '../../testkit/temp-dir.js';

const MIB = 1024 * 1024;
const MAX_PAGES = 25;

/** One wallet per hostile behaviour: 0x1111…, 0x2222…, … */
const HOSTILE: Record<string, HostileBehaviour> = Object.fromEntries(
  HOSTILE_BEHAVIOURS.map((behaviour, index) => [`0x${String(index + 1).repeat(40)}`, behaviour]),
);
const walletOf = (behaviour: HostileBehaviour): string => Object.keys(HOSTILE).find((wallet) => HOSTILE[wallet] === behaviour)!;

/** What `backfill failed` must say for each hostile wallet. */
const EXPECTED_ERROR: Record<HostileBehaviour, RegExp> = {
  'huge-page': /returned a body over the 32 MiB response cap \(HTTP 200\): its content-length is \d+ bytes; nothing was read.*--max-response-bytes/,
  'gzip-bomb': /returned a body over the 32 MiB response cap \(HTTP 200\): its gzip content inflates past 33554432 bytes; stopped decompressing there.*--max-response-bytes/,
  'million-rows': /returned a body over the 32 MiB response cap \(HTTP 200\): more than 33554432 bytes arrived; stopped reading there.*--max-response-bytes/,
  'over-limit': /\(page 1\) returned 1001 rows, more than the limit of 1000 asked for/,
  'endless-cursors': new RegExp(`\\(page ${MAX_PAGES}\\) still has a next_cursor after ${MAX_PAGES} pages, the cap per wallet \\(--max-pages-per-wallet ${MAX_PAGES}`),
  'repeated-page': /\(page 2\) returned the same 2 row\(s\) as page 1, under a new cursor/,
  'repeated-earlier-page': /\(page 3\) returned the same 2 row\(s\) as page 1, under a new cursor/,
};

/** `/v2/trades` requests each hostile wallet may take: one per page until the failure, never a retry. */
const EXPECTED_REQUESTS: Record<HostileBehaviour, number> = {
  'huge-page': 1,
  'gzip-bomb': 1,
  'million-rows': 1,
  'over-limit': 1,
  'endless-cursors': MAX_PAGES,
  'repeated-page': 2,
  'repeated-earlier-page': 3,
};

describe('a run against a hostile Data API', () => {
  let sim: RunningSimulator;
  let hostile: RunningHostilePolymarket;
  beforeAll(async () => {
    // Up to 2500 fills each: normal wallets span several pages.
    sim = await startSimulator({ seed: 41, wallets: 5, maxTradesPerWallet: 2500 });
    hostile = await startHostilePolymarket({ upstream: sim.url, wallets: HOSTILE });
  });
  afterAll(async () => {
    await hostile.close();
    await sim.close();
  });

  it('fails each hostile wallet with a message naming the problem, loads every normal wallet exactly, stays under 600 MB and ends on its own', async () => {
    await withTempDir(async (dir) => {
      const normal = sim.dataset.wallets();
      const warehouse = await openWarehouse(dir);
      for (const wallet of [...normal, ...Object.keys(HOSTILE)]) {
        await warehouse.query('INSERT INTO traders (wallet_address) VALUES ($w)', { w: wallet });
      }
      await warehouse.close();

      const started = Date.now();
      const result = await runCli(
        runArgs(paths(dir), hostile.url, ['--json', '--max-pages-per-wallet', String(MAX_PAGES), '--max-attempts', '3', '--timeout', '20s']),
      );
      const elapsedMs = Date.now() - started;
      expect(result.code, result.stderr).toBe(2);
      const summary = JSON.parse(result.stdout) as { loaded: number; failed: number; peakRssMb: number; outcome: string; retries: Record<string, number> };
      expect(summary).toMatchObject({ outcome: 'some-failed', loaded: normal.length, failed: HOSTILE_BEHAVIOURS.length });
      expect(summary.peakRssMb).toBeLessThan(600);
      // Nothing hostile is retried: every failure is permanent at the first attempt.
      expect(summary.retries).toEqual({});
      expect(elapsedMs).toBeLessThan(45_000);

      const failed = await runCli(['failed', '--json', '--warehouse', paths(dir).warehouse, '--stage', paths(dir).stage]);
      const rows = failed.stdout.trim().split('\n').map((line) => JSON.parse(line) as { wallet_address: string; error: string });
      expect(rows.map((row) => row.wallet_address).sort()).toEqual(Object.keys(HOSTILE).sort());
      for (const row of rows) {
        const behaviour = HOSTILE[row.wallet_address]!;
        expect(row.error, behaviour).toMatch(EXPECTED_ERROR[behaviour]);
        expect(row.error, behaviour).toContain(`${hostile.url}/v2/trades?user=${row.wallet_address}`);
        expect(hostile.requests(row.wallet_address), behaviour).toBe(EXPECTED_REQUESTS[behaviour]);
      }
      // The client hung up near the cap: the 10^6-row page (~500 MB) was never read in full.
      expect(hostile.bytesSent(walletOf('million-rows'))).toBeLessThan(32 * MIB + 64 * MIB);

      const check = await openWarehouse(dir);
      const [hostileTrades] = await check.query<{ n: bigint }>(
        `SELECT count(*) AS n FROM trades WHERE proxy_wallet IN (${Object.keys(HOSTILE).map((w) => `'${w}'`).join(', ')})`,
      );
      expect(Number(hostileTrades!.n)).toBe(0);
      await expectEqualsGroundTruth(check, sim.dataset, normal);
      await check.close();
    });
  });
});

describe('run options for the source limits', () => {
  it('refuses --max-response-bytes and --max-pages-per-wallet out of range with exit 64, naming the allowed range', async () => {
    await withTempDir(async (dir) => {
      const cases: [string[], string][] = [
        [['--max-response-bytes', '512KB'], '--max-response-bytes "512KB" is out of range: allowed 1 MiB (1048576) to 1 GiB (1073741824) bytes'],
        [['--max-response-bytes', '2GB'], '--max-response-bytes "2GB" is out of range'],
        [['--max-pages-per-wallet', '0'], '--max-pages-per-wallet "0" is out of range: allowed a whole number from 1 to 1,000,000'],
        [['--max-pages-per-wallet', '1000001'], '--max-pages-per-wallet "1000001" is out of range'],
      ];
      for (const [extra, message] of cases) {
        const result = await runCli(runArgs(paths(dir), 'http://127.0.0.1:9', extra));
        expect(result.code, extra.join(' ')).toBe(64);
        expect(result.stderr, extra.join(' ')).toContain(message);
      }
    });
  });

  it('refuses a base URL with credentials or a query with exit 64, without printing the secret', async () => {
    await withTempDir(async (dir) => {
      const args = runArgs(paths(dir), 'http://user:S3CRET@127.0.0.1:9/?token=T0KEN42');
      const result = await runCli(args);
      expect(result.code).toBe(64);
      expect(result.stderr).toContain('--data-api-url "http://***@127.0.0.1:9/?token=***" carries credentials');
      expect(result.stderr + result.stdout).not.toMatch(/S3CRET|T0KEN42/);
    });
  });
});
