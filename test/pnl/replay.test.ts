import { describe, expect, it } from 'vitest';
import { replayWallet } from '../../src/pnl/index.js';
import type { PnlPosition, WalletHistory } from '../../src/pnl/index.js';
import { activity, binaryMarket, fill, history, negRiskGroup, resolved } from './helpers.js';

const A = binaryMarket(1);
const YES = 0;
const NO = 1;

function positions(input: WalletHistory): Map<string, PnlPosition> {
  return new Map(replayWallet(input).positions.map((position) => [position.token_id, position]));
}
const realizedOf = (input: WalletHistory): number => replayWallet(input).positions.reduce((sum, p) => sum + p.realized_pnl, 0);

describe('the replay, hand-worked (Polymarket PnL subgraph method)', () => {
  it('a buy/sell round trip realizes quantity × (sell − buy)', () => {
    // BUY 100 @ 0.40, SELL 100 @ 0.55 → 100 × (0.55 − 0.40) = 15.00; nothing held, so closed.
    const p = positions(history({ fills: [fill('BUY', A, YES, 100, 0.4), fill('SELL', A, YES, 100, 0.55)], markets: [A] })).get('101')!;
    expect(p).toMatchObject({ realized_pnl: 15, shares: 0, avg_price: 0.4, total_bought: 100, status: 'closed', fills: 2 });
  });

  it('buys at two prices move the weighted average; a partial sell realizes against it', () => {
    // BUY 100 @ 0.40 + BUY 300 @ 0.60 → avg (40 + 180) / 400 = 0.55. SELL 200 @ 0.70 → 200 × 0.15 = 30.00; 200 left.
    const p = positions(history({ fills: [fill('BUY', A, YES, 100, 0.4), fill('BUY', A, YES, 300, 0.6), fill('SELL', A, YES, 200, 0.7)], markets: [A] })).get('101')!;
    expect(p).toMatchObject({ realized_pnl: 30, shares: 200, avg_price: 0.55, total_bought: 400, cost_bought_usdc: 220, status: 'open' });
  });

  it('a sale beyond the known holding realizes only what was held', () => {
    // BUY 10 @ 0.50, SELL 25 @ 0.60 → min(25, 10) × 0.10 = 1.00; the other 15 came from outside what is tracked.
    const p = positions(history({ fills: [fill('BUY', A, YES, 10, 0.5), fill('SELL', A, YES, 25, 0.6)], markets: [A] })).get('101')!;
    expect(p).toMatchObject({ realized_pnl: 1, shares: 0 });
  });

  it('amounts are integer micro-units with truncating division, as in the subgraph', () => {
    // BUY 1 @ 0.10, BUY 2 @ 0.20 → avg = (100000·1e6 + 200000·2e6) / 3e6 = 166666.67 → 166666 micro.
    // SELL 3 @ 0.20 → 3e6 × (200000 − 166666) / 1e6 = 100002 micro = 0.100002 (not 0.1).
    const p = positions(history({ fills: [fill('BUY', A, YES, 1, 0.1), fill('BUY', A, YES, 2, 0.2), fill('SELL', A, YES, 3, 0.2)], markets: [A] })).get('101')!;
    expect(p.avg_price).toBe(0.166666);
    expect(p.realized_pnl).toBe(0.100002);
  });

  it('a split buys both outcomes at 0.50; selling one side realizes against 0.50', () => {
    // SPLIT 50 → YES 50 @ 0.50 and NO 50 @ 0.50. SELL 50 YES @ 0.80 → 50 × 0.30 = 15.00. NO: 50 held, nothing realized.
    const got = positions(history({ activity: [activity('SPLIT', A, 50)], fills: [fill('SELL', A, YES, 50, 0.8)], markets: [A] }));
    expect(got.get('101')).toMatchObject({ realized_pnl: 15, shares: 0, status: 'closed', total_bought: 50 });
    expect(got.get('102')).toMatchObject({ realized_pnl: 0, shares: 50, avg_price: 0.5, status: 'open' });
  });

  it('a merge sells both outcomes at 0.50', () => {
    // BUY 40 YES @ 0.30, BUY 40 NO @ 0.60; MERGE 40 → YES 40 × (0.5 − 0.3) = 8, NO 40 × (0.5 − 0.6) = −4 → 4.00
    // (the merge pays 40 for what cost 12 + 24 = 36).
    const input = history({ fills: [fill('BUY', A, YES, 40, 0.3), fill('BUY', A, NO, 40, 0.6)], activity: [activity('MERGE', A, 40)], markets: [A] });
    const got = positions(input);
    expect(got.get('101')).toMatchObject({ realized_pnl: 8, shares: 0 });
    expect(got.get('102')).toMatchObject({ realized_pnl: -4, shares: 0 });
    expect(realizedOf(input)).toBe(4);
  });

  it('redeeming sells the whole holding of both outcomes at the payout: a winner and a loser', () => {
    // BUY 100 YES @ 0.35, BUY 20 NO @ 0.60; YES wins (payouts [1e6, 0]).
    // REDEEM → YES 100 × (1 − 0.35) = 65, NO 20 × (0 − 0.60) = −12 → 53.00.
    const input = history({
      fills: [fill('BUY', A, YES, 100, 0.35), fill('BUY', A, NO, 20, 0.6)],
      activity: [activity('REDEEM', A, 100, YES, 100), activity('REDEEM', A, 20, NO, 0)],
      markets: [A],
      resolutions: [resolved(A, [1_000_000, 0])],
    });
    const got = positions(input);
    expect(got.get('101')).toMatchObject({ realized_pnl: 65, shares: 0, status: 'closed', payout_price: 1, settled_pnl: 65 });
    expect(got.get('102')).toMatchObject({ realized_pnl: -12, shares: 0, status: 'closed', payout_price: 0, settled_pnl: -12 });
    expect(realizedOf(input)).toBe(53);
  });

  it('a loser never redeemed realizes nothing (as Polymarket reports it) but settles at its loss', () => {
    // BUY 50 YES @ 0.70; NO wins; no REDEEM → realized 0, status lost, settled 50 × (0 − 0.70) = −35.00.
    const p = positions(history({ fills: [fill('BUY', A, YES, 50, 0.7)], markets: [A], resolutions: [resolved(A, [0, 1_000_000])] })).get('101')!;
    expect(p).toMatchObject({ realized_pnl: 0, shares: 50, status: 'lost', payout_price: 0, settled_pnl: -35 });
  });

  it('a held winner not yet redeemed is redeemable', () => {
    // BUY 10 YES @ 0.25; YES wins → settled 10 × 0.75 = 7.50, realized 0.
    const p = positions(history({ fills: [fill('BUY', A, YES, 10, 0.25)], markets: [A], resolutions: [resolved(A, [1_000_000, 0])] })).get('101')!;
    expect(p).toMatchObject({ realized_pnl: 0, status: 'redeemable', settled_pnl: 7.5 });
  });

  it('a neg-risk conversion sells the NO at its average and buys YES of the other questions at computeNegRiskYesPrice', () => {
    // Group of 3. BUY 100 NO(Q0) @ 0.90. CONVERSION of Q0, 100 → NO sold at its avg 0.90 (realizes 0);
    // yesPrice = (0.90 × 1 − 1 × 0) / (3 − 1) = 0.45 → YES(Q1) and YES(Q2): 100 @ 0.45 each.
    // Q1 wins: REDEEM YES(Q1) 100 → 100 × (1 − 0.45) = 55; Q2 loses: REDEEM YES(Q2) 100 → −45. Total 10.00
    // (90 paid for 100 NO of Q0, which became the winning YES of Q1).
    const [q0, q1, q2] = negRiskGroup(10, 3) as [ReturnType<typeof binaryMarket>, ReturnType<typeof binaryMarket>, ReturnType<typeof binaryMarket>];
    const input = history({
      fills: [fill('BUY', q0, NO, 100, 0.9)],
      activity: [activity('CONVERSION', q0, 100, NO), activity('REDEEM', q1, 100, YES, 100), activity('REDEEM', q2, 100, YES, 0)],
      markets: [q0, q1, q2],
      resolutions: [resolved(q0, [0, 1_000_000]), resolved(q1, [1_000_000, 0]), resolved(q2, [0, 1_000_000])],
    });
    const got = positions(input);
    expect(got.get('1002')).toMatchObject({ realized_pnl: 0, shares: 0, avg_price: 0.9, status: 'closed' });
    expect(got.get('1101')).toMatchObject({ avg_price: 0.45, total_bought: 100, realized_pnl: 55, status: 'closed' });
    expect(got.get('1201')).toMatchObject({ avg_price: 0.45, realized_pnl: -45, status: 'closed' });
    expect(realizedOf(input)).toBe(10);
  });

  it('a conversion of two NOs averages their prices and subtracts the collateral it returns', () => {
    // Group of 3. NO(Q0) 10 @ 0.90, NO(Q1) 10 @ 0.80; one conversion (one transaction) of Q0 and Q1, 10 each.
    // noPrice = (0.90 + 0.80) / 2 = 0.85; yesPrice = (0.85 × 2 − 1 × (2 − 1)) / (3 − 2) = 0.70 → YES(Q2) 10 @ 0.70.
    const [q0, q1, q2] = negRiskGroup(20, 3) as [ReturnType<typeof binaryMarket>, ReturnType<typeof binaryMarket>, ReturnType<typeof binaryMarket>];
    const fills = [fill('BUY', q0, NO, 10, 0.9), fill('BUY', q1, NO, 10, 0.8)];
    const first = activity('CONVERSION', q0, 10, NO);
    const second = { ...activity('CONVERSION', q1, 10, NO), timestamp: first.timestamp, transaction_hash: first.transaction_hash };
    const got = positions(history({ fills, activity: [second, first], markets: [q0, q1, q2] }));
    expect(got.get('2002')).toMatchObject({ shares: 0, realized_pnl: 0 });
    expect(got.get('2102')).toMatchObject({ shares: 0, realized_pnl: 0 });
    expect(got.get('2201')).toMatchObject({ shares: 10, avg_price: 0.7, total_bought: 10 });
  });

  it('a fill with a fee: profit before fees reconciles with Polymarket, profit after fees is what was kept', () => {
    // BUY 100 @ 0.50 (fee 0.75), SELL 100 @ 0.60 (fee 0.90) → before fees 10.00; fees 1.65; after fees 8.35.
    const p = positions(history({ fills: [fill('BUY', A, YES, 100, 0.5, { fee_usdc: 0.75 }), fill('SELL', A, YES, 100, 0.6, { fee_usdc: 0.9 })], markets: [A] })).get('101')!;
    expect(p).toMatchObject({ realized_pnl: 10, fees_usdc: 1.65, realized_pnl_after_fees: 8.35 });
  });

  it('combo fills and rows that move no position are left out and counted', () => {
    const combo = { ...fill('BUY', A, YES, 5, 0.5), condition_id: `0x${'c'.repeat(62)}` };
    const reward = { ...activity('REWARD', A, 0), condition_id: null };
    const replay = replayWallet(history({ fills: [combo], activity: [reward], markets: [A] }));
    expect(replay.positions).toEqual([]);
    expect(replay.skipped).toMatchObject({ combo_fills: 1, other_activity: { REWARD: 1 } });
  });

  it('a market Gamma does not know still splits and merges over the tokens its fills show', () => {
    // No market info: the wallet's fills show token 301 only. SPLIT 10 buys 301 at 0.50 (10 @ 0.50 + 10 @ 0.30 → avg 0.40).
    const ghost = binaryMarket(3);
    const got = positions(history({ fills: [fill('BUY', ghost, YES, 10, 0.3)], activity: [activity('SPLIT', ghost, 10)], markets: [] }));
    expect(got.get('301')).toMatchObject({ shares: 20, avg_price: 0.4 });
    expect(got.has('302')).toBe(false);
  });
});
