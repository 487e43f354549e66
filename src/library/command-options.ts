/**
 * The options of the commands beside `run` (discover, failed, demo), parsed and defaulted here, once,
 * like every run setting in ./config.ts: the CLI only names flags and hands their text over, so a
 * library caller gets the same checks and the same defaults, and `--help` prints these values.
 */
import { ENV, intIn, oneOf } from './config.js';
import type { Flags } from './config.js';
import { LEADERBOARD_ORDERS, LEADERBOARD_PERIODS } from '../polymarket/leaderboard.js';
import type { LeaderboardQuery } from '../polymarket/leaderboard.js';

export const COMMAND_DEFAULTS = {
  leaderboard: { category: 'overall', period: 'week', orderBy: 'PNL', count: 100 },
  failedLimit: 1_000,
  demo: { wallets: 300, seed: 7, warehouse: './data/demo/backfill.duckdb', stage: './data/demo/stage', maxTradesPerWallet: 20_000 },
} as const;

export const COMMAND_BOUNDS = {
  leaderboardCount: [1, 10_000],
  failedLimit: [1, 10_000_000],
  demoWallets: [1, 1_000_000],
  seed: [0, 2 ** 31 - 1],
} as const satisfies Record<string, readonly [number, number]>;

const text = (flags: Flags, name: string): string | undefined => (typeof flags[name] === 'string' ? flags[name] : undefined);

/** `traders discover --leaderboard`: which board, ranked how, how many wallets. */
export function leaderboardQuery(flags: Flags): LeaderboardQuery {
  const d = COMMAND_DEFAULTS.leaderboard;
  return {
    category: text(flags, 'category') ?? d.category,
    timePeriod: oneOf(text(flags, 'period') ?? d.period, '--period', LEADERBOARD_PERIODS),
    orderBy: oneOf((text(flags, 'orderBy') ?? d.orderBy).toUpperCase(), '--order-by', LEADERBOARD_ORDERS),
    limit: intIn(text(flags, 'count') ?? String(d.count), '--count', COMMAND_BOUNDS.leaderboardCount),
  };
}

/** `failed`: backfill or refresh failures, at most `limit` rows. */
export function failedQuery(flags: Flags): { limit: number; kind: 'backfill' | 'refresh' } {
  return {
    limit: intIn(text(flags, 'limit') ?? String(COMMAND_DEFAULTS.failedLimit), '--limit', COMMAND_BOUNDS.failedLimit),
    kind: flags.refresh === true ? 'refresh' : 'backfill',
  };
}

export interface DemoSettings {
  wallets: number;
  seed: number;
  maxTradesPerWallet: number;
  /** The run's flags, with the demo's own warehouse and stage unless the user named others (flag or environment). */
  flags: Flags;
}

/** `demo`: its simulator and where it writes; demo data never mixes with a real warehouse unless pointed there. */
export function demoSettings(flags: Flags, env: NodeJS.ProcessEnv = process.env): DemoSettings {
  const d = COMMAND_DEFAULTS.demo;
  return {
    wallets: intIn(text(flags, 'demoWallets') ?? String(d.wallets), '--demo-wallets', COMMAND_BOUNDS.demoWallets),
    seed: intIn(text(flags, 'seed') ?? String(d.seed), '--seed', COMMAND_BOUNDS.seed),
    maxTradesPerWallet: d.maxTradesPerWallet,
    flags: {
      ...flags,
      warehouse: text(flags, 'warehouse') ?? env[ENV.warehouse] ?? d.warehouse,
      stage: text(flags, 'stage') ?? env[ENV.stage] ?? d.stage,
    },
  };
}
