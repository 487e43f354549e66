import { existsSync } from 'node:fs';
import { mkdir, readdir, stat, truncate, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { openWarehouse, paths, seedTraders } from '../../testkit/backfill-harness.js';
import { runArgs, runCli, startCli } from '../../testkit/cli.js';
import { expectEqualsGroundTruth } from '../../testkit/ground-truth.js';
import { withTempDir } from '../../testkit/temp-dir.js';
import { startGcpFakes } from '../gcp/gcp-test-helpers.js';

const ENOSPC_HOOK = resolve('test/fixtures/hooks/enospc.mjs');
const store = (dir: string) => ['--warehouse', paths(dir).warehouse, '--stage', paths(dir).stage];

/**
 * The machine and the user misbehaving, through the real CLI: a full disk, a closed pipe, a stage
 * path with glob characters, a user's own `tmp/` folder, a damaged DuckDB file, hostile values
 * printed to a terminal, a CSV with quoted commas, mistyped URIs and out-of-range options.
 */
describe('a hostile environment and careless input', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 51, wallets: 15, maxTradesPerWallet: 600 });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('a full stage disk: the run stops with exit 3 naming the full path, parks nothing, leaves no lease or temp file, and completes once space is back', async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());
      const full = await runCli(runArgs(paths(dir), sim.url, ['--json', '--log-level', 'warn']), {
        NODE_OPTIONS: `--import ${ENOSPC_HOOK}`,
        BACKFILL_TEST_ENOSPC_DIR: paths(dir).stage,
        BACKFILL_TEST_ENOSPC_AFTER: '40000',
      });
      expect(full.code).toBe(3);
      const summary = JSON.parse(full.stdout.trim().split('\n').pop()!) as { outcome: string; stopKind: string; stopReason: string };
      expect(summary).toMatchObject({ outcome: 'stopped', stopKind: 'unwritable' });
      expect(summary.stopReason).toMatch(new RegExp(`cannot write the stage at ${paths(dir).stage}/.*ENOSPC.*free space`));
      const check = await openWarehouse(dir);
      const parked = await check.query('SELECT wallet_address FROM backfill_checkpoint WHERE parked OR attempts > 0');
      await check.close();
      expect(parked).toEqual([]);
      expect(existsSync(`${paths(dir).warehouse}.leases/all.lease`)).toBe(false);
      expect(await readdir(join(paths(dir).stage, 'tmp')).catch(() => [])).toEqual([]);

      const again = await runCli(runArgs(paths(dir), sim.url));
      expect(again.code).toBe(0);
      const done = await openWarehouse(dir);
      await expectEqualsGroundTruth(done, sim.dataset);
      await done.close();
    });
  });

  it('a closed stdout and stderr (`backfill run 2>&1 | head -1`) do not crash the run: it finishes its work and releases its lease', async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());
      const { child, result } = startCli(runArgs(paths(dir), sim.url, ['--log-level', 'info']));
      // The reader goes away at once, as `head -1` does after its first line.
      child.stdout!.destroy();
      child.stderr!.destroy();
      expect((await result).code).toBe(0);
      expect(existsSync(`${paths(dir).warehouse}.leases/all.lease`)).toBe(false);
      const check = await openWarehouse(dir);
      expect((await check.status()).completed).toBe(15);
      await check.close();
    });
  });

  it('a --stage with glob characters is refused before anything is read (DuckDB would expand it and load another directory\'s files)', async () => {
    await withTempDir(async (dir) => {
      const result = await runCli(['status', '--warehouse', paths(dir).warehouse, '--stage', join(dir, 'st*')]);
      expect(result.code).toBe(64);
      expect(result.stderr).toMatch(/--stage ".*st\*" contains a glob character/);
    });
  });

  it("the start-up sweep deletes only this tool's own temporary files: a user's notes in <stage>/tmp survive", async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets().slice(0, 2));
      const tmp = join(paths(dir).stage, 'tmp');
      await mkdir(join(tmp, 'drafts'), { recursive: true });
      await writeFile(join(tmp, 'notes.txt'), 'my notes');
      // A temporary file of a writer that died (a pid that no longer exists).
      await writeFile(join(tmp, `trades.${sim.dataset.wallets()[0]}.tmp-999999-0123456789ab`), 'partial');
      const result = await runCli(runArgs(paths(dir), sim.url));
      expect(result.code).toBe(0);
      expect((await readdir(tmp)).sort()).toEqual(['drafts', 'notes.txt']);
    });
  });

  it('a damaged DuckDB file is reported with DuckDB\'s own reason, not as "another process holds it"', async () => {
    await withTempDir(async (dir) => {
      await writeFile(paths(dir).warehouse, Buffer.alloc(64 * 1024, 7));
      const result = await runCli(['status', ...store(dir)]);
      expect(result.code).toBe(64);
      expect(result.stderr).toMatch(/Could not open DuckDB warehouse .*backfill\.duckdb: .*(not a valid DuckDB database|DuckDB).*not a readable DuckDB database/s);
      expect(result.stderr).not.toMatch(/Another process/);
    });
  });

  it('a truncated DuckDB file whose counts still look complete is reported as damaged by `status`, with the read error', async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());
      expect((await runCli(runArgs(paths(dir), sim.url))).code).toBe(0);
      const { size } = await stat(paths(dir).warehouse);
      await truncate(paths(dir).warehouse, Math.floor(size / 2));
      const result = await runCli(['status', ...store(dir)]);
      // Found when the file is attached (its blocks are read then) or by status's probe of the data.
      expect([1, 64]).toContain(result.code);
      expect(result.stderr).toMatch(
        /(the warehouse duckdb:.*backfill\.duckdb is damaged: reading trades failed|Could not open DuckDB warehouse .*backfill\.duckdb: .*not a readable DuckDB database \(damaged, truncated)/s,
      );
      expect(result.stderr).toMatch(/IO Error: Could not read/);
      expect(result.stdout).not.toMatch(/percent_complete\s+100/);
    });
  });

  it('`failed` and `status` print warehouse values with terminal escape sequences escaped, never raw', async () => {
    await withTempDir(async (dir) => {
      const warehouse = await openWarehouse(dir);
      await warehouse.query('INSERT INTO traders (wallet_address) VALUES ($v)', { v: '\u001b]0;pwned\u0007\u001b[2J0xdead' });
      await warehouse.close();
      await runCli(runArgs(paths(dir), sim.url));
      const failed = await runCli(['failed', ...store(dir)]);
      // eslint-disable-next-line no-control-regex
      expect(failed.stdout).not.toMatch(/\u001b|\u0007/);
      expect(failed.stdout).toContain('\\u001b]0;pwned\\u0007\\u001b[2J0xdead');
      const json = await runCli(['failed', '--json', ...store(dir)]);
      expect(JSON.parse(json.stdout.trim()).wallet_address).toBe('\u001b]0;pwned\u0007\u001b[2J0xdead');
    });
  });

  it('`traders import` reads RFC 4180 CSV: a quoted comma does not shift columns, rejected lines keep their numbers', async () => {
    await withTempDir(async (dir) => {
      const [w1, w2, referrer] = sim.dataset.wallets();
      const file = join(dir, 'wallets.csv');
      await writeFile(
        file,
        `\uFEFFname,wallet_address,referrer\n"Smith, Alice",${w1},${referrer}\n"multi\nline",${w2},${referrer}\n# a comment\nbob,not-an-address,${referrer}\n`,
      );
      const result = await runCli(['traders', 'import', file, ...store(dir)]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`${file}:6: rejected: invalid wallet address "not-an-address"`);
      expect(result.stdout).toContain('added 2 new wallet(s)');
      const check = await openWarehouse(dir);
      const rows = await check.query<{ wallet_address: string }>('SELECT wallet_address FROM traders ORDER BY 1');
      await check.close();
      expect(rows.map((r) => r.wallet_address)).toEqual([w1, w2].sort());
    });
  });

  it('`traders import` refuses a CSV without a wallet_address column, and a missing file, with exit 64 and nothing imported', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'people.csv');
      await writeFile(file, `name,address\nalice,${sim.dataset.wallets()[0]}\n`);
      const noColumn = await runCli(['traders', 'import', file, ...store(dir)]);
      expect(noColumn.code).toBe(64);
      expect(noColumn.stderr).toMatch(/none is named wallet_address/);
      const missing = await runCli(['traders', 'import', join(dir, 'nope.csv'), ...store(dir)]);
      expect(missing.code).toBe(64);
      expect(missing.stderr).toMatch(/cannot read .*nope\.csv: ENOENT/);
    });
  });

  it('scheme letter case and lookalikes: BIGQUERY:// and GS:// are the cloud backends, bigquery:/ and other schemes are refused; a domain-scoped project is accepted; a bad percent-escape exits 64', async () => {
    let fakes = await startGcpFakes();
    try {
      await withTempDir(async (dir) => {
      const status = (warehouse: string, stage: string) => runCli(['status', '--json', '--warehouse', warehouse, '--stage', stage], { BACKFILL_BIGQUERY_API_ENDPOINT: fakes.bq.url, BACKFILL_GCS_API_ENDPOINT: fakes.gcs.url });
      const upper = await status('BIGQUERY://my-project/polycopy', 'GS://bucket-name/stage');
      // Taken as BigQuery + GCS (the fakes answer), never as a local file named "BIGQUERY:".
      expect(upper.code, upper.stderr).toBe(0);
      expect(JSON.parse(upper.stdout)).toMatchObject({ warehouse: 'bigquery://my-project/polycopy?location=US', total: 0 });
      expect(existsSync('BIGQUERY:')).toBe(false);
      for (const [warehouse, message] of [
        ['bigquery:/my-project/polycopy', /a BigQuery URI starts with bigquery:\/\//],
        ['bigqeury://my-project/polycopy', /unsupported warehouse URI scheme "bigqeury:"/],
        ['bigquery://my-project/poly%zzcopy', /malformed percent-escape/],
      ] as const) {
        const result = await status(warehouse, 'gs://bucket-name/stage');
        expect(result.code, warehouse).toBe(64);
        expect(result.stderr).toMatch(message);
      }
      const local = await runCli(['status', '--warehouse', paths(dir).warehouse, '--stage', 'gs:/bucket/stage']);
      expect(local.code).toBe(64);
      expect(local.stderr).toMatch(/a GCS URI starts with gs:\/\//);
      // A fresh pair of fakes: their engine keeps tables by bare name, one dataset at a time.
      await fakes.close();
      fakes = await startGcpFakes();
      const scoped = await status('bigquery://example.com:my-project/polycopy', 'gs://bucket-name/stage');
      expect(scoped.code, scoped.stderr).toBe(0);
      expect(JSON.parse(scoped.stdout)).toMatchObject({ warehouse: 'bigquery://example.com:my-project/polycopy?location=US' });
      });
    } finally {
      await fakes.close();
    }
  });

  it('every numeric and enumerated option is bounded: out of range exits 64 naming the allowed range', async () => {
    await withTempDir(async (dir) => {
      const cases = [
        ['--concurrency', '100000', /--concurrency "100000" must be a whole number from 1 to 256/],
        ['--lease-ttl', '0', /--lease-ttl "0" is out of range. Allowed: 1s to 1h/],
        ['--log-level', 'silly', /--log-level "silly" is not one of fatal, error, warn, info, debug, trace, silent/],
        ['--commit-every', '0', /--commit-every "0" must be a whole number from 1 to 10000/],
        ['--max-runtime', '30d', /--max-runtime "30d" is out of range. Allowed: 1s to 7d/],
        ['--exit-codes', 'lenient', /--exit-codes "lenient" is not one of strict, schedule/],
      ] as const;
      // Side by side: each is refused before it opens anything, so they cannot meet.
      const results = await Promise.all(cases.map(([flag, value]) => runCli(runArgs(paths(dir), sim.url, [flag, value]))));
      cases.forEach(([flag, , message], i) => {
        expect(results[i]!.code, flag).toBe(64);
        expect(results[i]!.stderr, flag).toMatch(message);
      });
      expect(existsSync(paths(dir).warehouse)).toBe(false);
    });
  });
});
