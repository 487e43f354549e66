import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';

import { LeaseLostError } from '../engine/run-lock.js';
import type { LeaseInfo } from '../engine/run-lock.js';
import { newRunId } from '../engine/run-id.js';
import { parseDuration } from '../lib/duration.js';
import { describeError } from '../lib/errors.js';
import type { StageStore } from '../staging/stage-store.js';
import { openStage } from './backends.js';
import { EXIT } from './exit-codes.js';
import { withBackends } from './global-options.js';
import type { Backends, GlobalOptions } from './global-options.js';
import { createLogger } from './logger.js';
import type { Logger } from './logger.js';

export interface HeldLease {
  /** Aborted if the lease is lost (taken over after we stalled past its expiry). */
  lost: AbortSignal;
  release(): Promise<void>;
}

/** One lease per warehouse and shard: `run-<hash of the warehouse location>-<i>of<n>`. */
export function leaseName(warehouse: string, shard: { index: number; count: number } | undefined): string {
  // Options after `?` (location, byte cap) do not change which dataset is written to.
  const identity = /^[a-z]+:\/\//.test(warehouse) ? warehouse.split('?')[0]!.replace(/\/+$/, '') : resolve(warehouse);
  const digest = createHash('sha256').update(identity).digest('hex').slice(0, 12);
  return shard ? `run-${digest}-${shard.index}of${shard.count}` : `run-${digest}`;
}

export function holderName(runId: string): string {
  return `${hostname()}:${process.pid} run ${runId}`;
}

/**
 * Takes the run lease or reports who holds it. While held, a heartbeat renews it every third of
 * its time to live; if a renewal finds it taken over, `lost` fires and the run must stop.
 */
export async function takeRunLease(
  stage: StageStore,
  name: string,
  holder: string,
  ttlMs: number,
  logger: Logger,
): Promise<{ held: HeldLease } | { current: LeaseInfo; location: string }> {
  const lock = stage.lock(name);
  const result = await lock.acquire(holder, ttlMs);
  if (!result.acquired) return { current: result.current, location: lock.location };
  const lease = result.lease;
  const lost = new AbortController();
  const heartbeat = setInterval(() => {
    lease.renew().catch((error: unknown) => {
      if (error instanceof LeaseLostError) {
        clearInterval(heartbeat);
        lost.abort(error);
      } else {
        // A failed renewal is retried on the next beat; the lease only lapses after a full TTL.
        logger.warn(`could not renew run lease ${lock.location}: ${describeError(error)}`);
      }
    });
  }, Math.max(250, Math.floor(ttlMs / 3)));
  heartbeat.unref();
  return {
    held: {
      lost: lost.signal,
      release: async () => {
        clearInterval(heartbeat);
        await lease.release().catch((error: unknown) => logger.warn(`could not release run lease: ${describeError(error)}`));
      },
    },
  };
}

/**
 * Takes the run lease before opening the warehouse, so a second runner learns who holds it and
 * exits 0 at once (an overlapping scheduled start is not a failure); then opens the backends, runs
 * `work` and always releases the lease. Returns the exit code.
 */
export async function withRunLease(
  options: GlobalOptions & { leaseTtl: string },
  shard: { index: number; count: number } | undefined,
  work: (backends: Backends, runId: string, leaseLost: AbortSignal) => Promise<number>,
): Promise<number> {
  const logger = createLogger(options.logLevel);
  const stage = openStage(options.stage);
  const runId = newRunId();
  const taken = await takeRunLease(
    stage,
    leaseName(options.warehouse, shard),
    holderName(runId),
    parseDuration(options.leaseTtl, '--lease-ttl'),
    logger,
  );
  if ('current' in taken) {
    process.stdout.write(
      `another run holds the lock ${taken.location}: ${taken.current.holder} (lease until ${taken.current.expiresAt}); exiting\n`,
    );
    return EXIT.ok;
  }
  try {
    return await withBackends(options, (backends) => work(backends, runId, taken.held.lost), stage);
  } finally {
    await taken.held.release();
  }
}
