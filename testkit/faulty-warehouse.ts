import { BackfillError } from '../src/lib/errors.js';
import type { Warehouse } from '../src/warehouse/warehouse.js';

export interface WarehouseFaults {
  /** Fail this many loadBundles calls before letting them through. */
  failLoads?: number;
  /** Fail this many writeCheckpoints calls before letting them through. */
  failCheckpoints?: number;
  /** Every load that contains this wallet fails. */
  poisonWallet?: string;
}

/**
 * Wraps a real warehouse and makes chosen calls fail, to exercise the engine's retry budgets at
 * the warehouse boundary. Everything else goes to the real DuckDB warehouse.
 */
export function withWarehouseFaults(inner: Warehouse, faults: WarehouseFaults) {
  const counts = { loadFailures: 0, checkpointFailures: 0, loads: 0, checkpointWrites: 0 };
  const wrapped: Warehouse = {
    get description() {
      return inner.description;
    },
    get identity() {
      return inner.identity;
    },
    get embedded() {
      return inner.embedded;
    },
    markInFlight: (wallets: readonly string[], runId: string) => inner.markInFlight(wallets, runId),
    clearInFlight: (runId: string) => inner.clearInFlight(runId),
    settleCrashed: (o: Parameters<Warehouse['settleCrashed']>[0]) => inner.settleCrashed(o),
    migrate: () => inner.migrate(),
    addTraders: (a: readonly string[], s: string) => inner.addTraders(a, s),
    planWallets: (o: Parameters<Warehouse['planWallets']>[0]) => inner.planWallets(o),
    recordInvalidTraders: (r: string) => inner.recordInvalidTraders(r),
    knownConditionIds: (ids: readonly string[]) => inner.knownConditionIds(ids),
    knownEventIds: (ids: readonly string[]) => inner.knownEventIds(ids),
    status: () => inner.status(),
    failedWallets: (o?: { limit?: number }) => inner.failedWallets(o),
    close: () => inner.close(),
    async loadBundles(bundles: Parameters<Warehouse['loadBundles']>[0]) {
      counts.loads += 1;
      if (faults.poisonWallet && bundles.some((b) => b.wallet === faults.poisonWallet)) {
        counts.loadFailures += 1;
        // Something about this wallet's data: permanent, so it is not retried and fails on its own.
        throw new BackfillError(`injected: load of ${faults.poisonWallet} always fails`, { kind: 'permanent' });
      }
      if ((faults.failLoads ?? 0) > 0) {
        faults.failLoads! -= 1;
        counts.loadFailures += 1;
        // A warehouse outage: transient, so the engine's load budget retries it.
        throw new BackfillError('injected: load failed', { kind: 'transient' });
      }
      return inner.loadBundles(bundles);
    },
    async writeCheckpoints(rows: Parameters<Warehouse['writeCheckpoints']>[0], options: Parameters<Warehouse['writeCheckpoints']>[1]) {
      counts.checkpointWrites += 1;
      if ((faults.failCheckpoints ?? 0) > 0) {
        faults.failCheckpoints! -= 1;
        counts.checkpointFailures += 1;
        throw new BackfillError('injected: checkpoint write failed', { kind: 'transient' });
      }
      return inner.writeCheckpoints(rows, options);
    },
  };
  return { warehouse: wrapped, counts, faults };
}
