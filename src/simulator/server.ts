/**
 * The simulator's HTTP server: Data API v2 `/v2/trades`, `/v2/activity`, `/v2/activity/combos`, `/v2/resolutions`,
 * `/v2/leaderboard`, `/v2/positions`, `/v2/user-pnl` and Gamma `/markets`, `/events`,
 * `/markets/keyset`, `/events/keyset` on one port, with seeded fault injection, optional rate-limit enforcement,
 * latency, request statistics and a clock that `advance` moves.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { handleActivity, handleComboActivity } from './activity-route.js';
import { createChainRpc } from './chain-rpc.js';
import { SimChain } from './sim-chain.js';
import { Dataset } from './dataset.js';
import type { FaultKind } from './faults.js';
import { FAULT_KINDS, SlidingWindow, checkFaultRates, faultResponse, pickFault } from './faults.js';
import {
  handleEvents,
  handleEventsKeyset,
  handleMarkets,
  handleMarketsKeyset,
  keysetMissing,
  legacyGone,
} from './gamma-routes.js';
import type { SimResponse } from './http.js';
import { v2Error } from './http.js';
import { handleLeaderboard, standingsMemo } from './leaderboard-route.js';
import type { Misreport } from './pnl-routes.js';
import { handlePositions, handleUserPnl } from './pnl-routes.js';
import { Rng, Stream } from './prng.js';
import { handleResolutions } from './resolutions-route.js';
import { handleTrades } from './trades-route.js';
import type {
  FaultRates,
  GammaPaging,
  GlobalFeedMode,
  RunningSimulator,
  SimRoute,
  SimulatorOptions,
  SimulatorStats,
} from './types.js';

type Route = SimRoute | 'other';

const ROUTES: Record<string, SimRoute> = {
  '/v2/trades': 'data:trades',
  '/v2/activity': 'data:activity',
  '/v2/activity/combos': 'data:activity-combos',
  '/v2/resolutions': 'data:resolutions',
  '/v2/leaderboard': 'data:leaderboard',
  '/v2/positions': 'data:positions',
  '/v2/user-pnl': 'data:user-pnl',
  '/markets': 'gamma:markets',
  '/markets/keyset': 'gamma:markets',
  '/events': 'gamma:events',
  '/events/keyset': 'gamma:events',
};

const GAMMA_PAGING: readonly GammaPaging[] = ['keyset', 'legacy', 'both'];

/** Where the simulated Polygon JSON-RPC answers (sim-chain.ts). */
export const CHAIN_RPC_PATH = '/rpc';

function emptyStats(): SimulatorStats {
  const faultsInjected: Record<string, number> = { rateLimitEnforced: 0 };
  for (const kind of FAULT_KINDS) faultsInjected[kind] = 0;
  return {
    // The other routes appear once asked: most tests never touch them.
    requests: { 'data:trades': 0, 'gamma:markets': 0, 'gamma:events': 0, other: 0 },
    requestsByPath: {},
    tradeRequestsByWallet: {},
    tradeRowsServed: 0,
    tradeRowsByWallet: {},
    feedRequests: 0,
    feedRowsServed: 0,
    activityRequestsByWallet: {},
    faultsInjected,
  };
}

function checkGamma(paging: GammaPaging): GammaPaging {
  if (!GAMMA_PAGING.includes(paging)) {
    throw new RangeError(`gamma must be one of ${GAMMA_PAGING.join(', ')}, got ${JSON.stringify(paging)}`);
  }
  return paging;
}

function checkGlobalFeed(mode: GlobalFeedMode): GlobalFeedMode {
  if (mode.takerOnly !== undefined && mode.takerOnly !== 'honoured' && mode.takerOnly !== 'ignored') {
    throw new RangeError(`globalFeed.takerOnly must be honoured or ignored, got ${JSON.stringify(mode.takerOnly)}`);
  }
  const seconds = mode.windowSeconds;
  if (seconds !== undefined && !(Number.isSafeInteger(seconds) && seconds >= 1)) {
    throw new RangeError(`globalFeed.windowSeconds must be a whole number of seconds >= 1, got ${String(seconds)}`);
  }
  return { ...mode };
}

function checkLatency(latency: { min: number; max: number }): { min: number; max: number } {
  const { min, max } = latency;
  if (!(Number.isFinite(min) && Number.isFinite(max) && min >= 0 && max >= min)) {
    throw new RangeError(`latency must satisfy 0 <= min <= max, got ${JSON.stringify(latency)}`);
  }
  return { min, max };
}

function checkMisreport(misreport: SimulatorOptions['misreport']): Misreport | undefined {
  if (misreport === undefined) return undefined;
  if (!/^0x[0-9a-fA-F]{40}$/.test(misreport.wallet) || !Number.isFinite(misreport.usdc) || misreport.usdc === 0) {
    throw new RangeError(`misreport must name a wallet (0x + 40 hex) and a non-zero finite USDC amount, got ${JSON.stringify(misreport)}`);
  }
  return { wallet: misreport.wallet.toLowerCase(), usdc: misreport.usdc };
}

/** Starts the simulator; resolves once it listens. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const dataset = new Dataset(options);
  const faultSeed = options.faultSeed ?? dataset.seed;
  const faultRng = Rng.of(faultSeed, Stream.faults);
  const latencyRng = Rng.of(faultSeed, Stream.latency);
  const retryAfterSeconds = options.retryAfterSeconds ?? 1;
  if (!Number.isInteger(retryAfterSeconds) || retryAfterSeconds < 0) {
    throw new RangeError(`retryAfterSeconds must be a non-negative integer, got ${retryAfterSeconds}`);
  }
  // A data clock placed by `clockSeconds` is the server's "now" too, unless told otherwise.
  const startNow = options.nowSeconds ?? options.clockSeconds ?? Math.floor(Date.now() / 1000);
  const startClock = dataset.clockSeconds;
  // The server's clock moves with the data clock, so the default `end` (now + 1 day) never hides new fills.
  const now = (): number => startNow + (dataset.clockSeconds - startClock);
  let gamma = checkGamma(options.gamma ?? 'both');
  const misreport = checkMisreport(options.misreport);
  let globalFeed = checkGlobalFeed(options.globalFeed ?? {});
  const standings = standingsMemo(dataset);
  const cursorSecret = `polymarket-sim-${dataset.seed}`;
  let faults: FaultRates = checkFaultRates(options.faults ?? {});
  let latency = checkLatency(options.latencyMs ?? { min: 0, max: 0 });
  const limiters = new Map<SimRoute, SlidingWindow>();
  for (const [route, limit] of Object.entries(options.rateLimits ?? {})) {
    if (limit) limiters.set(route as SimRoute, new SlidingWindow(limit));
  }

  const chain = new SimChain(dataset, options.chain?.plan);
  const chainRpc = createChainRpc(chain, { maxBlockRange: options.chain?.maxBlockRange, maxResults: options.chain?.maxResults });

  let stats = emptyStats();
  let requestNo = 0;
  let closing = false;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const count = (record: Record<string, number>, key: string): void => {
    record[key] = (record[key] ?? 0) + 1;
  };

  const realResponse = (path: string, query: URLSearchParams, traceId: string): SimResponse => {
    const keysetPath = path.endsWith('/keyset');
    if (path === '/markets' || path === '/events') {
      if (gamma === 'keyset') return legacyGone();
    } else if (keysetPath && gamma === 'legacy') {
      return keysetMissing();
    }
    switch (path) {
      case '/v2/trades':
        return handleTrades(query, { dataset, cursorSecret, nowSeconds: now(), traceId, feed: globalFeed });
      case '/v2/activity':
        return handleActivity(query, { dataset, cursorSecret, nowSeconds: now(), traceId });
      case '/v2/activity/combos':
        return handleComboActivity(query, { dataset, cursorSecret, nowSeconds: now(), traceId });
      case '/v2/resolutions':
        return handleResolutions(query, dataset, traceId);
      case '/v2/leaderboard': {
        const nowSeconds = now();
        return handleLeaderboard(query, {
          dataset,
          cursorSecret,
          nowSeconds,
          traceId,
          standings: (period, category) => standings(nowSeconds, period, category),
        });
      }
      case '/v2/positions':
        return handlePositions(query, { dataset, cursorSecret, nowSeconds: now(), traceId, misreport });
      case '/v2/user-pnl':
        return handleUserPnl(query, { dataset, cursorSecret, nowSeconds: now(), traceId, misreport });
      case '/markets':
        return handleMarkets(query, dataset);
      case '/events':
        return handleEvents(query, dataset);
      case '/markets/keyset':
        return handleMarketsKeyset(query, dataset);
      case '/events/keyset':
        return handleEventsKeyset(query, dataset);
      default:
        return v2Error(404, 'not_found', 'route not found', traceId);
    }
  };

  const send = (res: ServerResponse, response: SimResponse, traceId: string): void => {
    const headers = { ...response.headers, 'x-trace-id': traceId };
    res.writeHead(response.status, headers);
    res.end(response.body);
    const req = res.req as IncomingMessage | undefined;
    options.onExchange?.({ method: req?.method ?? 'GET', url: req?.url ?? '', status: response.status, headers, body: response.body });
  };

  const respond = (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: URLSearchParams,
    traceId: string,
    fault: FaultKind | 'rateLimitEnforced' | undefined,
    retryAfterMs: number,
  ): void => {
    if (closing) return;
    if (fault === 'connectionReset') {
      req.socket.destroy();
      return;
    }
    if (fault === 'rateLimitEnforced') {
      const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
      send(res, v2Error(429, 'rate_limited', 'rate limit exceeded', traceId, { retryAfter: seconds }), traceId);
      return;
    }
    if (fault !== undefined && fault !== 'truncatedJson') {
      send(res, faultResponse(fault, traceId, retryAfterSeconds), traceId);
      return;
    }
    let response: SimResponse;
    try {
      response = realResponse(path, query, traceId);
    } catch (error) {
      response = v2Error(500, 'internal', `simulator bug: ${(error as Error).message}`, traceId);
    }
    if (fault === 'truncatedJson') {
      // No content-length: the body ends cleanly at the HTTP level, so only the JSON is broken.
      const cut = Math.max(1, Math.min(response.body.length - 1, Math.floor(response.body.length * 0.6)));
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'x-trace-id': traceId });
      res.write(response.body.slice(0, cut));
      res.end();
      return;
    }
    if (path === '/v2/trades' && response.status === 200 && response.rows !== undefined) {
      stats.tradeRowsServed += response.rows;
      const user = query.get('user');
      if (user !== null) {
        const wallet = user.trim().toLowerCase();
        stats.tradeRowsByWallet[wallet] = (stats.tradeRowsByWallet[wallet] ?? 0) + response.rows;
      } else {
        stats.feedRowsServed += response.rows;
      }
    }
    send(res, response, traceId);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    // The chain's JSON-RPC reads its own body, and has its own counters and faults.
    if ((req.url ?? '').split('?')[0]?.replace(/\/+$/, '') === CHAIN_RPC_PATH) {
      count(stats.requests, 'rpc');
      chainRpc.handle(req, res);
      return;
    }
    req.resume();
    requestNo += 1;
    const traceId = Rng.of(dataset.seed, Stream.trace, requestNo).hex(4);
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://simulator.invalid');
    } catch {
      count(stats.requests, 'other');
      send(res, v2Error(400, 'invalid_request', 'bad request url', traceId), traceId);
      return;
    }
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (req.method !== 'GET' && path.startsWith('/v2/') && ROUTES[path]) {
      count(stats.requests, 'other');
      send(res, v2Error(405, 'method_not_allowed', `method ${req.method ?? '?'} is not allowed on ${path}`, traceId), traceId);
      return;
    }
    const known = req.method === 'GET' ? ROUTES[path] : undefined;
    const route: Route = known ?? 'other';
    count(stats.requests, route);
    if (known) count(stats.requestsByPath, path);
    if (route === 'data:trades' || route === 'data:activity' || route === 'data:activity-combos') {
      const user = url.searchParams.get('user');
      const byWallet = route === 'data:trades' ? stats.tradeRequestsByWallet : stats.activityRequestsByWallet;
      if (user !== null) count(byWallet, user.trim().toLowerCase());
      else if (route === 'data:trades') stats.feedRequests += 1;
    }

    let fault: FaultKind | 'rateLimitEnforced' | undefined;
    let retryAfterMs = 0;
    if (route !== 'other') {
      const wait = limiters.get(route)?.admit(Date.now());
      if (wait !== undefined) {
        fault = 'rateLimitEnforced';
        retryAfterMs = wait;
      } else {
        fault = pickFault(faults, faultRng.next());
      }
      if (fault !== undefined) count(stats.faultsInjected, fault);
    }

    const delay = latency.max > 0 ? latency.min + latencyRng.next() * (latency.max - latency.min) : 0;
    if (delay <= 0) {
      respond(req, res, known ? path : '', url.searchParams, traceId, fault, retryAfterMs);
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      respond(req, res, known ? path : '', url.searchParams, traceId, fault, retryAfterMs);
    }, delay);
    timers.add(timer);
  };

  const server = createServer(handle);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closed: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    dataset,
    chain: {
      url: `http://${urlHost}:${port}${CHAIN_RPC_PATH}`,
      planted: () => chain.planted(),
      head: () => chain.head(),
      requests: () => chainRpc.requests(),
      getLogsCalls: () => chainRpc.getLogsCalls(),
      resetCounts: () => chainRpc.resetCounts(),
      setCaps: (caps) => chainRpc.setCaps(caps),
      failNext: (fault, times, method) => chainRpc.failNext(fault, times, method),
    },
    nowSeconds: now,
    advance: (advance) => dataset.advance(advance),
    stats: () => structuredClone(stats),
    resetStats: () => {
      stats = emptyStats();
    },
    setFaults: (next) => {
      faults = checkFaultRates(next);
    },
    setLatency: (next) => {
      latency = checkLatency(next);
    },
    setGamma: (next) => {
      gamma = checkGamma(next);
    },
    setGlobalFeed: (next) => {
      globalFeed = checkGlobalFeed(next);
    },
    close: () => {
      closed ??= new Promise<void>((resolve, reject) => {
        closing = true;
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        for (const socket of sockets) socket.destroy();
        sockets.clear();
      });
      return closed;
    },
  };
}
