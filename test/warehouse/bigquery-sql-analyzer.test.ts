import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { auditWallet } from '../../src/chain/audit-wallet.js';
import { startBackfill } from '../../src/engine/backfill-run.js';
import { warehouseAuditStore } from '../../src/library/audit.js';
import { runRecord } from '../../src/library/run-session.js';
import { createPolymarketSource } from '../../src/polymarket/index.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { SCHEMA_MIGRATIONS_DEFINITION, TABLE_DEFINITIONS, ddlOf } from '../../src/warehouse/bigquery/schema.js';
import type { FieldSchema } from '../../src/warehouse/bigquery/schema.js';
import { duckdbDialect } from '../../src/warehouse/duckdb/dialect.js';
import { checkpointMergeSql } from '../../src/warehouse/sql/checkpoint-sql.js';
import { planSql } from '../../src/warehouse/sql/plan-sql.js';
import { TEST_RUN_OPTIONS, UNTHROTTLED, clockBehind, noSleep } from '../../testkit/backfill-harness.js';
import { startZetaSqlServer } from '../../testkit/zetasql-analyzer.js';
import type { BigQueryAnalyzer, ColumnType, TableDescription, ZetaSqlServer } from '../../testkit/zetasql-analyzer.js';
import type { ParamTypeDescriptor } from '../fakes/fake-bigquery-server.js';
import { DATASET, PROJECT, openStage, openWarehouse, startGcpFakes } from '../gcp/gcp-test-helpers.js';
import { asWallets } from '../../testkit/wallets.js';
import { rpcClient } from '../chain/helpers.js';

/**
 * Every statement the BigQuery backend sends, checked by Google's own analyzer (ZetaSQL, run
 * locally) against a catalog of our tables: not a list kept by hand, but the query jobs recorded
 * by the REST fake during a real engine run plus status, failures, traders, invalid values and a
 * duplicate repair — with their declared parameter types — and the DDL equivalent of every table.
 */

const REST_TO_ZETA: Record<string, ColumnType> = { STRING: 'STRING', INTEGER: 'INT64', FLOAT: 'FLOAT64', BOOLEAN: 'BOOL', TIMESTAMP: 'TIMESTAMP' };

function zetaType(d: ParamTypeDescriptor): string {
  if (d.type === 'ARRAY') return `ARRAY<${zetaType(d.arrayType!)}>`;
  if (d.type === 'STRUCT') return `STRUCT<${(d.structTypes ?? []).map((f) => `${f.name} ${zetaType(f.type)}`).join(', ')}>`;
  return d.type;
}

const describeTable = (name: string, fields: readonly FieldSchema[]): TableDescription => ({
  name: `${PROJECT}.${DATASET}.${name}`,
  columns: fields.map((f) => ({ name: f.name, type: REST_TO_ZETA[f.type]! })),
});

describe('BigQuery SQL through the ZetaSQL analyzer', () => {
  let server: ZetaSqlServer;
  let sim: RunningSimulator;
  let fakes: Awaited<ReturnType<typeof startGcpFakes>>;
  const statements = new Map<string, Record<string, string>>();
  const stagingTables = new Map<string, FieldSchema[]>();

  beforeAll(async () => {
    [server, sim, fakes] = await Promise.all([startZetaSqlServer(), startSimulator({
        seed: 3,
        wallets: 12,
        maxTradesPerWallet: 300,
        nowSeconds: clockBehind(),
        // A chain that differs from the API for one wallet, so an audit writes mismatches too.
        chain: { plan: { wallets: 1, missingFromApi: 1, underMinimum: 1, combo: 1 } },
      }), startGcpFakes()]);
    const stage = openStage(fakes.gcs, 'analyzer');
    const warehouse = openWarehouse(fakes, stage);
    await warehouse.migrate();
    await warehouse.addTraders(asWallets(sim.dataset.wallets()), 'test');
    await fakes.engine!.sql(`INSERT INTO traders (wallet_address) VALUES ('not-a-wallet')`);
    const source = createPolymarketSource({ dataApiUrl: sim.url, gammaApiUrl: sim.url, rateLimits: UNTHROTTLED, sleep: noSleep });
    await startBackfill({ source, stage, warehouse }, { ...TEST_RUN_OPTIONS, commit: { ...TEST_RUN_OPTIONS.commit, maxWallets: 6 } }).done;
    await source.close();
    await warehouse.status();
    await warehouse.failedWallets({ limit: 10 });
    // A trade stored twice (as two overlapping runners could): the next load of its wallet repairs it.
    const twice = sim.dataset.wallets().find((w) => sim.dataset.tradeCount(w) > 0)!;
    await fakes.engine!.sql(`INSERT INTO trades SELECT * REPLACE (now() AS loaded_at) FROM trades WHERE proxy_wallet = '${twice}' LIMIT 1`);
    await fakes.engine!.sql(`DELETE FROM backfill_checkpoint WHERE wallet_address = '${twice}'`);
    const again = createPolymarketSource({ dataApiUrl: sim.url, gammaApiUrl: sim.url, rateLimits: UNTHROTTLED, sleep: noSleep });
    const repaired = await startBackfill({ source: again, stage, warehouse }, TEST_RUN_OPTIONS).done;
    await again.close();
    await warehouse.recordRun(runRecord(repaired));
    // Events as a version before migration 12 left them (fetched without their markets): the refresh's end asks the
    // neg-risk ones again, and their listing flags the holders of their groups.
    await fakes.engine!.sql('UPDATE events SET market_ids = NULL WHERE neg_risk');
    // A refresh after the world moved on: its plan, window loads, market look-ups and checkpoints.
    sim.advance({ seconds: 86_400, seed: 2 });
    const fresh = createPolymarketSource({ dataApiUrl: sim.url, gammaApiUrl: sim.url, rateLimits: UNTHROTTLED, sleep: noSleep });
    await startBackfill({ source: fresh, stage, warehouse }, { ...TEST_RUN_OPTIONS, refresh: { overlapSeconds: 3_600, marketRefreshAfterMs: 0 } }).done;
    await fresh.close();
    await warehouse.failedWallets({ limit: 10, kind: 'refresh' });
    // An unresolved id found by a later look-up leaves unresolved_ids (the runs above found none).
    await warehouse.forgetUnresolved('market', ['0x' + '0'.repeat(64)]);
    // A chain audit of a sample (the planted wallet among it): its walk, its result and mismatches, a restart, the readers.
    const planted = sim.chain.planted()[0]!.wallet;
    const sample = await warehouse.auditSample(2);
    const store = warehouseAuditStore(warehouse);
    for (const wallet of [planted, ...sample]) {
      const rpc = rpcClient(sim.chain.url);
      await auditWallet(wallet, { rpc, store, toBlock: sim.chain.head() - 64, restart: wallet !== planted });
      await rpc.close();
    }
    expect((await warehouse.auditResults([planted]))[0]?.complete).toBe(false);
    expect((await warehouse.auditMismatches(planted)).length).toBeGreaterThan(0);
    await warehouse.auditResults();
    // What `backfill stats` reads, every order; and a wallet too large for one positions MERGE (written in parts).
    for (const by of ['pnl', 'roi', 'win-rate', 'volume'] as const) await warehouse.walletStats({ by, limit: 5, minMarkets: 1 });
    const someone = sim.dataset.wallets()[0]!;
    await warehouse.walletStatsOf(someone);
    await warehouse.walletPositions(someone);
    await warehouse.statsCounts();
    const small = openWarehouse(fakes, stage, { checkpointRowsPerStatement: 1 });
    const inputs = await small.readPnlInputs([someone]);
    const { replayBatch } = await import('../../src/engine/wallet-stats.js');
    const [large] = replayBatch([someone], inputs, new Date().toISOString());
    expect(large!.positions.length).toBeGreaterThan(4);
    await small.writeWalletPnl([{ ...large!, fingerprint: 'changed' }]);
    for (const job of fakes.bq.queryJobs()) {
      statements.set(job.sql!, Object.fromEntries(Object.entries(job.params).map(([name, p]) => [name, zetaType(p)])));
    }
    for (const job of fakes.bq.loadJobs()) {
      stagingTables.set(job.configuration.load!.destinationTable.tableId, job.configuration.load!.schema.fields as FieldSchema[]);
    }
  }, 120_000);
  afterAll(async () => {
    await Promise.all([server?.close(), sim?.close(), fakes?.close()]);
  });

  const analyzer = (): Promise<BigQueryAnalyzer> =>
    server.analyzer([
      ...[SCHEMA_MIGRATIONS_DEFINITION, ...TABLE_DEFINITIONS].map((def) => describeTable(def.name, def.fields)),
      ...[...stagingTables].map(([name, fields]) => describeTable(name, fields)),
    ]);

  it('accepts every statement the backend sent during a run, a status, a repair and the rest (none left out)', async () => {
    const sql = [...statements.keys()];
    // The run exercised every kind of statement the backend has.
    for (const start of [
      'WITH candidates',
      'SELECT DISTINCT tr.wallet_address AS value',
      'INSERT INTO',
      `MERGE INTO \`${PROJECT}.${DATASET}.backfill_checkpoint\``,
      `MERGE INTO \`${PROJECT}.${DATASET}.trades\``,
      `MERGE INTO \`${PROJECT}.${DATASET}.markets\``,
      `MERGE INTO \`${PROJECT}.${DATASET}.events\``,
      `MERGE INTO \`${PROJECT}.${DATASET}.schema_migrations\``,
      'SELECT condition_id AS id',
      'SELECT event_id AS id',
      'SELECT `proxy_wallet` AS wallet',
      'SELECT\n  (SELECT COUNT(*)',
      'SELECT k.wallet_address',
      'SELECT (SELECT COUNT(*)',
      `MERGE INTO \`${PROJECT}.${DATASET}.backfill_runs\``,
      'SELECT k.wallet_address AS wallet,',
      'SELECT condition_id AS id FROM',
      'SELECT k.wallet_address, k.trade_count, FORMAT_TIMESTAMP',
      `MERGE INTO \`${PROJECT}.${DATASET}.unresolved_ids\``,
      'SELECT kind, id, COALESCE(attempts, 1) AS attempts',
      `DELETE FROM \`${PROJECT}.${DATASET}.unresolved_ids\``,
      `MERGE INTO \`${PROJECT}.${DATASET}.audit_chain_fills\``,
      `MERGE INTO \`${PROJECT}.${DATASET}.audit_progress\``,
      `MERGE INTO \`${PROJECT}.${DATASET}.audit_results\``,
      `INSERT INTO \`${PROJECT}.${DATASET}.audit_mismatches\``,
      `DELETE FROM \`${PROJECT}.${DATASET}.audit_mismatches\``,
      `DELETE FROM \`${PROJECT}.${DATASET}.audit_progress\``,
      `DELETE FROM \`${PROJECT}.${DATASET}.audit_chain_fills\``,
      'SELECT `trade_id`, `proxy_wallet`',
      'SELECT last_block FROM',
      'SELECT wallet, transaction_hash, log_index',
      'SELECT wallet, from_block',
      'SELECT wallet, kind',
      'SELECT wallet_address AS wallet FROM',
      `MERGE INTO \`${PROJECT}.${DATASET}.wallet_stats\``,
      `MERGE INTO \`${PROJECT}.${DATASET}.positions\``,
      `DELETE FROM \`${PROJECT}.${DATASET}.positions\``,
      `UPDATE \`${PROJECT}.${DATASET}.wallet_stats\``,
      'SELECT wallet FROM (',
      'SELECT `proxy_wallet` AS wallet, `asset` AS asset',
      'SELECT condition_id, clob_token_ids',
      'SELECT condition_id, status, payouts',
      'SELECT event_id, category, tags',
      'SELECT proxy_wallet AS wallet, fingerprint',
      'SELECT e.`event_id` AS id, e.`market_ids` IS NOT NULL AS listed',
    ]) {
      expect(sql.some((s) => s.startsWith(start)), start).toBe(true);
    }
    expect(sql.some((s) => s.includes('WHEN MATCHED THEN DELETE')), 'duplicate repair').toBe(true);
    expect(sql.some((s) => s.includes('UNION ALL') && s.includes('wallet_stats') && s.includes('market_resolutions')), 'holders of a resolved market flagged').toBe(true);
    expect(sql.some((s) => s.includes('UNION ALL') && s.includes('wallet_stats') && s.includes('NOT EXISTS (SELECT 1 FROM `test-project.polycopy_test.markets`')), 'holders of a new market flagged').toBe(true);
    expect(sql.some((s) => s.includes('wallet_stats') && s.includes('g.neg_risk_market_id IN') && s.includes('s.neg_risk')), 'holders of a group with a new member flagged').toBe(true);
    expect(sql.some((s) => s.includes('wallet_stats') && s.includes('e.market_ids IS NULL')), 'holders of a group listed for the first time flagged').toBe(true);
    const results = await (await analyzer()).analyzeAll(Object.fromEntries(sql.map((text, i) => [String(i), { sql: text, params: statements.get(text)! }])));
    const rejected = Object.entries(results)
      .filter(([, r]) => !r.ok)
      .map(([i, r]) => `${r.ok ? '' : r.error}\n${sql[Number(i)]}`);
    expect(rejected).toEqual([]);
    expect(sql.length).toBeGreaterThanOrEqual(16);
    console.info(`analyzed ${sql.length} distinct statements, all accepted`);
  });

  it('accepts the DDL equivalent of every table (partitioned by month, clustered), and of a staging table', async () => {
    const a = await analyzer();
    for (const def of [SCHEMA_MIGRATIONS_DEFINITION, ...TABLE_DEFINITIONS]) {
      const ddl = ddlOf(def, `\`${PROJECT}.${DATASET}.new_${def.name}\``);
      expect(await a.analyze(ddl), ddl).toEqual({ ok: true });
    }
    expect(ddlOf(TABLE_DEFINITIONS.find((d) => d.name === 'trades')!, 'x')).toContain('PARTITION BY TIMESTAMP_TRUNC(`timestamp`, MONTH)\nCLUSTER BY `proxy_wallet`');
  });

  it('negative controls: the same domain statements in the DuckDB dialect, and a statement naming an unknown column, are rejected', async () => {
    const a = await analyzer();
    const plan = await a.analyze(planSql(duckdbDialect).replace(/"(traders|backfill_checkpoint)"/g, `\`${PROJECT}.${DATASET}.$1\``), {
      retry_parked: 'BOOL',
      shard_count: 'INT64',
      shard_index: 'INT64',
    });
    expect(plan.ok).toBe(false);
    const checkpoint = await a.analyze(checkpointMergeSql(duckdbDialect).replace(/"backfill_checkpoint"/g, `\`${PROJECT}.${DATASET}.backfill_checkpoint\``), {});
    expect(checkpoint.ok).toBe(false);
    const [one] = [...statements.keys()].filter((s) => s.startsWith('SELECT k.wallet_address'));
    expect(await a.analyze(one!.replace('k.attempts', 'k.attempt_count'), statements.get(one!))).toMatchObject({ ok: false, error: expect.stringMatching(/attempt_count/) });
  });
});
