import { describe, expect, it } from 'vitest';
import { exactDecimal, feeInsideUsdcSize, fillPriceMicro, orderEvents, pnlMarketFromRecord, toMicro } from '../../src/pnl/index.js';
import type { PnlFill } from '../../src/pnl/index.js';

describe('exact amounts', () => {
  it('reads doubles back to the decimals they were printed from, so no product of doubles leaks in', () => {
    expect(exactDecimal(0.07)).toEqual({ num: 7n, scale: 2 });
    expect(exactDecimal(1e-7)).toEqual({ num: 1n, scale: 7 });
    expect(exactDecimal(1.5e21)).toEqual({ num: 1_500_000_000_000_000_000_000n, scale: 0 });
    // 0.07 × 1e6 is 70000.00000000001 as a double; the micro amount is exactly 70000.
    expect(toMicro(0.07)).toBe(70_000n);
    expect(toMicro(0.0000005)).toBe(1n);
    expect(toMicro(-0.0000005)).toBe(-1n);
    expect(toMicro(17.7)).toBe(17_700_000n);
  });

  it('prices a fill as the subgraph does: USDC × 10^6 / shares, truncated', () => {
    // 17.7 shares @ 0.42 → 7.434 USDC → 7434000 × 1e6 / 17700000 = 420000.
    expect(fillPriceMicro(17_700_000n, 0.42)).toBe(420_000n);
    // 3 shares @ 0.0800000037 → 0.2400000111 USDC → 240000 micro → 80000 per share.
    expect(fillPriceMicro(3_000_000n, 0.0800000037)).toBe(80_000n);
  });

  it('finds the fee inside an activity TRADE row\'s usdc_size, and none where it is only rounding', () => {
    expect(feeInsideUsdcSize({ side: 'BUY', size: 100, price: 0.5, usdc_size: 50.75 })).toBe(0.75);
    expect(feeInsideUsdcSize({ side: 'SELL', size: 100, price: 0.6, usdc_size: 59.1 })).toBe(0.9);
    expect(feeInsideUsdcSize({ side: 'BUY', size: 3, price: 0.333333, usdc_size: 1 })).toBe(0);
  });
});

describe('pnlMarketFromRecord', () => {
  it('takes tokens from clob_token_ids and the question index from the last byte of questionID', () => {
    const market = pnlMarketFromRecord({
      condition_id: '0xABC',
      clob_token_ids: '["11","22"]',
      neg_risk: true,
      neg_risk_market_id: '0xAA00',
      raw: JSON.stringify({ questionID: `0x${'a'.repeat(62)}0c` }),
    });
    expect(market).toEqual({ condition_id: '0xabc', token_ids: ['11', '22'], neg_risk: true, neg_risk_market_id: '0xaa00', question_index: 12 });
    const plain = pnlMarketFromRecord({ condition_id: '0xabc', clob_token_ids: null, neg_risk: false, neg_risk_market_id: null, raw: '{}' });
    expect(plain).toEqual({ condition_id: '0xabc', token_ids: [], neg_risk: false, neg_risk_market_id: null, question_index: null });
  });
});

describe('orderEvents', () => {
  it('orders by time, fills before other rows within a second, then by transaction and content', () => {
    const base: PnlFill = { asset: '1', condition_id: '0x1', outcome_index: 0, side: 'BUY', size: 1, price: 0.5, timestamp: 100, transaction_hash: '0xb' };
    const sell = { ...base, side: 'SELL' };
    const early = { ...base, timestamp: '1970-01-01T00:01:39.000Z', transaction_hash: '0xz' };
    const otherTx = { ...base, transaction_hash: '0xa' };
    const split = { type: 'SPLIT', condition_id: '0x1', token_id: null, outcome_index: 999, size: 1, usdc_size: 1, timestamp: 100, transaction_hash: '0x0' };
    const order = orderEvents([sell, base, otherTx, early], [split]).map((event) => (event.kind === 'fill' ? event.fill : event.activity));
    expect(order).toEqual([early, otherTx, base, sell, split]);
  });
});
