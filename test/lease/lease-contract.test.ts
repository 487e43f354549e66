import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { GcsLeaseStore } from '../../src/lease/gcs-lease.js';
import { currentProcess } from '../../src/lease/holder-process.js';
import { LeaseLostError } from '../../src/lease/lease.js';
import type { LeaseStore } from '../../src/lease/lease.js';
import { LocalLeaseStore } from '../../src/lease/local-file-lease.js';
import { startFakeGcs } from '../fakes/fake-gcs-server.js';
import type { FakeGcs } from '../fakes/fake-gcs-server.js';
import { openStage } from '../gcp/gcp-test-helpers.js';

/**
 * One contract, every lease store: the local lease file (DuckDB) and the GCS object (BigQuery).
 * Each store is judged by its own clock (the test's injected clock; the fake GCS server's).
 */
interface LeaseBackend {
  name: string;
  /** A fresh store; `advance` moves the store's clock. */
  store(prefix: string): LeaseStore;
  advance(ms: number): void;
}

let gcs: FakeGcs;
let dir: string;
let localNow = 1_000_000;

const backends: LeaseBackend[] = [
  {
    name: 'local lease file',
    store: (prefix) => new LocalLeaseStore(join(dir, prefix), () => localNow),
    advance: (ms) => {
      localNow += ms;
    },
  },
  {
    name: 'GCS lease object',
    store: (prefix) => new GcsLeaseStore(openStage(gcs, prefix).bucket, `${prefix}/locks`),
    advance: (ms) => gcs.advanceClock(ms),
  },
];

const TTL = 60_000;

/** A pid that existed a moment ago and has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

beforeAll(async () => {
  // The fake server's clock runs an hour ahead of ours: expiry must follow the server, not us.
  gcs = await startFakeGcs({ clockOffsetMs: 3_600_000 });
  dir = await mkdtemp(join(tmpdir(), 'lease-contract-'));
});
afterAll(async () => {
  await gcs.close();
  await rm(dir, { recursive: true, force: true });
});

describe.each(backends)('run lease contract: $name', (backend) => {
  it('lets exactly one of many concurrent acquirers win; the others see the winner (20 races)', async () => {
    // Repeated: a window in which a lease exists but is still empty lets a second acquirer take it
    // over only now and then (it once did, under another test file's load).
    for (let race = 0; race < 20; race += 1) {
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => backend.store(`race-${race}`).lock('all').acquire(`runner-${i}`, TTL)));
      const winners = results.filter((r) => r.acquired);
      expect(winners, `race ${race}`).toHaveLength(1);
      const winner = winners[0]!.acquired ? winners[0]!.lease.info.holder : '';
      for (const loser of results.filter((r) => !r.acquired)) expect(loser.acquired ? '' : loser.current.holder).toBe(winner);
    }
  });

  it('is taken over only after it expires by the store clock; the old holder then learns it lost it, and its release removes nothing', async () => {
    const store = backend.store('expiry');
    const first = await store.lock('all').acquire('old', TTL);
    if (!first.acquired) throw new Error('expected to acquire');
    backend.advance(TTL - 5_000);
    expect((await store.lock('all').acquire('new', TTL)).acquired).toBe(false);
    backend.advance(10_000);
    const second = await store.lock('all').acquire('new', TTL);
    expect(second).toMatchObject({ acquired: true, tookOver: { holder: 'old' } });
    await expect(first.lease.renew()).rejects.toBeInstanceOf(LeaseLostError);
    await first.lease.release();
    const third = await store.lock('all').acquire('third', TTL);
    expect(third.acquired ? 'acquired' : third.current.holder).toBe('new');
    if (second.acquired) await second.lease.release();
  });

  it('renewal extends the expiry; release frees it for the next runner; read() tells live from free', async () => {
    const store = backend.store('renewal');
    const held = await store.lock('all').acquire('a', TTL);
    if (!held.acquired) throw new Error('expected to acquire');
    expect(await store.lock('all').read()).toMatchObject({ live: true, info: { holder: 'a' } });
    backend.advance(TTL - 10_000);
    await held.lease.renew();
    backend.advance(20_000);
    expect((await store.lock('all').acquire('b', TTL)).acquired).toBe(false);
    await held.lease.release();
    expect(await store.lock('all').read()).toBeUndefined();
    const next = await store.lock('all').acquire('b', TTL);
    expect(next.acquired).toBe(true);
    if (next.acquired) await next.lease.release();
  });

  it('a lease whose holder is a dead process of this host is taken over at once, long before it expires', async () => {
    const store = backend.store('dead-holder');
    const planted = await store.lock('all').acquire('crashed run', TTL, { host: hostname(), pid: deadPid(), startToken: '12345' });
    expect(planted.acquired).toBe(true);
    expect((await store.lock('all').read())?.live).toBe(false);
    const next = await store.lock('all').acquire('next run', TTL, currentProcess());
    expect(next).toMatchObject({ acquired: true, tookOver: { holder: 'crashed run' } });
    if (next.acquired) await next.lease.release();
  });

  it('a pid reused by another process is not mistaken for the holder: a different start time means the holder is gone', async () => {
    const store = backend.store('reused-pid');
    const me = currentProcess();
    if (me.startToken === undefined) return; // no process start times on this OS: pid liveness only
    await store.lock('all').acquire('old run with my pid', TTL, { host: me.host, pid: me.pid, startToken: `${me.startToken}0` });
    const next = await store.lock('all').acquire('next run', TTL, me);
    expect(next.acquired).toBe(true);
    if (next.acquired) await next.lease.release();
  });

  it('a live holder on this host, and any holder on another host, are respected until the TTL', async () => {
    const store = backend.store('live-holder');
    const mine = await store.lock('shard-0-of-2').acquire('live run', TTL, currentProcess());
    expect((await store.lock('shard-0-of-2').acquire('contender', TTL, currentProcess())).acquired).toBe(false);
    await store.lock('shard-1-of-2').acquire('remote run', TTL, { host: 'some-other-host', pid: deadPid(), startToken: '1' });
    expect((await store.lock('shard-1-of-2').acquire('contender', TTL, currentProcess())).acquired).toBe(false);
    expect((await store.scopes()).sort()).toEqual(['shard-0-of-2', 'shard-1-of-2']);
    if (mine.acquired) await mine.lease.release();
  });
});
