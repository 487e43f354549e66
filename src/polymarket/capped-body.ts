/**
 * Reads a response body as it streams, decompressing on the fly, and stops the moment it passes a
 * byte cap: the compressed bytes and the decoded bytes are both counted, so neither an endless body
 * nor a small gzip bomb that inflates a thousandfold can make the process hold more than the cap.
 * Stopping destroys the body, which closes the connection instead of draining the rest.
 */
import { Transform, Writable } from 'node:stream';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';

/** The body passed the cap; `bytesRead` is how far reading got (0 when the declared length was enough). */
export class BodyTooLargeError extends Error {
  constructor(
    readonly maxBytes: number,
    readonly bytesRead: number,
    /** What passed the cap: the declared content-length, the bytes received, or the decompressed bytes. */
    readonly measure: 'content-length' | 'received' | 'decompressed',
    readonly declaredLength?: number,
  ) {
    super(`body over ${maxBytes} bytes (${measure})`);
    this.name = 'BodyTooLargeError';
  }
}

/** A content-encoding the client never asked for. */
export class UnsupportedEncodingError extends Error {
  constructor(readonly encoding: string) {
    super(`unsupported content-encoding "${encoding}"`);
    this.name = 'UnsupportedEncodingError';
  }
}

/** The body arrived but does not decompress (usually cut short); `cause` is zlib's error. */
export class BodyDecodeError extends Error {
  constructor(
    readonly encoding: string,
    readonly bytesReceived: number,
    cause: unknown,
  ) {
    super(`${encoding} body does not decompress: ${(cause as Error).message}`, { cause });
    this.name = 'BodyDecodeError';
  }
}

/** Internal: reading stopped on purpose in truncating mode. */
class StopReading extends Error {}

export interface CappedBodyOptions {
  /** The response's content-encoding header. */
  encoding: string | undefined;
  /** The response's content-length header, when it has one. */
  declaredLength?: number;
  maxBytes: number;
  /**
   * Keep the first `maxBytes` and stop quietly instead of failing (for error pages, of which only a
   * snippet is ever shown).
   */
  truncate?: boolean;
}

export interface CappedBody {
  bytes: Buffer;
  /** True when reading stopped at the cap in truncating mode. */
  truncated: boolean;
}

function decoderFor(encoding: string): Transform | undefined {
  switch (encoding) {
    case '':
    case 'identity':
      return undefined;
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    default:
      throw new UnsupportedEncodingError(encoding);
  }
}

/** Closes a body that will not be read; undici reports that as an abort error, which nobody needs. */
function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

/**
 * The whole body, decoded, if it fits in `maxBytes`; throws BodyTooLargeError as soon as it does not
 * (or at once when content-length already says so), BodyDecodeError when it does not decompress,
 * UnsupportedEncodingError for an encoding other than gzip, deflate or br. A transport failure while
 * reading is rethrown as it came.
 */
export async function readCappedBody(body: Readable, options: CappedBodyOptions): Promise<CappedBody> {
  const { maxBytes, truncate = false } = options;
  const encoding = (options.encoding ?? 'identity').trim().toLowerCase();
  let decoder: Transform | undefined;
  try {
    decoder = decoderFor(encoding);
  } catch (error) {
    discard(body);
    throw error;
  }
  const declared = options.declaredLength;
  if (!truncate && declared !== undefined && declared > maxBytes) {
    discard(body);
    throw new BodyTooLargeError(maxBytes, 0, 'content-length', declared);
  }

  let received = 0;
  let decoded = 0;
  const chunks: Buffer[] = [];
  const overflow = (measure: 'received' | 'decompressed', bytes: number): Error =>
    truncate ? new StopReading() : new BodyTooLargeError(maxBytes, bytes, measure, declared);

  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      if (received > maxBytes) callback(overflow('received', received));
      else callback(null, chunk);
    },
  });
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (decoded + chunk.length > maxBytes) {
        if (truncate) chunks.push(chunk.subarray(0, maxBytes - decoded));
        decoded += chunk.length;
        callback(overflow(decoder ? 'decompressed' : 'received', decoded));
        return;
      }
      decoded += chunk.length;
      chunks.push(chunk);
      callback();
    },
  });

  // The first stream to fail is where the failure came from; the pipeline then destroys the others
  // with the same error, so only the first report counts.
  let origin: 'body' | 'decoder' | undefined;
  body.once('error', () => (origin ??= 'body'));
  decoder?.once('error', () => (origin ??= 'decoder'));
  try {
    if (decoder) await pipeline(body, counter, decoder, sink);
    else await pipeline(body, counter, sink);
  } catch (error) {
    if (error instanceof StopReading) return { bytes: Buffer.concat(chunks), truncated: true };
    if (error instanceof BodyTooLargeError) throw error;
    if (origin === 'decoder') throw new BodyDecodeError(encoding, received, error);
    throw error;
  }
  return { bytes: Buffer.concat(chunks, decoded), truncated: false };
}
