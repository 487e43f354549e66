import { join } from 'node:path';

import { startBackfill } from '../src/engine/backfill-run.js';
import type { BackfillRun } from '../src/engine/backfill-run.js';
import type { BackfillOptions } from '../src/engine/run-options.js';
import type { RunEvents } from '../src/engine/run-events.js';
import type { RunSummary } from '../src/engine/run-summary.js';
import { createPolymarketSource } from '../src/polymarket/index.js';
import type { PolymarketSourceConfig } from '../src/polymarket/index.js';
import type { PolymarketSource } from '../src/polymarket/source.js';
import { LocalStageStore } from '../src/staging/local/local-stage-store.js';
import { DuckDbWarehouse } from '../src/warehouse/duckdb/index.js';
import type { Warehouse } from '../src/warehouse/warehouse.js';
import { asWallets } from './wallets.js';

/** Limits far above anything a test reaches, so tests measure behaviour, not throttling. */
export const UNTHROTTLED = {
  'data:trades': { requests: 1_000_000, perMs: 10_000 },
  'gamma:markets': { requests: 1_000_000, perMs: 10_000 },
  'gamma:events': { requests: 1_000_000, perMs: 10_000 },
  'data:activity': { requests: 1_000_000, perMs: 10_000 },
  'data:activity-combos': { requests: 1_000_000, perMs: 10_000 },
  'data:resolutions': { requests: 1_000_000, perMs: 10_000 },
};

export const noSleep = () => Promise.resolve();

/**
 * A simulator clock (`nowSeconds`) a week behind ours, for tests that `advance` it: the days they add
 * stay in the past, where the product accepts fills (one dated after now is refused at fetch).
 */
export function clockBehind(days = 7): number {
  return Math.floor(Date.now() / 1000) - days * 86_400;
}

export function paths(dir: string) {
  return { warehouse: join(dir, 'backfill.duckdb'), stage: join(dir, 'stage') };
}

export async function openWarehouse(dir: string): Promise<DuckDbWarehouse> {
  const wh = await DuckDbWarehouse.open({ path: paths(dir).warehouse });
  await wh.migrate();
  return wh;
}

/** A DuckDB file in `dir` whose traders are these wallets; closed again, for a run to open. */
export async function seedTraders(dir: string, wallets: readonly string[]): Promise<void> {
  const warehouse = await openWarehouse(dir);
  try {
    await warehouse.addTraders(asWallets(wallets), 'test');
  } finally {
    await warehouse.close();
  }
}

export const TEST_RUN_OPTIONS: BackfillOptions = {
  concurrency: 16,
  commit: {
    maxWallets: 50,
    maxDelayMs: 1000,
    loadAttempts: 3,
    checkpointAttempts: 5,
    retryBaseDelayMs: 1,
    retryMaxDelayMs: 5,
    maxFailedAttempts: 100,
    sleep: noSleep,
  },
  retryParked: false,
  reuseStaged: true,
};

/** One in-process `backfill run` against the simulator at `url`, on the DuckDB file in `dir`. */
export async function runBackfill(
  dir: string,
  url: string,
  options: Partial<BackfillOptions> = {},
  source: Partial<PolymarketSourceConfig> = {},
  events?: RunEvents,
  wrapWarehouse: (warehouse: Warehouse) => Warehouse = (w) => w,
  wrapSource: (source: PolymarketSource) => PolymarketSource = (s) => s,
  onStart: (run: BackfillRun) => void = () => undefined,
): Promise<RunSummary> {
  const { stage } = paths(dir);
  const store = new LocalStageStore(stage);
  const real = await openWarehouse(dir);
  const warehouse = wrapWarehouse(real);
  const polymarket = createPolymarketSource({
    dataApiUrl: url,
    gammaApiUrl: url,
    rateLimits: UNTHROTTLED,
    sleep: noSleep,
    timeoutMs: 10_000,
    ...source,
  });
  try {
    // As the library does at the start of a run: a killed run's temporary files go first.
    await store.sweepTemporaryFiles();
    const run = startBackfill({ source: wrapSource(polymarket), stage: store, warehouse, ...(events ? { events } : {}) }, { ...TEST_RUN_OPTIONS, ...options });
    onStart(run);
    return await run.done;
  } finally {
    await polymarket.close();
    await real.close();
  }
}
