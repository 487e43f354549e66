import { describe, expect, it } from 'vitest';

import { bigQueryDialect } from '../../src/warehouse/bigquery/dialect.js';
import { monthRanges, timeRangesSql } from '../../src/warehouse/sql/merge-sql.js';

describe('the trades MERGE months pruning constants', () => {
  it('joins consecutive months into one half-open range, across a year boundary, and leaves out months without a trade', () => {
    expect(
      monthRanges(['2024-01-01T00:00:00.000000Z', '2023-12-01T00:00:00.000000Z', '2024-03-01T00:00:00.000000Z', '2024-01-01T00:00:00.000000Z']),
    ).toEqual([
      { from: '2023-12-01T00:00:00.000Z', to: '2024-02-01T00:00:00.000Z' },
      { from: '2024-03-01T00:00:00.000Z', to: '2024-04-01T00:00:00.000Z' },
    ]);
    expect(monthRanges([])).toEqual([]);
    // A month given by any instant in it is that month.
    expect(monthRanges(['2025-02-28T23:59:59.999999Z'])).toEqual([{ from: '2025-02-01T00:00:00.000Z', to: '2025-03-01T00:00:00.000Z' }]);
  });

  it('renders the ranges as OR-ed constant parameters on the partition column', () => {
    const d = bigQueryDialect({ projectId: 'p', datasetId: 'd' });
    expect(timeRangesSql(d, 't.`timestamp`', 1)).toBe('t.`timestamp` >= @ts_from_0 AND t.`timestamp` < @ts_to_0');
    expect(timeRangesSql(d, '`timestamp`', 2)).toBe('((`timestamp` >= @ts_from_0 AND `timestamp` < @ts_to_0) OR (`timestamp` >= @ts_from_1 AND `timestamp` < @ts_to_1))');
  });
});
