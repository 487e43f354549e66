/**
 * `backfill audit`: reconciles the trades the warehouse holds for a set of wallets with their fills as
 * Polygon records them (src/chain/audit-wallet.ts per wallet), a few wallets at once, under the `rpc`
 * rate limit. Every completed block range is stored with its fills (audit_progress,
 * audit_chain_fills), so an audit stopped in any way — --max-runtime, a signal, a kill — continues
 * where each wallet's walk stood; each wallet's result and mismatching fills go to audit_results
 * and audit_mismatches.
 */
import { auditWallet } from '../chain/audit-wallet.js';
import type { AuditStore, WalletAuditReport } from '../chain/audit-wallet.js';
import { AUDIT_START_BLOCK } from '../chain/chain-facts.js';
import { DEFAULT_RPC_RATE_LIMIT, RPC_RATE_LIMIT_KEY, RpcClient } from '../chain/rpc-client.js';
import { redactRpcUrl } from '../chain/rpc-errors.js';
import { normalizeWallet } from '../domain/wallet-address.js';
import { ConfigError, describeError } from '../lib/errors.js';
import { abortReason } from '../lib/sleep.js';
import { RateLimiter } from '../polymarket/rate-limiter.js';
import type { AuditWarehouse, Warehouse } from '../warehouse/warehouse.js';
import type { AuditSelection, AuditSettings } from './command-options.js';
import type { BackfillConfig } from './config.js';
import type { Logger } from './open-backfill.js';
import { handleStopSignals } from './shutdown.js';
import { readTradersFile } from './traders-file.js';

/** The audit's store over the warehouse's audit tables; `now` dates each result (ISO-8601 UTC). */
export function warehouseAuditStore(warehouse: AuditWarehouse, now: () => string = () => new Date().toISOString()): AuditStore {
  return {
    heldFills: (wallet) => warehouse.auditHeldTrades(wallet),
    progress: (wallet) => warehouse.auditProgress(wallet),
    saveRange: (wallet, range) => warehouse.saveAuditRange(wallet, range),
    chainFills: (wallet) => warehouse.auditChainFills(wallet),
    saveResult: (wallet, report) => warehouse.saveAuditResult(wallet, report, now()),
    clear: (wallet) => warehouse.clearAudit(wallet),
  };
}

/** How one wallet's audit ended. */
export type WalletAuditOutcome =
  | { kind: 'audited'; wallet: string; report: WalletAuditReport }
  | { kind: 'failed'; wallet: string; error: string }
  /** The audit stopped (max runtime, a signal) before or while this wallet was walked: its progress is kept. */
  | { kind: 'not-finished'; wallet: string };

export interface AuditSummary {
  /** The endpoint as shown: scheme and host only. */
  rpc: string;
  fromBlock: number;
  toBlock: number;
  /** Wallets selected, in the order audited. */
  planned: number;
  outcomes: WalletAuditOutcome[];
  /** Audited wallets whose fills do not match (missing from the API or held but not on chain). */
  incomplete: string[];
  failed: { wallet: string; error: string }[];
  notFinished: string[];
  /** Why the audit stopped before every wallet was done, when it did. */
  stopReason: string | undefined;
  /** RPC requests of this process by method (retries and refused ranges included). */
  requests: Record<string, number>;
  /** `eth_getLogs` requests per audited wallet, this process (0 for a wallet whose walk was already done). */
  logRequestsPerWallet: number;
  /** Requests the provider refused as too wide (span or result cap) and the span ceiling learnt, if any. */
  rangeRefusals: number;
  spanCeiling: number | undefined;
  durationMs: number;
}

export interface AuditRunOptions {
  logger: Logger;
  /** Handle SIGINT/SIGTERM as a graceful stop (the CLI's behaviour). */
  stopSignals?: { forceExit: (exitCode: number) => void };
  /** Told the block range and the wallets once they are known, before any wallet is walked. */
  onStart?: (plan: { rpc: string; fromBlock: number; toBlock: number; wallets: number }) => void;
  /** Told each wallet's outcome as it ends. */
  onWallet?: (outcome: WalletAuditOutcome) => void;
}

/** The wallets to audit, lower-cased, each once, in the order given (a sample: the warehouse's hash order). */
async function selectWallets(selection: AuditSelection, warehouse: Warehouse): Promise<string[]> {
  switch (selection.kind) {
    case 'list':
      return [...new Set(selection.wallets.map((wallet) => normalizeWallet(wallet)))];
    case 'sample':
      return warehouse.auditSample(selection.count);
    case 'all':
      return warehouse.auditSample(Number.MAX_SAFE_INTEGER);
    case 'file': {
      const wallets: string[] = [];
      const rejected: string[] = [];
      for await (const batch of readTradersFile(selection.path)) {
        wallets.push(...batch.wallets);
        rejected.push(...batch.rejected.map((r) => `line ${r.line}: ${r.reason}`));
      }
      if (rejected.length > 0) {
        throw new ConfigError(`${selection.path}: ${rejected.length} line(s) are not wallets (${rejected.slice(0, 3).join('; ')}${rejected.length > 3 ? '; …' : ''})`, {
          hint: 'Fix or remove them; nothing was audited',
        });
      }
      return [...new Set(wallets)];
    }
  }
}

export async function runAudit(config: BackfillConfig, settings: AuditSettings, warehouse: Warehouse, options: AuditRunOptions): Promise<AuditSummary> {
  const started = Date.now();
  const { logger } = options;
  const shown = redactRpcUrl(settings.rpcUrl);
  const wallets = await selectWallets(settings.wallets, warehouse);
  const rpc = new RpcClient({
    url: settings.rpcUrl,
    rateLimiter: new RateLimiter({ [RPC_RATE_LIMIT_KEY]: config.source.rateLimits[RPC_RATE_LIMIT_KEY] ?? DEFAULT_RPC_RATE_LIMIT }),
    timeoutMs: config.source.timeoutMs,
    logger,
  });
  const controller = new AbortController();
  let stopReason: string | undefined;
  const stop = (reason: string): void => {
    if (controller.signal.aborted) return;
    stopReason = reason;
    logger.warn({ event: 'audit_stopping', reason }, `audit stopping: ${reason}; each wallet's walk is kept up to its last completed block range`);
    controller.abort(new Error(reason));
  };
  const disposers: (() => void)[] = [];
  if (options.stopSignals) {
    const signals = handleStopSignals({
      onStop: (signal) => stop(`received ${signal}`),
      deadlineMs: config.shutdownDeadlineMs,
      exitCode: 3,
      onForcedExit: (message) => logger.error({}, message),
      forceExit: options.stopSignals.forceExit,
    });
    disposers.push(() => signals.dispose());
  }
  const { maxRuntimeMs, maxRuntimeText } = config.run;
  if (maxRuntimeMs !== undefined) {
    // Counted from process start, as `backfill run` counts it.
    const timer = setTimeout(() => stop(`--max-runtime ${maxRuntimeText ?? `${maxRuntimeMs}ms`} reached`), Math.max(0, maxRuntimeMs - process.uptime() * 1000));
    disposers.push(() => clearTimeout(timer));
  }

  const outcomes: WalletAuditOutcome[] = [];
  try {
    const fromBlock = settings.fromBlock ?? AUDIT_START_BLOCK;
    const toBlock = settings.toBlock ?? (await rpc.blockNumber(controller.signal)) - settings.confirmations;
    if (toBlock < fromBlock) {
      throw new ConfigError(`the audit would end at block ${toBlock}, before it starts at block ${fromBlock}`, {
        hint: `${shown} may not be Polygon mainnet (its head is below the first exchange's deployment), or --to-block/--confirmations leave nothing; check the endpoint`,
      });
    }
    options.onStart?.({ rpc: shown, fromBlock, toBlock, wallets: wallets.length });
    const store = warehouseAuditStore(warehouse);
    const settle = (outcome: WalletAuditOutcome): void => {
      outcomes.push(outcome);
      options.onWallet?.(outcome);
    };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < wallets.length && !controller.signal.aborted) {
        const wallet = wallets[next]!;
        next += 1;
        try {
          const report = await auditWallet(wallet, { rpc, store, signal: controller.signal, fromBlock, toBlock, restart: settings.restart });
          settle({ kind: 'audited', wallet, report });
        } catch (error) {
          if (controller.signal.aborted) {
            settle({ kind: 'not-finished', wallet });
          } else {
            const message = describeError(error);
            logger.warn({ event: 'audit_wallet_failed', wallet, err: message }, `audit of ${wallet} failed: ${message}`);
            settle({ kind: 'failed', wallet, error: message });
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(settings.concurrency, Math.max(1, wallets.length)) }, worker));
    for (const wallet of wallets.slice(next)) settle({ kind: 'not-finished', wallet });
    const audited = outcomes.flatMap((o) => (o.kind === 'audited' ? [o.report] : []));
    const requests = rpc.requestCounts();
    return {
      rpc: shown,
      fromBlock,
      toBlock,
      planned: wallets.length,
      outcomes,
      incomplete: audited.filter((report) => !report.complete).map((report) => report.wallet),
      failed: outcomes.flatMap((o) => (o.kind === 'failed' ? [{ wallet: o.wallet, error: o.error }] : [])),
      notFinished: outcomes.flatMap((o) => (o.kind === 'not-finished' ? [o.wallet] : [])),
      stopReason,
      requests,
      logRequestsPerWallet: audited.length === 0 ? 0 : audited.reduce((sum, report) => sum + report.logRequests, 0) / audited.length,
      rangeRefusals: rpc.rangeRefusals(),
      spanCeiling: rpc.spanCeiling(),
      durationMs: Date.now() - started,
    };
  } catch (error) {
    // A stop while the head was asked for is a stop, not a failure of the audit.
    if (controller.signal.aborted && outcomes.length === 0) throw abortReason(controller.signal);
    throw error;
  } finally {
    for (const dispose of disposers) dispose();
    await rpc.close();
  }
}
