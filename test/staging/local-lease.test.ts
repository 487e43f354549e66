import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { LeaseLostError } from '../../src/engine/run-lock.js';
import { LocalFileLock } from '../../src/staging/local/local-lease.js';
import { withTempDir } from '../helpers/temp-dir.js';

describe('local run lease', () => {
  it('lets exactly one of many concurrent acquirers win', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'locks', 'run.lease');
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => new LocalFileLock(path).acquire(`runner-${i}`, 60_000)));
      const winners = results.filter((r) => r.acquired);
      expect(winners).toHaveLength(1);
      const winner = winners[0]!.acquired ? winners[0]!.lease.info.holder : '';
      for (const loser of results.filter((r) => !r.acquired)) {
        expect(loser.acquired ? '' : loser.current.holder).toBe(winner);
      }
    });
  });

  it('is taken over only after it expires (by the injected clock), and the old holder then learns it lost it', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'run.lease');
      let now = 1_000_000;
      const clock = () => now;
      const first = await new LocalFileLock(path, clock).acquire('old', 10_000);
      expect(first.acquired).toBe(true);
      now += 9_000;
      expect((await new LocalFileLock(path, clock).acquire('new', 10_000)).acquired).toBe(false);
      now += 2_000;
      const second = await new LocalFileLock(path, clock).acquire('new', 10_000);
      expect(second.acquired).toBe(true);
      if (!first.acquired) throw new Error('unreachable');
      await expect(first.lease.renew()).rejects.toBeInstanceOf(LeaseLostError);
      // The old holder's release must not remove the new holder's lease.
      await first.lease.release();
      const third = await new LocalFileLock(path, clock).acquire('third', 10_000);
      expect(third.acquired ? 'acquired' : third.current.holder).toBe('new');
    });
  });

  it('renewal extends the expiry; release frees it for the next runner', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'run.lease');
      let now = 0;
      const lock = new LocalFileLock(path, () => now);
      const held = await lock.acquire('a', 1_000);
      if (!held.acquired) throw new Error('expected to acquire');
      now = 900;
      await held.lease.renew();
      now = 1_500;
      expect((await lock.acquire('b', 1_000)).acquired).toBe(false);
      await held.lease.release();
      expect((await lock.acquire('b', 1_000)).acquired).toBe(true);
    });
  });
});
