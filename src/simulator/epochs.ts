/**
 * The simulator's time axis. Each `advance` is one epoch: the clock moves from `from` to `to`, a share of the
 * wallets trade again, new events are listed and a share of the open markets whose end date has passed resolve.
 * An epoch is a handful of numbers; what it adds is derived on demand from (epoch seed, wallet or event index),
 * exactly like the generated history, so evicted wallets regenerate identically and nothing is stored per fill.
 */
import { Rng, Stream } from './prng.js';

export interface Epoch {
  /** 0 for the first advance. */
  readonly index: number;
  readonly seed: number;
  /** The clock before the advance: every fill so far is at or before it. */
  readonly from: number;
  /** The clock after the advance: new fills are at or before it. */
  readonly to: number;
  readonly walletShare: number;
  readonly resolveShare: number;
  /**
   * A wallet that already has fills and is forced to trade, with a transaction on its newest timestamp, twin fills
   * and a fill in a newly listed market, so every epoch carries each case a refresh must survive; -1 if no wallet
   * has fills yet.
   */
  readonly designated: number;
  /** Events listed in this epoch: indices `firstListedEvent ..< firstListedEvent + listedEvents`. */
  readonly firstListedEvent: number;
  readonly listedEvents: number;
  /**
   * A boundary transaction (see TxPlan) lands on the wallet's previous newest timestamp only when that timestamp is
   * at most this many seconds before `from`; otherwise it is an ordinary transaction in (from, to]. Undefined: no
   * limit. A fill indexed late by years is no real feed's behaviour, and a refresh that tails the global feed (which
   * only looks back its overlap) could never see it; the per-day activity mode sets a limit (see Dataset.advance).
   */
  readonly boundaryMaxAgeSeconds?: number;
}

/** One new transaction of a wallet in an epoch. */
export interface TxPlan {
  /** Distinct fills, the twin not included. */
  fills: number;
  /** A second fill identical to the first (same tx, token, side, price, size): two real fills. */
  twin: boolean;
  /** On the wallet's previous newest timestamp: the same block, indexed late. */
  boundary: boolean;
  /** In a market listed in this epoch, which no fill has touched before. */
  fresh: boolean;
}

/** Probability that an active wallet's first new transaction lands on its previous newest timestamp. */
const BOUNDARY_SHARE = 0.25;
const TWIN_SHARE = 0.08;
const FRESH_SHARE = 0.3;

/**
 * What wallet `wallet` trades in `epoch`: empty when it stays quiet. Depends only on the epoch's seed, index,
 * shares and designated wallet (never on what is listed), so a wallet's fill count is known without generating it.
 */
export function walletPlan(
  epoch: Pick<Epoch, 'index' | 'seed' | 'walletShare' | 'designated'>,
  wallet: number,
  hasPrior: boolean,
): TxPlan[] {
  const rng = Rng.of(epoch.seed, Stream.advancePlan, epoch.index, wallet);
  const designated = wallet === epoch.designated;
  // Drawn for every wallet so that forcing the designated one does not shift anyone else's draws.
  const active = rng.chance(epoch.walletShare);
  if (!active && !designated) return [];
  const txCount = Math.max(designated ? 3 : 1, rng.int(1, 5));
  const plan: TxPlan[] = [];
  for (let i = 0; i < txCount; i += 1) {
    const fills = rng.chance(0.25) ? rng.int(2, 3) : 1;
    const twin = rng.chance(TWIN_SHARE);
    const fresh = rng.chance(FRESH_SHARE);
    const boundary = rng.chance(BOUNDARY_SHARE);
    plan.push({ fills, twin, fresh: fresh && !(i === 0 && boundary && hasPrior), boundary: i === 0 && hasPrior && boundary });
  }
  if (designated && hasPrior) {
    plan[0] = { fills: plan[0]?.fills ?? 1, twin: true, boundary: true, fresh: false };
    plan[1] = { fills: plan[1]?.fills ?? 1, twin: plan[1]?.twin ?? false, boundary: false, fresh: true };
  }
  return plan;
}

export function planFillCount(plan: readonly TxPlan[]): number {
  let count = 0;
  for (const tx of plan) count += tx.fills + (tx.twin ? 1 : 0);
  return count;
}

/** How many events an epoch lists: enough that fresh transactions spread over several of them. */
export function listedEventCount(activeWallets: number): number {
  return Math.min(2_000, Math.max(2, Math.ceil(activeWallets / 8)));
}

/**
 * The draw that decides whether `wallet` trades in the epoch: it trades when this is below `walletShare` (the first
 * draw of its plan stream, see walletPlan). Exposed so that a target number of fills can be met by choosing the share.
 */
export function activityDraw(epoch: Pick<Epoch, 'index' | 'seed'>, wallet: number): number {
  return Rng.of(epoch.seed, Stream.advancePlan, epoch.index, wallet).next();
}

/** A uniform draw in [0, 1) keyed by `parts`, for one-off decisions that need no stream. */
export function unitOf(...parts: readonly number[]): number {
  return Rng.of(...parts).next();
}
