import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { listValue } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { LocalStageStore } from '../../src/staging/local/local-stage-store.js';
import { DuckDbWarehouse } from '../../src/warehouse/duckdb/index.js';
import { duckdbDialect } from '../../src/warehouse/duckdb/dialect.js';
import { anyTradeOfWalletsSql, mergeSql, walletTradeCountsSql } from '../../src/warehouse/sql/merge-sql.js';
import { DEFAULTS } from '../../src/library/config.js';
import { TRADES } from '../../src/warehouse/table-schemas.js';
import { trade } from '../../testkit/trade-row.js';

/**
 * The DuckDB load path at scale: a batch's trades insert and its checkpoint count read only the row
 * groups its wallets can be in (zone maps on proxy_wallet, small row groups), and a whale's
 * staged file loads under a small buffer pool.
 */

const WALLETS = 1_000;
const PER_WALLET = 100;
/** Wallet k of the big table: addresses in k order, spread over the address space. */
const walletSql = (k: string) => `'0x' || printf('%08x', (${k}) * 4294967) || repeat('0', 32)`;
const walletOf = (k: number) => `0x${(k * 4294967).toString(16).padStart(8, '0')}${'0'.repeat(32)}`;

interface PlanNode {
  operator_name?: string;
  operator_rows_scanned?: number;
  extra_info?: { Table?: string };
  children?: PlanNode[];
}

/** Rows the statement's scans of `trades` read, from DuckDB's own profile (EXPLAIN ANALYZE). */
async function rowsScannedOfTrades(warehouse: DuckDbWarehouse, sql: string, wallets: string[]): Promise<number> {
  await warehouse.query(`PRAGMA custom_profiling_settings='{"OPERATOR_ROWS_SCANNED": "true", "OPERATOR_NAME": "true", "EXTRA_INFO": "true"}'`);
  // The settings above switch profiling on for the connection, which prints every later query's
  // plan to stdout; the figures are read from the EXPLAIN result, so nothing needs printing.
  await warehouse.query(`SET enable_profiling = 'no_output'`);
  await warehouse.query('BEGIN');
  try {
    const [row] = await warehouse.query<{ explain_value: string }>(`EXPLAIN (ANALYZE, FORMAT json) ${sql}`, { wallets: listValue(wallets) });
    let scanned = 0;
    const walk = (node: PlanNode) => {
      if (/SCAN/.test(node.operator_name ?? '') && /\btrades$/.test(node.extra_info?.Table ?? '')) scanned += Number(node.operator_rows_scanned ?? 0);
      for (const child of node.children ?? []) walk(child);
    };
    walk(JSON.parse(row!.explain_value) as PlanNode);
    return scanned;
  } finally {
    await warehouse.query('ROLLBACK');
  }
}

describe('DuckDB load path at scale', () => {
  let dir: string;
  let warehouse: DuckDbWarehouse;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'backfill-scale-'));
    warehouse = await DuckDbWarehouse.open({ path: join(dir, 'wh.duckdb') });
    await warehouse.migrate();
  });
  afterEach(async () => {
    await warehouse.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function fillBigTable(): Promise<void> {
    // Loaded in address order, as planned wallets are.
    await warehouse.query(`INSERT INTO trades (trade_id, proxy_wallet, side, "timestamp", raw, loaded_at)
      SELECT md5(i::VARCHAR), ${walletSql(`i // ${PER_WALLET}`)}, 'BUY', TIMESTAMP '2024-01-01' + to_seconds(i), '{}', TIMESTAMP '2026-01-01'
      FROM range(${WALLETS * PER_WALLET}) r(i) ORDER BY i`);
  }

  it('stores trades in row groups of 8,192 rows, so zone maps on proxy_wallet can narrow a batch to a few groups', async () => {
    await fillBigTable();
    const [groups] = await warehouse.query<{ n: bigint }>(`SELECT count(DISTINCT row_group_id) AS n FROM pragma_storage_info('trades')`);
    // 100,000 rows: 13 groups of 8,192 (DuckDB's default, 122,880 rows, would make it one).
    expect(Number(groups!.n)).toBeGreaterThanOrEqual(12);
  });

  it("the trades insert and the checkpoint count of a batch read only the row groups its wallets fall in, not the whole table (EXPLAIN ANALYZE)", async () => {
    await fillBigTable();
    // Two new wallets whose addresses sort between wallets 10 and 11: both inside the first group.
    const batch = [walletOf(10).replace(/0$/, '1'), walletOf(10).replace(/0$/, '2')];
    await warehouse.query(`CREATE TEMP TABLE staged AS SELECT * FROM (VALUES ('new1', '${batch[0]}'), ('new2', '${batch[1]}')) v(trade_id, proxy_wallet)`);
    await warehouse.query(
      `CREATE OR REPLACE TEMP TABLE staged AS SELECT trade_id, proxy_wallet, 'BUY' AS side, NULL::VARCHAR AS asset, NULL::VARCHAR AS condition_id, 1.0::DOUBLE AS size, 0.5::DOUBLE AS price,
         TIMESTAMP '2025-01-01' AS "timestamp", '' AS title, '' AS slug, '' AS event_slug, 'Yes' AS outcome, 0::BIGINT AS outcome_index, '0x' AS transaction_hash, 0::BIGINT AS fill_seq, '{}' AS raw FROM staged`,
    );
    const total = WALLETS * PER_WALLET;
    const insert = mergeSql(duckdbDialect, TRADES, { relation: 'staged', unique: true }, { prune: { timeRange: false } });
    expect(insert).toMatch(/^INSERT INTO "trades"/);
    expect(insert).toContain('WHERE NOT EXISTS (SELECT 1 FROM "trades" AS t WHERE t."proxy_wallet" IN (SELECT unnest($wallets))');
    const insertScanned = await rowsScannedOfTrades(warehouse, insert, batch);
    expect(insertScanned).toBeGreaterThan(0);
    expect(insertScanned).toBeLessThanOrEqual(8_192);
    const countScanned = await rowsScannedOfTrades(warehouse, walletTradeCountsSql(duckdbDialect, { keys: false }), batch);
    expect(countScanned).toBeGreaterThan(0);
    expect(countScanned).toBeLessThanOrEqual(8_192);
    // The look for existing rows that picks the insert without anti-join reads no more.
    const lookScanned = await rowsScannedOfTrades(warehouse, anyTradeOfWalletsSql(duckdbDialect), batch);
    expect(lookScanned).toBeLessThanOrEqual(8_192);
    // …of a table of 100,000 rows, which the same count over every wallet does read whole: the
    // profile counts what a scan reads, so the figures above are the pruned scans'.
    const [held] = await warehouse.query<{ n: bigint }>('SELECT count(*) AS n FROM trades');
    expect(Number(held!.n)).toBe(total);
    const everyWallet = Array.from({ length: WALLETS }, (_, k) => walletOf(k));
    expect(await rowsScannedOfTrades(warehouse, walletTradeCountsSql(duckdbDialect, { keys: false }), everyWallet)).toBeGreaterThanOrEqual(total);
    await warehouse.query(insert, { wallets: listValue(batch) });
    await warehouse.query(insert, { wallets: listValue(batch) });
    const [counts] = await warehouse.query<{ n: bigint }>('SELECT count(*) AS n FROM trades WHERE proxy_wallet IN (SELECT unnest($w))', { w: listValue(batch) });
    expect(Number(counts!.n)).toBe(2);
  });

  it('a 200,000-trade wallet loads, and loads again, under the default 128 MB buffer pool: one thread, and the staged-id check sorts (spillable) instead of hashing every id', async () => {
    await warehouse.close();
    warehouse = await DuckDbWarehouse.open({ path: join(dir, 'small.duckdb'), memoryLimit: DEFAULTS.duckdbMemoryLimit });
    await warehouse.migrate();
    const stage = new LocalStageStore(join(dir, 'stage'));
    const wallet = walletOf(7);
    const writer = await stage.createWriter('trades', wallet);
    const n = 200_000;
    const raw = JSON.stringify({ proxy_wallet: wallet, title: 'Will the highest temperature in Dallas be between 100-101°F on September 14?', bio: 'x'.repeat(200) });
    for (let i = 0; i < n; i += 1) {
      await writer.write(trade(wallet, `${i.toString(16).padStart(32, '0')}`, new Date(Date.UTC(2021, 0, 1) + i * 60_000).toISOString(), { raw, fill_seq: 0 }));
    }
    const file = await writer.commit();
    const result = await warehouse.loadBundles([{ wallet, tradeCount: n, files: { trades: file } }]);
    expect(result.merged.trades).toBe(n);
    expect(result.tradeCounts[wallet]).toBe(n);
    // Loaded again: all duplicates, nothing inserted.
    expect((await warehouse.loadBundles([{ wallet, tradeCount: n, files: { trades: file } }])).merged.trades).toBe(0);
  }, 120_000);
});
