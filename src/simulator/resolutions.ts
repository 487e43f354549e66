/**
 * Market resolutions as `GET /v2/resolutions?condition=…` serves them (condition-keyed `Resolution` rows), read from
 * the same universe state as Gamma: a market Gamma shows closed is `resolved` with the payouts of Gamma's winner, an
 * open one past its end date is `proposed` (or `disputed`), an earlier one `active`. `advance` resolves markets, so
 * their rows change with it. Every draw is made up front from (seed, market), so a state change never shifts one.
 */
import { unitOf } from './epochs.js';
import { Rng, Stream } from './prng.js';
import { isoSeconds } from './text.js';
import type { Universe } from './universe.js';

/** Micro-USDC per share of a winning outcome (collateral has 6 decimals). */
export const PAYOUT_UNIT = 1_000_000;

/** Polygon's genesis (2020-05-30) and its ~2 s blocks: enough to give every time a plausible, monotone block. */
const GENESIS_SECONDS = 1_590_824_836;
const SECONDS_PER_BLOCK = 2;

export function blockAt(epochSeconds: number): number {
  return 1 + Math.floor((epochSeconds - GENESIS_SECONDS) / SECONDS_PER_BLOCK);
}

/** Payout per outcome in micro-USDC per share once the market is resolved; undefined while open or unknown to Gamma. */
export function payoutsOf(universe: Universe, m: number): [number, number] | undefined {
  if (!universe.isResolvable(m)) return undefined;
  const winner = universe.winningOutcome(m);
  if (winner === undefined) return undefined;
  return winner === 0 ? [PAYOUT_UNIT, 0] : [0, PAYOUT_UNIT];
}

const PENDING_AFTER_END_SECONDS = 2 * 3600;

/** The condition-keyed row of market `m` at the universe's clock; undefined for a market Gamma does not know. */
export function resolutionRow(universe: Universe, seed: number, m: number): Record<string, unknown> | undefined {
  if (!universe.isResolvable(m)) return undefined;
  const core = universe.marketCore(m);
  const event = universe.eventCore(core.eventIndex);
  const rng = Rng.of(seed, Stream.resolution, m);
  const disputed = rng.chance(0.05);
  // Live rows sometimes lack documented fields (data-api-v2-observed.md): reporter, market_type, the tx.
  const omitReporter = rng.chance(0.03);
  const omitMarketType = rng.chance(0.03);
  const omitTx = rng.chance(0.03);
  const eoaReporter = rng.chance(0.02);
  const logIndex = rng.int(0, 400);
  const txHash = `0x${rng.hex(8)}`;
  const atomic = unitOf(seed, Stream.resolutionEvent, core.eventIndex) < 0.5;
  const marketType = event.negRisk ? (atomic ? 'ATOMIC_NEGRISK' : 'INCREMENTAL_NEGRISK') : 'BINARY';
  const clock = universe.clock;

  const row: Record<string, unknown> = { condition_id: core.conditionId };
  const payouts = payoutsOf(universe, m);
  if (payouts) {
    const winner = universe.winningOutcome(m) === 0;
    row.status = 'resolved';
    row.extended_review = false;
    row.was_disputed = disputed;
    row.new_version_q = false;
    row.transaction_hash = omitTx ? '' : txHash;
    row.log_index = omitTx ? '' : String(logIndex);
    row.last_update_timestamp = isoSeconds(event.closedTime);
    if (!omitMarketType) row.market_type = marketType;
    row.payouts = payouts;
    row.resolved_at = isoSeconds(event.closedTime);
    row.resolved_block = blockAt(event.closedTime);
    if (!omitReporter) row.reporter = eoaReporter ? 'EOA' : event.kind === 'updown' ? 'CHAINLINK' : 'UMA_OO';
    // In an atomic neg-risk event only the winner is reported; its siblings follow from it.
    row.resolution_source = event.negRisk && atomic && !winner ? 'derived' : 'reported';
    row.was_arbitrated = false;
    return row;
  }
  const pastEnd = event.end <= clock;
  row.status = pastEnd ? (disputed ? 'disputed' : 'proposed') : 'active';
  row.extended_review = false;
  row.was_disputed = pastEnd && disputed;
  row.new_version_q = false;
  row.transaction_hash = '';
  row.log_index = '';
  row.last_update_timestamp = isoSeconds(pastEnd ? Math.min(event.end + PENDING_AFTER_END_SECONDS, clock) : Math.min(event.start, clock));
  if (!omitMarketType) row.market_type = marketType;
  row.payouts = null;
  row.resolved_at = null;
  row.resolved_block = null;
  return row;
}
