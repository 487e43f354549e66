/**
 * The options of the commands beside `run` (discover, failed, demo), parsed and defaulted here, once,
 * like every run setting in ./config.ts: the CLI only names flags and hands their text over, so a
 * library caller gets the same checks and the same defaults, and `--help` prints these values.
 */
import { ENV, intIn, oneOf } from './config.js';
import type { Flags } from './config.js';
import { ConfigError } from '../lib/errors.js';
import { LEADERBOARD_ORDERS, LEADERBOARD_PERIODS } from '../polymarket/leaderboard.js';
import type { LeaderboardQuery } from '../polymarket/leaderboard.js';
import { STATS_ORDERS } from '../warehouse/sql/pnl-sql.js';
import type { StatsQuery } from '../warehouse/warehouse.js';

export const COMMAND_DEFAULTS = {
  leaderboard: { category: 'overall', period: 'week', orderBy: 'PNL', count: 100 },
  failedLimit: 1_000,
  stats: { top: 20, by: 'pnl', minMarkets: 0 },
  verifyPnlSample: 20,
  demo: { wallets: 300, seed: 7, warehouse: './data/demo/backfill.duckdb', stage: './data/demo/stage', maxTradesPerWallet: 20_000 },
} as const;

export const COMMAND_BOUNDS = {
  leaderboardCount: [1, 10_000],
  failedLimit: [1, 10_000_000],
  demoWallets: [1, 1_000_000],
  seed: [0, 2 ** 31 - 1],
  statsTop: [1, 100_000],
  statsMinMarkets: [0, 1_000_000],
  verifyPnlSample: [1, 100_000],
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

/** `stats`: the ranking asked for. */
export function statsQuery(flags: Flags): StatsQuery {
  const d = COMMAND_DEFAULTS.stats;
  return {
    by: oneOf(text(flags, 'by') ?? d.by, '--by', Object.keys(STATS_ORDERS) as (keyof typeof STATS_ORDERS)[]),
    limit: intIn(text(flags, 'top') ?? String(d.top), '--top', COMMAND_BOUNDS.statsTop),
    minMarkets: intIn(text(flags, 'minMarkets') ?? String(d.minMarkets), '--min-markets', COMMAND_BOUNDS.statsMinMarkets),
  };
}

/** `verify-pnl`: a random sample of the wallets with figures, or the wallets of a file (not both). */
export type VerifyPnlTarget = { sample: number } | { walletsFile: string };

export function verifyPnlTarget(flags: Flags): VerifyPnlTarget {
  const sample = text(flags, 'sample');
  const file = text(flags, 'wallets');
  if (sample !== undefined && file !== undefined) {
    throw new ConfigError('--sample and --wallets cannot be given together', { hint: 'Check a random sample of the wallets with figures, or the wallets of a file' });
  }
  if (file !== undefined) return { walletsFile: file };
  return { sample: intIn(sample ?? String(COMMAND_DEFAULTS.verifyPnlSample), '--sample', COMMAND_BOUNDS.verifyPnlSample) };
}
