import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { DuckDbDriver, parseDuckDbLocation } from '../../src/warehouse/duckdb/index.js';
import type { WarehouseDriver } from '../../src/warehouse/driver.js';
import { SqlWarehouse } from '../../src/warehouse/sql-warehouse.js';

/**
 * The embedded backend answers a wallet's "which of these ids are held?" with a query. A run asks it for every wallet
 * (markets, then events), so at 100,000 wallets one query per wallet on the one read connection queued the fetches
 * behind it (measured: a per-wallet refresh of 500 wallets spent most of its time waiting there). Look-ups asked while
 * one is running go together in the next query.
 */
describe('known-id look-ups on the embedded warehouse', () => {
  let dir: string;
  let driver: DuckDbDriver;
  let warehouse: SqlWarehouse;
  const asked: string[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'known-ids-'));
    driver = await DuckDbDriver.open(parseDuckDbLocation(join(dir, 'wh.duckdb')), { memoryLimit: '128MB' });
    // The warehouse over a driver that records the name of every query it runs.
    const counting = new Proxy(driver, {
      get(target, key) {
        const value = Reflect.get(target, key, target) as unknown;
        if (key === 'query') return (what: string, ...rest: unknown[]) => (asked.push(what), (value as (...a: unknown[]) => unknown).call(target, what, ...rest));
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as unknown as WarehouseDriver;
    warehouse = new SqlWarehouse(counting);
    await warehouse.migrate();
    await driver.sql("INSERT INTO markets (condition_id) SELECT 'm' || i FROM range(0, 100, 2) t(i)");
    await driver.sql("INSERT INTO unresolved_ids (kind, id) VALUES ('market', 'm1'), ('event', 'e1')");
    await driver.sql("INSERT INTO events (event_id) VALUES ('e2')");
    asked.length = 0;
  });
  afterEach(async () => {
    await warehouse.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('forty wallets asking at once are answered by at most two queries, each wallet exactly its own held ids', async () => {
    const wallets = Array.from({ length: 40 }, (_, w) => [`m${w}`, `m${w + 1}`, `m${w + 50}`, `m${w + 200}`]);
    const answers = await Promise.all(wallets.map((ids) => warehouse.knownConditionIds(ids)));
    for (const [w, answer] of answers.entries()) {
      const expected = wallets[w]!.filter((id) => id === 'm1' || (Number(id.slice(1)) < 100 && Number(id.slice(1)) % 2 === 0));
      expect([...answer].sort(), `wallet ${w}`).toEqual(expected.sort());
    }
    expect(asked.filter((what) => what === 'known market ids').length).toBeLessThanOrEqual(2);
  });

  it('markets and events are asked apart, and a look-up after the others have been answered sees what was merged since', async () => {
    const [markets, events] = await Promise.all([warehouse.knownConditionIds(['m1', 'm3']), warehouse.knownEventIds(['e1', 'e2', 'e3'])]);
    expect(markets).toEqual(new Set(['m1']));
    expect(events).toEqual(new Set(['e1', 'e2']));
    await driver.sql("INSERT INTO markets (condition_id) VALUES ('m3')");
    expect(await warehouse.knownConditionIds(['m3'])).toEqual(new Set(['m3']));
  });

  it('a look-up that fails fails the wallets it was asked for, and the next one is asked afresh', async () => {
    let queries = 0;
    let fail: (error: Error) => void = () => undefined;
    const flaky = new Proxy(driver, {
      get(target, key) {
        const value = Reflect.get(target, key, target) as unknown;
        // The first query fails once the test says so; the ones after it are answered.
        if (key === 'query' && (queries += 1) === 1) return () => new Promise((_, reject) => (fail = reject));
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as unknown as WarehouseDriver;
    const flakyWarehouse = new SqlWarehouse(flaky);
    const first = Promise.allSettled([flakyWarehouse.knownConditionIds(['m1']), flakyWarehouse.knownConditionIds(['m2'])]);
    await vi.waitFor(() => expect(queries).toBe(1));
    // Asked while the failing one runs: it waits for it, then is asked on its own.
    const after = flakyWarehouse.knownConditionIds(['m2', 'm3']);
    fail(new Error('disk gone'));
    expect((await first).map((r) => (r.status === 'rejected' ? String(r.reason) : 'answered'))).toEqual(['Error: disk gone', 'Error: disk gone']);
    expect(await after).toEqual(new Set(['m2']));
  });
});
