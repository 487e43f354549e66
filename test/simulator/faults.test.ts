import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import type { FaultRates, RunningSimulator } from '../../src/simulator/index.js';
import { NOW } from './helpers.js';

const OPTIONS = { seed: 5, wallets: 10, maxTradesPerWallet: 300, nowSeconds: NOW } as const;

describe('fault injection, stats, latency and shutdown', () => {
  let sim: RunningSimulator;
  let wallet: string;
  let routes: string[];

  beforeAll(async () => {
    sim = await startSimulator({ ...OPTIONS, retryAfterSeconds: 3 });
    wallet = sim.dataset.wallets().find((w) => sim.dataset.tradeCount(w) > 50)!;
    const conditionId = sim.dataset.conditionIds(wallet).resolvable[0]!;
    routes = [
      `/v2/trades?user=${wallet}&taker_only=false&start=1`,
      `/markets?condition_ids=${conditionId}&closed=true`,
      `/events?id=${sim.dataset.eventIdsOfMarket(conditionId)[0]!}&closed=true`,
    ];
  });
  afterAll(async () => {
    await sim.close();
  });

  const withFault = async (faults: FaultRates, check: (response: Response, body: string) => void): Promise<void> => {
    sim.setFaults(faults);
    try {
      for (const route of routes) {
        const response = await fetch(`${sim.url}${route}`);
        check(response, await response.text());
      }
    } finally {
      sim.setFaults({});
    }
  };

  it('rateLimitedWithRetryAfter: 429, Retry-After, v2 body with code rate_limited and retryable true', async () => {
    await withFault({ rateLimitedWithRetryAfter: 1 }, (response, body) => {
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBe('3');
      const parsed = JSON.parse(body) as Record<string, unknown>;
      expect(parsed).toMatchObject({ code: 'rate_limited', retryable: true });
      expect(parsed.trace_id).toBe(response.headers.get('x-trace-id'));
    });
  });

  it('rateLimitedWithoutRetryAfter: 429 with no Retry-After and the Cloudflare 1015 text body', async () => {
    await withFault({ rateLimitedWithoutRetryAfter: 1 }, (response, body) => {
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBeNull();
      expect(response.headers.get('content-type')).toContain('text/plain');
      expect(body).toBe('error code: 1015');
    });
  });

  it('unavailable: 503 with Retry-After and code request_timeout', async () => {
    await withFault({ unavailable: 1 }, (response, body) => {
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('3');
      expect(JSON.parse(body)).toMatchObject({ code: 'request_timeout', retryable: true });
    });
  });

  it('serverError: 500 with code internal', async () => {
    await withFault({ serverError: 1 }, (response, body) => {
      expect(response.status).toBe(500);
      expect(JSON.parse(body)).toMatchObject({ code: 'internal', retryable: true });
    });
  });

  it('htmlErrorPage: 502 text/html Cloudflare "Bad gateway" page', async () => {
    await withFault({ htmlErrorPage: 1 }, (response, body) => {
      expect(response.status).toBe(502);
      expect(response.headers.get('content-type')).toContain('text/html');
      expect(body).toContain('Bad gateway');
      expect(() => JSON.parse(body)).toThrow();
    });
  });

  it('truncatedJson: 200 application/json whose body does not parse', async () => {
    await withFault({ truncatedJson: 1 }, (response, body) => {
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('application/json');
      expect(body.length).toBeGreaterThan(0);
      expect(() => JSON.parse(body)).toThrow();
    });
  });

  it('connectionReset: the socket is destroyed, so fetch rejects; lifting the fault restores service', async () => {
    sim.setFaults({ connectionReset: 1 });
    for (const route of routes) await expect(fetch(`${sim.url}${route}`)).rejects.toThrow();
    sim.setFaults({});
    expect((await fetch(`${sim.url}${routes[0]!}`)).status).toBe(200);
  });

  it('counts every request by route, trade requests by lower-cased wallet, and injected faults by kind', async () => {
    sim.resetStats();
    const upper = `0x${wallet.slice(2).toUpperCase()}`;
    await fetch(`${sim.url}/v2/trades?user=${upper}`);
    await fetch(`${sim.url}/v2/trades?user=${wallet}&start=1`);
    await fetch(`${sim.url}${routes[1]!}`);
    await fetch(`${sim.url}/nope`);
    sim.setFaults({ serverError: 1 });
    await fetch(`${sim.url}${routes[0]!}`);
    await fetch(`${sim.url}${routes[2]!}`);
    sim.setFaults({});
    const stats = sim.stats();
    expect(stats.requests).toEqual({ 'data:trades': 3, 'gamma:markets': 1, 'gamma:events': 1, other: 1 });
    expect(stats.tradeRequestsByWallet).toEqual({ [wallet]: 3 });
    expect(stats.faultsInjected.serverError).toBe(2);
    expect(stats.faultsInjected.connectionReset).toBe(0);
    sim.resetStats();
    expect(sim.stats().requests['data:trades']).toBe(0);
  });

  it('draws faults from faultSeed: same seed, same sequence; rates apply roughly as configured', async () => {
    const statuses = async (): Promise<number[]> => {
      const other = await startSimulator({ ...OPTIONS, faultSeed: 99, faults: { serverError: 0.3 } });
      try {
        const out: number[] = [];
        for (let i = 0; i < 100; i += 1) out.push((await fetch(`${other.url}${routes[1]!}`)).status);
        return out;
      } finally {
        await other.close();
      }
    };
    const [a, b] = [await statuses(), await statuses()];
    expect(a).toEqual(b);
    const failed = a.filter((s) => s === 500).length;
    expect(failed).toBeGreaterThan(15);
    expect(failed).toBeLessThan(45);
  });

  it('enforces configured rate limits with a sliding window: 429 with Retry-After, counted as rateLimitEnforced', async () => {
    const limited = await startSimulator({ ...OPTIONS, rateLimits: { 'data:trades': { requests: 3, perMs: 60_000 } } });
    try {
      const url = `${limited.url}/v2/trades?user=${wallet}`;
      for (let i = 0; i < 3; i += 1) expect((await fetch(url)).status).toBe(200);
      const rejected = await fetch(url);
      expect(rejected.status).toBe(429);
      expect(Number(rejected.headers.get('retry-after'))).toBeGreaterThanOrEqual(59);
      expect((await rejected.json()) as unknown).toMatchObject({ code: 'rate_limited', retryable: true });
      expect((await fetch(`${limited.url}${routes[1]!}`)).status).toBe(200);
      expect(limited.stats().faultsInjected.rateLimitEnforced).toBe(1);
      expect(limited.stats().requests['data:trades']).toBe(4);
    } finally {
      await limited.close();
    }
  });

  it('adds the configured latency before responding', async () => {
    sim.setLatency({ min: 80, max: 80 });
    try {
      const started = performance.now();
      expect((await fetch(`${sim.url}${routes[1]!}`)).status).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(75);
    } finally {
      sim.setLatency({ min: 0, max: 0 });
    }
  });

  it('closes promptly with a delayed response pending and keep-alive sockets open', async () => {
    const slow = await startSimulator({ ...OPTIONS, latencyMs: { min: 30_000, max: 30_000 } });
    slow.setLatency({ min: 0, max: 0 });
    await (await fetch(`${slow.url}${routes[1]!}`)).text(); // leaves an idle keep-alive socket behind
    slow.setLatency({ min: 30_000, max: 30_000 });
    const pending = fetch(`${slow.url}${routes[1]!}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    await slow.close();
    expect(performance.now() - started).toBeLessThan(1_000);
    await expect(pending).rejects.toThrow();
  });
});
