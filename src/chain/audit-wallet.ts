/**
 * One wallet's chain audit: walk the wallet's OrderFilled logs over the audited blocks, decode them,
 * and reconcile them with the trade rows held (fill-match.ts).
 *
 * Resumable by block range: each completed range is handed to the store with its fills before the
 * walk goes on, and the store records "done up to block B" with them in one step. An audit stopped
 * at any point (abort, crash, kill) starts again at B + 1 and, at the end, matches every fill the
 * store collected over all its runs: the same report as an audit that was never stopped, for the
 * requests of the ranges not done yet.
 */
import { isValidWallet } from '../domain/wallet-address.js';
import { InvalidInputError } from '../lib/errors.js';
import { AUDIT_START_BLOCK, DEFAULT_CONFIRMATIONS } from './chain-facts.js';
import { addressTopic, walletFillsFilter } from './exchanges.js';
import type { FillMatchReport, HeldTrade } from './fill-match.js';
import { matchFills } from './fill-match.js';
import type { WindowOptions } from './log-window.js';
import type { ChainFill, Undecodable } from './order-filled.js';
import { decodeOrderFilled } from './order-filled.js';
import type { RpcClient } from './rpc-client.js';

/** What the audit needs of the RPC client. */
export type AuditRpc = Pick<RpcClient, 'blockNumber' | 'blockTimestamp' | 'walkLogs'>;

/** One completed block range of a wallet's walk. */
export interface AuditedRange {
  fromBlock: number;
  toBlock: number;
  fills: ChainFill[];
  undecodable: Undecodable[];
}

/**
 * Where an audit keeps its progress, the chain fills it collected and its result. Implementations
 * must make `saveRange` atomic (the fills and the progress together, or neither) and idempotent per
 * log: a range saved twice (a crash between the write and its acknowledgement) must not count a log
 * twice, so fills are keyed by (transactionHash, logIndex).
 */
export interface AuditStore {
  /** The wallet's rows of the `trades` table. */
  heldFills(wallet: string): Promise<readonly HeldTrade[]>;
  /** The last block of the last completed range, or undefined when the wallet's walk has not started. */
  progress(wallet: string): Promise<number | undefined>;
  /** Records a completed range: its fills and undecodable logs, and progress = range.toBlock. */
  saveRange(wallet: string, range: AuditedRange): Promise<void>;
  /** Every fill and undecodable log saved for the wallet so far. */
  chainFills(wallet: string): Promise<{ fills: ChainFill[]; undecodable: Undecodable[] }>;
  saveResult(wallet: string, report: WalletAuditReport): Promise<void>;
  /** Forgets the wallet's progress and collected fills (a fresh audit); the last result may stay. */
  clear(wallet: string): Promise<void>;
}

export interface AuditOptions {
  rpc: AuditRpc;
  store: AuditStore;
  signal?: AbortSignal;
  /** Default AUDIT_START_BLOCK (the first exchange's deployment). */
  fromBlock?: number;
  /** Default: the chain head less `confirmations`. */
  toBlock?: number;
  /** Blocks below the head left out when `toBlock` is not given, so a reorganisation cannot change what was audited. Default 64. */
  confirmations?: number;
  window?: WindowOptions;
  priceTolerance?: number;
  /** Start over: forget the stored progress and fills of the wallet first. */
  restart?: boolean;
  /** Called after each range is stored. */
  onRange?: (range: AuditedRange & { wallet: string; requests: number }) => void;
}

export interface WalletAuditReport extends FillMatchReport {
  fromBlock: number;
  toBlock: number;
  /** Block times of fromBlock and toBlock, epoch seconds: held rows dated outside are `heldOutsideRange`. */
  fromSeconds: number;
  toSeconds: number;
  /** The stored progress this run started after, or undefined for a walk from fromBlock. */
  resumedAfter: number | undefined;
  /** `eth_getLogs` requests this run made for the wallet (refused ranges and retries included). */
  logRequests: number;
  /** Block ranges this run walked. */
  ranges: number;
}

function blockOption(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a block number (a whole number >= 0), got ${String(value)}`);
  return value;
}

/** Audits one wallet; resumes from the store's progress unless `restart`. */
export async function auditWallet(walletInput: string, options: AuditOptions): Promise<WalletAuditReport> {
  const wallet = walletInput.toLowerCase();
  if (!isValidWallet(wallet)) {
    throw new InvalidInputError(`cannot audit ${JSON.stringify(walletInput)}: expected 0x followed by 40 hex digits`);
  }
  const { rpc, store, signal } = options;
  const fromBlock = blockOption('fromBlock', options.fromBlock ?? AUDIT_START_BLOCK);
  const confirmations = blockOption('confirmations', options.confirmations ?? DEFAULT_CONFIRMATIONS);
  const toBlock = blockOption('toBlock', options.toBlock ?? (await rpc.blockNumber(signal)) - confirmations);
  if (toBlock < fromBlock) throw new RangeError(`toBlock ${toBlock} is before fromBlock ${fromBlock}: nothing to audit`);

  if (options.restart) await store.clear(wallet);
  const resumedAfter = await store.progress(wallet);
  const start = resumedAfter === undefined ? fromBlock : Math.max(fromBlock, resumedAfter + 1);
  const walletTopic = addressTopic(wallet);
  let logRequests = 0;
  let ranges = 0;
  if (start <= toBlock) {
    const walk = rpc.walkLogs(walletFillsFilter(wallet), { fromBlock: start, toBlock }, { signal, window: options.window });
    for await (const range of walk) {
      const fills: ChainFill[] = [];
      const undecodable: Undecodable[] = [];
      for (const log of range.logs) {
        // The filter asked for topic 2 = wallet; a provider that ignores it would have the audit count other wallets' fills.
        if (log.topics[2]?.toLowerCase() !== walletTopic) {
          throw new InvalidInputError(
            `eth_getLogs for wallet ${wallet} returned log ${log.transactionHash}#${Number(log.logIndex)} whose topic 2 is ${log.topics[2] ?? '(none)'}`,
            { hint: 'The provider does not apply topic filters; use another provider' },
          );
        }
        const decoded = decodeOrderFilled(log);
        if (decoded.kind === 'fill') fills.push(decoded);
        else undecodable.push(decoded);
      }
      const saved: AuditedRange = { fromBlock: range.fromBlock, toBlock: range.toBlock, fills, undecodable };
      await store.saveRange(wallet, saved);
      logRequests += range.requests;
      ranges += 1;
      options.onRange?.({ ...saved, wallet, requests: range.requests });
    }
  }

  const collected = await store.chainFills(wallet);
  // A store may hold ranges of an earlier, longer audit; this report covers fromBlock..toBlock only.
  const inRange = (block: number): boolean => block >= fromBlock && block <= toBlock;
  const [held, fromSeconds, toSeconds] = await Promise.all([
    store.heldFills(wallet),
    rpc.blockTimestamp(fromBlock, signal),
    rpc.blockTimestamp(toBlock, signal),
  ]);
  const report = matchFills({
    wallet,
    chainFills: collected.fills.filter((fill) => inRange(fill.blockNumber)),
    undecodable: collected.undecodable.filter((log) => inRange(log.blockNumber)),
    held,
    window: { fromSeconds, toSeconds },
    priceTolerance: options.priceTolerance,
  });
  const full: WalletAuditReport = { ...report, fromBlock, toBlock, fromSeconds, toSeconds, resumedAfter, logRequests, ranges };
  await store.saveResult(wallet, full);
  return full;
}
