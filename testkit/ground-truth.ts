import { expect } from 'vitest';

import type { SimDataset } from '../src/simulator/index.js';
import type { DuckDbWarehouse } from '../src/warehouse/duckdb/index.js';
import { compareWithGroundTruth } from './ground-truth-diff.js';
import type { GroundTruthDiff } from './ground-truth-diff.js';

/** Asserts the warehouse equals the simulator's ground truth exactly (see compareWithGroundTruth). */
export async function expectEqualsGroundTruth(
  warehouse: DuckDbWarehouse,
  dataset: SimDataset,
  wallets: readonly string[] = dataset.wallets(),
): Promise<GroundTruthDiff> {
  const diff = await compareWithGroundTruth(warehouse, dataset, wallets);
  expect({ ...diff, wallets: 0, trades: 0, expectedTrades: 0, markets: 0, events: 0, activity: 0, expectedActivity: 0, resolutions: 0 }).toEqual({
    activity: 0,
    expectedActivity: 0,
    resolutions: 0,
    activityMissing: 0,
    activityExtra: 0,
    comboMismatch: 0,
    comboDiffs: [],
    activityDuplicates: 0,
    resolutionsMismatch: 0,
    resolutionsMissing: 0,
    badActivityCheckpoints: [],
    wallets: 0,
    trades: 0,
    expectedTrades: 0,
    markets: 0,
    events: 0,
    duplicates: 0,
    missing: 0,
    extra: 0,
    marketsMissing: 0,
    marketsExtra: 0,
    eventsMissing: 0,
    eventsExtra: 0,
    unresolvedMismatch: 0,
    badCheckpoints: [],
  });
  expect(diff.trades).toBe(diff.expectedTrades);
  expect(diff.activity).toBe(diff.expectedActivity);
  return diff;
}
