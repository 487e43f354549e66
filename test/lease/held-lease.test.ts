import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { leaseScope, scopesCompatible, takeLease } from '../../src/lease/held-lease.js';
import { LocalLeaseStore } from '../../src/lease/local-file-lease.js';
import { parseWarehouseTarget, resolveBackends } from '../../src/library/backends.js';
import { resolveConfig } from '../../src/library/config.js';
import { withTempDir } from '../../testkit/temp-dir.js';

describe('run lease scopes', () => {
  it('are keyed on the warehouse: one lease set per dataset whatever its URI options or stage, one per DuckDB file whatever its spelling', () => {
    const bq = (warehouse: string, stage: string) => resolveBackends(resolveConfig({ warehouse, stage }, {}));
    const base = bq('bigquery://p-123456/d', 'gs://bucket-a/x');
    expect(bq('bigquery://p-123456/d?location=EU&maximumBytesBilled=5', 'gs://bucket-a/other-prefix').leases.location).toBe(base.leases.location);
    expect(bq('bigquery://p-123456/other', 'gs://bucket-a/x').leases.location).not.toBe(base.leases.location);
    const duck = (warehouse: string, stage: string) => resolveBackends(resolveConfig({ warehouse, stage }, {}));
    expect(duck('./data/backfill.duckdb', './stage-a').leases.location).toBe(duck(`${process.cwd()}/data/backfill.duckdb`, './stage-b').leases.location);
    expect(parseWarehouseTarget('BIGQUERY://p-123456/d')).toEqual({ kind: 'bigquery', uri: 'bigquery://p-123456/d' });
  });

  it('let shards of one count run side by side, and nothing else: all vs shard, shards of different counts', () => {
    expect(leaseScope(undefined)).toBe('all');
    expect(leaseScope({ index: 1, count: 4 })).toBe('shard-1-of-4');
    expect(scopesCompatible('shard-0-of-4', 'shard-1-of-4')).toBe(true);
    expect(scopesCompatible('shard-1-of-4', 'shard-1-of-4')).toBe(false);
    expect(scopesCompatible('shard-1-of-4', 'shard-1-of-8')).toBe(false);
    expect(scopesCompatible('all', 'shard-0-of-4')).toBe(false);
    expect(scopesCompatible('all', 'all')).toBe(false);
  });

  it('refuse a run whose scope overlaps a live lease: a reload (all) beside a sharded run, a shard of another count; allow the other shard', async () => {
    await withTempDir(async (dir) => {
      const store = new LocalLeaseStore(join(dir, 'leases'));
      const shard0 = await takeLease(store, 'shard-0-of-4', 'run shard 0', { ttlMs: 60_000 });
      expect('held' in shard0).toBe(true);
      const reload = await takeLease(store, 'all', 'reload', { ttlMs: 60_000 });
      expect(reload).toMatchObject({ refused: { current: { holder: 'run shard 0' } } });
      const other = await takeLease(store, 'shard-0-of-8', 'run with 8 tasks', { ttlMs: 60_000 });
      expect(other).toMatchObject({ refused: { current: { holder: 'run shard 0' } } });
      const shard1 = await takeLease(store, 'shard-1-of-4', 'run shard 1', { ttlMs: 60_000 });
      expect('held' in shard1).toBe(true);
      // The refused contenders left nothing behind.
      expect((await store.scopes()).sort()).toEqual(['shard-0-of-4', 'shard-1-of-4']);
      for (const t of [shard0, shard1]) if ('held' in t) await t.held.release();
      expect(await store.scopes()).toEqual([]);
    });
  });
});
