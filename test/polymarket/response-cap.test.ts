import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, failureKind } from '../../src/lib/errors.js';
import { HttpClient, type HttpClientOptions } from '../../src/polymarket/http-client.js';
import { HttpStatusError, ResponseTooLargeError } from '../../src/polymarket/http-errors.js';
import { createPolymarketSource } from '../../src/polymarket/polymarket-source.js';
import { RateLimiter } from '../../src/polymarket/rate-limiter.js';
import { MIB } from '../../src/polymarket/source-limits.js';
import { gzipBomb } from '../fakes/hostile-polymarket.js';
import { FAST_LIMITS, recordingSleep, sendJson, startServer, type TestServer } from './helpers.js';

let server: TestServer | undefined;
let client: HttpClient | undefined;

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

function makeClient(overrides: Partial<HttpClientOptions> = {}): HttpClient {
  client = new HttpClient({
    rateLimiter: new RateLimiter(FAST_LIMITS),
    timeoutMs: 10_000,
    maxAttempts: 4,
    maxInFlight: 2,
    sleep: recordingSleep().sleep,
    random: () => 0.5,
    ...overrides,
  });
  return client;
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the request to fail');
}

/** Writes 64 KiB chunks without end (honouring backpressure) until the client hangs up; counts what it wrote. */
function endlessBody(written: { bytes: number; closed: boolean }) {
  return startServer((_req, res) => {
    res.on('error', () => undefined);
    res.on('close', () => (written.closed = true));
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = (): void => {
      while (!res.destroyed) {
        written.bytes += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
    };
    res.write('{"data":[');
    pump();
  });
}

/** Samples this process's RSS every millisecond while `work` runs; returns the peak growth in MB. */
async function peakRssGrowthMb(work: () => Promise<unknown>): Promise<number> {
  global.gc?.();
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 1);
  try {
    await work();
  } finally {
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage.rss());
  }
  return (peak - baseline) / MIB;
}

describe('response byte cap', () => {
  it('stops reading an endless body once it passes the cap: permanent, not retried, naming the URL, the cap and --max-response-bytes', async () => {
    const written = { bytes: 0, closed: false };
    server = await endlessBody(written);
    const error = await failure(makeClient({ maxResponseBytes: 2 * MIB }).getJson(`${server.url}/v2/trades?user=0xabc`, 'data:trades'));
    expect(error).toBeInstanceOf(ResponseTooLargeError);
    expect(error.message).toContain(`GET ${server.url}/v2/trades?user=0xabc (attempt 1/4) returned a body over the 2 MiB response cap (HTTP 200)`);
    expect(error.message).toContain('more than 2097152 bytes arrived; stopped reading there');
    expect(error.message).toContain('raise the cap with --max-response-bytes (maxResponseBytes), up to 1 GiB');
    expect(failureKind(error)).toBe('permanent');
    expect(server.requests).toHaveLength(1);
    expect(client?.retryCounts()).toEqual({});
    // The body never ends, so returning at all proves the client stopped; it hung up near the cap
    // (the rest of what the server wrote sat in socket buffers).
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(written.bytes).toBeLessThan(2 * MIB + 16 * MIB);
  });

  it('refuses a body whose content-length is over the cap without reading any of it', async () => {
    server = await startServer((_req, res) => {
      res.on('error', () => undefined);
      // Declares 100 MiB and sends a few bytes, then nothing: reading would hang until the timeout.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(100 * MIB) });
      res.write('{"data":[');
    });
    const started = Date.now();
    const error = await failure(makeClient({ maxResponseBytes: MIB }).getJson(`${server.url}/v2/trades`, 'data:trades'));
    expect(error).toBeInstanceOf(ResponseTooLargeError);
    expect(error.message).toContain('over the 1 MiB response cap');
    expect(error.message).toContain(`its content-length is ${100 * MIB} bytes; nothing was read`);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(server.requests).toHaveLength(1);
  });

  it('stops a 1 MB gzip bomb that inflates to 1 GiB at the 32 MiB default cap, with flat memory, without retrying', async () => {
    const bomb = gzipBomb();
    expect(bomb.length).toBeLessThan(2 * MIB);
    server = await startServer((_req, res) => {
      res.on('error', () => undefined);
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': bomb.length });
      res.end(bomb);
    });
    const http = makeClient();
    let error: Error | undefined;
    const growthMb = await peakRssGrowthMb(async () => {
      error = await failure(http.getJson(`${server?.url}/v2/trades?user=0xabc`, 'data:trades'));
    });
    expect(error).toBeInstanceOf(ResponseTooLargeError);
    expect(error?.message).toContain('over the 32 MiB response cap');
    expect(error?.message).toContain(`its gzip content inflates past ${32 * MIB} bytes; stopped decompressing there`);
    expect(failureKind(error)).toBe('permanent');
    expect(server.requests).toHaveLength(1);
    // Inflating the whole bomb would add 1 GiB; the cap bounds the growth to the cap plus zlib's buffers.
    expect(growthMb).toBeLessThan(160);
  });

  it('counts decompressed bytes for brotli and deflate bodies too', async () => {
    const json = JSON.stringify({ data: [], pad: ' '.repeat(3 * MIB) });
    for (const [encoding, body] of [
      ['br', brotliCompressSync(json)],
      ['deflate', deflateSync(json)],
    ] as const) {
      server = await startServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': encoding, 'content-length': body.length });
        res.end(body);
      });
      const error = await failure(makeClient({ maxResponseBytes: MIB }).getJson(`${server.url}/x`, 'data:trades'));
      expect(error, encoding).toBeInstanceOf(ResponseTooLargeError);
      expect(error.message).toContain(`its ${encoding} content inflates past ${MIB} bytes`);
      await client?.close();
      await server.close();
      server = undefined;
      client = undefined;
    }
  });

  it('reads a compressed body under the cap as before', async () => {
    const json = { data: [{ a: 1 }], pad: ' '.repeat(MIB / 2) };
    server = await startServer((_req, res) => {
      const body = gzipSync(JSON.stringify(json));
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': body.length });
      res.end(body);
    });
    expect(await makeClient({ maxResponseBytes: MIB }).getJson(`${server.url}/x`, 'data:trades')).toEqual(json);
  });

  it('reads only the head of an oversized error page, so a 503 is still retried as a 503', async () => {
    server = await startServer((_req, res, index) => {
      if (index === 0) {
        res.on('error', () => undefined);
        res.writeHead(503, { 'content-type': 'text/html', 'retry-after': '1' });
        res.end(`<html><title>Overloaded</title>${' '.repeat(3 * MIB)}</html>`);
      } else sendJson(res, 200, { ok: true });
    });
    const http = makeClient({ maxResponseBytes: MIB });
    expect(await http.getJson(`${server.url}/x`, 'data:trades')).toEqual({ ok: true });
    expect(http.retryCounts()).toEqual({ '503': 1 });
  });

  it('keeps the status error of an oversized error page once retries run out', async () => {
    server = await startServer((_req, res) => {
      res.on('error', () => undefined);
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'bad request', pad: ' '.repeat(2 * MIB) }));
    });
    const error = await failure(makeClient({ maxResponseBytes: MIB }).getJson(`${server.url}/x`, 'data:trades'));
    expect(error).toBeInstanceOf(HttpStatusError);
    expect(error.message).toContain('failed with HTTP 400');
    expect(error.message).toContain('{"error":"bad request"');
  });

  it('takes maxResponseBytes from the source config and refuses values outside 1 MiB..1 GiB', async () => {
    for (const maxResponseBytes of [MIB - 1, 1024 * MIB + 1, MIB + 0.5, Number.NaN]) {
      expect(() => createPolymarketSource({ maxResponseBytes }), String(maxResponseBytes)).toThrow(ConfigError);
    }
    expect(() => createPolymarketSource({ maxResponseBytes: 0 })).toThrow(/maxResponseBytes "0" is out of range: allowed 1 MiB \(1048576\) to 1 GiB/);
    const written = { bytes: 0, closed: false };
    server = await endlessBody(written);
    const source = createPolymarketSource({ dataApiUrl: server.url, rateLimits: FAST_LIMITS, maxResponseBytes: MIB, sleep: recordingSleep().sleep });
    try {
      const walk = source.walletTrades('0x379a410a36c101e3b8dfb6c90d1176eb0def4b1a');
      const error = await failure((async () => {
        for await (const _page of walk) void _page;
      })());
      expect(error).toBeInstanceOf(ResponseTooLargeError);
      expect(error.message).toContain('over the 1 MiB response cap');
      expect(failureKind(error)).toBe('permanent');
    } finally {
      await source.close();
    }
  });
});
