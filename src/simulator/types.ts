/** Public types of the Polymarket simulator. */
import type { GroundTruthActivity } from './activity.js';
import type { ChainRpc } from './chain-rpc.js';
import type { ChainPlan, PlantedChain } from './sim-chain.js';

export type { GroundTruthActivity } from './activity.js';

/**
 * Probability (0..1) per request of each injected fault, on every known route (`/v2/trades`, `/v2/activity`,
 * `/v2/activity/combos`, `/v2/resolutions`, `/v2/leaderboard`, `/v2/positions`, `/v2/user-pnl`, `/markets`, `/events`).
 * At most one fault is injected per request; when the rates add up to more than 1, earlier keys win.
 */
export interface FaultRates {
  /** 429 with `Retry-After` and the v2 JSON error body (`code: 'rate_limited'`). */
  rateLimitedWithRetryAfter?: number;
  /** 429 without `Retry-After`, Cloudflare's plain-text `error code: 1015` body. */
  rateLimitedWithoutRetryAfter?: number;
  /** 503 with `Retry-After` and `code: 'request_timeout'`. */
  unavailable?: number;
  /** 500 with `code: 'internal'`. */
  serverError?: number;
  /** 502 with a Cloudflare-style HTML "Bad gateway" page. */
  htmlErrorPage?: number;
  /** 200 `application/json` whose body stops part-way. */
  truncatedJson?: number;
  /** The socket is destroyed without any response. */
  connectionReset?: number;
}

/**
 * The rate-limited routes, named as in the stats. `gamma:markets` covers `/markets` and `/markets/keyset`,
 * `gamma:events` covers `/events` and `/events/keyset`.
 */
export type SimRoute =
  | 'data:trades'
  | 'data:activity'
  | 'data:activity-combos'
  | 'data:resolutions'
  | 'data:leaderboard'
  | 'data:positions'
  | 'data:user-pnl'
  | 'gamma:markets'
  | 'gamma:events';

/**
 * Which Gamma listings answer. `both` (default) serves legacy `/markets`, `/events` and keyset `/markets/keyset`,
 * `/events/keyset`. `keyset` answers the legacy listings with 410 Gone, as after their announced retirement.
 * `legacy` answers the keyset routes with 404 (a Gamma that predates them); 404 rather than the documented
 * `503 keyset pagination is not configured` because clients retry a 503 as an outage before they fall back.
 */
export type GammaPaging = 'keyset' | 'legacy' | 'both';

/** One step of the simulator's clock: see `RunningSimulator.advance`. */
export interface AdvanceOptions {
  /** How far the clock moves, whole seconds (at least 1). */
  seconds: number;
  /** Seed of what this step adds. Default: derived from the dataset seed and the step number. */
  seed?: number;
  /** Share of wallets that trade in this step (0..1). Default 0.25. One wallet with fills always trades. */
  walletShare?: number;
  /** Share of the open markets whose end date has passed by the new clock that resolve in this step. Default 0.5. */
  resolveShare?: number;
  /**
   * Fills this step adds over all wallets, instead of `walletShare` (giving both is a RangeError): the share is chosen
   * so that the step adds at least this many fills and overshoots by at most one wallet's transactions (a handful of
   * fills); the summary's `fills` is the exact count. Default, when neither is given and the simulator has
   * `fillsPerDay`: `fillsPerDay` scaled to `seconds`. More fills than every wallet trading can give is a RangeError.
   */
  fills?: number;
  /**
   * A boundary transaction lands on its wallet's previous newest timestamp only when that is at most this many
   * seconds before the step; otherwise it lands in the step like any other. Default: no limit, except in the
   * per-day activity mode (`fills` or `fillsPerDay`), where it is DEFAULT_BOUNDARY_MAX_AGE_SECONDS (one hour): a
   * fill indexed late by years is no real feed's behaviour, and a refresh tailing the global feed looks back only
   * its overlap.
   */
  boundaryMaxAgeSeconds?: number;
}

/**
 * How the bare `/v2/trades` (the global feed) behaves. Default: as documented, the rolling current-plus-previous
 * month (UTC calendar months) with `taker_only=false` serving the maker rows too.
 */
export interface GlobalFeedMode {
  /** `ignored`: the feed serves the taker rows only, whatever `taker_only` says (maker rows missing). Default `honoured`. */
  takerOnly?: 'honoured' | 'ignored';
  /** A window of this many seconds back from now instead of the documented month and a bit (a shorter window). */
  windowSeconds?: number;
}

/** What one `advance` changed. */
export interface AdvanceSummary {
  /** 0 for the first advance. */
  step: number;
  /** The clock before and after; new fills are in (from, to], boundary transactions at their wallet's previous newest time. */
  fromSeconds: number;
  toSeconds: number;
  /** Wallets that got new fills, in index order. */
  wallets: string[];
  /** New fills in total. */
  fills: number;
  /** Condition ids of the markets listed in this step (touched by no earlier fill). */
  listedMarkets: string[];
  /** Condition ids of the markets that resolved in this step. */
  resolvedMarkets: string[];
}

export interface SimulatorOptions {
  /** Seed of all generated data. Default 1. */
  seed?: number;
  /** Number of generated wallets. Default 100. */
  wallets?: number;
  /** Cap on the heavy tail of generated trade counts. Default 100_000. */
  maxTradesPerWallet?: number;
  /** Extra wallets, appended after the generated ones, with exactly these trade counts. */
  whales?: number[];
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Delay added before each response, uniform in [min, max] ms. Default none. */
  latencyMs?: { min: number; max: number };
  faults?: FaultRates;
  /** Seed of the fault and latency draws. Default: `seed`. */
  faultSeed?: number;
  /** Value of `Retry-After` on injected 429 and 503 responses. Default 1. */
  retryAfterSeconds?: number;
  /** Sliding-window limits; a request past the limit gets a 429 with `Retry-After` (stats: `rateLimitEnforced`). */
  rateLimits?: Partial<Record<SimRoute, { requests: number; perMs: number }>>;
  /**
   * The simulator's "now" in epoch seconds, for the 3-year floor, the default `end` (now + 1 day), the leaderboard
   * windows and the global feed's window; every `advance` moves it forward by the same amount as the data clock.
   * Default: `clockSeconds` when given, else the wall clock. Generated trades run up to 2026-10-31, so a "now"
   * earlier than that hides the newest.
   */
  nowSeconds?: number;
  /**
   * Where the data clock starts, epoch seconds, DATA_END (2026-10-31T23:59:59Z, the end of the generated history) or
   * later; default DATA_END. The generated history is the same whatever this is, nothing happens between its end
   * and this clock, and the first `advance` adds its fills after it. Set near the wall clock, it puts what an
   * `advance` adds where a product reading times against its own clock (the global feed's current-plus-previous
   * month, the horizons of wallets it backfilled) expects recent fills, with no clock of the product's overridden.
   * Give such an `advance` `fills` (or the simulator `fillsPerDay`): by `walletShare` alone, a boundary transaction
   * may land on its wallet's newest generated timestamp, however old (see `boundaryMaxAgeSeconds`).
   */
  clockSeconds?: number;
  /** Which Gamma listings answer; default `both`. */
  gamma?: GammaPaging;
  /**
   * Global activity: fills over all wallets per simulated day, which every `advance` that names neither `fills` nor
   * `walletShare` adds (scaled to its length). Default: none (the `walletShare` default applies).
   */
  fillsPerDay?: number;
  /** How the global feed (`/v2/trades` without `user`) behaves; default as documented. */
  globalFeed?: GlobalFeedMode;
  /**
   * Called with every complete response the server sends (injected faults included; a reset connection
   * and a truncated body are not responses), e.g. for tests that hold the traffic to the API document.
   */
  onExchange?: (exchange: SimExchange) => void;
  /**
   * Makes `/v2/positions` and `/v2/user-pnl` misreport one wallet: `usdc` is added to its realized profit on every
   * user-PnL point and on its first closed position (by token id). For tests of a profit check that must notice.
   */
  misreport?: { wallet: string; usdc: number };
  /**
   * The simulated Polygon at `POST /rpc` (sim-chain.ts): every fill served, as OrderFilled logs; `plan` makes chosen
   * wallets' chains differ from the API; the caps are those a provider puts on `eth_getLogs` (default none).
   */
  chain?: { plan?: ChainPlan; maxBlockRange?: number; maxResults?: number };
}

/** One request and the response the simulator sent for it. */
export interface SimExchange {
  method: string;
  /** Path and query exactly as received. */
  url: string;
  status: number;
  /** Response headers, lower-case names. */
  headers: Record<string, string>;
  body: string;
}

/** One fill as the simulator serves it, reduced to the fields that identify it. */
export interface GroundTruthFill {
  proxy_wallet: string;
  transaction_hash: string;
  /** The row's `token_id`. */
  asset: string;
  side: string;
  price: number;
  size: number;
  timestamp: number;
  condition_id: string;
}

export interface SimulatorStats {
  /**
   * Requests by route: `data:trades`, `data:activity`, `data:activity-combos`, `data:resolutions`,
   * `data:leaderboard`, `gamma:markets`, `gamma:events`, `other`; faulted ones included. The activity, resolution
   * and leaderboard keys appear once asked.
   */
  requests: Record<string, number>;
  /** Requests by path of the known routes (`/markets`, `/markets/keyset`, …); faulted ones included. */
  requestsByPath: Record<string, number>;
  /** Lower-cased `user` → number of `/v2/trades` requests. */
  tradeRequestsByWallet: Record<string, number>;
  /** Rows served on `/v2/trades` in complete 200 responses: what a client actually received. */
  tradeRowsServed: number;
  /** Lower-cased `user` → rows served on `/v2/trades`, as `tradeRowsServed`. */
  tradeRowsByWallet: Record<string, number>;
  /** Requests to the global feed (`/v2/trades` without `user`); they are also counted under `data:trades`. */
  feedRequests: number;
  /** Rows served by the global feed in complete 200 responses; also counted in `tradeRowsServed`. */
  feedRowsServed: number;
  /** Lower-cased `user` → number of `/v2/activity` and `/v2/activity/combos` requests. */
  activityRequestsByWallet: Record<string, number>;
  /** Injected faults by `FaultRates` key, plus `rateLimitEnforced`. */
  faultsInjected: Record<string, number>;
}

/** The generated world: wallets, their fills, and the Gamma markets and events behind them. */
export interface SimDataset {
  /** Generated wallets plus whales. */
  readonly walletCount: number;
  /** The data clock: no fill is newer. 2026-10-31T23:59:59Z until the first `advance`. */
  readonly clockSeconds: number;
  /** Moves the data clock: new fills for a share of wallets, newly listed markets, resolutions. Deterministic. */
  advance(options: AdvanceOptions): AdvanceSummary;
  /** Lower-case 0x + 40 hex, deterministic from (seed, index). */
  walletAddress(index: number): string;
  /** All addresses in index order. */
  wallets(): string[];
  /**
   * The ground truth of the global feed: every fill of every wallet (maker and taker, dust included) with a block
   * time at or after `sinceSeconds`, in the feed's order (timestamp, then sequence, newest first), as
   * `/v2/trades?taker_only=false&filter_amount=0.000001` without `user` serves them while its window reaches back
   * that far. Each fill is also in `fills(wallet)`. Generates every wallet on first use for a given `sinceSeconds`.
   */
  globalFills(sinceSeconds: number): GroundTruthFill[];
  /** All fills of the wallet, maker and taker; 0 for an unknown wallet. */
  tradeCount(wallet: string): number;
  /** The ground truth: every fill (maker and taker, dust included), newest first, as `taker_only=false&start=1&filter_amount=0.000001` serves them. */
  fills(wallet: string): Iterable<GroundTruthFill>;
  /** Condition ids the wallet's fills touch, split by what Gamma can resolve. */
  conditionIds(wallet: string): { resolvable: string[]; unresolvable: string[] };
  /** Gamma ids of the market's parent events; empty when Gamma does not know the market. */
  eventIdsOfMarket(conditionId: string): string[];
  /** The Gamma market object the simulator serves, with its slim `events`. */
  market(conditionId: string): object | undefined;
  /** The Gamma event object the simulator serves, with nested `markets`. */
  event(eventId: string): object | undefined;
  /**
   * The ground truth of `/v2/activity` besides fills: every other row of the wallet (DEPOSIT and WITHDRAWAL
   * included), oldest first, as `start=1&sort_direction=ASC` serves them; empty for an unknown wallet.
   */
  activity(wallet: string): Iterable<GroundTruthActivity>;
  /** Every `/v2/activity/combos` row of the wallet, newest first, exactly as served now (legs carry live state). */
  comboActivity(wallet: string): Record<string, unknown>[];
  /** The `/v2/resolutions?condition=` row of the market as served now; undefined for a market Gamma does not know. */
  resolution(conditionId: string): Record<string, unknown> | undefined;
}

export interface RunningSimulator {
  /** E.g. `http://127.0.0.1:PORT`; Data API and Gamma routes both live on it. */
  url: string;
  port: number;
  dataset: SimDataset;
  /** The server's "now" (see `SimulatorOptions.nowSeconds`), moved by every `advance`. */
  nowSeconds(): number;
  /** The simulated Polygon JSON-RPC (`backfill audit --rpc <chain.url>`), its planted differences and its counters. */
  chain: Omit<ChainRpc, 'handle'> & {
    url: string;
    head(): number;
    planted(): PlantedChain[];
  };
  /**
   * Moves the world forward by `seconds`: a share of wallets trade again (after their newest fill, including a
   * transaction on that newest timestamp, twin fills and fills in newly listed markets), newly listed events appear
   * on Gamma, and a share of the open markets whose end date has passed resolve. The dataset, the routes and the
   * ground truth all serve the new state at once; a `/v2/trades` cursor minted before keeps walking the rows it
   * would have walked, since new fills sort before its anchor.
   */
  advance(options: AdvanceOptions): AdvanceSummary;
  stats(): SimulatorStats;
  resetStats(): void;
  /** Replaces the fault rates, e.g. to lift all faults mid-run. */
  setFaults(faults: FaultRates): void;
  setLatency(latency: { min: number; max: number }): void;
  /** Switches which Gamma listings answer, e.g. to retire the legacy ones mid-run. */
  setGamma(paging: GammaPaging): void;
  /** Switches how the global feed behaves (see GlobalFeedMode), e.g. to stop honouring `taker_only=false`. */
  setGlobalFeed(mode: GlobalFeedMode): void;
  /** Closes the server and every open socket, and cancels pending delayed responses. */
  close(): Promise<void>;
}
