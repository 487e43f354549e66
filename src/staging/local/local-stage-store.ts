import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

import { BackfillError } from '../../lib/errors.js';
import { processExists } from '../../lib/process-alive.js';
import { openManifest } from '../manifest.js';
import { STAGE_KINDS, stagedPathSegments } from '../stage-store.js';
import type { FileCheck, StageKind, StageStore, StageWriter, StagedFile, WalletManifest, WriterOptions } from '../stage-store.js';

const TEMP_DIR = 'tmp';
const WRITE_CHUNK_CHARS = 256 * 1024;
/** `<kind>.<name>.tmp-<writer pid>-<12 hex>`: the only names the sweep may delete. */
const TEMP_NAME = new RegExp(`^(${[...STAGE_KINDS, 'manifests'].join('|')})\\.[A-Za-z0-9][A-Za-z0-9_.-]{0,127}\\.tmp-(\\d+)-[0-9a-f]{12}$`);

/** The machine, not the data: retried by the next run, never counted towards parking. */
const INFRASTRUCTURE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EACCES', 'EPERM', 'EROFS', 'EMFILE', 'ENFILE', 'ENOMEM']);

/** A staged file could not be written: which path, why, and (for a full disk) that the run must stop. */
export class StageWriteError extends BackfillError {
  readonly path: string;
  readonly code: string | undefined;
  /** The stage cannot be written at all (disk full, read-only, no permission): the run stops. */
  readonly unwritable: boolean;

  constructor(path: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | null)?.code;
    const infrastructure = code !== undefined && INFRASTRUCTURE_CODES.has(code);
    const message = cause instanceof Error ? cause.message : String(cause);
    super(`Could not write staged file ${path}: ${message}`, {
      cause,
      kind: infrastructure ? 'transient' : 'permanent',
      hint:
        code === 'ENOSPC' || code === 'EDQUOT'
          ? `The file system of ${path} is full; free space there (or point --stage elsewhere) and run again`
          : 'Check free disk space and permissions of the --stage directory',
    });
    this.path = path;
    this.code = code;
    this.unwritable = infrastructure;
  }
}

/**
 * Staged files on the local disk: `<root>/<kind>/<wallet>.ndjson.gz`, `<root>/manifests/<wallet>.json`,
 * unfinished files in `<root>/tmp/`.
 */
export class LocalStageStore implements StageStore {
  readonly location: string;

  constructor(root: string) {
    this.location = resolve(root);
  }

  pathFor(kind: StageKind | 'manifests', name: string, area: WriterOptions['area'] = 'backfill'): string {
    return join(this.location, ...stagedPathSegments(kind, name, area));
  }

  // Five staged files per wallet: create each directory once per run, not once per file.
  readonly #directories = new Set<string>();

  async #directory(name: string): Promise<void> {
    if (this.#directories.has(name)) return;
    try {
      await mkdir(join(this.location, name), { recursive: true });
    } catch (error) {
      throw new StageWriteError(join(this.location, name), error);
    }
    this.#directories.add(name);
  }

  /**
   * Unfinished files live in their own directory (same file system, so the final rename stays
   * atomic): the start-up sweep then lists only them, not a directory of a million staged wallets.
   */
  async #tempPath(kind: StageKind | 'manifests', wallet: string): Promise<string> {
    await this.#directory(TEMP_DIR);
    return join(this.location, TEMP_DIR, `${kind}.${wallet}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  }

  async createWriter(kind: StageKind, name: string, options: WriterOptions = {}): Promise<StageWriter> {
    const segments = stagedPathSegments(kind, name, options.area);
    const finalPath = join(this.location, ...segments);
    await this.#directory(join(...segments.slice(0, -1)));
    return openGzipWriter(await this.#tempPath(kind, name), finalPath);
  }

  async writeManifest(manifest: WalletManifest): Promise<void> {
    const finalPath = this.pathFor('manifests', manifest.wallet);
    await this.#directory('manifests');
    const temp = await this.#tempPath('manifests', manifest.wallet);
    try {
      await writeDurably(temp, `${JSON.stringify(manifest)}\n`);
      await rename(temp, finalPath);
    } catch (error) {
      await rm(temp, { force: true });
      throw new StageWriteError(finalPath, error);
    }
  }

  async readManifest(wallet: string): Promise<WalletManifest | undefined> {
    let text: string;
    try {
      text = await readFile(this.pathFor('manifests', wallet), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const manifest = openManifest(text, wallet);
    if (!manifest) return undefined;
    // A manifest whose files have since been deleted is no longer a completeness marker.
    for (const file of Object.values(manifest.files)) {
      if (file && (await fileSize(file.uri)) === undefined) return undefined;
    }
    return manifest;
  }

  async verify(file: StagedFile): Promise<FileCheck> {
    const size = await fileSize(file.uri);
    if (size === undefined) return { ok: false, reason: `${file.uri} is missing` };
    if (size !== file.bytes) return { ok: false, reason: `${file.uri} is ${size} bytes, ${file.bytes} were written` };
    if (file.sha256 === undefined) return { ok: true };
    const hash = createHash('sha256');
    await pipeline(createReadStream(file.uri), hash);
    const actual = hash.digest('hex');
    return actual === file.sha256 ? { ok: true } : { ok: false, reason: `${file.uri} does not have the sha256 it was written with (${actual.slice(0, 12)}… ≠ ${file.sha256.slice(0, 12)}…)` };
  }

  async sweepTemporaryFiles(olderThanMs = 0): Promise<number> {
    const dir = join(this.location, TEMP_DIR);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return 0;
    }
    let removed = 0;
    const cutoff = Date.now() - olderThanMs;
    for (const name of names) {
      const match = TEMP_NAME.exec(name);
      if (!match) continue;
      const path = join(dir, name);
      const info = await stat(path).catch(() => undefined);
      if (!info?.isFile()) continue;
      // Its writer is gone (killed), or it is older than any live writer's lease.
      const writer = Number(match[2]);
      if (writer !== process.pid && processExists(writer) && info.mtimeMs > cutoff) continue;
      if (writer === process.pid && info.mtimeMs > cutoff) continue;
      await rm(path, { force: true });
      removed += 1;
    }
    return removed;
  }
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

async function writeDurably(path: string, content: string): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Rows → gzip → hash → file, as one stream pipeline: an error anywhere (a full disk) ends the write
 * at once and is reported by the next write or the commit — a writer never waits for a 'drain'
 * that a failed stream will not send.
 */
async function openGzipWriter(tempPath: string, finalPath: string): Promise<StageWriter> {
  let handle;
  try {
    handle = await open(tempPath, 'w');
  } catch (error) {
    throw new StageWriteError(finalPath, error);
  }
  const gzip = createGzip({ level: 6 });
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  let failure: unknown;
  const done = pipeline(gzip, tap, handle.createWriteStream({ autoClose: true })).catch((error: unknown) => {
    failure ??= error;
  });
  let rows = 0;
  // Rows are gathered into ~256 KB strings: one zlib call per row costs more than the compression.
  let buffered: string[] = [];
  let bufferedChars = 0;
  const check = () => {
    if (failure !== undefined) throw new StageWriteError(finalPath, failure);
  };

  const flush = async () => {
    if (buffered.length === 0) return;
    const chunk = buffered.join('');
    buffered = [];
    bufferedChars = 0;
    if (!gzip.write(chunk)) await Promise.race([new Promise((resolveDrain) => gzip.once('drain', resolveDrain)), done]);
    check();
  };

  return {
    get rows() {
      return rows;
    },
    async write(row: object) {
      check();
      rows += 1;
      const line = `${JSON.stringify(row)}\n`;
      buffered.push(line);
      bufferedChars += line.length;
      if (bufferedChars >= WRITE_CHUNK_CHARS) await flush();
    },
    async commit() {
      check();
      await flush();
      gzip.end();
      await done;
      check();
      try {
        // The rename must not become visible before the bytes are on disk.
        const synced = await open(tempPath, 'r+');
        try {
          await synced.sync();
        } finally {
          await synced.close();
        }
        await rename(tempPath, finalPath);
      } catch (error) {
        await rm(tempPath, { force: true });
        throw new StageWriteError(finalPath, error);
      }
      return { uri: finalPath, rows, bytes, sha256: hash.digest('hex') };
    },
    async abort() {
      gzip.destroy();
      await done;
      await rm(tempPath, { force: true });
    },
  };
}
