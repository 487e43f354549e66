import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { CRC32C } from '@google-cloud/storage';

import { googleError, listen, readBody, sendJson, takeFault } from './http-util.js';
import type { FaultRule, RunningServer } from './http-util.js';

/**
 * The subset of the GCS JSON API that `@google-cloud/storage` uses for this product, with real
 * generation semantics:
 *
 * - uploads at `/upload/storage/v1/b/:bucket/o`: `uploadType=media`, `multipart`, and `resumable`
 *   (session start, chunked `PUT`s with `Content-Range`, status queries `bytes *\/*`, 308 + `Range`);
 * - `GET /storage/v1/b/:bucket/o/:object` (metadata; `alt=media` for the bytes, with `x-goog-hash`);
 * - `DELETE /storage/v1/b/:bucket/o/:object`; `GET /storage/v1/b/:bucket/o` (list, prefix, paging);
 * - `GET /storage/v1/b/:bucket` (the bucket's placement: location, locationType, customPlacementConfig);
 * - preconditions `ifGenerationMatch` (0 = must not exist), `ifGenerationNotMatch`,
 *   `ifMetagenerationMatch` → 412; every write makes a new, larger generation;
 * - a controllable clock: `Date` headers and `timeCreated`/`updated` come from it;
 * - faults: fail the next N matching requests with a status, or process a request and then drop
 *   the connection without answering (the client retries a request that in fact succeeded).
 */

export interface StoredObject {
  bucket: string;
  name: string;
  data: Buffer;
  generation: bigint;
  metageneration: number;
  contentType: string;
  custom: Record<string, string>;
  timeCreated: string;
  updated: string;
}

export interface GcsRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** e.g. `upload:multipart`, `upload:resumable-start`, `upload:resumable-put`, `get`, `media`, `delete`, `list`, `bucket`. */
  op: string;
  bucket?: string;
  object?: string;
  status?: number;
  bytes: number;
}

interface FailRule extends FaultRule<GcsRequest> {
  status: number;
}

interface Session {
  bucket: string;
  name: string;
  metadata: Record<string, unknown>;
  query: Record<string, string>;
  received: Buffer[];
  receivedBytes: number;
  done?: StoredObject;
}

export interface FakeGcs {
  readonly url: string;
  readonly requests: GcsRequest[];
  /** The server's clock, epoch ms. */
  now(): number;
  advanceClock(ms: number): void;
  object(bucket: string, name: string): StoredObject | undefined;
  objects(bucket?: string): StoredObject[];
  /** Deletes an object directly (an operator or a lifecycle rule behind the product's back). */
  remove(bucket: string, name: string): void;
  /** Writes an object directly (a test's setup); returns it. */
  put(bucket: string, name: string, data: Buffer | string, custom?: Record<string, string>): StoredObject;
  /** Answers the next `times` requests matching `match` with `status` (default 503). */
  failNext(times: number, match?: (r: GcsRequest) => boolean, status?: number): void;
  /** Processes the next `times` matching requests, then destroys the socket without answering. */
  dropAfterProcessing(times: number, match: (r: GcsRequest) => boolean): void;
  /** Runs before each request is handled (after fault checks): lets a test interleave another writer. */
  beforeHandle(hook: ((r: GcsRequest) => void) | undefined): void;
  /** Where a bucket says it is (default `US`, multi-region), as `buckets.get` reports it. */
  placeBucket(bucket: string, placement: { location: string; locationType: string; dataLocations?: string[] }): void;
  close(): Promise<void>;
}

export async function startFakeGcs(options: { clockOffsetMs?: number } = {}): Promise<FakeGcs> {
  const store = new Map<string, StoredObject>();
  const sessions = new Map<string, Session>();
  const requests: GcsRequest[] = [];
  const failRules: FailRule[] = [];
  const dropRules: FaultRule<GcsRequest>[] = [];
  let offset = options.clockOffsetMs ?? 0;
  let hook: ((r: GcsRequest) => void) | undefined;
  let lastGeneration = 0n;
  const placements = new Map<string, { location: string; locationType: string; dataLocations?: string[] }>();
  const now = () => Date.now() + offset;
  const key = (bucket: string, name: string) => `${bucket}\u0000${name}`;

  const nextGeneration = (): bigint => {
    // Real generations are microsecond timestamps; strictly increasing here even within one tick.
    const candidate = BigInt(now()) * 1000n;
    lastGeneration = candidate > lastGeneration ? candidate : lastGeneration + 1n;
    return lastGeneration;
  };

  const resource = (o: StoredObject, baseUrl: string) => {
    const crc = crc32c(o.data);
    const md5 = createHash('md5').update(o.data).digest('base64');
    return {
      kind: 'storage#object',
      id: `${o.bucket}/${o.name}/${o.generation}`,
      selfLink: `${baseUrl}/storage/v1/b/${o.bucket}/o/${encodeURIComponent(o.name)}`,
      mediaLink: `${baseUrl}/download/storage/v1/b/${o.bucket}/o/${encodeURIComponent(o.name)}?generation=${o.generation}&alt=media`,
      name: o.name,
      bucket: o.bucket,
      generation: String(o.generation),
      metageneration: String(o.metageneration),
      contentType: o.contentType,
      storageClass: 'STANDARD',
      size: String(o.data.length),
      md5Hash: md5,
      crc32c: crc,
      etag: randomBytes(6).toString('base64'),
      timeCreated: o.timeCreated,
      updated: o.updated,
      ...(Object.keys(o.custom).length > 0 ? { metadata: o.custom } : {}),
    };
  };

  /** null if the preconditions hold, else the 412 body. */
  const checkPreconditions = (existing: StoredObject | undefined, query: Record<string, string>) => {
    const failed = () => googleError(412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.');
    if (query.ifGenerationMatch !== undefined) {
      const want = BigInt(query.ifGenerationMatch);
      if (want === 0n ? existing !== undefined : existing?.generation !== want) return failed();
    }
    if (query.ifGenerationNotMatch !== undefined) {
      const unwanted = BigInt(query.ifGenerationNotMatch);
      if (unwanted === 0n ? existing === undefined : existing?.generation === unwanted) return failed();
    }
    if (query.ifMetagenerationMatch !== undefined && existing?.metageneration !== Number(query.ifMetagenerationMatch)) return failed();
    return null;
  };

  const commit = (bucket: string, name: string, data: Buffer, metadata: Record<string, unknown>): StoredObject => {
    const time = new Date(now()).toISOString();
    const custom: Record<string, string> = {};
    for (const [k, v] of Object.entries((metadata.metadata as Record<string, unknown> | undefined) ?? {})) {
      if (v !== null && v !== undefined) custom[k] = String(v);
    }
    const stored: StoredObject = {
      bucket,
      name,
      data,
      generation: nextGeneration(),
      metageneration: 1,
      contentType: typeof metadata.contentType === 'string' ? metadata.contentType : 'application/octet-stream',
      custom,
      timeCreated: time,
      updated: time,
    };
    store.set(key(bucket, name), stored);
    return stored;
  };

  let baseUrl = '';

  const handle = async (req: IncomingMessage, res: ServerResponse, log: GcsRequest, body: Buffer): Promise<[number, unknown, Record<string, string>?] | 'raw'> => {
    const { query } = log;
    const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(log.path);
    const object = /^\/(?:download\/)?storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(log.path);
    const list = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(log.path);
    const bucketPath = /^\/storage\/v1\/b\/([^/]+)$/.exec(log.path);

    if (bucketPath && req.method === 'GET') {
      const name = bucketPath[1]!;
      const placement = placements.get(name) ?? { location: 'US', locationType: 'multi-region' };
      return [
        200,
        {
          kind: 'storage#bucket',
          id: name,
          name,
          location: placement.location,
          locationType: placement.locationType,
          ...(placement.dataLocations ? { customPlacementConfig: { dataLocations: placement.dataLocations } } : {}),
        },
      ];
    }
    if (upload && req.method === 'POST' && query.uploadType === 'resumable') {
      const bucket = upload[1]!;
      const metadata = body.length > 0 ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
      const name = query.name ?? String(metadata.name ?? '');
      const failed = checkPreconditions(store.get(key(bucket, name)), query);
      if (failed) return [412, failed];
      const id = randomBytes(12).toString('hex');
      sessions.set(id, { bucket, name, metadata, query, received: [], receivedBytes: 0 });
      return [200, {}, { Location: `${baseUrl}/upload/storage/v1/b/${bucket}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}` }];
    }
    if (upload && req.method === 'PUT' && query.upload_id) {
      const session = sessions.get(query.upload_id);
      if (!session) return [404, googleError(404, 'notFound', 'No such upload session')];
      if (session.done) return [200, resource(session.done, baseUrl)];
      const range = String(req.headers['content-range'] ?? '');
      const status = /^bytes \*\/(\*|\d+)$/.exec(range);
      const chunk = /^bytes (\d+)-(\d+)\/(\*|\d+)$/.exec(range);
      const incomplete = (): [number, unknown, Record<string, string>] => [
        308,
        '',
        session.receivedBytes > 0 ? { Range: `bytes=0-${session.receivedBytes - 1}` } : {},
      ];
      let total: number | undefined;
      if (status) {
        if (status[1] === '*') return incomplete();
        total = Number(status[1]);
      } else if (chunk) {
        const start = Number(chunk[1]);
        if (start > session.receivedBytes) return [400, googleError(400, 'invalid', `chunk starts at ${start}, have ${session.receivedBytes}`)];
        // A resent chunk overlaps what we have: keep only the new tail.
        const fresh = body.subarray(session.receivedBytes - start);
        session.received.push(fresh);
        session.receivedBytes += fresh.length;
        if (chunk[3] !== '*') total = Number(chunk[3]);
      } else if (range === '' || /^bytes 0-\*\//.test(range)) {
        // Single-request upload of unknown size (`bytes 0-*/*` or no header): the body is everything.
        session.received = [body];
        session.receivedBytes = body.length;
        total = body.length;
      } else {
        return [400, googleError(400, 'invalid', `bad Content-Range ${range}`)];
      }
      if (total === undefined || session.receivedBytes < total) return incomplete();
      const failed = checkPreconditions(store.get(key(session.bucket, session.name)), session.query);
      if (failed) return [412, failed];
      session.done = commit(session.bucket, session.name, Buffer.concat(session.received), session.metadata);
      return [200, resource(session.done, baseUrl)];
    }
    if (upload && req.method === 'POST') {
      const bucket = upload[1]!;
      let metadata: Record<string, unknown> = {};
      let data = body;
      if (query.uploadType === 'multipart') {
        const parts = parseMultipart(body, String(req.headers['content-type'] ?? ''));
        metadata = JSON.parse(parts[0]!.toString('utf8')) as Record<string, unknown>;
        data = parts[1] ?? Buffer.alloc(0);
      } else if (req.headers['content-type']) {
        metadata = { contentType: req.headers['content-type'] };
      }
      const name = query.name ?? String(metadata.name ?? '');
      if (!name) return [400, googleError(400, 'required', 'Required parameter: name')];
      const failed = checkPreconditions(store.get(key(bucket, name)), query);
      if (failed) return [412, failed];
      return [200, resource(commit(bucket, name, data, metadata), baseUrl)];
    }
    if (object) {
      const bucket = object[1]!;
      const name = decodeURIComponent(object[2]!);
      const existing = store.get(key(bucket, name));
      if (req.method === 'DELETE') {
        if (!existing) return [404, googleError(404, 'notFound', `No such object: ${bucket}/${name}`)];
        const failed = checkPreconditions(existing, query);
        if (failed) return [412, failed];
        store.delete(key(bucket, name));
        return [204, ''];
      }
      if (req.method === 'GET') {
        if (!existing || (query.generation && BigInt(query.generation) !== existing.generation)) {
          return [404, googleError(404, 'notFound', `No such object: ${bucket}/${name}`)];
        }
        const failed = checkPreconditions(existing, query);
        if (failed) return [412, failed];
        if (query.alt === 'media') {
          res.writeHead(200, {
            'Content-Type': existing.contentType,
            'Content-Length': existing.data.length,
            'x-goog-hash': `crc32c=${crc32c(existing.data)},md5=${createHash('md5').update(existing.data).digest('base64')}`,
            'x-goog-stored-content-encoding': 'identity',
            'x-goog-generation': String(existing.generation),
            Date: new Date(now()).toUTCString(),
          });
          res.end(existing.data);
          return 'raw';
        }
        return [200, resource(existing, baseUrl)];
      }
    }
    if (list && req.method === 'GET') {
      const bucket = list[1]!;
      const prefix = query.prefix ?? '';
      const all = [...store.values()].filter((o) => o.bucket === bucket && o.name.startsWith(prefix)).sort((a, b) => a.name.localeCompare(b.name));
      const start = query.pageToken ? Number(Buffer.from(query.pageToken, 'base64').toString()) : 0;
      const size = query.maxResults ? Number(query.maxResults) : 1000;
      const page = all.slice(start, start + size);
      return [
        200,
        {
          kind: 'storage#objects',
          items: page.map((o) => resource(o, baseUrl)),
          ...(start + size < all.length ? { nextPageToken: Buffer.from(String(start + size)).toString('base64') } : {}),
        },
      ];
    }
    return [404, googleError(404, 'notFound', `fake GCS: no route for ${req.method} ${log.path}`)];
  };

  const running: RunningServer = await listen((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams.entries());
    const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o/.exec(url.pathname);
    const objectPath = /^\/(?:download\/)?storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(url.pathname);
    const op = upload
      ? req.method === 'PUT'
        ? 'upload:resumable-put'
        : `upload:${query.uploadType === 'resumable' ? 'resumable-start' : (query.uploadType ?? 'media')}`
      : objectPath
        ? req.method === 'DELETE'
          ? 'delete'
          : query.alt === 'media'
            ? 'media'
            : 'get'
        : /^\/storage\/v1\/b\/[^/]+$/.test(url.pathname)
          ? 'bucket'
          : 'list';
    const log: GcsRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      op,
      bucket: upload?.[1] ?? objectPath?.[1] ?? /^\/storage\/v1\/b\/([^/]+)/.exec(url.pathname)?.[1],
      object: objectPath ? decodeURIComponent(objectPath[2]!) : query.name,
      bytes: 0,
    };
    requests.push(log);
    void readBody(req).then(async (body) => {
      log.bytes = body.length;
      const failure = takeFault(failRules, log);
      if (failure) {
        log.status = failure.status;
        sendJson(res, failure.status, googleError(failure.status, failure.status === 429 ? 'rateLimitExceeded' : 'backendError', 'injected fault'), {
          Date: new Date(now()).toUTCString(),
        });
        return;
      }
      const drop = takeFault(dropRules, log);
      hook?.(log);
      let outcome: Awaited<ReturnType<typeof handle>>;
      try {
        outcome = await handle(req, res, log, body);
      } catch (error) {
        outcome = [500, googleError(500, 'internalError', `fake GCS: ${String(error)}`)];
      }
      if (drop) {
        log.status = -1;
        req.socket.destroy();
        return;
      }
      if (outcome === 'raw') {
        log.status = 200;
        return;
      }
      const [status, payload, headers = {}] = outcome;
      log.status = status;
      const date = { Date: new Date(now()).toUTCString(), ...headers };
      if (status === 204 || status === 308) {
        res.writeHead(status, { 'Content-Length': 0, ...date });
        res.end();
      } else {
        sendJson(res, status, payload, date);
      }
    });
  });
  baseUrl = running.url;

  return {
    url: running.url,
    requests,
    now,
    advanceClock(ms) {
      offset += ms;
    },
    object: (bucket, name) => store.get(key(bucket, name)),
    remove: (bucket, name) => {
      store.delete(key(bucket, name));
    },
    objects: (bucket) => [...store.values()].filter((o) => bucket === undefined || o.bucket === bucket),
    put(bucket, name, data, custom = {}) {
      return commit(bucket, name, Buffer.isBuffer(data) ? data : Buffer.from(data), { metadata: custom });
    },
    failNext(times, match = () => true, status = 503) {
      failRules.push({ times, match, status });
    },
    dropAfterProcessing(times, match) {
      dropRules.push({ times, match });
    },
    beforeHandle(next) {
      hook = next;
    },
    placeBucket(bucket, placement) {
      placements.set(bucket, placement);
    },
    close: () => running.close(),
  };
}

function crc32c(data: Buffer): string {
  const crc = new CRC32C();
  crc.update(data);
  return crc.toString();
}

/** Splits a `multipart/related` body into its parts' bodies. */
function parseMultipart(body: Buffer, contentType: string): Buffer[] {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!boundary) throw new Error(`multipart upload without boundary: ${contentType}`);
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Buffer[] = [];
  let position = body.indexOf(delimiter);
  while (position !== -1) {
    const start = position + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next === -1) break;
    const part = body.subarray(start, next);
    const headerEnd = part.indexOf('\r\n\r\n');
    // The part body ends with the CRLF that precedes the next delimiter.
    parts.push(part.subarray(headerEnd + 4, part.length - 2));
    position = next;
  }
  return parts;
}
