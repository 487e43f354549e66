import { randomInt } from 'node:crypto';
import { hostname } from 'node:os';

import type { RefreshOptions } from '../engine/run-options.js';
import type { ReloadSummary } from '../engine/reload-staged.js';
import { RunEvents } from '../engine/run-events.js';
import { newRunId } from '../engine/run-id.js';
import type { RunSummary } from '../engine/run-summary.js';
import { leaseScope, takeLease } from '../lease/held-lease.js';
import type { HeldLease } from '../lease/held-lease.js';
import type { LeaseInfo } from '../lease/lease.js';
import { parseWalletAddress } from '../domain/wallet-address.js';
import type { Wallet } from '../domain/wallet-address.js';
import { ConfigError, describeError } from '../lib/errors.js';
import type { SourceLogger } from '../polymarket/index.js';
import type { LeaderboardQuery } from '../polymarket/leaderboard.js';
import type { FailedWallet, PositionRow, StatsCounts, StatsQuery, Warehouse, WalletStatsRow } from '../warehouse/warehouse.js';
import type { VerifyPnlTarget } from './command-options.js';
import type { PnlCheck, PnlVerification } from './pnl-verify.js';
import { resolveBackends } from './backends.js';
import type { Backends } from './backends.js';
import type { BackfillConfig } from './config.js';
import { readLiveStatus } from '../status/read-status.js';
import { commitPolicy, executeRun } from './run-session.js';
import type { RunContext } from './run-session.js';
import { onProcessExit } from './shutdown.js';
import type { StatusJson } from '../status/status-json.js';
import type { RejectedLine } from './traders-file.js';
import type { AuditRunOptions, AuditSummary } from './audit.js';
import type { AuditSettings } from './command-options.js';

/*
 * The Polymarket client and the CSV reader are imported when first used (the engine by a run, see
 * ./run-session.ts): a `status`
 * or the dashboard during a run needs none of them, and on a busy two-core machine their start-up
 * is most of its answer time.
 */
const polymarket = () => import('../polymarket/index.js');
const tradersFile = () => import('./traders-file.js');
const pnlVerify = () => import('./pnl-verify.js');

/** The subset of a pino logger the library uses. */
export interface Logger extends SourceLogger {
  error(obj: object, msg?: string): void;
  /** Called as each run starts, so a logger can tag every later line with it (Cloud Logging's run_id label). */
  setRunId?(runId: string): void;
}

const SILENT: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

export interface OpenBackfillOptions {
  logger?: Logger;
  /**
   * Stop gracefully on SIGTERM/SIGINT during a run (the CLI's behaviour; a library caller gets none by
   * default). A second signal, or a graceful stop past its deadline, calls `forceExit` with exit code 3
   * once the run lease is released: the library itself never ends the process.
   */
  stopSignals?: { forceExit: (exitCode: number) => void };
}

/** Another live run holds the lease: nothing was done. */
export interface LockHeld {
  kind: 'lock-held';
  holder: LeaseInfo;
  location: string;
}

export type RunResult = { kind: 'finished'; summary: RunSummary; refresh?: RunSummary } | LockHeld;
export type ReloadResult = { kind: 'finished'; summary: ReloadSummary } | LockHeld;

/** The tool as a library: what every CLI command does, callable from your own code. */
export interface Backfill {
  readonly config: BackfillConfig;
  /**
   * Backfills every wallet of `traders` that is not loaded yet, under the run lease; with
   * `refresh`, then refreshes completed wallets with what is left of --max-runtime.
   */
  run(options?: { events?: RunEvents; refresh?: boolean }): Promise<RunResult>;
  /** Refreshes completed wallets (new fills since the newest held, market resolutions), under the run lease. */
  refresh(options?: { events?: RunEvents }): Promise<RunResult>;
  /** Loads failed wallets again from their staged files, with no API call, under the run lease. */
  reload(options?: { includeParked?: boolean; events?: RunEvents }): Promise<ReloadResult>;
  /**
   * The one status reader, as `backfill status`, its `--json` and the dashboard show it: from the
   * warehouse when it can be read, from a live run's snapshot while the run holds an embedded
   * warehouse. `failures: false` skips the failed-wallets sample behind `failures.by_class`.
   */
  status(options?: { failures?: boolean }): Promise<StatusJson>;
  failed(options?: { limit?: number; kind?: 'backfill' | 'refresh' }): Promise<FailedWallet[]>;
  /** Adds wallet addresses to `traders` (trimmed and lower-cased; if any is not a wallet, none is added); returns how many were new. */
  addTraders(addresses: readonly string[], source: string): Promise<number>;
  /**
   * Streams a wallet list (one address per line, or a CSV with a wallet_address column) into
   * `traders` in batches; rejected lines are reported as they are met.
   */
  importTraders(path: string, onRejected: (line: RejectedLine) => void): Promise<{ read: number; valid: number; added: number; rejected: number }>;
  /**
   * Adds the wallets of Polymarket's public trader leaderboard to `traders` (source
   * `leaderboard:<category>:<period>:<order>`); wallets already listed are not added again.
   */
  /** `stopped` says why the board walk ended before the board's end or the count, when it did (the wallets found are added). */
  discoverLeaderboard(query: LeaderboardQuery): Promise<{ found: number; added: number; source: string; stopped?: string }>;
  /**
   * Reconciles the trades held for a set of wallets with their OrderFilled logs on Polygon (`backfill audit`),
   * storing each wallet's result and mismatching fills; resumes each wallet's walk where an earlier audit stopped.
   */
  audit(settings: AuditSettings, options?: Pick<AuditRunOptions, 'onStart' | 'onWallet'>): Promise<AuditSummary>;
  /**
   * Wallets ranked by realized profit, return on cost, win rate or volume (positions and wallet_stats, kept current by
   * every run), with how many wallets have figures and how many wait for the next run to recompute them.
   */
  stats(query: StatsQuery): Promise<{ wallets: WalletStatsRow[]; counts: StatsCounts }>;
  /** One wallet's figures and its positions by market; a value that is not a wallet is a ConfigError. */
  walletReport(wallet: string): Promise<{ stats: WalletStatsRow | undefined; positions: PositionRow[] }>;
  /**
   * Our realized profit against Polymarket's own (`/v2/positions?status=CLOSED`, `/v2/user-pnl`) for a random sample
   * of the wallets with figures, or the wallets of a file; rate-limited (data:positions, data:user-pnl).
   */
  verifyPnl(target: VerifyPnlTarget, options?: { onWallet?: (check: PnlCheck) => void; signal?: AbortSignal }): Promise<PnlVerification>;
  /** The warehouse, opened (and migrated) on first use. */
  warehouse(): Promise<Warehouse>;
  close(): Promise<void>;
}

export function openBackfill(config: BackfillConfig, options: OpenBackfillOptions = {}): Backfill {
  const logger = options.logger ?? SILENT;
  const backends = resolveBackends(config);
  // Every use of a warehouse needs its tables; a warehouse that cannot get them is closed again.
  const openMigrated = async (openOptions?: { lockWaitMs?: number }) => {
    const wh = await backends.openWarehouse(openOptions);
    try {
      await wh.migrate();
    } catch (error) {
      await wh.close().catch(() => undefined);
      throw error;
    }
    return wh;
  };
  let opened: Promise<Warehouse> | undefined;
  const warehouse = () => {
    opened ??= openMigrated();
    opened.catch(() => {
      opened = undefined;
    });
    return opened;
  };
  // The warehouse, and the checks a write needs (once per process): what runs and reloads use.
  let checked: Promise<void> | undefined;
  const writableWarehouse = async () => {
    const wh = await warehouse();
    checked ??= backends.preflight();
    checked.catch(() => {
      checked = undefined;
    });
    await checked;
    return wh;
  };

  const runContext: RunContext = { config, backends, logger, warehouse: writableWarehouse, stopSignals: options.stopSignals };
  return {
    config,
    warehouse,
    run: async (runOptions = {}) => {
      const events = runOptions.events ?? new RunEvents();
      // Read now: a bad --wallets file must stop the job before its backfill, not hours after.
      const wallets = runOptions.refresh ? await refreshWallets(config) : undefined;
      const result = await underLease(backends, config, logger, config.run.shard, async (runId, lease) => {
        const summary = await executeRun(runContext, runId, lease, events);
        if (!runOptions.refresh || !backfillLeftTime(summary) || lease.lost.aborted) return { summary };
        const refresh = await executeRun(runContext, newRunId(), lease, events, refreshOptions(config, wallets));
        return { summary, refresh };
      });
      return result.kind === 'finished' ? { kind: 'finished', ...result.summary } : result;
    },
    refresh: async (runOptions = {}) => {
      const events = runOptions.events ?? new RunEvents();
      const refresh = refreshOptions(config, await refreshWallets(config));
      return underLease(backends, config, logger, config.run.shard, (runId, lease) =>
        executeRun(runContext, runId, lease, events, refresh),
      );
    },
    reload: (reloadOptions = {}) =>
      // Reload covers every shard's wallets, so it takes the `all` scope, which no sharded run overlaps.
      underLease(backends, config, logger, undefined, async (runId) => {
        const wh = await writableWarehouse();
        const { reloadStaged } = await import('../engine/reload-staged.js');
        return reloadStaged(
          { stage: backends.stage, warehouse: wh, events: reloadOptions.events ?? new RunEvents() },
          { runId, includeParked: reloadOptions.includeParked ?? false, commit: commitPolicy(config) },
        );
      }),
    status: (statusOptions = {}) =>
      readLiveStatus({
        ...statusOptions,
        leases: backends.leases,
        snapshotPath: backends.statusSnapshotPath,
        // Reuse the warehouse this object already has open, and keep a remote one open (its
        // clients and table checks are not worth redoing every poll); an embedded file is opened
        // for this read only, so a dashboard polling between runs never keeps a run out of it.
        open: async () => {
          if (opened || !backends.statusSnapshotPath) return { warehouse: await warehouse(), release: async () => undefined };
          const wh = await openMigrated({ lockWaitMs: 0 });
          return { warehouse: wh, release: () => wh.close() };
        },
      }),
    failed: async (failedOptions = {}) => (await warehouse()).failedWallets(failedOptions),
    audit: async (settings, auditOptions = {}) => {
      const { runAudit } = await import('./audit.js');
      return runAudit(config, settings, await warehouse(), { ...auditOptions, logger, ...(options.stopSignals ? { stopSignals: options.stopSignals } : {}) });
    },
    addTraders: async (addresses, source) => {
      // The library's boundary: a caller's list is parsed here, once, and nothing is added if any is not a wallet.
      const wallets: Wallet[] = [];
      const rejected: string[] = [];
      for (const address of addresses) {
        const parsed = parseWalletAddress(address);
        if (parsed.ok) wallets.push(parsed.wallet);
        else rejected.push(parsed.reason);
      }
      if (rejected.length > 0) {
        throw new ConfigError(`${rejected.length} of ${addresses.length} value(s) are not wallets: ${rejected.slice(0, 5).join('; ')}${rejected.length > 5 ? '; …' : ''}`, {
          hint: 'Nothing was added; fix the addresses and retry',
        });
      }
      return (await warehouse()).addTraders(wallets, source);
    },
    discoverLeaderboard: async (query) => {
      const { checkLeaderboardQuery, createPolymarketSource } = await polymarket();
      // The tag names the query as sent (category trimmed and lower-cased, defaults filled in).
      const sent = checkLeaderboardQuery(query);
      const source = createPolymarketSource({ ...config.source, logger });
      try {
        const { entries, stopped } = await source.leaderboard(query);
        const tag = `leaderboard:${sent.category}:${sent.timePeriod}:${sent.orderBy}`;
        const added = await (await warehouse()).addTraders(
          entries.map((e) => e.wallet),
          tag,
        );
        return { found: entries.length, added, source: tag, ...(stopped === undefined ? {} : { stopped }) };
      } finally {
        await source.close();
      }
    },
    stats: async (query) => {
      const wh = await warehouse();
      const [wallets, counts] = await Promise.all([wh.walletStats(query), wh.statsCounts()]);
      return { wallets, counts };
    },
    walletReport: async (input) => {
      const parsed = parseWalletAddress(input);
      if (!parsed.ok) throw new ConfigError(`--wallet: ${parsed.reason}`, { hint: 'Pass a proxy wallet address: 0x followed by 40 hex digits' });
      const wh = await warehouse();
      const [stats, positions] = await Promise.all([wh.walletStatsOf(parsed.wallet), wh.walletPositions(parsed.wallet)]);
      return { stats, positions };
    },
    verifyPnl: async (target, verifyOptions = {}) => {
      const wh = await warehouse();
      let wallets: string[];
      if ('walletsFile' in target) {
        wallets = [];
        const rejected: string[] = [];
        for await (const batch of (await tradersFile()).readTradersFile(target.walletsFile)) {
          wallets.push(...batch.wallets);
          rejected.push(...batch.rejected.map((r) => `line ${r.line}: ${r.reason}`));
        }
        if (rejected.length > 0) {
          throw new ConfigError(`${target.walletsFile}: ${rejected.length} line(s) are not wallets: ${rejected.slice(0, 5).join('; ')}${rejected.length > 5 ? '; …' : ''}`, {
            hint: 'Nothing was checked; fix the file (one address per line, or CSV with wallet_address) and retry',
          });
        }
        wallets = [...new Set(wallets)];
      } else {
        const all = (await wh.walletStats({ by: 'pnl', limit: 10_000_000, minMarkets: 0 })).map((r) => r.proxy_wallet);
        wallets = sample(all, target.sample);
      }
      const { createPolymarketSource } = await polymarket();
      const source = createPolymarketSource({ ...config.source, logger });
      try {
        return await (await pnlVerify()).verifyPnl(wh, source, wallets, verifyOptions);
      } finally {
        await source.close();
      }
    },
    importTraders: async (path, onRejected) => {
      const wh = await warehouse();
      const totals = { read: 0, valid: 0, added: 0, rejected: 0 };
      for await (const batch of (await tradersFile()).readTradersFile(path)) {
        for (const r of batch.rejected) onRejected(r);
        totals.read += batch.wallets.length + batch.rejected.length;
        totals.valid += batch.wallets.length;
        totals.rejected += batch.rejected.length;
        totals.added += await wh.addTraders(batch.wallets, `import:${path}`);
      }
      return totals;
    },
    close: async () => {
      const current = opened;
      opened = undefined;
      if (current) await (await current.catch(() => undefined))?.close();
    },
  };
}

/** `count` of `items` picked at random (all of them, in their order, when there are no more). */
function sample<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  const pool = [...items];
  for (let i = 0; i < count; i += 1) {
    const j = i + randomInt(pool.length - i);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, count);
}

export function holderName(runId: string): string {
  return `${hostname()}:${process.pid} run ${runId}`;
}

/**
 * Takes the run lease before the warehouse is opened — a second runner learns who holds it at
 * once, not from DuckDB's file lock — runs `work`, and always releases the lease: on return, on
 * an error, and (through onProcessExit) on a fatal error or a forced exit.
 */
async function underLease<T>(
  backends: Backends,
  config: BackfillConfig,
  logger: Logger,
  shard: { index: number; count: number } | undefined,
  work: (runId: string, lease: HeldLease) => Promise<T>,
): Promise<{ kind: 'finished'; summary: T } | LockHeld> {
  const runId = newRunId();
  logger.setRunId?.(runId);
  const taken = await takeLease(backends.leases, leaseScope(shard), holderName(runId), {
    ttlMs: config.leaseTtlMs,
    onRenewFailure: (message) => logger.warn({}, message),
  });
  if ('refused' in taken) return { kind: 'lock-held', holder: taken.refused.current, location: taken.refused.location };
  const lease = taken.held;
  const unregister = onProcessExit(() => lease.release());
  try {
    if (lease.tookOver) {
      logger.warn(
        { lease: lease.location, previous: lease.tookOver.holder, expiresAt: lease.tookOver.expiresAt },
        `took over the run lease of ${lease.tookOver.holder}: its process is gone or its lease expired`,
      );
    }
    return { kind: 'finished', summary: await work(runId, lease) };
  } finally {
    unregister();
    await lease.release().catch((error: unknown) => logger.warn({}, `could not release run lease ${lease.location}: ${describeError(error)}`));
  }
}

/** The wallets of `refresh --wallets FILE`, or undefined (every completed wallet). */
async function refreshWallets(config: BackfillConfig): Promise<string[] | undefined> {
  const file = config.refresh.walletsFile;
  if (!file) return undefined;
  const wallets: string[] = [];
  for await (const batch of (await tradersFile()).readTradersFile(file)) wallets.push(...batch.wallets);
  return wallets;
}

/** `--older-than` counts back from when the refresh starts; `wallets` were read before the lease was taken. */
function refreshOptions(config: BackfillConfig, wallets: string[] | undefined): RefreshOptions {
  const r = config.refresh;
  return {
    overlapSeconds: Math.round(r.overlapMs / 1000),
    marketRefreshAfterMs: r.marketRefreshAfterMs,
    ...(r.olderThanMs !== undefined ? { staleBefore: new Date(Date.now() - r.olderThanMs).toISOString() } : {}),
    ...(wallets ? { wallets } : {}),
    via: r.via,
    ...(r.discoverMinVolume !== undefined ? { discoverMinVolume: r.discoverMinVolume } : {}),
    feedChunkRows: r.feedChunkRows,
  };
}

/** After a backfill that ran to its end (not stopped), the refresh gets what is left of --max-runtime. */
function backfillLeftTime(summary: RunSummary): boolean {
  return summary.outcome !== 'stopped';
}
