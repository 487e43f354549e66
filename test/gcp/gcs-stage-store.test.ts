import { randomBytes } from 'node:crypto';

import { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { ConfigError } from '../../src/lib/errors.js';
import { parseGcsLocation } from '../../src/staging/gcs/gcs-location.js';
import { startFakeGcs } from '../fakes/fake-gcs-server.js';
import type { FakeGcs } from '../fakes/fake-gcs-server.js';
import { BUCKET, gunzipLines, openStage, wallet } from './gcp-test-helpers.js';

describe('GCS stage store (official client against the protocol fake)', () => {
  let gcs: FakeGcs;
  beforeAll(async () => {
    gcs = await startFakeGcs();
  });
  afterAll(async () => {
    await gcs.close();
  });
  beforeEach(() => {
    gcs.requests.length = 0;
  });

  it('stages gzip NDJSON under the local layout in one conditional request, and a manifest that reads back', async () => {
    // Proves: object layout <prefix>/<kind>/<wallet>.ndjson.gz, gzip NDJSON content, a small file is
    // one multipart upload with ifGenerationMatch=0 (must not exist), the manifest round-trips.
    const stage = openStage(gcs, 'layout');
    const w = wallet(1);
    const writer = await stage.createWriter('trades', w);
    for (let i = 0; i < 3; i += 1) await writer.write({ trade_id: `t${i}`, title: "it's \"quoted\"" });
    const file = await writer.commit();
    expect(file).toMatchObject({ uri: `gs://${BUCKET}/layout/trades/${w}.ndjson.gz`, rows: 3 });
    const stored = gcs.object(BUCKET, `layout/trades/${w}.ndjson.gz`)!;
    expect(file.bytes).toBe(stored.data.length);
    expect(stored.contentType).toBe('application/gzip');
    expect(await gunzipLines(stored.data)).toEqual([0, 1, 2].map((i) => ({ trade_id: `t${i}`, title: "it's \"quoted\"" })));
    const uploads = gcs.requests.filter((r) => r.op.startsWith('upload'));
    expect(uploads.map((r) => [r.op, r.query.ifGenerationMatch])).toEqual([['upload:multipart', '0']]);

    const manifest = { version: 1 as const, wallet: w, run_id: 'r1', staged_at: new Date().toISOString(), trade_count: 3, files: { trades: file } };
    await stage.writeManifest(manifest);
    expect(await stage.readManifest(w)).toEqual(manifest);
    expect(await stage.readManifest(wallet(2))).toBeUndefined();
    expect(await stage.sweepTemporaryFiles()).toBe(0);
    const [files] = await new Storage({ apiEndpoint: gcs.url }).bucket(BUCKET).getFiles({ prefix: 'layout/' });
    expect(files.map((f) => f.name).sort()).toEqual([`layout/manifests/${w}.json`, `layout/trades/${w}.ndjson.gz`]);
  });

  it('re-staging a wallet replaces the object with ifGenerationMatch=<current generation>; a manifest whose file changed size is not trusted', async () => {
    const stage = openStage(gcs, 'restage');
    const w = wallet(3);
    const first = await stage.createWriter('trades', w);
    await first.write({ n: 1 });
    const file = await first.commit();
    await stage.writeManifest({ version: 1, wallet: w, run_id: 'r1', staged_at: 'x', trade_count: 1, files: { trades: file } });
    const generation = gcs.object(BUCKET, `restage/trades/${w}.ndjson.gz`)!.generation;

    gcs.requests.length = 0;
    const second = await stage.createWriter('trades', w);
    for (let i = 0; i < 50; i += 1) await second.write({ n: i, pad: 'x'.repeat(i) });
    await second.commit();
    const upload = gcs.requests.find((r) => r.op === 'upload:multipart')!;
    expect(upload.query.ifGenerationMatch).toBe(String(generation));
    expect(gcs.object(BUCKET, `restage/trades/${w}.ndjson.gz`)!.generation).toBeGreaterThan(generation);
    // The manifest still names the first file's size: it no longer marks a complete bundle.
    expect(await stage.readManifest(w)).toBeUndefined();
  });

  it('streams a file larger than the in-memory limit through a chunked resumable upload that starts before commit', async () => {
    // Proves: a whale is not buffered — bytes reach GCS while rows are still being written; the
    // object appears only when the upload completes, and its content is complete.
    const stage = openStage(gcs, 'whale', { simpleUploadMaxBytes: 256 * 1024, resumableChunkBytes: 256 * 1024 });
    const w = wallet(4);
    const writer = await stage.createWriter('trades', w);
    const rows = 4000;
    let putsBeforeCommit = 0;
    for (let i = 0; i < rows; i += 1) await writer.write({ i, noise: randomBytes(200).toString('hex') });
    putsBeforeCommit = gcs.requests.filter((r) => r.op === 'upload:resumable-put').length;
    expect(gcs.object(BUCKET, `whale/trades/${w}.ndjson.gz`)).toBeUndefined();
    const file = await writer.commit();
    expect(putsBeforeCommit).toBeGreaterThan(0);
    const start = gcs.requests.find((r) => r.op === 'upload:resumable-start')!;
    expect(start.query.ifGenerationMatch).toBe('0');
    const stored = gcs.object(BUCKET, `whale/trades/${w}.ndjson.gz`)!;
    expect(file).toMatchObject({ rows, bytes: stored.data.length });
    expect(stored.data.length).toBeGreaterThan(3 * 256 * 1024);
    const lines = (await gunzipLines(stored.data)) as { i: number }[];
    expect(lines.map((l) => l.i)).toEqual(Array.from({ length: rows }, (_, i) => i));
  });

  it('a resumable chunk answered 503 is resent from the offset the server reports, without a gap or a duplicate', async () => {
    const stage = openStage(gcs, 'whale-retry', { simpleUploadMaxBytes: 256 * 1024, resumableChunkBytes: 256 * 1024 });
    const w = wallet(5);
    gcs.failNext(1, (r) => r.op === 'upload:resumable-put' && r.bytes > 0);
    const writer = await stage.createWriter('trades', w);
    for (let i = 0; i < 3000; i += 1) await writer.write({ i, noise: randomBytes(200).toString('hex') });
    await writer.commit();
    expect(gcs.requests.filter((r) => r.status === 503)).toHaveLength(1);
    const lines = (await gunzipLines(gcs.object(BUCKET, `whale-retry/trades/${w}.ndjson.gz`)!.data)) as { i: number }[];
    expect(lines.map((l) => l.i)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
  });

  it('an upload whose connection dropped after the object was stored is retried, gets 412, and is recognised as ours', async () => {
    // Proves: a 412 after a retried conditional create is checked (upload id in the object's
    // metadata), not treated as a conflict; exactly one object generation was written.
    const stage = openStage(gcs, 'dropped');
    const w = wallet(6);
    gcs.dropAfterProcessing(1, (r) => r.op === 'upload:multipart');
    const writer = await stage.createWriter('trades', w);
    await writer.write({ ok: true });
    const file = await writer.commit();
    const uploads = gcs.requests.filter((r) => r.op === 'upload:multipart');
    expect(uploads.map((r) => r.status)).toEqual([-1, 412]);
    expect(file.bytes).toBe(gcs.object(BUCKET, `dropped/trades/${w}.ndjson.gz`)!.data.length);
  });

  it('a concurrent writer that replaced the object first makes commit fail loudly (412 that is not ours)', async () => {
    const stage = openStage(gcs, 'conflict');
    const w = wallet(7);
    const writer = await stage.createWriter('trades', w);
    await writer.write({ mine: true });
    // Someone else creates the object between our generation read and our upload.
    const name = `conflict/trades/${w}.ndjson.gz`;
    gcs.beforeHandle((r) => {
      if (r.op === 'upload:multipart' && r.object === name && !gcs.object(BUCKET, name)) gcs.put(BUCKET, name, 'theirs');
    });
    try {
      await expect(writer.commit()).rejects.toThrow(/written by someone else/);
    } finally {
      gcs.beforeHandle(undefined);
    }
    expect(gcs.object(BUCKET, name)!.data.toString()).toBe('theirs');
  });

  it('transient 503s on reads are retried by the client', async () => {
    const stage = openStage(gcs, 'reads');
    const w = wallet(8);
    const writer = await stage.createWriter('trades', w);
    await writer.write({ x: 1 });
    const file = await writer.commit();
    await stage.writeManifest({ version: 1, wallet: w, run_id: 'r', staged_at: 'x', trade_count: 1, files: { trades: file } });
    gcs.failNext(2, (r) => r.op === 'media' || r.op === 'get');
    expect((await stage.readManifest(w))?.trade_count).toBe(1);
    expect(gcs.requests.filter((r) => r.status === 503)).toHaveLength(2);
  });

  it('parses gs:// locations and rejects malformed ones before any request', () => {
    expect(parseGcsLocation('gs://my-bucket/a/b/')).toEqual({ bucket: 'my-bucket', prefix: 'a/b' });
    expect(parseGcsLocation('gs://my-bucket')).toEqual({ bucket: 'my-bucket', prefix: '' });
    for (const bad of ['gs://', 'gs://A_Bucket/x', 'gs://b/x', 's3://bucket/x', 'gs://bucket/../x', 'gs://googbucket/x']) {
      expect(() => parseGcsLocation(bad), bad).toThrow(ConfigError);
    }
  });
});
