import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { tradeId } from '../../src/polymarket/trade-key.js';
import { bigQueryDialect } from '../../src/warehouse/bigquery/dialect.js';
import { fieldsOf } from '../../src/warehouse/bigquery/schema.js';
import { mergeSql } from '../../src/warehouse/sql/merge-sql.js';
import { planSql } from '../../src/warehouse/sql/plan-sql.js';
import { MARKETS, TRADES } from '../../src/warehouse/table-schemas.js';
import type { LoadedTableSpec } from '../../src/warehouse/table-schemas.js';
import { createDuckDbEngine } from '../fakes/duckdb-query-engine.js';
import type { DuckDbEngine } from '../fakes/duckdb-query-engine.js';
import type { ParamValue } from '../fakes/fake-bigquery-server.js';
import { market, trade, wallet } from './gcp-test-helpers.js';

/**
 * The BigQuery warehouse's generated SQL, run on real DuckDB tables after the fake's minimal
 * translation (backticked names, @params): proves the MERGE and plan logic by execution.
 */

const name = (table: string) => `\`test-project.polycopy_test.${table}\``;
const bq = bigQueryDialect({ projectId: 'test-project', datasetId: 'polycopy_test' });
const W = wallet(0x42);

const ts = (iso: string): ParamValue => ({ type: 'TIMESTAMP', value: iso });
const strings = (values: string[]): ParamValue => ({ type: 'ARRAY', arrayType: { type: 'STRING' }, value: values.map((value) => ({ type: 'STRING', value })) });

describe('generated BigQuery SQL executed on DuckDB', () => {
  let db: DuckDbEngine;

  const table = async (spec: LoadedTableSpec, tableName: string, withLoadedAt: boolean) =>
    db.createTable({
      tableReference: { projectId: 'test-project', datasetId: 'polycopy_test', tableId: tableName },
      schema: { fields: [...fieldsOf(spec.columns), ...(withLoadedAt ? [{ name: 'loaded_at', type: 'TIMESTAMP', mode: 'NULLABLE' as const }] : [])] },
      creationTime: '0',
    });

  const insertRows = async (tableName: string, rows: Record<string, unknown>[]) => {
    for (const row of rows) {
      const cols = Object.keys(row);
      const values = cols.map((c) => {
        const v = row[c];
        return v === null ? 'NULL' : typeof v === 'string' ? `'${v.replace(/'/g, "''")}'` : String(v);
      });
      await db.sql(`INSERT INTO "${tableName}" (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${values.join(', ')})`);
    }
  };

  const mergeTrades = (min: string, max: string, wallets: string[]) =>
    db.query(mergeSql(bq, TRADES, { relation: name('stage_trades'), unique: false }, { prune: { timeRange: true } }), {
      min_ts: ts(min),
      max_ts: ts(max),
      wallets: strings(wallets),
    });

  beforeEach(async () => {
    db = await createDuckDbEngine(() => undefined);
    await table(TRADES, 'trades', true);
    await table(TRADES, 'stage_trades', false);
    await table(MARKETS, 'markets', true);
    await table(MARKETS, 'stage_markets', false);
  });
  afterEach(async () => {
    await db.close();
  });

  it('the trades MERGE inserts each trade_id once: the same staged rows twice in staging, merged twice, leave one row per key', async () => {
    const rows = [trade(W, 'a', '2024-01-01T00:00:00.000Z'), trade(W, 'b', '2024-02-01T00:00:00.000Z')];
    await insertRows('stage_trades', [...rows, ...rows]);
    expect((await mergeTrades('2024-01-01T00:00:00.000Z', '2024-02-01T00:00:00.000Z', [W])).affectedRows).toBe(2);
    expect((await mergeTrades('2024-01-01T00:00:00.000Z', '2024-02-01T00:00:00.000Z', [W])).affectedRows).toBe(0);
    expect(await db.sql('SELECT trade_id, loaded_at IS NOT NULL AS stamped FROM trades ORDER BY trade_id')).toEqual([
      { trade_id: 'a', stamped: true },
      { trade_id: 'b', stamped: true },
    ]);
  });

  it('identical fills of one transaction with distinct fill_seq are distinct trades and are both kept', async () => {
    const twin = { proxy_wallet: W, transaction_hash: '0xfeed', asset: '7', side: 'SELL', price: 0.5, size: 10 };
    const rows = [0, 1].map((fill_seq) =>
      trade(W, tradeId({ ...twin, fill_seq }), '2024-06-01T12:00:00.000Z', { ...twin, fill_seq }),
    );
    await insertRows('stage_trades', rows);
    await mergeTrades('2024-06-01T12:00:00.000Z', '2024-06-01T12:00:00.000Z', [W]);
    await mergeTrades('2024-06-01T12:00:00.000Z', '2024-06-01T12:00:00.000Z', [W]);
    expect(await db.sql('SELECT fill_seq FROM trades ORDER BY fill_seq')).toEqual([{ fill_seq: 0n }, { fill_seq: 1n }]);
  });

  it('the partition/cluster predicates are part of the match: with the batch’s own range nothing is duplicated; with a wrong range the same row would be inserted again', async () => {
    await insertRows('trades', [trade(W, 'old', '2023-05-05T05:05:05.000Z')]);
    await insertRows('stage_trades', [trade(W, 'old', '2023-05-05T05:05:05.000Z'), trade(W, 'new', '2024-05-05T05:05:05.000Z')]);
    // Exact constants, as the warehouse computes them from the staging table: 'old' is matched.
    await mergeTrades('2023-05-05T05:05:05.000Z', '2024-05-05T05:05:05.000Z', [W]);
    expect(await db.sql('SELECT trade_id FROM trades ORDER BY trade_id')).toEqual([{ trade_id: 'new' }, { trade_id: 'old' }]);
    // Negative control: a range that misses 'old' would insert it twice — which is why the range
    // is never guessed but read from the staging table.
    await mergeTrades('2024-01-01T00:00:00.000Z', '2024-12-31T00:00:00.000Z', [W]);
    expect(await db.sql('SELECT count(*) AS n FROM trades WHERE trade_id = \'old\'')).toEqual([{ n: 2n }]);
  });

  it('the markets MERGE upserts: among duplicates the latest fetch wins, and an existing row is refreshed', async () => {
    const id = `0x${'d'.repeat(64)}`;
    await insertRows('markets', [market(id, 'open', '2024-01-01T00:00:00.000Z')]);
    await insertRows('stage_markets', [market(id, 'closed', '2024-03-01T00:00:00.000Z'), market(id, 'open', '2024-02-01T00:00:00.000Z')]);
    const result = await db.query(mergeSql(bq, MARKETS, { relation: name('stage_markets'), unique: false }), {});
    expect(result.affectedRows).toBe(1);
    expect(await db.sql('SELECT status, winning_label FROM markets')).toEqual([{ status: 'closed', winning_label: 'Yes' }]);
  });

  it('the plan query runs as generated: valid normalised wallets minus successful and parked checkpoints, ordered, per shard', async () => {
    const w = [1, 2, 3, 4].map((n) => wallet(n));
    await db.createTable({
      tableReference: { projectId: 'test-project', datasetId: 'polycopy_test', tableId: 'traders' },
      schema: { fields: [{ name: 'wallet_address', type: 'STRING' }] },
      creationTime: '0',
    });
    await db.sql(`CREATE TABLE backfill_checkpoint (wallet_address VARCHAR, completed BOOLEAN, upload_successful BOOLEAN, parked BOOLEAN, fills_loaded BOOLEAN, activity_loaded BOOLEAN)`);
    await insertRows('traders', [{ wallet_address: ` ${w[0]!.toUpperCase().replace('0X', '0x')}\n` }, { wallet_address: w[1]! }, { wallet_address: w[2]! }, { wallet_address: w[3]! }, { wallet_address: 'junk' }]);
    await insertRows('backfill_checkpoint', [
      { wallet_address: w[1]!, completed: true, upload_successful: true, parked: false },
      { wallet_address: w[2]!, completed: true, upload_successful: false, parked: true },
      { wallet_address: w[3]!, completed: true, upload_successful: false, parked: false },
    ]);
    const plan = async (retryParked: boolean, index = 0, count = 1) =>
      (
        (await db.query(planSql(bq), {
          retry_parked: { type: 'BOOL', value: String(retryParked) },
          shard_count: { type: 'INT64', value: String(count) },
          shard_index: { type: 'INT64', value: String(index) },
        })).rows as { wallet: string }[]
      ).map((r) => r.wallet);
    expect(await plan(false)).toEqual([w[0], w[3]]);
    expect(await plan(true)).toEqual([w[0], w[2], w[3]]);
    const shards = [await plan(true, 0, 2), await plan(true, 1, 2)];
    expect(shards.flat().sort()).toEqual([w[0], w[2], w[3]]);
  });
});
