import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ConfigError } from '../../src/lib/errors.js';
import { DuckDbWarehouse } from '../../src/warehouse/duckdb/index.js';

/**
 * The DuckDB file path reaches SQL twice: as a parameter (the spill directory) and, since ATTACH
 * takes none, as a quoted literal. Any path a user can name must open, and one that cannot be
 * written as a literal must be refused as a configuration error, not crash.
 */
describe('DuckDB warehouse path', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'duckdb-path-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("opens a file whose path holds quotes and spaces, spilling beside it", async () => {
    const path = join(dir, `it's a "warehouse"; DROP TABLE trades.duckdb`);
    const warehouse = await DuckDbWarehouse.open({ path });
    try {
      await warehouse.migrate();
      const [row] = await warehouse.query<{ t: string }>("SELECT current_setting('temp_directory') AS t");
      expect(row!.t).toBe(`${path}.tmp`);
      expect((await warehouse.status()).total).toBe(0);
    } finally {
      await warehouse.close();
    }
  });

  it('refuses a path with a control character as a configuration error naming it', async () => {
    const error = await DuckDbWarehouse.open({ path: join(dir, 'a\nb.duckdb') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(JSON.stringify(join(dir, 'a\nb.duckdb')));
  });
});
