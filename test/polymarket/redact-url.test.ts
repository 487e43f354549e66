import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, describeError } from '../../src/lib/errors.js';
import { checkBaseUrl } from '../../src/polymarket/base-url.js';
import { HttpClient } from '../../src/polymarket/http-client.js';
import { HttpError } from '../../src/polymarket/http-errors.js';
import { createPolymarketSource } from '../../src/polymarket/polymarket-source.js';
import { RateLimiter } from '../../src/polymarket/rate-limiter.js';
import { redactUrl } from '../../src/polymarket/redact-url.js';
import { FAST_LIMITS, recordingSleep, sendJson, startServer, type TestServer } from './helpers.js';

const SECRET = 'S3CRET-pa55';
const TOKEN = 'T0KEN-abc123';

let server: TestServer | undefined;
let client: HttpClient | undefined;

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('redactUrl', () => {
  it('hides userinfo, the values of parameters the source does not send itself, and the fragment', () => {
    expect(redactUrl(`http://user:${SECRET}@host:8080/base/?token=${TOKEN}#${SECRET}`)).toBe('http://***@host:8080/base/?token=***#***');
    expect(redactUrl(`https://${TOKEN}@data-api.polymarket.com`)).toBe('https://***@data-api.polymarket.com/');
    expect(redactUrl(new URL(`https://h/v2/trades?user=0xabc&api_key=${TOKEN}&cursor=c1`))).toBe('https://h/v2/trades?user=0xabc&api_key=***&cursor=c1');
  });

  it('leaves the URLs the source builds exactly as they are', () => {
    const own = 'https://data-api.polymarket.com/v2/trades?user=0x379a&taker_only=false&start=1&limit=1000&filter_type=TOKENS&filter_amount=0&cursor=eyJk';
    expect(redactUrl(own)).toBe(own);
    const gamma = 'https://gamma-api.polymarket.com/markets?condition_ids=0x1&condition_ids=0x2&closed=true&limit=2&include_tag=true';
    expect(redactUrl(gamma)).toBe(gamma);
  });

  it('redacts text that is not an http(s) URL as text', () => {
    expect(redactUrl(`user:${SECRET}@host`)).toBe('***@host');
    expect(redactUrl(`ftp://u:${SECRET}@gamma/x?k=${TOKEN}`)).toBe('ftp://***@gamma/x?***');
    expect(redactUrl('not a url')).toBe('not a url');
  });
});

describe('base URLs with credentials, a query or a fragment', () => {
  it('are refused with a ConfigError naming the option, the secret redacted', () => {
    const cases: [string, RegExp][] = [
      [`http://user:${SECRET}@host/?token=${TOKEN}`, /^--data-api-url "http:\/\/\*\*\*@host\/\?token=\*\*\*" carries credentials/],
      [`http://host/?token=${TOKEN}`, /^--data-api-url "http:\/\/host\/\?token=\*\*\*" has a query string or fragment; refused/],
      [`http://host/#${TOKEN}`, /has a query string or fragment/],
      [`user:${SECRET}@host`, /^--data-api-url "\*\*\*@host" is not an http\(s\) URL/],
    ];
    for (const [value, message] of cases) {
      const error = thrown(() => checkBaseUrl('--data-api-url', value, 'https://data-api.polymarket.com'));
      expect(error, value).toBeInstanceOf(ConfigError);
      expect(error.message, value).toMatch(message);
      expect(describeError(error), value).not.toContain(SECRET);
      expect(describeError(error), value).not.toContain(TOKEN);
    }
  });

  it('are refused by createPolymarketSource for both APIs, naming the config key', () => {
    const data = thrown(() => createPolymarketSource({ dataApiUrl: `https://user:${SECRET}@data.example/?token=${TOKEN}` }));
    expect(data).toBeInstanceOf(ConfigError);
    expect(data.message).toMatch(/^dataApiUrl "https:\/\/\*\*\*@data.example\/\?token=\*\*\*" carries credentials/);
    const gamma = thrown(() => createPolymarketSource({ gammaApiUrl: `https://gamma.example/api?token=${TOKEN}` }));
    expect(gamma.message).toMatch(/^gammaApiUrl "https:\/\/gamma.example\/api\?token=\*\*\*" has a query string/);
    for (const error of [data, gamma]) expect(describeError(error)).not.toMatch(new RegExp(`${SECRET}|${TOKEN}`));
  });

  it('accept a base URL with a path prefix and a trailing slash', async () => {
    server = await startServer((_req, res) => sendJson(res, 200, { data: [], pagination: { has_more: false, next_cursor: null } }));
    const source = createPolymarketSource({ dataApiUrl: `${server.url}/proxy/polymarket/`, rateLimits: FAST_LIMITS });
    try {
      for await (const _page of source.walletTrades('0x379a410a36c101e3b8dfb6c90d1176eb0def4b1a')) void _page;
    } finally {
      await source.close();
    }
    expect(server.requests[0]?.path).toBe('/proxy/polymarket/v2/trades');
  });
});

describe('URLs in the HTTP client\'s messages and log lines', () => {
  it('never carry a query secret: not in retry log lines, the error message, its cause chain or its url field', async () => {
    server = await startServer((_req, res, index) => {
      if (index < 2) sendJson(res, 503, { error: 'busy' }, { 'retry-after': '0' });
      else sendJson(res, 400, { error: 'bad' });
    });
    const lines: string[] = [];
    client = new HttpClient({
      rateLimiter: new RateLimiter(FAST_LIMITS),
      timeoutMs: 2000,
      maxAttempts: 5,
      maxInFlight: 1,
      sleep: recordingSleep().sleep,
      logger: pino({ level: 'debug' }, { write: (line: string) => lines.push(line) }),
    });
    let error: unknown;
    try {
      await client.getJson(`${server.url}/v2/trades?user=0xabc&access_token=${TOKEN}`, 'data:trades');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(HttpError);
    expect(lines).toHaveLength(2);
    for (const text of [...lines, describeError(error), (error as HttpError).url]) {
      expect(text).not.toContain(TOKEN);
      expect(text).toContain('access_token=***');
    }
    expect(describeError(error)).toContain(`GET ${server.url}/v2/trades?user=0xabc&access_token=*** (attempt 3/5) failed with HTTP 400`);
    // The real value is still what goes on the wire.
    expect(server.requests[0]?.query.get('access_token')).toBe(TOKEN);
  });

  it('refuses to send a URL with credentials, and says so without the secret', async () => {
    server = await startServer((_req, res) => sendJson(res, 200, {}));
    client = new HttpClient({ rateLimiter: new RateLimiter(FAST_LIMITS), timeoutMs: 2000, maxAttempts: 2, maxInFlight: 1 });
    const url = server.url.replace('http://', `http://user:${SECRET}@`);
    await expect(client.getJson(`${url}/x`, 'data:trades')).rejects.toThrow(/GET http:\/\/\*\*\*@127\.0\.0\.1:\d+\/x refused: the URL carries credentials/);
    await expect(client.getJson(`${url}/x`, 'data:trades')).rejects.not.toThrow(SECRET);
    expect(server.requests).toHaveLength(0);
  });
});
