/**
 * The options of the commands beside `run` (discover, failed, demo), parsed and defaulted here, once,
 * like every run setting in ./config.ts: the CLI only names flags and hands their text over, so a
 * library caller gets the same checks and the same defaults, and `--help` prints these values.
 */
import { DEFAULT_CONFIRMATIONS } from '../chain/chain-facts.js';
import { redactRpcUrl } from '../chain/rpc-errors.js';
import { ConfigError } from '../lib/errors.js';
import { ENV, intIn, oneOf } from './config.js';
import type { Flags } from './config.js';
import { LEADERBOARD_ORDERS, LEADERBOARD_PERIODS } from '../polymarket/leaderboard.js';
import type { LeaderboardQuery } from '../polymarket/leaderboard.js';
import { STATS_ORDERS } from '../warehouse/sql/pnl-sql.js';
import type { StatsQuery } from '../warehouse/warehouse.js';

export const COMMAND_DEFAULTS = {
  leaderboard: { category: 'overall', period: 'week', orderBy: 'PNL', count: 100 },
  failedLimit: 1_000,
  stats: { top: 20, by: 'pnl', minMarkets: 0 },
  verifyPnlSample: 20,
  demo: { wallets: 300, seed: 7, warehouse: './data/demo/backfill.duckdb', stage: './data/demo/stage', maxTradesPerWallet: 20_000, auditWallets: 8 },
  audit: { concurrency: 4, confirmations: DEFAULT_CONFIRMATIONS },
} as const;

/** Where `backfill audit` reads its RPC URL when no --rpc is given: keeps a key out of the shell history. */
export const AUDIT_RPC_ENV = 'BACKFILL_RPC_URL';

export const COMMAND_BOUNDS = {
  leaderboardCount: [1, 10_000],
  failedLimit: [1, 10_000_000],
  demoWallets: [1, 1_000_000],
  seed: [0, 2 ** 31 - 1],
  auditSample: [1, 10_000_000],
  auditConcurrency: [1, 64],
  block: [0, Number.MAX_SAFE_INTEGER],
  confirmations: [0, 100_000],
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
  /** After the run, audit this many wallets against the simulated chain (differences planted in some); 0: no audit. */
  auditWallets: number;
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
    auditWallets: flags.audit === true ? d.auditWallets : 0,
    flags: {
      ...flags,
      warehouse: text(flags, 'warehouse') ?? env[ENV.warehouse] ?? d.warehouse,
      stage: text(flags, 'stage') ?? env[ENV.stage] ?? d.stage,
      // The simulated chain is on loopback: the default RPC limit (for real providers' free tiers) would only slow the demo.
      ...(flags.audit === true ? { rateLimit: withRpcLimit(text(flags, 'rateLimit') ?? env[ENV.rateLimits]) } : {}),
    },
  };
}

/** A rate-limit spec with a generous `rpc` limit added, unless it names one. */
function withRpcLimit(spec: string | undefined): string {
  if (spec !== undefined && /(^|,)\s*rpc\s*=/i.test(spec)) return spec;
  return [spec, 'rpc=1000/1s'].filter((part) => part !== undefined && part.trim() !== '').join(',');
}

/** Which wallets `backfill audit` audits. */
export type AuditSelection = { kind: 'file'; path: string } | { kind: 'sample'; count: number } | { kind: 'list'; wallets: readonly string[] } | { kind: 'all' };

export interface AuditSettings {
  /** The Polygon JSON-RPC endpoint; may hold an API key, so it is never shown (redactRpcUrl). */
  rpcUrl: string;
  wallets: AuditSelection;
  /** Wallets audited at once (the RPC client caps requests in flight on its own). */
  concurrency: number;
  /** Forget each wallet's stored progress and walk it from the start. */
  restart: boolean;
  /** Default: the first exchange's deployment (AUDIT_START_BLOCK). */
  fromBlock?: number;
  /** Default: the chain head less `confirmations`, read once for every wallet. */
  toBlock?: number;
  confirmations: number;
}

/** Checks an RPC URL without ever echoing it: the message shows scheme and host only. */
export function checkRpcUrl(value: string, option: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ConfigError(`${option} ${redactRpcUrl(value)} is not a URL`, { hint: 'Give the provider\'s HTTPS endpoint, e.g. https://polygon-mainnet.g.alchemy.com/v2/KEY' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${option} ${redactRpcUrl(value)} is not an http(s) URL`, { hint: 'WebSocket endpoints are not supported; give the provider\'s HTTPS endpoint' });
  }
  return value.trim();
}

/** `audit`: the RPC, the wallets and the block range, checked before anything is opened. */
export function auditSettings(flags: Flags, env: NodeJS.ProcessEnv = process.env): AuditSettings {
  const d = COMMAND_DEFAULTS.audit;
  const rpcText = text(flags, 'rpc') ?? env[AUDIT_RPC_ENV];
  if (rpcText === undefined || rpcText.trim() === '') {
    throw new ConfigError(`backfill audit needs a Polygon JSON-RPC endpoint: --rpc URL (or ${AUDIT_RPC_ENV})`, {
      hint: 'Any provider that serves eth_getLogs on Polygon mainnet (Alchemy, Infura, QuickNode, drpc…); nothing was audited',
    });
  }
  const file = text(flags, 'wallets');
  const sample = text(flags, 'sample');
  if (file !== undefined && sample !== undefined) {
    throw new ConfigError('--wallets and --sample both given', { hint: 'Audit the wallets of a file, or a sample of the loaded wallets, not both' });
  }
  const block = (name: string, option: string) => {
    const value = text(flags, name);
    return value === undefined ? undefined : intIn(value, option, COMMAND_BOUNDS.block);
  };
  const fromBlock = block('fromBlock', '--from-block');
  const toBlock = block('toBlock', '--to-block');
  if (fromBlock !== undefined && toBlock !== undefined && toBlock < fromBlock) {
    throw new ConfigError(`--to-block ${toBlock} is before --from-block ${fromBlock}`, { hint: 'Give a range whose end is at or after its start' });
  }
  return {
    rpcUrl: checkRpcUrl(rpcText, text(flags, 'rpc') === undefined ? AUDIT_RPC_ENV : '--rpc'),
    wallets:
      file !== undefined
        ? { kind: 'file', path: file }
        : sample !== undefined
          ? { kind: 'sample', count: intIn(sample, '--sample', COMMAND_BOUNDS.auditSample) }
          : { kind: 'all' },
    concurrency: intIn(text(flags, 'concurrency') ?? String(d.concurrency), '--concurrency', COMMAND_BOUNDS.auditConcurrency),
    restart: flags.restart === true,
    ...(fromBlock !== undefined ? { fromBlock } : {}),
    ...(toBlock !== undefined ? { toBlock } : {}),
    confirmations: intIn(text(flags, 'confirmations') ?? String(d.confirmations), '--confirmations', COMMAND_BOUNDS.confirmations),
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
