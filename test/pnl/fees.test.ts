import { describe, expect, it } from 'vitest';
import { replayBatch } from '../../src/engine/wallet-stats.js';
import { replayWallet, summarizeWallet } from '../../src/pnl/index.js';
import type { PnlActivityRow, PnlBatchInputs, PnlFillRow, PnlMarketRow } from '../../src/warehouse/warehouse.js';
import { WALLET, activity, binaryMarket, fill, history } from './helpers.js';

const A = binaryMarket(101);
const YES = 0;

const marketRow: PnlMarketRow = { condition_id: A.condition_id, clob_token_ids: JSON.stringify(A.token_ids), neg_risk: false, neg_risk_market_id: null, raw: '{}', event_ids: null };

// BUY 100 @ 0.50, SELL 100 @ 0.60 → before fees 100 × (0.60 − 0.50) = +10.00.
const buy = fill('BUY', A, YES, 100, 0.5);
const sell = fill('SELL', A, YES, 100, 0.6);
const fills: PnlFillRow[] = [buy, sell].map((f) => ({ ...f, wallet: WALLET }));

/** The `/v2/activity` TRADE row of a fill, its `usdc_size` holding `fee` (a buyer pays it on top, a seller receives less). */
function tradeRow(f: PnlFillRow, fee: number): PnlActivityRow {
  const notional = f.size * f.price;
  return {
    wallet: WALLET,
    type: 'TRADE',
    condition_id: f.condition_id,
    token_id: f.asset,
    outcome_index: f.outcome_index,
    side: f.side,
    price: f.price,
    size: f.size,
    usdc_size: Math.round((f.side === 'BUY' ? notional + fee : notional - fee) * 1e6) / 1e6,
    transaction_hash: f.transaction_hash,
    timestamp: f.timestamp,
  };
}

const inputs = (activityRows: PnlActivityRow[]): PnlBatchInputs => ({ fills, activity: activityRows, markets: [marketRow], resolutions: [], events: [] });
const NOW = '2026-12-06T00:00:00.000Z';

describe('fees: unknown is unknown, not zero', () => {
  it('fills without TRADE activity (the default --activity-types) have no figure after fees: null, not the before-fees figure', () => {
    const [rows] = replayBatch([WALLET], inputs([]), NOW);
    expect(rows!.positions).toHaveLength(1);
    expect(rows!.positions[0]).toMatchObject({ realized_pnl: 10, realized_pnl_after_fees: null, fees_usdc: null });
    expect(rows!.stats).toMatchObject({ realized_pnl: 10, realized_pnl_after_fees: null, fees_usdc: null, return_on_cost: null, cost_bought_usdc: 50 });
  });

  it('the same fills with their TRADE rows held: +10.00 before fees, 0.75 + 0.90 = 1.65 of fees, +8.35 after', () => {
    const [rows] = replayBatch([WALLET], inputs([tradeRow(fills[0]!, 0.75), tradeRow(fills[1]!, 0.9)]), NOW);
    expect(rows!.positions[0]).toMatchObject({ realized_pnl: 10, realized_pnl_after_fees: 8.35, fees_usdc: 1.65 });
    // Return on cost after fees: 8.35 / 50 paid for the buy.
    expect(rows!.stats).toMatchObject({ realized_pnl: 10, realized_pnl_after_fees: 8.35, fees_usdc: 1.65, return_on_cost: 8.35 / 50 });
  });

  it('a TRADE row whose usdc_size is exactly size × price is a known zero fee (a maker fill, or one before fees), not an unknown one', () => {
    const [rows] = replayBatch([WALLET], inputs([tradeRow(fills[0]!, 0), tradeRow(fills[1]!, 0)]), NOW);
    expect(rows!.positions[0]).toMatchObject({ realized_pnl: 10, realized_pnl_after_fees: 10, fees_usdc: 0 });
    expect(rows!.stats).toMatchObject({ realized_pnl_after_fees: 10, fees_usdc: 0, return_on_cost: 10 / 50 });
  });

  it('one fill left unmatched among matched ones makes its position, and so the wallet, unknown after fees', () => {
    // Only the buy's TRADE row is held (a wallet whose TRADE walk began after the sale, or a row of another size).
    const [rows] = replayBatch([WALLET], inputs([tradeRow(fills[0]!, 0.75), { ...tradeRow(fills[1]!, 0.9), size: 99 }]), NOW);
    expect(rows!.positions[0]).toMatchObject({ realized_pnl: 10, realized_pnl_after_fees: null, fees_usdc: null });
    expect(rows!.stats).toMatchObject({ realized_pnl_after_fees: null, fees_usdc: null, return_on_cost: null });
  });

  it('a wallet of one fee-known and one fee-unknown position is unknown after fees in wallet_stats, the known position keeping its figures', () => {
    const B = binaryMarket(102);
    const known = [fill('BUY', A, YES, 10, 0.5, { fee_usdc: 0.1 }), fill('SELL', A, YES, 10, 0.7, { fee_usdc: 0 })];
    const unknown = [fill('BUY', B, YES, 10, 0.5), fill('SELL', B, YES, 10, 0.4)];
    const replay = replayWallet(history({ fills: [...known, ...unknown], markets: [A, B] }));
    // A: 10 × (0.70 − 0.50) = 2.00 before, 1.90 after the 0.10 fee. B: 10 × (0.40 − 0.50) = −1.00, fee unknown.
    expect(replay.positions.map((p) => [p.token_id, p.realized_pnl, p.realized_pnl_after_fees, p.fees_usdc])).toEqual([
      ['10101', 2, 1.9, 0.1],
      ['10201', -1, null, null],
    ]);
    const stats = summarizeWallet(replay, [...known, ...unknown]);
    expect(stats).toMatchObject({ realized_pnl: 1, realized_pnl_after_fees: null, fees_usdc: null, return_on_cost: null });
  });

  it('a wallet with activity but no fills was charged nothing: its fees are a known 0', () => {
    // SPLIT 10 → YES and NO 10 each @ 0.50; MERGE 10 → both sold @ 0.50: nothing realized, no fill, no fee.
    const replay = replayWallet(history({ activity: [activity('SPLIT', A, 10), activity('MERGE', A, 10)], markets: [A] }));
    expect(replay.positions.map((p) => [p.realized_pnl_after_fees, p.fees_usdc])).toEqual([
      [0, 0],
      [0, 0],
    ]);
    expect(summarizeWallet(replay, [])).toMatchObject({ realized_pnl: 0, realized_pnl_after_fees: 0, fees_usdc: 0, return_on_cost: 0 });
  });
});
