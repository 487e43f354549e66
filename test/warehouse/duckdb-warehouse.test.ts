import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { LocalStageStore } from '../../src/staging/local/local-stage-store.js';
import { DuckDbWarehouse } from '../../src/warehouse/duckdb/duckdb-warehouse.js';
import type { CheckpointRow, WalletBundle } from '../../src/warehouse/warehouse.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { trade } from '../helpers/trade-row.js';

const W1 = '0x' + '1'.repeat(40);
const W2 = '0x' + 'a'.repeat(40);
const W3 = '0x' + 'b'.repeat(40);

async function open(dir: string) {
  const stage = new LocalStageStore(join(dir, 'stage'));
  const warehouse = await DuckDbWarehouse.open({ path: join(dir, 'wh.duckdb'), stage });
  await warehouse.migrate();
  return { stage, warehouse };
}

async function plan(warehouse: DuckDbWarehouse, retryParked = false): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of warehouse.planWallets({ retryParked, chunkSize: 2 })) out.push(...chunk);
  return out;
}


async function stageTrades(stage: LocalStageStore, wallet: string, ids: string[]): Promise<WalletBundle> {
  const writer = await stage.createWriter('trades', wallet);
  for (const id of ids) await writer.write(trade(wallet, id));
  const file = await writer.commit();
  return { wallet, tradeCount: ids.length, files: { trades: file } };
}

const checkpoint = (wallet: string, ok: boolean, error: string | null = null): CheckpointRow => ({
  wallet_address: wallet,
  completed: true,
  upload_successful: ok,
  trade_count: 2,
  gcs_file: '/x',
  processed_at: new Date().toISOString(),
  error,
  run_id: 'r1',
});

describe('DuckDB warehouse', () => {
  it('migrates idempotently: a second migrate on the same file changes nothing', async () => {
    await withTempDir(async (dir) => {
      const { warehouse } = await open(dir);
      await warehouse.migrate();
      const rows = await warehouse.query<{ version: number }>('SELECT version FROM schema_migrations');
      expect(rows.map((r) => Number(r.version))).toEqual([1]);
      await warehouse.close();
    });
  });

  it('plans valid wallets once each, normalised and ordered, and records every malformed value by name without harming any table', async () => {
    await withTempDir(async (dir) => {
      const { warehouse } = await open(dir);
      const hostile = [
        `  ${W2.toUpperCase().replace('0X', '0x')}  `,
        W2,
        W1,
        W1,
        null,
        '',
        'not-a-wallet',
        "0x'; DROP TABLE trades; --",
        "Robert'); DELETE FROM backfill_checkpoint; --",
        '0x' + 'g'.repeat(40),
        '0x' + '1'.repeat(39),
      ];
      for (const value of hostile) {
        await warehouse.query('INSERT INTO traders (wallet_address) VALUES ($v)', { v: value });
      }
      expect(await plan(warehouse)).toEqual([W1, W2]);

      const invalid = await warehouse.recordInvalidTraders('run-1');
      expect(invalid.map((i) => i.value).sort()).toEqual(
        ['', 'not-a-wallet', "0x'; DROP TABLE trades; --", "Robert'); DELETE FROM backfill_checkpoint; --", '0x' + 'g'.repeat(40), '0x' + '1'.repeat(39)].sort(),
      );
      for (const i of invalid) expect(i.reason).toContain(JSON.stringify(i.value));
      // Reported once: a second run does not record them again.
      expect(await warehouse.recordInvalidTraders('run-2')).toEqual([]);
      const failed = await warehouse.failedWallets();
      expect(failed.filter((f) => f.parked)).toHaveLength(6);
      // Tables intact.
      const tables = await warehouse.query<{ name: string }>("SELECT table_name AS name FROM information_schema.tables ORDER BY 1");
      expect(tables.map((t) => t.name)).toEqual(
        expect.arrayContaining(['backfill_checkpoint', 'events', 'markets', 'traders', 'trades', 'unresolved_ids']),
      );
      await warehouse.close();
    });
  });

  it('loads staged files with MERGE: loading the same bundle twice leaves one row per trade', async () => {
    await withTempDir(async (dir) => {
      const { stage, warehouse } = await open(dir);
      const b1 = await stageTrades(stage, W1, ['t1', 't2']);
      const b2 = await stageTrades(stage, W2, ['t3']);
      const first = await warehouse.loadBundles([b1, b2]);
      expect(first.merged.trades).toBe(3);
      const again = await warehouse.loadBundles([b1]);
      expect(again.merged.trades).toBe(0);
      const rows = await warehouse.query<{ trade_id: string; title: string; ts: string }>(
        "SELECT trade_id, title, strftime(timestamp, '%Y-%m-%dT%H:%M:%S') AS ts FROM trades ORDER BY trade_id",
      );
      expect(rows.map((r) => r.trade_id)).toEqual(['t1', 't2', 't3']);
      expect(rows[0]!.title).toBe("it's a \"title\"");
      expect(rows[0]!.ts).toBe('2024-01-02T03:04:05');
      await warehouse.close();
    });
  });

  it('never inserts a key twice, even when the staged rows repeat it (the de-duplicating path)', async () => {
    await withTempDir(async (dir) => {
      const { stage, warehouse } = await open(dir);
      const repeated = await stageTrades(stage, W1, ['t1', 't1', 't2']);
      const result = await warehouse.loadBundles([repeated]);
      expect(result.merged.trades).toBe(2);
      const [counts] = await warehouse.query<{ n: bigint; d: bigint }>('SELECT count(*) AS n, count(DISTINCT trade_id) AS d FROM trades');
      expect([Number(counts!.n), Number(counts!.d)]).toEqual([2, 2]);
      const tables = await warehouse.query<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_name LIKE 'staging_%'");
      expect(tables).toEqual([]);
      await warehouse.close();
    });
  });

  it('counts failed attempts across runs, parks at the limit, and a success resets the count', async () => {
    await withTempDir(async (dir) => {
      const { warehouse } = await open(dir);
      await warehouse.addTraders([W1, W2, W3], 'test');
      await warehouse.writeCheckpoints([checkpoint(W1, true), checkpoint(W2, false, 'boom')], { maxFailedAttempts: 2 });
      expect(await plan(warehouse)).toEqual([W2, W3]);
      await warehouse.writeCheckpoints([checkpoint(W2, false, 'boom again')], { maxFailedAttempts: 2 });
      expect(await plan(warehouse)).toEqual([W3]);
      expect(await plan(warehouse, true)).toEqual([W2, W3]);
      const [failed] = await warehouse.failedWallets();
      expect(failed).toMatchObject({ wallet_address: W2, attempts: 2, parked: true, error: 'boom again' });
      await warehouse.writeCheckpoints([checkpoint(W2, true)], { maxFailedAttempts: 2 });
      expect(await warehouse.failedWallets()).toEqual([]);
      await warehouse.close();
    });
  });

  it('records a transient (API outage) failure without counting it towards parking', async () => {
    await withTempDir(async (dir) => {
      const { warehouse } = await open(dir);
      await warehouse.addTraders([W1], 'test');
      for (let run = 0; run < 3; run += 1) {
        await warehouse.writeCheckpoints([{ ...checkpoint(W1, false, 'API down'), transient: true }], { maxFailedAttempts: 2 });
      }
      expect((await warehouse.failedWallets())[0]).toMatchObject({ wallet_address: W1, attempts: 0, parked: false, error: 'API down' });
      expect(await plan(warehouse)).toEqual([W1]);
      await warehouse.writeCheckpoints([checkpoint(W1, false, 'bad row')], { maxFailedAttempts: 2 });
      await warehouse.writeCheckpoints([{ ...checkpoint(W1, false, 'API down'), transient: true }], { maxFailedAttempts: 2 });
      expect((await warehouse.failedWallets())[0]).toMatchObject({ attempts: 1, parked: false });
      await warehouse.close();
    });
  });

  it("answers the mission document's three monitoring queries, run verbatim with bare table names", async () => {
    await withTempDir(async (dir) => {
      const { warehouse } = await open(dir);
      await warehouse.addTraders([W1, W2, W3], 'test');
      await warehouse.writeCheckpoints([checkpoint(W1, true), checkpoint(W2, false, 'x')], { maxFailedAttempts: 5 });
      // Copied from ../shared/seed/000_87d0028ba7c537a7.txt; only the project-qualified names are replaced.
      const completed = await warehouse.query(
        'SELECT COUNT(*) as completed FROM backfill_checkpoint WHERE completed = true AND upload_successful = true',
      );
      const failed = await warehouse.query(
        'SELECT wallet_address, trade_count, processed_at FROM backfill_checkpoint WHERE completed = true AND upload_successful = false',
      );
      const progress = await warehouse.query(
        'SELECT (SELECT COUNT(*) FROM backfill_checkpoint WHERE completed = true AND upload_successful = true) as completed, (SELECT COUNT(DISTINCT wallet_address) FROM traders WHERE wallet_address IS NOT NULL) as total, ROUND((SELECT COUNT(*) FROM backfill_checkpoint WHERE completed = true AND upload_successful = true) * 100.0 / (SELECT COUNT(DISTINCT wallet_address) FROM traders WHERE wallet_address IS NOT NULL), 2) as percent_complete',
      );
      expect(Number(completed[0]!.completed)).toBe(1);
      expect(failed.map((r) => r.wallet_address)).toEqual([W2]);
      expect(Number(progress[0]!.total)).toBe(3);
      expect(Number(progress[0]!.percent_complete)).toBe(33.33);
      const status = await warehouse.status();
      expect(status).toMatchObject({ completed: 1, total: 3, percent_complete: 33.33, failed: 1, pending: 2, valid_wallets: 3 });
      await warehouse.close();
    });
  });
});
