import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

import type { Bucket, File, Storage } from '@google-cloud/storage';

import { BackfillError, ConfigError } from '../../lib/errors.js';
import { openManifest } from '../manifest.js';
import { stagedPathSegments } from '../stage-store.js';
import type { FileCheck, StageKind, StageStore, StageWriter, StagedFile, WalletManifest, WriterOptions } from '../stage-store.js';
import { gcsUri, objectName, splitGcsUri } from './gcs-location.js';
import type { BucketPlacement, GcsLocation } from './gcs-location.js';
import {
  UPLOAD_ID_KEY,
  currentGeneration,
  httpStatus,
  newUploadId,
  readObject,
  resolvePreconditionFailure,
  saveConditionally,
  toObjectState,
} from './gcs-objects.js';
import type { ObjectState } from './gcs-objects.js';

const WRITE_CHUNK_CHARS = 256 * 1024;
const GZIP_CONTENT_TYPE = 'application/gzip';

export interface GcsStageStoreOptions {
  /**
   * Compressed bytes held in memory before a file switches from a one-request upload to a
   * streamed resumable upload. Most wallets stay below it; a whale streams.
   */
  simpleUploadMaxBytes?: number;
  /** Bytes per resumable request (a multiple of 256 KiB); the client keeps one chunk for retries. */
  resumableChunkBytes?: number;
}

const DEFAULTS = { simpleUploadMaxBytes: 8 * 1024 * 1024, resumableChunkBytes: 8 * 1024 * 1024 };

/**
 * Staged files in GCS, laid out as the local store lays them out on disk:
 * `<prefix>/<kind>/<wallet>.ndjson.gz`, `<prefix>/manifests/<wallet>.json`.
 *
 * An object only appears when its upload completes, so a killed writer leaves nothing behind
 * (an abandoned resumable session expires on its own after a week) and nothing needs sweeping.
 */
export class GcsStageStore implements StageStore {
  readonly location: string;
  readonly #where: GcsLocation;
  readonly #bucket: Bucket;
  readonly #options: Required<GcsStageStoreOptions>;

  constructor(storage: Storage, where: GcsLocation, options: GcsStageStoreOptions = {}) {
    this.#where = where;
    this.#bucket = storage.bucket(where.bucket);
    this.location = gcsUri(where);
    this.#options = {
      simpleUploadMaxBytes: options.simpleUploadMaxBytes ?? DEFAULTS.simpleUploadMaxBytes,
      resumableChunkBytes: options.resumableChunkBytes ?? DEFAULTS.resumableChunkBytes,
    };
    if (this.#options.resumableChunkBytes % (256 * 1024) !== 0) {
      throw new ConfigError(`resumable chunk size ${this.#options.resumableChunkBytes} is not a multiple of 256 KiB`);
    }
  }

  /** Where the bucket's data lives (one metadata read; needs storage.buckets.get). */
  async bucketPlacement(): Promise<BucketPlacement> {
    const [metadata] = await this.#bucket.getMetadata();
    return {
      location: metadata.location ?? '',
      locationType: metadata.locationType ?? '',
      dataLocations: metadata.customPlacementConfig?.dataLocations ?? [],
    };
  }

  objectFor(kind: StageKind | 'manifests', name: string, area: WriterOptions['area'] = 'backfill'): string {
    return objectName(this.#where, stagedPathSegments(kind, name, area).join('/'));
  }

  async createWriter(kind: StageKind, wallet: string, options: WriterOptions = {}): Promise<StageWriter> {
    const name = this.objectFor(kind, wallet, options.area);
    return new GcsGzipWriter(this.#bucket.file(name), `gs://${this.#where.bucket}/${name}`, this.#options);
  }

  async writeManifest(manifest: WalletManifest): Promise<void> {
    const file = this.#bucket.file(this.objectFor('manifests', manifest.wallet));
    try {
      await saveConditionally(file, Buffer.from(`${JSON.stringify(manifest)}\n`), {
        ifGenerationMatch: await currentGeneration(file),
        contentType: 'application/json',
      });
    } catch (error) {
      throw stagingError(`gs://${this.#where.bucket}/${file.name}`, error);
    }
  }

  async readManifest(wallet: string): Promise<WalletManifest | undefined> {
    const file = this.#bucket.file(this.objectFor('manifests', wallet));
    let text: string;
    try {
      const [content] = await file.download();
      text = content.toString('utf8');
    } catch (error) {
      if (httpStatus(error) === 404) return undefined;
      throw stagingError(`gs://${this.#where.bucket}/${file.name}`, error);
    }
    const manifest = openManifest(text, wallet);
    if (!manifest) return undefined;
    // A manifest whose files were deleted or replaced since is no longer a completeness marker.
    for (const staged of Object.values(manifest.files)) {
      if (staged && !(await this.verify(staged)).ok) return undefined;
    }
    return manifest;
  }

  /**
   * An object's bytes never change within one generation, so a matching generation and size prove
   * the file is what was written, with one metadata read and no download.
   */
  async verify(file: StagedFile): Promise<FileCheck> {
    const parts = splitGcsUri(file.uri);
    if (!parts) return { ok: false, reason: `${file.uri} is not a gs:// URI` };
    const found = await readObject(this.#bucket.storage.bucket(parts.bucket).file(parts.name));
    if (!found) return { ok: false, reason: `${file.uri} is missing` };
    if (found.state.size !== file.bytes) return { ok: false, reason: `${file.uri} is ${found.state.size} bytes, ${file.bytes} were written` };
    if (file.generation !== undefined && found.state.generation !== file.generation) {
      return { ok: false, reason: `${file.uri} was replaced since it was staged (generation ${found.state.generation}, staged ${file.generation})` };
    }
    return { ok: true };
  }

  async sweepTemporaryFiles(): Promise<number> {
    // An object only appears when its upload completes: a killed writer leaves nothing to sweep.
    return 0;
  }

  /** The bucket, for the run lease kept beside the staged files (src/lease/gcs-lease.ts). */
  get bucket(): Bucket {
    return this.#bucket;
  }
}

/**
 * Rows → gzip → (memory, then a resumable upload once the file outgrows `simpleUploadMaxBytes`).
 * Backpressure runs all the way: a slow upload stalls gzip, which stalls `write`, which stalls the
 * page loop that produces rows, so a whale's history is never held in memory.
 */
class GcsGzipWriter implements StageWriter {
  readonly #file: File;
  readonly #uri: string;
  readonly #options: { simpleUploadMaxBytes: number; resumableChunkBytes: number };
  readonly #gzip = createGzip({ level: 6 });
  readonly #sink: Writable;
  readonly #uploadId = newUploadId();
  readonly #hash = createHash('sha256');
  #rows = 0;
  #buffered: string[] = [];
  #bufferedChars = 0;
  #held: Buffer[] = [];
  #heldBytes = 0;
  #upload: Writable | undefined;
  #uploaded: ObjectState | undefined;
  /** Kept apart from #failure: a 412 at the end of an upload may turn out to be our own success. */
  #uploadError: unknown;
  #failure: unknown;

  constructor(file: File, uri: string, options: { simpleUploadMaxBytes: number; resumableChunkBytes: number }) {
    this.#file = file;
    this.#uri = uri;
    this.#options = options;
    this.#sink = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        this.#accept(chunk).then(() => callback(), callback);
      },
      final: (callback) => {
        this.#finish().then(() => callback(), callback);
      },
    });
    const onError = (error: unknown) => {
      this.#failure ??= error;
    };
    this.#gzip.on('error', onError);
    this.#sink.on('error', onError);
    this.#gzip.pipe(this.#sink);
  }

  get rows(): number {
    return this.#rows;
  }

  async write(row: object): Promise<void> {
    this.#throwIfFailed();
    this.#rows += 1;
    const line = `${JSON.stringify(row)}\n`;
    this.#buffered.push(line);
    this.#bufferedChars += line.length;
    if (this.#bufferedChars >= WRITE_CHUNK_CHARS) await this.#flushRows();
  }

  async commit(): Promise<StagedFile> {
    this.#throwIfFailed();
    await this.#flushRows();
    this.#gzip.end();
    try {
      await finished(this.#sink);
    } catch (error) {
      this.#failure ??= error;
    }
    this.#throwIfFailed();
    const state = this.#uploaded;
    if (!state) throw stagingError(this.#uri, new Error('upload finished without object metadata'));
    return { uri: this.#uri, rows: this.#rows, bytes: state.size, sha256: this.#hash.digest('hex'), generation: state.generation };
  }

  async abort(): Promise<void> {
    this.#failure ??= new Error('aborted');
    this.#gzip.destroy();
    this.#sink.destroy();
    // Destroying the upload abandons its session: the object is never created.
    this.#upload?.destroy();
  }

  async #flushRows(): Promise<void> {
    if (this.#buffered.length === 0) return;
    const chunk = this.#buffered.join('');
    this.#buffered = [];
    this.#bufferedChars = 0;
    if (!this.#gzip.write(chunk)) {
      await drained(this.#gzip, this.#sink);
    }
    this.#throwIfFailed();
  }

  async #accept(chunk: Buffer): Promise<void> {
    this.#hash.update(chunk);
    if (this.#upload) {
      await this.#writeToUpload(chunk);
      return;
    }
    this.#held.push(chunk);
    this.#heldBytes += chunk.length;
    if (this.#heldBytes <= this.#options.simpleUploadMaxBytes) return;
    await this.#startStreaming();
  }

  async #startStreaming(): Promise<void> {
    const upload = this.#file.createWriteStream({
      resumable: true,
      chunkSize: this.#options.resumableChunkBytes,
      contentType: GZIP_CONTENT_TYPE,
      metadata: { metadata: { [UPLOAD_ID_KEY]: this.#uploadId } },
      preconditionOpts: { ifGenerationMatch: await currentGeneration(this.#file) },
    });
    upload.on('error', (error) => {
      this.#uploadError ??= error;
    });
    this.#upload = upload;
    const held = this.#held;
    this.#held = [];
    this.#heldBytes = 0;
    for (const chunk of held) await this.#writeToUpload(chunk);
  }

  async #writeToUpload(chunk: Buffer): Promise<void> {
    const upload = this.#upload!;
    if (!upload.write(chunk)) {
      await drained(upload);
    }
    if (this.#uploadError) throw this.#uploadError;
  }

  async #finish(): Promise<void> {
    try {
      if (this.#upload) {
        const upload = this.#upload;
        upload.end();
        await finished(upload);
        this.#uploaded = toObjectState(this.#file.metadata);
      } else {
        this.#uploaded = await saveConditionally(this.#file, Buffer.concat(this.#held), {
          ifGenerationMatch: await currentGeneration(this.#file),
          contentType: GZIP_CONTENT_TYPE,
          uploadId: this.#uploadId,
        });
        this.#held = [];
      }
    } catch (error) {
      if (httpStatus(error) === 412) {
        this.#uploaded = await resolvePreconditionFailure(this.#file, this.#uploadId, error);
        return;
      }
      throw error;
    }
  }

  #throwIfFailed(): void {
    if (this.#failure) throw stagingError(this.#uri, this.#failure);
  }
}

/**
 * Resolves on 'drain' — or on close/error of any stream named, so a failed upload wakes the writer
 * instead of leaving it waiting; the caller then checks the recorded failure. Never rejects: an
 * `events.once` pair would leave the loser's rejection unhandled.
 */
function drained(stream: NodeJS.EventEmitter, ...others: NodeJS.EventEmitter[]): Promise<void> {
  return new Promise((resolve) => {
    const watched: [NodeJS.EventEmitter, string][] = [
      [stream, 'drain'],
      ...[stream, ...others].flatMap((s): [NodeJS.EventEmitter, string][] => [[s, 'close'], [s, 'error']]),
    ];
    const done = () => {
      for (const [emitter, event] of watched) emitter.off(event, done);
      resolve();
    };
    for (const [emitter, event] of watched) emitter.on(event, done);
  });
}

/** GCS unavailable (5xx, throttling, network) is transient; a refusal (403, 404, 412 not ours) is permanent. */
function stagingError(uri: string, cause: unknown): BackfillError {
  if (cause instanceof BackfillError) return cause;
  const message = cause instanceof Error ? cause.message : String(cause);
  const status = httpStatus(cause);
  const transient = status === undefined ? (cause as { code?: unknown } | null)?.code !== undefined : status === 429 || status >= 500;
  return new BackfillError(`Could not write staged file ${uri}: ${message}`, {
    cause,
    kind: transient ? 'transient' : 'permanent',
    hint: 'Check that the bucket exists and the runner may create objects in it (roles/storage.objectUser on the bucket)',
  });
}
