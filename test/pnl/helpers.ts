/** Small builders for hand-worked replay cases: one wallet, a few markets, rows with only what matters. */
import type { PnlActivity, PnlFill, PnlMarket, PnlResolution, WalletHistory } from '../../src/pnl/index.js';

export const WALLET = '0x00000000000000000000000000000000000000aa';

export const conditionOf = (n: number): string => `0x${n.toString(16).padStart(64, '0')}`;

/** A binary market `n`: tokens `n01` (outcome 0, YES) and `n02` (outcome 1, NO). */
export function binaryMarket(n: number): PnlMarket {
  return { condition_id: conditionOf(n), token_ids: [`${n}01`, `${n}02`], neg_risk: false, neg_risk_market_id: null, question_index: null };
}

/** A neg-risk group of `size` questions: markets `base + q`, question q. */
export function negRiskGroup(base: number, size: number): PnlMarket[] {
  return Array.from({ length: size }, (_, q) => ({
    ...binaryMarket(base + q),
    neg_risk: true,
    neg_risk_market_id: `0x${'9'.repeat(62)}00`,
    question_index: q,
  }));
}

let tx = 0;
let clock = 1_780_000_000;

/** A fill one second after the previous row, in its own transaction. */
export function fill(side: 'BUY' | 'SELL', market: PnlMarket, outcome: number, size: number, price: number, extra: Partial<PnlFill> = {}): PnlFill {
  clock += 1;
  tx += 1;
  return {
    asset: market.token_ids[outcome]!,
    condition_id: market.condition_id,
    outcome_index: outcome,
    side,
    size,
    price,
    timestamp: clock,
    transaction_hash: `0x${tx.toString(16).padStart(64, '0')}`,
    ...extra,
  };
}

/** An activity row one second after the previous row; `outcome` null for rows of no single outcome (split, merge). */
export function activity(type: string, market: PnlMarket, size: number, outcome: number | null = null, usdcSize = 0): PnlActivity {
  clock += 1;
  tx += 1;
  return {
    type,
    condition_id: market.condition_id,
    token_id: outcome === null ? null : market.token_ids[outcome]!,
    outcome_index: outcome ?? 999,
    size,
    usdc_size: usdcSize,
    timestamp: clock,
    transaction_hash: `0x${tx.toString(16).padStart(64, '0')}`,
  };
}

export const resolved = (market: PnlMarket, payouts: number[]): PnlResolution => ({ condition_id: market.condition_id, status: 'resolved', payouts });

export function history(parts: Partial<WalletHistory>): WalletHistory {
  return { wallet: WALLET, fills: [], activity: [], markets: [], resolutions: [], ...parts };
}
