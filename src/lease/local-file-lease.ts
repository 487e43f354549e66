import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import { RETRY_BUDGETS } from '../lib/retry-budgets.js';
import { holderIsGone } from './holder-process.js';
import { LeaseLostError } from './lease.js';
import type { AcquireResult, HolderProcess, Lease, LeaseInfo, LeaseStore, RunLock } from './lease.js';

const SUFFIX = '.lease';

/** The leases of one local warehouse: `<dir>/<scope>.lease`. */
export class LocalLeaseStore implements LeaseStore {
  readonly location: string;
  readonly #now: () => number;

  constructor(directory: string, now: () => number = Date.now) {
    this.location = directory;
    this.#now = now;
  }

  lock(scope: string): RunLock {
    return new LocalFileLock(join(this.location, `${scope}${SUFFIX}`), this.#now);
  }

  async scopes(): Promise<string[]> {
    try {
      return (await readdir(this.location)).filter((n) => n.endsWith(SUFFIX)).map((n) => n.slice(0, -SUFFIX.length));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }
}

/**
 * A lease file on local disk. Creation is exclusive (`wx`), so two runners can never both create
 * it; a lease that expired, or whose holder is a dead process of this machine, is taken over by
 * renaming it aside first — a rename succeeds for exactly one contender — and every write or
 * delete checks the generation first.
 */
export class LocalFileLock implements RunLock {
  readonly location: string;
  readonly #now: () => number;

  constructor(path: string, now: () => number = Date.now) {
    this.location = path;
    this.#now = now;
  }

  async acquire(holder: string, ttlMs: number, process?: HolderProcess): Promise<AcquireResult> {
    await mkdir(dirname(this.location), { recursive: true });
    let tookOver: LeaseInfo | undefined;
    for (let attempt = 0; attempt < RETRY_BUDGETS.leaseRaces.rounds; attempt += 1) {
      const info = this.#fresh(holder, ttlMs, process);
      if (await this.#createExclusive(info)) return { acquired: true, lease: this.#lease(info, ttlMs), ...(tookOver ? { tookOver } : {}) };
      const current = await readLease(this.location);
      if (!current) continue;
      if (this.#live(current)) return { acquired: false, current };
      const aside = `${this.location}.expired-${current.generation}-${randomBytes(4).toString('hex')}`;
      try {
        await rename(this.location, aside);
      } catch {
        continue;
      }
      const moved = await readLease(aside);
      await rm(aside, { force: true });
      // Renewed between our read and the rename: it was not expired after all; put nothing back
      // but let the holder notice on its next renew, and do not take it ourselves this round.
      if (moved && moved.generation !== current.generation) return { acquired: false, current: moved };
      tookOver = current;
    }
    const current = await readLease(this.location);
    return current ? { acquired: false, current } : { acquired: false, current: { holder: 'unknown', expiresAt: new Date(this.#now()).toISOString(), generation: '' } };
  }

  async read(): Promise<{ info: LeaseInfo; live: boolean } | undefined> {
    const info = await readLease(this.location);
    return info ? { info, live: this.#live(info) } : undefined;
  }

  #live(info: LeaseInfo): boolean {
    return Date.parse(info.expiresAt) > this.#now() && !holderIsGone(info);
  }

  #fresh(holder: string, ttlMs: number, process: HolderProcess | undefined): LeaseInfo {
    return {
      holder,
      expiresAt: new Date(this.#now() + ttlMs).toISOString(),
      generation: randomBytes(8).toString('hex'),
      ...(process ? { process } : {}),
    };
  }

  /**
   * Creates the lease file with its content in one step: written and synced under a temporary name,
   * then hard-linked into place, which fails if the lease exists. Opening the lease itself with `wx`
   * and writing after would leave an empty file for an instant, which a concurrent acquirer reads as
   * a dead creator's and takes over: two winners.
   */
  async #createExclusive(info: LeaseInfo): Promise<boolean> {
    const temp = `${this.location}.new-${randomBytes(6).toString('hex')}`;
    try {
      const handle = await open(temp, 'wx');
      try {
        await handle.writeFile(JSON.stringify(info));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await link(temp, this.location);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      // A lease that could not be written (a full disk) leaves nothing behind for others to find.
      await rm(temp, { force: true });
    }
  }

  #lease(initial: LeaseInfo, ttlMs: number): Lease {
    let info = initial;
    return {
      get info() {
        return info;
      },
      renew: async () => {
        const current = await readLease(this.location);
        if (current?.generation !== info.generation) throw new LeaseLostError(this.location, current);
        const next = { ...info, expiresAt: new Date(this.#now() + ttlMs).toISOString() };
        const temp = `${this.location}.renew-${randomBytes(4).toString('hex')}`;
        const handle = await open(temp, 'w');
        try {
          await handle.writeFile(JSON.stringify(next));
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temp, this.location);
        info = next;
      },
      release: async () => {
        const current = await readLease(this.location);
        if (current?.generation === info.generation) await rm(this.location, { force: true });
      },
    };
  }
}

// Lease files are created whole (see #createExclusive); one left empty or torn by an older version or
// a damaged disk is treated as expired.
const UNREADABLE: LeaseInfo = { holder: '(unreadable lease file)', expiresAt: new Date(0).toISOString(), generation: 'unreadable' };

async function readLease(path: string): Promise<LeaseInfo | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LeaseInfo>;
    if (typeof parsed.holder === 'string' && typeof parsed.expiresAt === 'string' && typeof parsed.generation === 'string') {
      const process = parsed.process && typeof parsed.process.pid === 'number' && typeof parsed.process.host === 'string' ? parsed.process : undefined;
      return { holder: parsed.holder, expiresAt: parsed.expiresAt, generation: parsed.generation, ...(process ? { process } : {}) };
    }
  } catch {
    // fall through
  }
  return UNREADABLE;
}
