/**
 * One runner at a time per warehouse (or per shard of it): a lease with an expiry, renewed by a
 * heartbeat while the run works, taken over once it expires — or at once when its holder is a
 * process of this machine that no longer exists — and released only by its own holder.
 */

export interface LeaseInfo {
  /** Who holds it, e.g. `host:pid run <run id>`; shown to a runner that finds the lease taken. */
  holder: string;
  /** ISO-8601 UTC, judged by the store's clock (the server's, for GCS). */
  expiresAt: string;
  /** Opaque version of the lease object (a GCS generation, a random token): the fencing token. */
  generation: string;
  /** The holding process, when the lease records it (leases written by older versions do not). */
  process?: HolderProcess;
}

/** Enough to tell whether the holding process still exists, even if its pid was reused. */
export interface HolderProcess {
  host: string;
  pid: number;
  /** The kernel's start time of the process (Linux: /proc/<pid>/stat field 22), when known. */
  startToken?: string;
}

export type AcquireResult = { acquired: true; lease: Lease; tookOver?: LeaseInfo } | { acquired: false; current: LeaseInfo };

export interface Lease {
  readonly info: LeaseInfo;
  /** Extends the expiry; throws LeaseLostError if someone else took the lease meanwhile. */
  renew(): Promise<void>;
  /** Deletes the lease only if it is still ours (same generation); never removes a newer one. */
  release(): Promise<void>;
}

/** One lease object. */
export interface RunLock {
  /** Where the lease lives, for messages (a file path or gs:// URI). */
  readonly location: string;
  acquire(holder: string, ttlMs: number, process?: HolderProcess): Promise<AcquireResult>;
  /** The lease as it stands, and whether it is live (unexpired, and its holder not known to be gone). */
  read(): Promise<{ info: LeaseInfo; live: boolean } | undefined>;
}

/** The leases of one warehouse: one object per scope (`all`, or a shard such as `shard-1-of-4`). */
export interface LeaseStore {
  /** A directory or gs:// prefix, for messages. */
  readonly location: string;
  lock(scope: string): RunLock;
  /** Scopes that have a lease object now (live or not). */
  scopes(): Promise<string[]>;
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
