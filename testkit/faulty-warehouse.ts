import { BackfillError } from '../src/lib/errors.js';
import type { FailureKind } from '../src/lib/errors.js';
import type { Warehouse } from '../src/warehouse/warehouse.js';

export interface WarehouseFaults {
  /** Fail this many loadBundles calls before letting them through. */
  failLoads?: number;
  /** Fail this many writeCheckpoints calls before letting them through. */
  failCheckpoints?: number;
  /** Every load that contains this wallet fails. */
  poisonWallet?: string;
  /**
   * How the poison wallet's loads fail: `permanent` (default) as when the warehouse refuses its
   * data, `transient` as a warehouse outage that lasts the whole run.
   */
  poisonKind?: FailureKind;
}

/**
 * Wraps a real warehouse and makes chosen calls fail, to exercise the engine's retry budgets at
 * the warehouse boundary. Everything else goes to the real DuckDB warehouse unchanged.
 */
export function withWarehouseFaults(inner: Warehouse, faults: WarehouseFaults) {
  const counts = { loadFailures: 0, checkpointFailures: 0, loads: 0, checkpointWrites: 0 };
  const overrides: Partial<Warehouse> = {
    async loadBundles(bundles) {
      counts.loads += 1;
      if (faults.poisonWallet && bundles.some((b) => b.wallet === faults.poisonWallet)) {
        counts.loadFailures += 1;
        // Permanent: something about this wallet's data, not retried, fails on its own. Transient:
        // retried within the load budget, then the wallet fails with its staged files kept.
        throw new BackfillError(`injected: load of ${faults.poisonWallet} always fails`, { kind: faults.poisonKind ?? 'permanent' });
      }
      if ((faults.failLoads ?? 0) > 0) {
        faults.failLoads! -= 1;
        counts.loadFailures += 1;
        // A warehouse outage: transient, so the engine's load budget retries it.
        throw new BackfillError('injected: load failed', { kind: 'transient' });
      }
      return inner.loadBundles(bundles);
    },
    async writeCheckpoints(rows, options) {
      counts.checkpointWrites += 1;
      if ((faults.failCheckpoints ?? 0) > 0) {
        faults.failCheckpoints! -= 1;
        counts.checkpointFailures += 1;
        throw new BackfillError('injected: checkpoint write failed', { kind: 'transient' });
      }
      return inner.writeCheckpoints(rows, options);
    },
  };
  const wrapped = new Proxy(inner, {
    get(target, property) {
      if (property in overrides) return overrides[property as keyof Warehouse];
      const value: unknown = Reflect.get(target, property, target);
      // Methods run on the real warehouse (its private fields live there, not on the proxy).
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { warehouse: wrapped, counts, faults };
}
