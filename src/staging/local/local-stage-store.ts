import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createGzip } from 'node:zlib';

import { BackfillError } from '../../lib/errors.js';
import type { StageKind, StageStore, StageWriter, WalletManifest } from '../stage-store.js';

const TEMP_MARKER = '.tmp-';
const TEMP_DIR = 'tmp';
const WRITE_CHUNK_CHARS = 256 * 1024;

/**
 * Staged files on the local disk: `<root>/<kind>/<wallet>.ndjson.gz`, `<root>/manifests/<wallet>.json`,
 * unfinished files in `<root>/tmp/`.
 */
export class LocalStageStore implements StageStore {
  readonly location: string;

  constructor(root: string) {
    this.location = resolve(root);
  }

  pathFor(kind: StageKind | 'manifests', wallet: string): string {
    const extension = kind === 'manifests' ? '.json' : '.ndjson.gz';
    return join(this.location, kind, `${wallet}${extension}`);
  }

  // Five staged files per wallet: create each directory once per run, not once per file.
  readonly #directories = new Set<string>();

  async #directory(name: string): Promise<void> {
    if (this.#directories.has(name)) return;
    await mkdir(join(this.location, name), { recursive: true });
    this.#directories.add(name);
  }

  /**
   * Unfinished files live in their own directory (same file system, so the final rename stays
   * atomic): the start-up sweep then lists only them, not a directory of a million staged wallets.
   */
  async #tempPath(kind: StageKind | 'manifests', wallet: string): Promise<string> {
    await this.#directory(TEMP_DIR);
    return join(this.location, TEMP_DIR, `${kind}.${wallet}${TEMP_MARKER}${randomBytes(6).toString('hex')}`);
  }

  async createWriter(kind: StageKind, wallet: string): Promise<StageWriter> {
    const finalPath = this.pathFor(kind, wallet);
    await this.#directory(kind);
    return openGzipWriter(await this.#tempPath(kind, wallet), finalPath);
  }

  async writeManifest(manifest: WalletManifest): Promise<void> {
    const finalPath = this.pathFor('manifests', manifest.wallet);
    await this.#directory('manifests');
    await writeFileAtomically(await this.#tempPath('manifests', manifest.wallet), finalPath, `${JSON.stringify(manifest)}\n`);
  }

  async readManifest(wallet: string): Promise<WalletManifest | undefined> {
    let text: string;
    try {
      text = await readFile(this.pathFor('manifests', wallet), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const manifest = JSON.parse(text) as WalletManifest;
    // A manifest whose files have since been deleted is no longer a completeness marker.
    for (const file of Object.values(manifest.files)) {
      if (file && !(await fileExists(file.uri))) return undefined;
    }
    return manifest;
  }

  async sweepTemporaryFiles(): Promise<number> {
    let names: string[];
    try {
      names = await readdir(join(this.location, TEMP_DIR));
    } catch {
      return 0;
    }
    for (const name of names) await rm(join(this.location, TEMP_DIR, name), { force: true });
    return names.length;
  }
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function writeFileAtomically(tempPath: string, finalPath: string, content: string): Promise<void> {
  const handle = await open(tempPath, 'w');
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tempPath, finalPath);
}

async function openGzipWriter(tempPath: string, finalPath: string): Promise<StageWriter> {
  const fileStream = createWriteStream(tempPath);
  await once(fileStream, 'open');
  const gzip = createGzip({ level: 6 });
  gzip.pipe(fileStream);
  let rows = 0;
  // Rows are gathered into ~256 KB strings: one zlib call per row costs more than the compression.
  let buffered: string[] = [];
  let bufferedChars = 0;
  let failure: Error | undefined;
  const onError = (error: Error) => {
    failure ??= error;
  };
  gzip.on('error', onError);
  fileStream.on('error', onError);

  const flush = async () => {
    if (buffered.length === 0) return;
    const chunk = buffered.join('');
    buffered = [];
    bufferedChars = 0;
    if (!gzip.write(chunk)) await once(gzip, 'drain');
  };

  return {
    get rows() {
      return rows;
    },
    async write(row: object) {
      if (failure) throw stagingError(finalPath, failure);
      rows += 1;
      const line = `${JSON.stringify(row)}\n`;
      buffered.push(line);
      bufferedChars += line.length;
      if (bufferedChars >= WRITE_CHUNK_CHARS) await flush();
    },
    async commit() {
      if (failure) throw stagingError(finalPath, failure);
      await flush();
      gzip.end();
      await once(fileStream, 'close');
      if (failure) throw stagingError(finalPath, failure);
      // The rename must not become visible before the bytes are on disk.
      const handle = await open(tempPath, 'r+');
      let size: number;
      try {
        await handle.sync();
        size = (await handle.stat()).size;
      } finally {
        await handle.close();
      }
      await rename(tempPath, finalPath);
      return { uri: finalPath, rows, bytes: size };
    },
    async abort() {
      gzip.destroy();
      fileStream.destroy();
      await rm(tempPath, { force: true });
    },
  };
}

function stagingError(path: string, cause: Error): BackfillError {
  return new BackfillError(`Could not write staged file ${path}: ${cause.message}`, {
    cause,
    hint: 'Check free disk space and permissions of the --stage directory',
  });
}
