/**
 * One runner at a time per warehouse (and shard): a lease with an expiry, renewed by a heartbeat
 * while the run works, taken over once it expires, released only by its own holder.
 */

export interface LeaseInfo {
  /** Who holds it, e.g. `host:pid run-id`; shown to a runner that finds the lock taken. */
  holder: string;
  /** ISO-8601 UTC, judged by the store's clock (the server's, for GCS). */
  expiresAt: string;
  /** Opaque version of the lease object (a GCS generation, a local counter): the fencing token. */
  generation: string;
}

export type AcquireResult = { acquired: true; lease: Lease } | { acquired: false; current: LeaseInfo };

export interface Lease {
  readonly info: LeaseInfo;
  /** Extends the expiry; throws LeaseLostError if someone else took the lease meanwhile. */
  renew(): Promise<void>;
  /** Deletes the lease only if it is still ours (same generation); never removes a newer one. */
  release(): Promise<void>;
}

export interface RunLock {
  /** Where the lease lives, for messages (a file path or gs:// URI). */
  readonly location: string;
  acquire(holder: string, ttlMs: number): Promise<AcquireResult>;
}

export class LeaseLostError extends Error {
  constructor(location: string, current: LeaseInfo | undefined) {
    super(
      current
        ? `run lease ${location} was taken over by ${current.holder} (expires ${current.expiresAt}); stopping`
        : `run lease ${location} disappeared; stopping`,
    );
    this.name = 'LeaseLostError';
  }
}
