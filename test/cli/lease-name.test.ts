import { describe, expect, it } from 'vitest';

import { leaseName } from '../../src/cli/run-lease.js';

describe('run lease names', () => {
  it('give one lease per dataset whatever its URI options, and one per shard', () => {
    const base = leaseName('bigquery://p/d', undefined);
    expect(leaseName('bigquery://p/d?location=EU&maximumBytesBilled=5', undefined)).toBe(base);
    expect(leaseName('bigquery://p/other', undefined)).not.toBe(base);
    expect(leaseName('bigquery://p/d', { index: 1, count: 4 })).toBe(`${base}-1of4`);
    expect(leaseName('./data/backfill.duckdb', undefined)).toBe(leaseName(`${process.cwd()}/data/backfill.duckdb`, undefined));
  });
});
