/**
 * A hostile Data API: `/v2/trades` misbehaves for chosen wallets, one way each, and everything else
 * (other wallets, Gamma routes) is proxied to an upstream such as the simulator, so a run against it
 * loads the normal wallets exactly as the upstream serves them.
 *
 * Large bodies are produced as the client reads them (with backpressure) and stop when it hangs up:
 * the server never holds a huge page, and `bytesSent` shows how much the client accepted.
 */
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

import { proxy } from './http-util.js';

export type HostileBehaviour =
  /** One page over any sane byte cap (a few rows with 8 MiB titles, 40 MiB), declared by content-length. */
  | 'huge-page'
  /** A gzip body of ~1 MB that inflates to 1 GiB of JSON whitespace. */
  | 'gzip-bomb'
  /** A fresh row and a fresh cursor on every page, forever. */
  | 'endless-cursors'
  /** Every page is page 1 again (same rows), under a new cursor each time. */
  | 'repeated-page'
  /** Pages A, B, then A again under a new cursor. */
  | 'repeated-earlier-page'
  /** One page of 10^6 rows (~500 MB), streamed in chunks without a content-length. */
  | 'million-rows'
  /** `limit + 1` rows on the first page. */
  | 'over-limit';

export const HOSTILE_BEHAVIOURS: readonly HostileBehaviour[] = [
  'huge-page',
  'gzip-bomb',
  'endless-cursors',
  'repeated-page',
  'repeated-earlier-page',
  'million-rows',
  'over-limit',
];

export interface HostilePolymarketOptions {
  /** Base URL that serves every other request (e.g. the simulator's URL). */
  upstream: string;
  /** Lower-case wallet → how `/v2/trades` misbehaves for it. */
  wallets: Readonly<Record<string, HostileBehaviour>>;
  /**
   * Lower-case wallet → the pages `/v2/trades` serves it, rows as given (newest first), whatever the
   * query asks: for rows no fill can have, which a behaviour does not describe.
   */
  scripted?: Readonly<Record<string, readonly (readonly unknown[])[]>>;
}

export interface RunningHostilePolymarket {
  url: string;
  /** `/v2/trades` requests received for a hostile wallet. */
  requests(wallet: string): number;
  /** Body bytes the client accepted for a hostile wallet before the response ended or it hung up. */
  bytesSent(wallet: string): number;
  /** The query of every `/v2/trades` request for `wallet` (hostile, scripted or proxied), in order. */
  tradeQueries(wallet: string): URLSearchParams[];
  close(): Promise<void>;
}

const ROWS_IN_MILLION_PAGE = 1_000_000;
const HUGE_TITLE_BYTES = 8 * 1024 * 1024;
const HUGE_PAGE_ROWS = 5;
const BOMB_MEMBER_BYTES = 1024 * 1024;
const BOMB_MEMBERS = 1024;
const NEWEST = 1_780_000_000;

/** A valid v2 trade row of `wallet`; `index` 0 is the newest, and every index is a distinct fill. */
export function hostileRow(wallet: string, index: number, title = 'Hostile market'): Record<string, unknown> {
  return {
    proxy_wallet: wallet,
    side: index % 2 === 0 ? 'BUY' : 'SELL',
    token_id: '107562952936555819668737826428754978979556920505990557747611348541829551199040',
    condition_id: `0x${'7'.repeat(64)}`,
    size: 10 + (index % 7),
    price: 0.5,
    timestamp: NEWEST - index,
    title,
    slug: 'hostile-market',
    icon: '',
    event_slug: 'hostile-event',
    outcome: 'Yes',
    outcome_index: 0,
    name: '',
    pseudonym: '',
    bio: '',
    profile_image: '',
    profile_image_optimized: '',
    transaction_hash: `0x${index.toString(16).padStart(64, '0')}`,
  };
}

/**
 * A gzip body that inflates to `members` × `memberBytes` bytes (1 GiB by default) from about 1 KB per
 * member: gzip allows concatenated members, so the bomb is built without ever holding its output.
 */
export function gzipBomb(members = BOMB_MEMBERS, memberBytes = BOMB_MEMBER_BYTES): Buffer {
  const head = gzipSync('{"data":[');
  const member = gzipSync(Buffer.alloc(memberBytes, 0x20));
  return Buffer.concat([head, ...Array.from({ length: members }, () => member)]);
}

let bomb: Buffer | undefined;

const cursorOf = (page: number): string => Buffer.from(JSON.stringify({ page, nonce: page * 7919 })).toString('base64url');

function pageOf(cursor: string | null): number {
  if (!cursor) return 1;
  const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { page?: unknown };
  return typeof parsed.page === 'number' ? parsed.page : 1;
}

const envelope = (rows: unknown[], page: number, more: boolean) =>
  JSON.stringify({
    data: rows,
    pagination: { limit: 1000, offset: (page - 1) * 1000, has_more: more, next_cursor: more ? cursorOf(page + 1) : null },
  });

/**
 * Writes `parts()` chunk by chunk, waiting for `drain` when the socket is full and stopping as soon as
 * the client hangs up. Returns once done or abandoned.
 */
async function stream(res: ServerResponse, parts: Iterable<string | Buffer>, count: (bytes: number) => void): Promise<void> {
  for (const part of parts) {
    if (res.destroyed || res.writableEnded) return;
    count(Buffer.byteLength(part));
    if (!res.write(part)) {
      const gone = await new Promise<boolean>((resolve) => {
        const onDrain = () => done(false);
        const onClose = () => done(true);
        const done = (closed: boolean) => {
          res.off('drain', onDrain);
          res.off('close', onClose);
          resolve(closed);
        };
        res.on('drain', onDrain);
        res.on('close', onClose);
      });
      if (gone) return;
    }
  }
  if (!res.destroyed) res.end();
}

function* millionRows(wallet: string): Generator<string> {
  yield '{"data":[';
  const batch: string[] = [];
  for (let index = 0; index < ROWS_IN_MILLION_PAGE; index += 1) {
    batch.push(JSON.stringify(hostileRow(wallet, index)));
    if (batch.length === 500) {
      yield (index + 1 > 500 ? ',' : '') + batch.join(',');
      batch.length = 0;
    }
  }
  if (batch.length > 0) yield `,${batch.join(',')}`;
  yield '],"pagination":{"limit":1000,"offset":0,"has_more":false,"next_cursor":null}}';
}

/** A page whose rows carry `HUGE_TITLE_BYTES` titles, produced in 1 MiB pieces. */
function hugePage(wallet: string): { length: number; parts: () => Generator<string> } {
  const marker = '\u0000TITLE\u0000';
  const template = JSON.stringify({
    data: Array.from({ length: HUGE_PAGE_ROWS }, (_, index) => hostileRow(wallet, index, marker)),
    pagination: { limit: 1000, offset: 0, has_more: false, next_cursor: null },
  });
  // JSON.stringify escapes the NULs; split the template where the titles go.
  const pieces = template.split(JSON.stringify(marker).slice(1, -1));
  const piece = 'x'.repeat(1024 * 1024);
  const length = pieces.reduce((sum, text) => sum + Buffer.byteLength(text), 0) + HUGE_PAGE_ROWS * HUGE_TITLE_BYTES;
  return {
    length,
    *parts() {
      for (const [index, text] of pieces.entries()) {
        yield text;
        if (index < pieces.length - 1) for (let sent = 0; sent < HUGE_TITLE_BYTES; sent += piece.length) yield piece;
      }
    },
  };
}

async function serveHostile(
  behaviour: HostileBehaviour,
  wallet: string,
  query: URLSearchParams,
  res: ServerResponse,
  count: (bytes: number) => void,
): Promise<void> {
  const page = pageOf(query.get('cursor'));
  const json = (text: string, headers: Record<string, string | number> = {}) => {
    count(Buffer.byteLength(text));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers }).end(text);
  };
  switch (behaviour) {
    case 'huge-page': {
      const { length, parts } = hugePage(wallet);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': length });
      return stream(res, parts(), count);
    }
    case 'gzip-bomb': {
      bomb ??= gzipBomb();
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': bomb.length });
      const slices = function* (body: Buffer) {
        for (let offset = 0; offset < body.length; offset += 64 * 1024) yield body.subarray(offset, offset + 64 * 1024);
      };
      return stream(res, slices(bomb), count);
    }
    case 'endless-cursors':
      return json(envelope([hostileRow(wallet, page)], page, true));
    case 'repeated-page':
      return json(envelope([hostileRow(wallet, 0), hostileRow(wallet, 1)], page, true));
    case 'repeated-earlier-page': {
      const first = page === 2 ? 2 : 0;
      return json(envelope([hostileRow(wallet, first), hostileRow(wallet, first + 1)], page, true));
    }
    case 'million-rows':
      res.writeHead(200, { 'content-type': 'application/json' });
      return stream(res, millionRows(wallet), count);
    case 'over-limit': {
      const limit = Number(query.get('limit') ?? '1000');
      return json(envelope(Array.from({ length: limit + 1 }, (_, index) => hostileRow(wallet, index)), page, false));
    }
  }
}

/** Page `cursor` of scripted pages (the first without one), with a cursor to the next while there is one. */
async function serveScripted(pages: readonly (readonly unknown[])[], query: URLSearchParams, res: ServerResponse): Promise<void> {
  const page = pageOf(query.get('cursor'));
  const text = envelope([...(pages[page - 1] ?? [])], page, page < pages.length);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

/** Starts the hostile server on 127.0.0.1 (ephemeral port). */
export async function startHostilePolymarket(options: HostilePolymarketOptions): Promise<RunningHostilePolymarket> {
  const upstream = options.upstream.replace(/\/+$/, '');
  const wallets = new Map(Object.entries(options.wallets).map(([wallet, behaviour]) => [wallet.toLowerCase(), behaviour]));
  const scripted = new Map(Object.entries(options.scripted ?? {}).map(([wallet, pages]) => [wallet.toLowerCase(), pages]));
  const requests = new Map<string, number>();
  const bytes = new Map<string, number>();
  const queries = new Map<string, URLSearchParams[]>();
  const server = createServer((req, res) => {
    // A client that stops reading destroys the socket; that is the point, not an error.
    res.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'http://hostile.invalid');
    const user = url.searchParams.get('user')?.toLowerCase() ?? '';
    const trades = url.pathname === '/v2/trades';
    if (trades) queries.set(user, [...(queries.get(user) ?? []), url.searchParams]);
    const behaviour = trades ? wallets.get(user) : undefined;
    const pages = trades ? scripted.get(user) : undefined;
    const served = behaviour
      ? (requests.set(user, (requests.get(user) ?? 0) + 1),
        serveHostile(behaviour, user, url.searchParams, res, (n) => bytes.set(user, (bytes.get(user) ?? 0) + n)))
      : pages
        ? serveScripted(pages, url.searchParams, res)
        : proxy(upstream, req, res);
    served.catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(599, { 'content-type': 'text/plain' }).end(String(error));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: (wallet) => requests.get(wallet.toLowerCase()) ?? 0,
    bytesSent: (wallet) => bytes.get(wallet.toLowerCase()) ?? 0,
    tradeQueries: (wallet) => queries.get(wallet.toLowerCase()) ?? [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
