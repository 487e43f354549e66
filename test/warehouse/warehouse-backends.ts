import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { LocalStageStore } from '../../src/staging/local/local-stage-store.js';
import type { StageKind, StageStore, StagedFile } from '../../src/staging/stage-store.js';
import type { SqlWarehouse } from '../../src/warehouse/sql-warehouse.js';
import { DuckDbWarehouse } from '../../src/warehouse/duckdb/index.js';
import { openStage, openWarehouse, startGcpFakes } from '../gcp/gcp-test-helpers.js';

/**
 * The same warehouse, twice: the DuckDB file, and the BigQuery backend talking to the REST fake
 * (whose SQL runs on DuckDB). The contract suite runs every test over both.
 */
export interface WarehouseFixture {
  warehouse: SqlWarehouse;
  stage: StageStore;
  /** Plain DuckDB SQL over the same tables with bare names: the file itself, or the engine behind the fake. */
  sql<T = Record<string, unknown>>(text: string): Promise<T[]>;
  /** Inserts one raw `traders.wallet_address` value, however hostile. */
  insertTrader(value: string | null): Promise<void>;
  close(): Promise<void>;
}

export interface WarehouseBackend {
  name: string;
  open(): Promise<WarehouseFixture>;
}

const literal = (value: string | null) => (value === null ? 'NULL' : `'${value.replace(/'/g, "''")}'`);

export const WAREHOUSE_BACKENDS: WarehouseBackend[] = [
  {
    name: 'DuckDB',
    open: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'warehouse-contract-'));
      const warehouse = await DuckDbWarehouse.open({ path: join(dir, 'wh.duckdb') });
      await warehouse.migrate();
      return {
        warehouse,
        stage: new LocalStageStore(join(dir, 'stage')),
        sql: (text) => warehouse.query(text),
        insertTrader: async (value) => {
          await warehouse.query('INSERT INTO traders (wallet_address) VALUES ($v)', { v: value });
        },
        close: async () => {
          await warehouse.close();
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'BigQuery (REST fake)',
    open: async () => {
      const fakes = await startGcpFakes();
      const stage = openStage(fakes.gcs);
      const warehouse = openWarehouse(fakes, stage);
      await warehouse.migrate();
      return {
        warehouse,
        stage,
        sql: (text) => fakes.engine!.sql(text),
        insertTrader: async (value) => {
          await fakes.engine!.sql(`INSERT INTO traders (wallet_address) VALUES (${literal(value)})`);
        },
        close: () => fakes.close(),
      };
    },
  },
];

/** Stages rows of one kind for a wallet and returns the file. */
export async function stageRows(stage: StageStore, kind: StageKind, wallet: string, rows: object[]): Promise<StagedFile> {
  const writer = await stage.createWriter(kind, wallet);
  for (const row of rows) await writer.write(row);
  return writer.commit();
}
