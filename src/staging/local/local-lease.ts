import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

import { LeaseLostError } from '../../engine/run-lock.js';
import type { AcquireResult, Lease, LeaseInfo, RunLock } from '../../engine/run-lock.js';

/**
 * A lease file on local disk. Creation is exclusive (`wx`), so two runners can never both create
 * it; an expired lease is taken over by renaming it aside first — a rename succeeds for exactly
 * one contender — and every write or delete checks the generation first.
 */
export class LocalFileLock implements RunLock {
  readonly location: string;
  readonly #now: () => number;

  constructor(path: string, now: () => number = Date.now) {
    this.location = path;
    this.#now = now;
  }

  async acquire(holder: string, ttlMs: number): Promise<AcquireResult> {
    await mkdir(dirname(this.location), { recursive: true });
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const info = this.#fresh(holder, ttlMs);
      if (await this.#createExclusive(info)) return { acquired: true, lease: this.#lease(info, ttlMs) };
      const current = await this.#read();
      if (!current) continue;
      if (Date.parse(current.expiresAt) > this.#now()) return { acquired: false, current };
      const aside = `${this.location}.expired-${current.generation}`;
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
    }
    const current = await this.#read();
    return current ? { acquired: false, current } : { acquired: false, current: { holder: 'unknown', expiresAt: new Date(this.#now()).toISOString(), generation: '' } };
  }

  #fresh(holder: string, ttlMs: number): LeaseInfo {
    return { holder, expiresAt: new Date(this.#now() + ttlMs).toISOString(), generation: randomBytes(8).toString('hex') };
  }

  async #createExclusive(info: LeaseInfo): Promise<boolean> {
    try {
      const handle = await open(this.location, 'wx');
      try {
        await handle.writeFile(JSON.stringify(info));
        await handle.sync();
      } finally {
        await handle.close();
      }
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  }

  #read(): Promise<LeaseInfo | undefined> {
    return readLease(this.location);
  }

  #lease(initial: LeaseInfo, ttlMs: number): Lease {
    let info = initial;
    return {
      get info() {
        return info;
      },
      renew: async () => {
        const current = await this.#read();
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
        const current = await this.#read();
        if (current?.generation === info.generation) await rm(this.location, { force: true });
      },
    };
  }
}

// A runner killed between creating the file and writing it leaves it empty; such a lease is expired.
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
      return { holder: parsed.holder, expiresAt: parsed.expiresAt, generation: parsed.generation };
    }
  } catch {
    // fall through
  }
  return UNREADABLE;
}
