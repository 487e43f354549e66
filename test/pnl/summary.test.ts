import { describe, expect, it } from 'vitest';
import { replayWallet, summarizeWallet } from '../../src/pnl/index.js';
import { WALLET, activity, binaryMarket, fill, history, resolved } from './helpers.js';

describe('the wallet summary, hand-worked', () => {
  it('adds up profit, volume, wins and losses (an unredeemed loser included), maker share and categories', () => {
    const A = binaryMarket(101);
    const B = binaryMarket(102);
    const C = binaryMarket(103);
    const fills = [
      // Every fee known (0 where a TRADE row showed none), so the figures after fees are known too.
      // A (Sports): BUY 100 @ 0.40 (maker), SELL 100 @ 0.55 (taker, fee 0.50) → realized 15, fee 0.50. YES wins: settled 15.
      fill('BUY', A, 0, 100, 0.4, { role: 'maker', fee_usdc: 0 }),
      fill('SELL', A, 0, 100, 0.55, { role: 'taker', fee_usdc: 0.5 }),
      // B (Politics): BUY 50 YES @ 0.70 (role unknown); NO wins, never redeemed → realized 0, settled −35.
      fill('BUY', B, 0, 50, 0.7, { fee_usdc: 0 }),
      // C (Sports): BUY 100 YES @ 0.35 (maker), BUY 20 NO @ 0.60 (taker); YES wins, redeemed → realized 65 − 12 = 53.
      fill('BUY', C, 0, 100, 0.35, { role: 'maker', fee_usdc: 0 }),
      fill('BUY', C, 1, 20, 0.6, { role: 'taker', fee_usdc: 0 }),
    ];
    const input = history({
      fills,
      activity: [activity('REDEEM', C, 100, 0, 100)],
      markets: [A, B, C],
      resolutions: [resolved(A, [1_000_000, 0]), resolved(B, [0, 1_000_000]), resolved(C, [1_000_000, 0])],
    });
    const categories: Record<string, string> = { [A.condition_id]: 'Sports', [B.condition_id]: 'Politics', [C.condition_id]: 'Sports' };
    const stats = summarizeWallet(replayWallet(input), fills, { categoryOf: (id) => categories[id] });
    expect(stats).toEqual({
      proxy_wallet: WALLET,
      // 15 + 0 + 53 = 68; after the 0.50 fee 67.50.
      realized_pnl: 68,
      realized_pnl_after_fees: 67.5,
      fees_usdc: 0.5,
      // 40 + 55 + 35 + 35 + 12 = 177.
      volume_usdc: 177,
      fills: 5,
      markets_traded: 3,
      resolved_markets_traded: 3,
      // A settles at 15 − 0.50 > 0, C at 53 > 0: wins; B at −35: a loss although never redeemed.
      wins: 2,
      losses: 1,
      win_rate: 2 / 3,
      win_rate_sample: 3,
      // Bought: 40 (A) + 35 (B) + 35 + 12 (C) = 122 → 67.5 / 122.
      cost_bought_usdc: 122,
      return_on_cost: 67.5 / 122,
      first_trade_at: new Date((fills[0]!.timestamp as number) * 1000).toISOString(),
      last_trade_at: new Date((fills[4]!.timestamp as number) * 1000).toISOString(),
      // 2 maker of the 4 fills whose role is known.
      maker_share: 0.5,
      maker_share_sample: 4,
      // Sports 40 + 55 + 35 + 12 = 142 over 4 fills; Politics 35 over 1.
      top_categories: [
        { category: 'Sports', volume_usdc: 142, fills: 4 },
        { category: 'Politics', volume_usdc: 35, fills: 1 },
      ],
    });
  });

  it('a wallet without fills or decided markets has nulls, not zeros, where nothing is known', () => {
    const stats = summarizeWallet(replayWallet(history({})), []);
    expect(stats).toMatchObject({ realized_pnl: 0, fills: 0, win_rate: null, win_rate_sample: 0, return_on_cost: null, maker_share: null, first_trade_at: null, top_categories: [] });
  });
});
