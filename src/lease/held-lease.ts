import { describeError } from '../lib/errors.js';
import { currentProcess } from './holder-process.js';
import { LeaseLostError } from './lease.js';
import type { LeaseInfo, LeaseStore } from './lease.js';

/**
 * Scopes of the leases of one warehouse. `all` covers every wallet (an unsharded run, `reload`,
 * `refresh`); `shard-I-of-N` covers one hash shard. Two scopes may be held at once only when they
 * are shards of the same count with different indexes: a run over shard 1 of 4 and one over shard
 * 1 of 8 would overlap, and so would anything beside `all`.
 */
export function leaseScope(shard?: { index: number; count: number }): string {
  return shard && shard.count > 1 ? `shard-${shard.index}-of-${shard.count}` : 'all';
}

export function scopesCompatible(a: string, b: string): boolean {
  const pa = /^shard-(\d+)-of-(\d+)$/.exec(a);
  const pb = /^shard-(\d+)-of-(\d+)$/.exec(b);
  return Boolean(pa && pb && pa[2] === pb[2] && pa[1] !== pb[1]);
}

export interface HeldLease {
  /** Where the lease lives. */
  location: string;
  info: LeaseInfo;
  /** The lease of a dead or expired holder that this one replaced, if any. */
  tookOver?: LeaseInfo;
  /** Aborted if the lease is lost (taken over after we stalled past its expiry). */
  lost: AbortSignal;
  release(): Promise<void>;
}

export type TakeLeaseResult = { held: HeldLease } | { refused: { current: LeaseInfo; location: string } };

export interface TakeLeaseOptions {
  ttlMs: number;
  /** A renewal failed for a reason other than losing the lease; it is retried on the next beat. */
  onRenewFailure?: (message: string) => void;
}

/**
 * Takes the lease of `scope`, then checks that no live lease of an overlapping scope exists (each
 * contender writes its own lease first and looks second, so of two overlapping contenders at
 * least one sees the other and backs off). While held, a heartbeat renews it every third of its
 * time to live; if a renewal finds it taken over, `lost` fires and the run must stop.
 */
export async function takeLease(store: LeaseStore, scope: string, holder: string, options: TakeLeaseOptions): Promise<TakeLeaseResult> {
  const lock = store.lock(scope);
  const result = await lock.acquire(holder, options.ttlMs, currentProcess());
  if (!result.acquired) return { refused: { current: result.current, location: lock.location } };
  const lease = result.lease;
  for (const other of await store.scopes()) {
    if (other === scope || scopesCompatible(scope, other)) continue;
    const otherLock = store.lock(other);
    const found = await otherLock.read();
    if (found?.live) {
      await lease.release();
      return { refused: { current: found.info, location: otherLock.location } };
    }
  }
  const lost = new AbortController();
  const heartbeat = setInterval(() => {
    lease.renew().catch((error: unknown) => {
      if (error instanceof LeaseLostError) {
        clearInterval(heartbeat);
        lost.abort(error);
      } else {
        // A failed renewal is retried on the next beat; the lease only lapses after a full TTL.
        options.onRenewFailure?.(`could not renew run lease ${lock.location}: ${describeError(error)}`);
      }
    });
  }, Math.max(250, Math.floor(options.ttlMs / 3)));
  heartbeat.unref();
  let released: Promise<void> | undefined;
  return {
    held: {
      location: lock.location,
      info: lease.info,
      ...(result.tookOver ? { tookOver: result.tookOver } : {}),
      lost: lost.signal,
      release: () => {
        clearInterval(heartbeat);
        released ??= lease.release();
        return released;
      },
    },
  };
}
