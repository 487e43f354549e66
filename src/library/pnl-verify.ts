/**
 * `backfill verify-pnl`: our realized profit (positions and wallet_stats, replayed by src/pnl) against Polymarket's
 * own figures for the same wallets:
 * - `/v2/user-pnl?interval=all`, the last point's `realized_pnl`: the wallet's total. The series is on a grid and has
 *   no point after its last step (data-api-v2-observed.md), so ours is replayed from the rows held up to that point's
 *   time, not taken from wallet_stats (which holds everything loaded). A null is "no data": never compared with zero.
 * - `/v2/positions?status=CLOSED`, per token `realized_pnl`: compared with the positions table token by token. A token
 *   missing on one side counts as 0 (a split in a market Gamma does not know mints an outcome no fill names, bought
 *   and merged at 0.50 only: it realizes exactly 0).
 * A wallet agrees when its total and every closed token are within the tolerance: |Δ| ≤ max($0.01, 0.1 % of theirs).
 * Both routes are rate-limited under their own keys (PNL_CHECK_RATE_LIMITS, overridable with --rate-limit).
 */
import { describeError } from '../lib/errors.js';
import { epochSeconds } from '../pnl/index.js';
import type { ClosedPosition, UserPnlLatest } from '../polymarket/pnl-api.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { replayBatch } from '../engine/wallet-stats.js';

/** |Δ| ≤ max(ABSOLUTE, RELATIVE × |theirs|). */
export const PNL_TOLERANCE = { absolute: 0.01, relative: 0.001 } as const;

export function withinTolerance(ours: number, theirs: number): boolean {
  return Math.abs(ours - theirs) <= Math.max(PNL_TOLERANCE.absolute, PNL_TOLERANCE.relative * Math.abs(theirs)) + 1e-9;
}

/** What the check asks Polymarket (the source's two calls, rate-limited there). */
export interface PnlOracle {
  closedPositions(wallet: string, options?: { signal?: AbortSignal }): Promise<ClosedPosition[]>;
  latestUserPnl(wallet: string, options?: { signal?: AbortSignal }): Promise<UserPnlLatest | null>;
}

/** agree: within tolerance; differ: not; no-data: Polymarket has no figure (not zero, not compared); failed: the check could not run. */
export type PnlVerdict = 'agree' | 'differ' | 'no-data' | 'failed';

export interface PnlCheck {
  wallet: string;
  verdict: PnlVerdict;
  /** Our realized profit before fees, replayed from the rows held up to their last point's time. */
  ours: number | null;
  /** Polymarket's: the last `/v2/user-pnl` point; null when it has none. */
  theirs: number | null;
  /** ours − theirs (USDC); null when either is missing. */
  difference: number | null;
  /** The time of their last point (ISO-8601): rows after it are in neither figure. */
  as_of: string | null;
  /** Our realized profit over everything held (wallet_stats), whatever the grid. */
  ours_now: number | null;
  /** Closed tokens compared one by one, and those out of tolerance (the worst first, at most 5). */
  closed: { compared: number; differing: number; worst: { token_id: string; ours: number; theirs: number }[] };
  /** The wallet's figures were flagged stale when checked (a run has not recomputed them yet). */
  stale?: boolean;
  error?: string;
}

export interface PnlVerification {
  wallets: PnlCheck[];
  agree: number;
  differ: number;
  noData: number;
  failed: number;
  /** Of the wallets with a figure on both sides, the share within tolerance; null when there is none. */
  shareWithin: number | null;
  tolerance: typeof PNL_TOLERANCE;
}

const round6 = (value: number): number => Math.round(value * 1e6) / 1e6;

/** One wallet's check. Never throws: a failure is the wallet's verdict. */
export async function checkWallet(warehouse: Warehouse, oracle: PnlOracle, wallet: string, signal?: AbortSignal): Promise<PnlCheck> {
  const base: PnlCheck = { wallet, verdict: 'failed', ours: null, theirs: null, difference: null, as_of: null, ours_now: null, closed: { compared: 0, differing: 0, worst: [] } };
  try {
    const [latest, closed, stats, positions] = await Promise.all([
      oracle.latestUserPnl(wallet, signal ? { signal } : {}),
      oracle.closedPositions(wallet, signal ? { signal } : {}),
      warehouse.walletStatsOf(wallet),
      warehouse.walletPositions(wallet),
    ]);
    if (!stats) {
      return { ...base, error: `${wallet} has no figures in wallet_stats: it was never loaded (add it with \`backfill traders add\` and run \`backfill run\`)` };
    }
    const check: PnlCheck = { ...base, ours_now: stats.realized_pnl, ...(stats.stale || stats.computed_at === null ? { stale: true } : {}) };

    // Token by token: our closed positions against theirs.
    const ourClosed = new Map(positions.filter((p) => p.status === 'closed').map((p) => [p.token_id, p.realized_pnl]));
    const theirClosed = new Map(closed.map((p) => [p.token_id, p.realized_pnl ?? 0]));
    const worst: PnlCheck['closed']['worst'] = [];
    let compared = 0;
    for (const token of new Set([...ourClosed.keys(), ...theirClosed.keys()])) {
      compared += 1;
      const ours = ourClosed.get(token) ?? 0;
      const theirs = theirClosed.get(token) ?? 0;
      if (!withinTolerance(ours, theirs)) worst.push({ token_id: token, ours, theirs });
    }
    worst.sort((a, b) => Math.abs(b.ours - b.theirs) - Math.abs(a.ours - a.theirs));
    check.closed = { compared, differing: worst.length, worst: worst.slice(0, 5) };

    if (latest === null || latest.realized_pnl === null) {
      check.verdict = 'no-data';
      return check;
    }
    // Ours as of their last point: the rows after it are not in their series yet.
    const inputs = await warehouse.readPnlInputs([wallet]);
    const cut = latest.timestamp;
    const upTo = { ...inputs, fills: inputs.fills.filter((f) => epochSeconds(f.timestamp) <= cut), activity: inputs.activity.filter((a) => epochSeconds(a.timestamp) <= cut) };
    const [replayed] = replayBatch([wallet], upTo, new Date().toISOString());
    const ours = Number(replayed!.stats.realized_pnl);
    check.ours = ours;
    check.theirs = latest.realized_pnl;
    check.as_of = new Date(cut * 1000).toISOString();
    check.difference = round6(ours - latest.realized_pnl);
    check.verdict = withinTolerance(ours, latest.realized_pnl) && check.closed.differing === 0 ? 'agree' : 'differ';
    return check;
  } catch (error) {
    return { ...base, error: describeError(error) };
  }
}

/** Checks the wallets, a few at a time (the oracle's rate limiter paces the requests); `onWallet` hears each as it ends. */
export async function verifyPnl(
  warehouse: Warehouse,
  oracle: PnlOracle,
  wallets: readonly string[],
  options: { concurrency?: number; signal?: AbortSignal; onWallet?: (check: PnlCheck) => void } = {},
): Promise<PnlVerification> {
  const checks: PnlCheck[] = new Array<PnlCheck>(wallets.length);
  let next = 0;
  const worker = async () => {
    while (next < wallets.length && !options.signal?.aborted) {
      const index = next;
      next += 1;
      const check = await checkWallet(warehouse, oracle, wallets[index]!, options.signal);
      checks[index] = check;
      options.onWallet?.(check);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, wallets.length)) }, worker));
  const done = checks.filter((c): c is PnlCheck => c !== undefined);
  const count = (verdict: PnlVerdict) => done.filter((c) => c.verdict === verdict).length;
  const agree = count('agree');
  const differ = count('differ');
  return {
    wallets: done,
    agree,
    differ,
    noData: count('no-data'),
    failed: count('failed'),
    shareWithin: agree + differ > 0 ? agree / (agree + differ) : null,
    tolerance: PNL_TOLERANCE,
  };
}
