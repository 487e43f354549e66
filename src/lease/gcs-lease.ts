import type { Bucket, File } from '@google-cloud/storage';

import { PreconditionFailedError, UPLOAD_ID_KEY, httpStatus, newUploadId, readObject, saveConditionally } from '../staging/gcs/gcs-objects.js';
import type { ObjectState } from '../staging/gcs/gcs-objects.js';
import { holderIsGone } from './holder-process.js';
import { LeaseLostError } from './lease.js';
import type { AcquireResult, HolderProcess, Lease, LeaseInfo, LeaseStore, RunLock } from './lease.js';

const HOLDER_KEY = 'backfill-lease-holder';
const TTL_KEY = 'backfill-lease-ttl-ms';
const HOST_KEY = 'backfill-lease-host';
const PID_KEY = 'backfill-lease-pid';
const START_KEY = 'backfill-lease-process-start';
const SUFFIX = '.lease';

/** The leases of one warehouse as objects under a prefix: `<prefix>/<scope>.lease`. */
export class GcsLeaseStore implements LeaseStore {
  readonly location: string;
  readonly #bucket: Bucket;
  readonly #prefix: string;
  readonly #options: GcsLeaseOptions;

  constructor(bucket: Bucket, prefix: string, options: GcsLeaseOptions = {}) {
    this.#bucket = bucket;
    this.#prefix = prefix.replace(/\/+$/, '');
    this.#options = options;
    this.location = `gs://${bucket.name}/${this.#prefix}/`;
  }

  lock(scope: string): RunLock {
    const name = `${this.#prefix}/${scope}${SUFFIX}`;
    return new GcsRunLock(this.#bucket.file(name), `gs://${this.#bucket.name}/${name}`, this.#options);
  }

  async scopes(): Promise<string[]> {
    const [files] = await this.#bucket.getFiles({ prefix: `${this.#prefix}/`, autoPaginate: true });
    return files.map((f) => f.name.slice(this.#prefix.length + 1)).filter((n) => n.endsWith(SUFFIX) && !n.includes('/')).map((n) => n.slice(0, -SUFFIX.length));
  }
}

export interface GcsLeaseOptions {
  /** Create/take-over rounds before reporting the lease as taken; default 3. */
  rounds?: number;
}

/**
 * The run lease as one GCS object whose generation is the fencing token.
 *
 * - acquire: create with `ifGenerationMatch=0`; exactly one contender can succeed.
 * - expiry: the object's `updated` time (set by GCS when this generation was written) plus the TTL
 *   stored with it, compared with the `Date` header of the server's answer — never the local clock,
 *   which may be skewed on either runner.
 * - take-over of an expired lease: delete it with `ifGenerationMatch=<its generation>` (a renewal
 *   in the meantime changes the generation and makes the delete fail), then create as above.
 * - renew: rewrite with `ifGenerationMatch=<our generation>`; the new generation becomes ours.
 * - release: delete with `ifGenerationMatch=<our generation>`; never removes a newer lease.
 * - a 412 after a write the client retried is resolved by reading the object back: if it carries
 *   our nonce, the first attempt had succeeded and the lease is ours.
 */
export class GcsRunLock implements RunLock {
  readonly location: string;
  readonly #file: File;
  readonly #rounds: number;

  constructor(file: File, location: string, options: GcsLeaseOptions = {}) {
    this.#file = file;
    this.location = location;
    this.#rounds = options.rounds ?? 3;
  }

  async acquire(holder: string, ttlMs: number, process?: HolderProcess): Promise<AcquireResult> {
    let tookOver: LeaseInfo | undefined;
    for (let round = 0; round < this.#rounds; round += 1) {
      const created = await this.#write(holder, ttlMs, 0, process);
      if (created) return { acquired: true, lease: this.#lease(holder, ttlMs, created, process), ...(tookOver ? { tookOver } : {}) };

      const found = await readObject(this.#file);
      if (!found) continue;
      const current = leaseInfo(found.state);
      if (isLive(current, found.serverNow)) return { acquired: false, current };
      tookOver = current;
      try {
        await this.#file.delete({ ifGenerationMatch: Number(found.state.generation) });
      } catch (error) {
        // 412/404: someone renewed or took it over first; look again next round.
        if (httpStatus(error) !== 412 && httpStatus(error) !== 404) throw error;
      }
    }
    const found = await readObject(this.#file);
    return {
      acquired: false,
      current: found ? leaseInfo(found.state) : { holder: '(contended: taken over and released meanwhile)', expiresAt: new Date(0).toISOString(), generation: '' },
    };
  }

  async read(): Promise<{ info: LeaseInfo; live: boolean } | undefined> {
    const found = await readObject(this.#file);
    if (!found) return undefined;
    const info = leaseInfo(found.state);
    return { info, live: isLive(info, found.serverNow) };
  }

  /** Writes the lease replacing `generation` (0 = create); the new state, or undefined if someone else holds it. */
  async #write(holder: string, ttlMs: number, generation: number, process: HolderProcess | undefined): Promise<ObjectState | undefined> {
    const nonce = newUploadId();
    const body = JSON.stringify({ holder, nonce, ttl_ms: ttlMs, process });
    const custom: Record<string, string> = { [HOLDER_KEY]: holder, [TTL_KEY]: String(ttlMs) };
    if (process) {
      custom[HOST_KEY] = process.host;
      custom[PID_KEY] = String(process.pid);
      if (process.startToken) custom[START_KEY] = process.startToken;
    }
    try {
      return await saveConditionally(this.#file, Buffer.from(`${body}\n`), {
        ifGenerationMatch: generation,
        contentType: 'application/json',
        custom,
        uploadId: nonce,
      });
    } catch (error) {
      // saveConditionally has already ruled out our own retried write: this is someone else's lease.
      if (error instanceof PreconditionFailedError) return undefined;
      throw error;
    }
  }

  #lease(holder: string, ttlMs: number, initial: ObjectState, process: HolderProcess | undefined): Lease {
    let state = initial;
    return {
      get info() {
        return leaseInfo(state);
      },
      renew: async () => {
        const next = await this.#write(holder, ttlMs, Number(state.generation), process);
        if (next) {
          state = next;
          return;
        }
        const found = await readObject(this.#file);
        throw new LeaseLostError(this.location, found ? leaseInfo(found.state) : undefined);
      },
      release: async () => {
        try {
          await this.#file.delete({ ifGenerationMatch: Number(state.generation) });
        } catch (error) {
          // Not ours any more (412) or already gone (404, also after a retried delete): nothing to release.
          if (httpStatus(error) !== 412 && httpStatus(error) !== 404) throw error;
        }
      },
    };
  }
}

/** A server without a Date header cannot prove expiry; such a lease counts as live unless its holder is provably gone. */
function isLive(info: LeaseInfo, serverNow: number): boolean {
  if (holderIsGone(info)) return false;
  return Number.isNaN(serverNow) || Date.parse(info.expiresAt) > serverNow;
}

export function leaseInfo(state: ObjectState): LeaseInfo {
  const ttlMs = Number(state.custom[TTL_KEY]);
  const written = Date.parse(state.updated);
  // An object without a readable TTL or time was not written by us (or is damaged): treat it as expired.
  const expires = Number.isFinite(ttlMs) && !Number.isNaN(written) ? written + ttlMs : 0;
  const pid = Number(state.custom[PID_KEY]);
  const host = state.custom[HOST_KEY];
  const start = state.custom[START_KEY];
  return {
    holder: state.custom[HOLDER_KEY] ?? `(unknown holder; upload ${state.custom[UPLOAD_ID_KEY] ?? '?'})`,
    expiresAt: new Date(expires).toISOString(),
    generation: state.generation,
    ...(host && Number.isInteger(pid) ? { process: { host, pid, ...(start ? { startToken: start } : {}) } } : {}),
  };
}
