import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { describeError, isTransient } from '../../src/lib/errors.js';
import { HttpClient, parseRetryAfter, type HttpClientOptions } from '../../src/polymarket/http-client.js';
import { HttpBodyError, HttpNetworkError, HttpStatusError, bodySnippet } from '../../src/polymarket/http-errors.js';
import { RateLimiter } from '../../src/polymarket/rate-limiter.js';
import { FAST_LIMITS, recordingSleep, sendJson, startServer, type TestServer } from './helpers.js';

const BAD_GATEWAY_PAGE =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n';

let server: TestServer | undefined;
let client: HttpClient | undefined;

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

function makeClient(overrides: Partial<HttpClientOptions> = {}): { client: HttpClient; delays: number[] } {
  const { sleep, delays } = recordingSleep();
  client = new HttpClient({
    rateLimiter: new RateLimiter(FAST_LIMITS),
    timeoutMs: 2000,
    maxAttempts: 5,
    maxInFlight: 4,
    sleep,
    random: () => 0.5,
    ...overrides,
  });
  return { client, delays };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the request to fail');
}

describe('HttpClient retries', () => {
  it('honours Retry-After seconds on a 429: the injected sleep is asked for exactly that delay', async () => {
    server = await startServer((_req, res, index) => {
      if (index === 0) sendJson(res, 429, { error: 'slow down', code: 'rate_limited', retryable: true }, { 'retry-after': '7' });
      else sendJson(res, 200, { ok: true });
    });
    const { client, delays } = makeClient();
    expect(await client.getJson(`${server.url}/v2/trades?user=0xabc`, 'data:trades')).toEqual({ ok: true });
    expect(delays).toEqual([7000]);
    expect(client.requestCounts()).toEqual({ 'data:trades': 2 });
    expect(client.retryCounts()).toEqual({ '429': 1 });
  });

  it('honours an HTTP-date Retry-After relative to the injected clock', async () => {
    const now = Date.UTC(2026, 9, 1, 12, 0, 0);
    server = await startServer((_req, res, index) => {
      if (index === 0) sendJson(res, 503, { error: 'busy' }, { 'retry-after': new Date(now + 12_000).toUTCString() });
      else sendJson(res, 200, [1]);
    });
    const { client, delays } = makeClient({ now: () => now });
    await client.getJson(`${server.url}/x`, 'data:trades');
    expect(delays).toEqual([12_000]);
    expect(client.retryCounts()).toEqual({ '503': 1 });
  });

  it('backs off exponentially (with jitter) on a 429 without Retry-After', async () => {
    server = await startServer((_req, res, index) => {
      if (index < 4) sendJson(res, 429, { error: 'rate limited' });
      else sendJson(res, 200, { ok: 1 });
    });
    // random() = 0.5 makes full jitter deterministic: half of base * 2^(n-1).
    const { client, delays } = makeClient({ baseDelayMs: 1000, maxDelayMs: 6000 });
    await client.getJson(`${server.url}/x`, 'data:trades');
    expect(delays).toEqual([500, 1000, 2000, 3000]);
    expect(client.retryCounts()).toEqual({ '429': 4 });
  });

  it('retries 503 and other 5xx, counting them in separate classes', async () => {
    const statuses = [503, 500, 504];
    server = await startServer((_req, res, index) => {
      const status = statuses[index];
      if (status) sendJson(res, status, { error: 'internal', code: 'internal', retryable: true });
      else sendJson(res, 200, { ok: true });
    });
    const { client } = makeClient();
    await client.getJson(`${server.url}/x`, 'gamma:markets');
    expect(client.retryCounts()).toEqual({ '503': 1, '5xx': 2 });
    expect(client.requestCounts()).toEqual({ 'gamma:markets': 4 });
  });

  it('names the URL, the status and "text/html" with the page title when an HTML error page comes back', async () => {
    server = await startServer((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end(BAD_GATEWAY_PAGE);
    });
    const { client } = makeClient({ maxAttempts: 2 });
    const url = () => `${server?.url}/v2/trades?user=0x1111111111111111111111111111111111111111&taker_only=false`;
    const error = await failure(client.getJson(url(), 'data:trades'));
    expect(error).toBeInstanceOf(HttpStatusError);
    expect(error.message).toContain(`GET ${url()}`);
    expect(error.message).toContain('HTTP 502');
    expect(error.message).toContain('received text/html: "<html> <head><title>502 Bad Gateway</title>');
    expect(error.message).toContain('attempt 2/2');
    expect(client.retryCounts()).toEqual({ '5xx': 1 });
  });

  it('retries an HTML page served with 200 (a proxy page) as class "html"', async () => {
    server = await startServer((_req, res, index) => {
      if (index === 0) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<!DOCTYPE html><html><title>Just a moment...</title></html>');
      } else sendJson(res, 200, { data: [] });
    });
    const { client } = makeClient();
    expect(await client.getJson(`${server.url}/x`, 'data:trades')).toEqual({ data: [] });
    expect(client.retryCounts()).toEqual({ html: 1 });
  });

  it('retries truncated JSON and, when it persists, says so with the URL, byte count and a snippet', async () => {
    const cut = '{"data":[{"proxy_wallet":"0x379a410a36c101e3b8dfb6c90d1176eb0def4b1a","side":"BU';
    server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(cut) });
      res.end(cut);
    });
    const { client } = makeClient({ maxAttempts: 3 });
    const error = await failure(client.getJson(`${server.url}/v2/trades?user=u`, 'data:trades'));
    expect(error).toBeInstanceOf(HttpBodyError);
    expect(error.message).toContain(`GET ${server.url}/v2/trades?user=u (attempt 3/3)`);
    expect(error.message).toContain(`invalid or truncated JSON (HTTP 200, ${cut.length} bytes)`);
    expect(error.message).toContain('received application/json: "{"data":[{"proxy_wallet"');
    expect(error.cause).toBeInstanceOf(SyntaxError);
    expect(client.retryCounts()).toEqual({ truncated: 2 });
  });

  it('retries a body cut short by the connection closing before content-length is reached', async () => {
    server = await startServer((req, res, index) => {
      if (index === 0) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000' });
        res.write('{"data":[');
        setTimeout(() => req.socket.destroy(), 20);
      } else sendJson(res, 200, { data: null });
    });
    const { client } = makeClient();
    expect(await client.getJson(`${server.url}/x`, 'data:trades')).toEqual({ data: null });
    expect(client.retryCounts()).toEqual({ truncated: 1 });
  });

  it('logs each retry with its cause in the message itself, since a terminal shows messages without their fields', async () => {
    server = await startServer((_req, res, index) => {
      if (index === 0) sendJson(res, 503, { error: 'maintenance window' });
      else sendJson(res, 200, { ok: true });
    });
    const messages: string[] = [];
    const logger = { debug: () => undefined, info: () => undefined, warn: (_o: object, msg?: string) => void messages.push(msg ?? '') };
    const { client } = makeClient({ logger });
    expect(await client.getJson(`${server.url}/x`, 'data:trades')).toEqual({ ok: true });
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^GET \S+\/x failed \(503, attempt 1\/5\): .*503.*maintenance window.*; retrying in \d+ ms$/);
  });

  it('retries a reset connection (no response at all) as class "network"', async () => {
    server = await startServer((req, res, index) => {
      if (index === 0) req.socket.destroy();
      else sendJson(res, 200, { ok: true });
    });
    const { client } = makeClient();
    expect(await client.getJson(`${server.url}/x`, 'data:trades')).toEqual({ ok: true });
    expect(client.retryCounts()).toEqual({ network: 1 });
  });

  it('does not retry a 400 and puts the response body in the message', async () => {
    server = await startServer((_req, res) => {
      sendJson(res, 400, { error: 'max historical activity offset of 3000 exceeded' });
    });
    const { client, delays } = makeClient();
    const error = await failure(client.getJson(`${server.url}/activity?user=u&offset=3001`, 'data:trades'));
    expect(error).toBeInstanceOf(HttpStatusError);
    expect((error as HttpStatusError).status).toBe(400);
    expect(error.message).toContain(`GET ${server.url}/activity?user=u&offset=3001 (attempt 1/5) failed with HTTP 400`);
    expect(error.message).toContain('{"error":"max historical activity offset of 3000 exceeded"}');
    expect(error.message).toContain('not retried');
    expect(server.requests).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it('gives up after maxAttempts with the last error, whose cause is the transport error', async () => {
    server = await startServer((req) => {
      req.socket.destroy();
    });
    const { client, delays } = makeClient({ maxAttempts: 3 });
    const error = await failure(client.getJson(`${server.url}/x?a=1`, 'data:trades'));
    expect(error).toBeInstanceOf(HttpNetworkError);
    // `a` is not a parameter the source sends, so its value is redacted from the message.
    expect(error.message).toContain(`GET ${server.url}/x?a=*** (attempt 3/3) failed: network error`);
    expect(error.cause).toBeInstanceOf(Error);
    expect(describeError(error)).toContain('caused by');
    expect(server.requests).toHaveLength(3);
    expect(delays).toHaveLength(2);
    expect(client.retryCounts()).toEqual({ network: 2 });
  });

  it('times out a request that never answers and retries it as class "timeout"', async () => {
    server = await startServer((_req, res, index) => {
      if (index > 0) sendJson(res, 200, { ok: true });
      // The first request is left hanging.
    });
    const { client } = makeClient({ timeoutMs: 150 });
    expect(await client.getJson(`${server.url}/x`, 'data:trades')).toEqual({ ok: true });
    expect(client.retryCounts()).toEqual({ timeout: 1 });
  });

  it('retries a connection refused, and the final message names the URL', async () => {
    const closed = await startServer(() => undefined);
    const url = `${closed.url}/markets?condition_ids=0xabc`;
    await closed.close();
    const { client } = makeClient({ maxAttempts: 2 });
    const error = await failure(client.getJson(url, 'gamma:markets'));
    expect(error.message).toContain(`GET ${url} (attempt 2/2) failed: network error ECONNREFUSED`);
    expect(client.retryCounts()).toEqual({ network: 1 });
  });
});

describe('HttpClient transport', () => {
  it('sends every attempt through the rate limiter', async () => {
    server = await startServer((_req, res, index) => {
      if (index < 2) sendJson(res, 503, { error: 'busy' }, { 'retry-after': '0' });
      else sendJson(res, 200, { ok: true });
    });
    const limiter = new RateLimiter(FAST_LIMITS);
    const acquired: string[] = [];
    const acquire = limiter.acquire.bind(limiter);
    limiter.acquire = (key, signal) => {
      acquired.push(key);
      return acquire(key, signal);
    };
    const { client } = makeClient({ rateLimiter: limiter });
    await client.getJson(`${server.url}/x`, 'gamma:events');
    expect(acquired).toEqual(['gamma:events', 'gamma:events', 'gamma:events']);
  });

  it('keeps at most maxInFlight requests open per host', async () => {
    let open = 0;
    let peak = 0;
    server = await startServer((_req, res) => {
      open += 1;
      peak = Math.max(peak, open);
      setTimeout(() => {
        open -= 1;
        sendJson(res, 200, { ok: true });
      }, 30);
    });
    const { client } = makeClient({ maxInFlight: 2 });
    await Promise.all(Array.from({ length: 8 }, () => client.getJson(`${server?.url}/x`, 'data:trades')));
    expect(peak).toBe(2);
  });

  it('asks for compression and decodes gzip bodies', async () => {
    server = await startServer((_req, res) => {
      const body = gzipSync(JSON.stringify({ data: [{ a: 1 }] }));
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': body.length });
      res.end(body);
    });
    const { client } = makeClient();
    expect(await client.getJson(`${server.url}/x`, 'data:trades')).toEqual({ data: [{ a: 1 }] });
    expect(server.requests[0]?.headers['accept-encoding']).toContain('gzip');
  });

  it('stops at once when the caller aborts, without retrying', async () => {
    server = await startServer(() => undefined);
    const { client, delays } = makeClient({ timeoutMs: 10_000 });
    const controller = new AbortController();
    const pending = failure(client.getJson(`${server.url}/x`, 'data:trades', controller.signal));
    setTimeout(() => controller.abort(new Error('run stopped')), 50);
    const error = await pending;
    expect(error.message).toBe('run stopped');
    expect(delays).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('refuses an endpoint key that has no rate limit before sending anything', async () => {
    server = await startServer((_req, res) => sendJson(res, 200, {}));
    const { client } = makeClient();
    await expect(client.getJson(`${server.url}/x`, 'data:nope')).rejects.toThrow(/no rate limit configured/);
    expect(server.requests).toHaveLength(0);
  });
});

describe('parseRetryAfter and bodySnippet', () => {
  it('reads delta-seconds and HTTP-dates, and ignores garbage', () => {
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    expect(parseRetryAfter('5', now)).toBe(5000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('makes one short line of a body', () => {
    expect(bodySnippet('')).toBe('(empty body)');
    expect(bodySnippet('a\r\n\tb')).toBe('"a b"');
    expect(bodySnippet('x'.repeat(500))).toBe(`"${'x'.repeat(160)}…"`);
  });
});

describe('HttpClient reads the Data API v2 error body (code, retryable, parameter, trace_id)', () => {
  it('a 400 invalid_request naming a parameter is not retried; the error carries the body and its message names parameter, text and trace_id', async () => {
    server = await startServer((_req, res) => {
      sendJson(res, 400, { error: 'filter_amount must be at least 0.01', code: 'invalid_request', retryable: false, trace_id: 't-400', parameter: 'filter_amount' });
    });
    const { client, delays } = makeClient();
    const error = await failure(client.getJson(`${server.url}/v2/trades?user=0xabc&filter_amount=0.000001`, 'data:trades'));
    expect(error).toBeInstanceOf(HttpStatusError);
    expect((error as HttpStatusError).apiError).toEqual({
      code: 'invalid_request',
      error: 'filter_amount must be at least 0.01',
      retryable: false,
      traceId: 't-400',
      parameter: 'filter_amount',
    });
    expect(error.message).toContain('failed with HTTP 400; "filter_amount must be at least 0.01" (code "invalid_request", parameter "filter_amount", trace_id "t-400")');
    expect(describeError(error)).toContain('rejected the parameter "filter_amount"');
    expect(isTransient(error)).toBe(false);
    expect(server.requests).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it('a 503 request_timeout with retryable:true is retried after its Retry-After', async () => {
    server = await startServer((_req, res, index) => {
      if (index === 0) sendJson(res, 503, { error: 'pool acquire budget', code: 'request_timeout', retryable: true, trace_id: 't-503' }, { 'retry-after': '2' });
      else sendJson(res, 200, { ok: true });
    });
    const { client, delays } = makeClient();
    expect(await client.getJson(`${server.url}/v2/trades?user=0xabc`, 'data:trades')).toEqual({ ok: true });
    expect(delays).toEqual([2000]);
    expect(client.retryCounts()).toEqual({ '503': 1 });
  });

  it.each([
    [500, 'internal'],
    [503, 'dependency_unavailable'],
    [429, 'rate_limited'],
  ])('a %i %s with retryable:false is not retried (the flag stops a retry the status alone would allow)', async (status, code) => {
    server = await startServer((_req, res) => {
      sendJson(res, status, { error: 'do not retry this', code, retryable: false, trace_id: 't-x' }, { 'retry-after': '1' });
    });
    const { client, delays } = makeClient();
    const error = await failure(client.getJson(`${server.url}/v2/trades?user=0xabc`, 'data:trades'));
    expect((error as HttpStatusError).status).toBe(status);
    expect(describeError(error)).toContain(`marked this failure not retryable (code ${code})`);
    expect(isTransient(error)).toBe(false);
    expect(server.requests).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it('bodies that are not v2 errors keep the handling by status: a CDN 429 text and a Gamma {type, error} 500 are retried', async () => {
    server = await startServer((_req, res, index) => {
      if (index === 0) {
        res.writeHead(429, { 'content-type': 'text/plain' }).end('error code: 1015');
      } else if (index === 1) sendJson(res, 500, { type: 'error', error: 'boom' });
      else sendJson(res, 200, { ok: true });
    });
    const { client } = makeClient();
    expect(await client.getJson(`${server.url}/markets?id=1`, 'gamma:markets')).toEqual({ ok: true });
    expect(client.retryCounts()).toEqual({ '429': 1, '5xx': 1 });
  });
});
