import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { GcsLeaseStore } from '../../src/lease/gcs-lease.js';
import { LeaseLostError } from '../../src/lease/lease.js';
import { startFakeGcs } from '../fakes/fake-gcs-server.js';
import type { FakeGcs } from '../fakes/fake-gcs-server.js';
import { BUCKET, openStage } from '../gcp/gcp-test-helpers.js';

const TTL = 60_000;

describe('GCS run lease (generation preconditions, server clock)', () => {
  let gcs: FakeGcs;
  /** The leases under `<prefix>/locks/`, through the stage's own client. */
  const leases = (prefix: string) => new GcsLeaseStore(openStage(gcs, prefix).bucket, `${prefix}/locks`);
  beforeAll(async () => {
    // The fake server's clock runs an hour ahead of ours: expiry must follow the server, not us.
    gcs = await startFakeGcs({ clockOffsetMs: 3_600_000 });
  });
  afterAll(async () => {
    await gcs.close();
  });
  beforeEach(() => {
    gcs.requests.length = 0;
  });

  it('two runners acquiring at once: exactly one wins, the other sees the winner; the lease is created with ifGenerationMatch=0', async () => {
    // Two separate clients, as two Cloud Run executions would have.
    const lock = () => leases('contention').lock('default');
    const results = await Promise.all([lock().acquire('runner-a', TTL), lock().acquire('runner-b', TTL)]);
    const winners = results.filter((r) => r.acquired);
    expect(winners).toHaveLength(1);
    const loser = results.find((r) => !r.acquired)!;
    const winner = winners[0]!;
    if (!winner.acquired || loser.acquired) throw new Error('unreachable');
    expect(loser.current.holder).toBe(winner.lease.info.holder);
    expect(loser.current.generation).toBe(winner.lease.info.generation);
    const creates = gcs.requests.filter((r) => r.op === 'upload:multipart');
    expect(creates.every((r) => r.query.ifGenerationMatch === '0')).toBe(true);
    expect(creates.map((r) => r.status).sort()).toEqual([200, 412]);
    // Expiry is the server's write time plus the TTL (the server runs an hour ahead of this process).
    expect(Date.parse(winner.lease.info.expiresAt)).toBeGreaterThan(Date.now() + 3_600_000);
    await winner.lease.release();
    expect(gcs.object(BUCKET, 'contention/locks/default.lease')).toBeUndefined();
  });

  it('renew rewrites with ifGenerationMatch=<ours> and adopts the new generation; a stale holder cannot renew after a take-over', async () => {
    const stage = leases('renew');
    const first = await stage.lock('default').acquire('runner-a', TTL);
    if (!first.acquired) throw new Error('expected to acquire');
    const before = first.lease.info.generation;
    gcs.advanceClock(30_000);
    await first.lease.renew();
    const renewal = gcs.requests.filter((r) => r.op === 'upload:multipart').at(-1)!;
    expect(renewal.query.ifGenerationMatch).toBe(before);
    expect(BigInt(first.lease.info.generation)).toBeGreaterThan(BigInt(before));

    // Still live 50 s after the renewal (70 s after creation): a contender is refused.
    gcs.advanceClock(50_000);
    const refused = await stage.lock('default').acquire('runner-b', TTL);
    expect(refused).toMatchObject({ acquired: false, current: { holder: 'runner-a', generation: first.lease.info.generation } });

    // Past the TTL by the server's clock only (this process's clock has hardly moved, so a
    // local-clock check would still call it live): runner-b deletes the stale lease (precondition = its generation) and takes it.
    gcs.advanceClock(11_000);
    gcs.requests.length = 0;
    const takeover = await stage.lock('default').acquire('runner-b', TTL);
    expect(takeover.acquired).toBe(true);
    const del = gcs.requests.find((r) => r.op === 'delete')!;
    expect(del.query.ifGenerationMatch).toBe(first.lease.info.generation);

    // runner-a comes back: its renew fails with the new holder named, its release removes nothing.
    await expect(first.lease.renew()).rejects.toBeInstanceOf(LeaseLostError);
    await expect(first.lease.renew()).rejects.toThrow(/taken over by runner-b/);
    await first.lease.release();
    expect(gcs.object(BUCKET, 'renew/locks/default.lease')?.custom['backfill-lease-holder']).toBe('runner-b');
    if (takeover.acquired) await takeover.lease.release();
  });

  it('release with a generation that is no longer current is refused by the server and is a no-op', async () => {
    const stage = leases('release');
    const got = await stage.lock('default').acquire('runner-a', TTL);
    if (!got.acquired) throw new Error('expected to acquire');
    // Someone force-replaces the lease object (e.g. an operator recreates it).
    const replaced = gcs.put(BUCKET, 'release/locks/default.lease', '{}', { 'backfill-lease-holder': 'operator', 'backfill-lease-ttl-ms': '60000' });
    gcs.requests.length = 0;
    await got.lease.release();
    expect(gcs.requests.filter((r) => r.op === 'delete').map((r) => [r.query.ifGenerationMatch, r.status])).toEqual([[got.lease.info.generation, 412]]);
    expect(gcs.object(BUCKET, 'release/locks/default.lease')?.generation).toBe(replaced.generation);
  });

  it('a create whose answer was lost is retried, gets 412, and is recognised as ours by its nonce (not reported as taken)', async () => {
    const stage = leases('lost-answer');
    gcs.dropAfterProcessing(1, (r) => r.op === 'upload:multipart');
    const got = await stage.lock('default').acquire('runner-a', TTL);
    expect(got.acquired).toBe(true);
    expect(gcs.requests.filter((r) => r.op === 'upload:multipart').map((r) => r.status)).toEqual([-1, 412]);
    if (got.acquired) {
      expect(got.lease.info.generation).toBe(String(gcs.object(BUCKET, 'lost-answer/locks/default.lease')!.generation));
      await got.lease.release();
    }
  });

  it('a renewal whose answer was lost is recognised as ours too; the lease keeps working', async () => {
    const stage = leases('lost-renewal');
    const got = await stage.lock('default').acquire('runner-a', TTL);
    if (!got.acquired) throw new Error('expected to acquire');
    gcs.dropAfterProcessing(1, (r) => r.op === 'upload:multipart');
    await got.lease.renew();
    expect(got.lease.info.generation).toBe(String(gcs.object(BUCKET, 'lost-renewal/locks/default.lease')!.generation));
    await got.lease.renew();
    await got.lease.release();
    expect(gcs.object(BUCKET, 'lost-renewal/locks/default.lease')).toBeUndefined();
  });
});
