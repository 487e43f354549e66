import { randomBytes } from 'node:crypto';

import type { File, FileMetadata } from '@google-cloud/storage';

import { BackfillError } from '../../lib/errors.js';

/**
 * Conditional object writes shared by staged files, manifests and the run lease.
 *
 * Every write carries `ifGenerationMatch` (0 = "must not exist") and a random upload id in the
 * object's custom metadata. The client retries a conditional write after a 5xx or a dropped
 * connection; when the first attempt had in fact succeeded, the retry fails with 412. A 412 is
 * therefore never taken at face value: the object is read back, and if it carries our upload id,
 * the write is ours and succeeded.
 */

export const UPLOAD_ID_KEY = 'backfill-upload-id';

export interface ObjectState {
  generation: string;
  /** Server time of this generation's creation (RFC 3339). */
  updated: string;
  size: number;
  custom: Record<string, string>;
}

export function newUploadId(): string {
  return randomBytes(12).toString('hex');
}

/** HTTP status of a client error, if it has one (ApiError.code is the status; node errors carry strings). */
export function httpStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'number') return code;
  if (typeof code === 'string' && /^\d{3}$/.test(code)) return Number(code);
  return undefined;
}

export function toObjectState(metadata: FileMetadata): ObjectState {
  const custom: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata.metadata ?? {})) {
    if (value !== null && value !== undefined) custom[key] = String(value);
  }
  return {
    generation: String(metadata.generation ?? ''),
    updated: String(metadata.updated ?? metadata.timeCreated ?? ''),
    size: Number(metadata.size ?? 0),
    custom,
  };
}

/** The object's current state and the server's clock (`Date` header) at the time of the read. */
export async function readObject(file: File): Promise<{ state: ObjectState; serverNow: number } | undefined> {
  try {
    const [metadata, response] = (await file.getMetadata()) as unknown as [FileMetadata, { headers?: Record<string, string> } | undefined];
    const date = Date.parse(response?.headers?.date ?? '');
    return { state: toObjectState(metadata), serverNow: Number.isNaN(date) ? Number.NaN : date };
  } catch (error) {
    if (httpStatus(error) === 404) return undefined;
    throw error;
  }
}

/** The generation a write must expect: the current one, or 0 when the object does not exist. */
export async function currentGeneration(file: File): Promise<number> {
  const found = await readObject(file);
  return found ? Number(found.state.generation) : 0;
}

export class PreconditionFailedError extends BackfillError {}

/**
 * After a 412 on a write tagged with `uploadId`: the object as written by us, or a
 * PreconditionFailedError naming what is there instead.
 */
export async function resolvePreconditionFailure(file: File, uploadId: string, cause: unknown): Promise<ObjectState> {
  const found = await readObject(file);
  if (found && found.state.custom[UPLOAD_ID_KEY] === uploadId) return found.state;
  throw new PreconditionFailedError(
    found
      ? `gs://${file.bucket.name}/${file.name} was written by someone else meanwhile (generation ${found.state.generation})`
      : `gs://${file.bucket.name}/${file.name} was deleted by someone else meanwhile`,
    { cause, hint: 'Another runner is writing the same stage prefix; give each runner its own --stage prefix or shard' },
  );
}

export interface ConditionalWrite {
  /** 0: create only; otherwise the generation being replaced. */
  ifGenerationMatch: number;
  contentType: string;
  custom?: Record<string, string>;
  /** Defaults to a fresh random id; the lease passes its nonce so ownership checks use one value. */
  uploadId?: string;
}

/** Writes `data` in one request (multipart upload), retried by the client, 412 resolved as above. */
export async function saveConditionally(file: File, data: Buffer, write: ConditionalWrite): Promise<ObjectState> {
  const uploadId = write.uploadId ?? newUploadId();
  try {
    await file.save(data, {
      resumable: false,
      preconditionOpts: { ifGenerationMatch: write.ifGenerationMatch },
      metadata: { contentType: write.contentType, metadata: { ...write.custom, [UPLOAD_ID_KEY]: uploadId } },
    });
    return toObjectState(file.metadata);
  } catch (error) {
    if (httpStatus(error) === 412) return resolvePreconditionFailure(file, uploadId, error);
    throw error;
  }
}
