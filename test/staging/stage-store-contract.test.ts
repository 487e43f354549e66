import { createGunzip } from 'node:zlib';
import { readFile, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { LocalStageStore } from '../../src/staging/local/local-stage-store.js';
import type { StageStore, StagedFile } from '../../src/staging/stage-store.js';
import { startFakeGcs } from '../fakes/fake-gcs-server.js';
import type { FakeGcs } from '../fakes/fake-gcs-server.js';
import { BUCKET, openStage } from '../gcp/gcp-test-helpers.js';

/**
 * One contract, every stage store: local files (DuckDB) and GCS objects (BigQuery). Staged files
 * appear only when committed, read back as written, and a manifest marks a bundle complete only
 * while its files are there.
 */
interface StageBackend {
  name: string;
  store(prefix: string): StageStore;
  /** The committed file's bytes. */
  bytes(file: StagedFile): Promise<Buffer>;
  /** Removes a committed file behind the store's back (an operator, a lifecycle rule). */
  remove(file: StagedFile): Promise<void>;
  /** Names of everything stored under the prefix. */
  list(prefix: string): Promise<string[]>;
}

let gcs: FakeGcs;
let dir: string;

const backends: StageBackend[] = [
  {
    name: 'local directory',
    store: (prefix) => new LocalStageStore(join(dir, prefix)),
    bytes: (file) => readFile(file.uri),
    remove: (file) => rm(file.uri),
    list: async (prefix) => {
      const { readdir } = await import('node:fs/promises');
      return (await readdir(join(dir, prefix), { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
    },
  },
  {
    name: 'GCS bucket',
    store: (prefix) => openStage(gcs, prefix),
    bytes: async (file) => gcs.object(BUCKET, file.uri.replace(`gs://${BUCKET}/`, ''))!.data,
    remove: async (file) => gcs.remove(BUCKET, file.uri.replace(`gs://${BUCKET}/`, '')),
    list: async (prefix) => gcs.objects(BUCKET).filter((o) => o.name.startsWith(`${prefix}/`)).map((o) => o.name),
  },
];

const W = `0x${'5'.repeat(40)}`;

async function lines(data: Buffer): Promise<unknown[]> {
  const content = await text(Readable.from([data]).pipe(createGunzip()));
  return content.split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown);
}

beforeAll(async () => {
  gcs = await startFakeGcs();
  dir = await mkdtemp(join(tmpdir(), 'stage-contract-'));
});
afterAll(async () => {
  await gcs.close();
  await rm(dir, { recursive: true, force: true });
});

describe.each(backends)('stage store contract: $name', (backend) => {
  it('a committed file holds exactly the rows written, gzip NDJSON, with its row and byte counts', async () => {
    const store = backend.store('rows');
    const writer = await store.createWriter('trades', W);
    const rows = Array.from({ length: 500 }, (_, i) => ({ i, text: `row "${i}"\n\u0000` }));
    for (const row of rows) await writer.write(row);
    const file = await writer.commit();
    expect(file).toMatchObject({ rows: 500 });
    const data = await backend.bytes(file);
    expect(file.bytes).toBe(data.length);
    expect(await lines(data)).toEqual(rows);
  });

  it('an aborted writer leaves nothing under a final name', async () => {
    const store = backend.store('aborted');
    const writer = await store.createWriter('trades', W);
    await writer.write({ a: 1 });
    await writer.abort();
    await store.sweepTemporaryFiles();
    expect((await backend.list('aborted')).filter((n) => n.includes('trades'))).toEqual([]);
  });

  it('a manifest reads back while its files exist, and not once one is gone; a wallet never staged has none', async () => {
    const store = backend.store('manifest');
    expect(await store.readManifest(W)).toBeUndefined();
    const writer = await store.createWriter('trades', W);
    await writer.write({ a: 1 });
    const file = await writer.commit();
    const manifest = { version: 1 as const, wallet: W, run_id: 'r', staged_at: '2026-01-01T00:00:00.000Z', trade_count: 1, files: { trades: file } };
    await store.writeManifest(manifest);
    expect(await store.readManifest(W)).toEqual(manifest);
    await backend.remove(file);
    expect(await store.readManifest(W)).toBeUndefined();
  });

  it('staging a wallet again replaces its file: the reader sees the new rows only', async () => {
    const store = backend.store('replace');
    for (const value of ['old', 'new']) {
      const writer = await store.createWriter('markets', W);
      await writer.write({ value });
      await writer.commit();
    }
    const writer = await store.createWriter('markets', W);
    await writer.write({ value: 'newest' });
    const file = await writer.commit();
    expect(await lines(await backend.bytes(file))).toEqual([{ value: 'newest' }]);
  });

  it('lays files out as [refresh/]<kind>/<name>.ndjson.gz under its root, the same in every store; a refresh file never replaces the backfill one; a name that is a path is refused', async () => {
    const store = backend.store('layout');
    const written: StagedFile[] = [];
    for (const area of ['backfill', 'refresh'] as const) {
      const writer = await store.createWriter('trades', W, { area });
      await writer.write({ area });
      written.push(await writer.commit());
    }
    expect(written[0]!.uri.endsWith(`/layout/trades/${W}.ndjson.gz`)).toBe(true);
    expect(written[1]!.uri.endsWith(`/layout/refresh/trades/${W}.ndjson.gz`)).toBe(true);
    expect(await lines(await backend.bytes(written[0]!))).toEqual([{ area: 'backfill' }]);
    expect(await lines(await backend.bytes(written[1]!))).toEqual([{ area: 'refresh' }]);
    await expect(store.createWriter('trades', '../escape')).rejects.toThrow(/invalid staged file name "\.\.\/escape"/);
  });
});
