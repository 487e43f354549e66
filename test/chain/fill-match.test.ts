import { describe, expect, it } from 'vitest';
import { matchFills, pricesAgree, sharesAgree } from '../../src/chain/fill-match.js';
import type { HeldTrade } from '../../src/chain/fill-match.js';
import type { ChainFill, Undecodable } from '../../src/chain/order-filled.js';
import { rawAmounts } from '../../testkit/chain-logs.js';
import { WALLET } from './helpers.js';

/**
 * The matcher pairs chain fills with held rows by transaction, token, side, shares (to the on-chain
 * unit) and price (within a tolerance), as multisets, and classifies what is left: missing from the
 * API, under 0.01 shares, held but not on chain, outside the audited blocks, unverifiable beside an
 * undecodable log.
 */

const TX = `0x${'1'.repeat(64)}`;
const TX2 = `0x${'2'.repeat(64)}`;
const TOKEN = '123456789';
let logIndex = 0;

function chainFill(size: number, price: number, extra: Partial<ChainFill> = {}): ChainFill {
  const { sharesRaw, usdcRaw } = rawAmounts(size, price);
  return {
    kind: 'fill',
    exchange: '0x4bfb41d5b3570defd03c39a9a4d8de6bd8b8982e',
    version: 'v1',
    transactionHash: TX,
    logIndex: (logIndex += 1),
    blockNumber: 100,
    blockTimestamp: undefined,
    orderHash: `0x${'0'.repeat(64)}`,
    maker: WALLET,
    taker: `0x${'9'.repeat(40)}`,
    role: 'maker',
    side: 'BUY',
    tokenId: TOKEN,
    usdcRaw,
    sharesRaw,
    feeRaw: 0n,
    shares: Number(sharesRaw) / 1e6,
    usdc: Number(usdcRaw) / 1e6,
    price: Number(usdcRaw) / Number(sharesRaw),
    ...extra,
  };
}

let rowNo = 0;
function heldRow(size: number, price: number, extra: Partial<HeldTrade> = {}): HeldTrade {
  return {
    trade_id: `row-${(rowNo += 1)}`,
    proxy_wallet: WALLET,
    transaction_hash: TX,
    asset: TOKEN,
    side: 'BUY',
    size,
    price,
    timestamp: '2025-01-01T00:00:00.000Z',
    ...extra,
  };
}

const match = (chainFills: ChainFill[], held: HeldTrade[], more: Partial<Parameters<typeof matchFills>[0]> = {}) =>
  matchFills({ wallet: WALLET, chainFills, undecodable: [], held, ...more });

describe('matchFills', () => {
  it('matches every fill with its row and reports the wallet complete when both sides agree', () => {
    const report = match([chainFill(4.18, 0.94, { side: 'SELL' }), chainFill(17.7, 0.42)], [heldRow(17.7, 0.42), heldRow(4.18, 0.94, { side: 'SELL' })]);
    expect(report).toMatchObject({ onChain: 2, held: 2, matched: 2, missingFromApi: 0, heldNotOnChain: 0, underMinimum: 0, complete: true, mismatches: [] });
  });

  it('matches twins as a multiset: three identical fills against two rows leave exactly one missing, and the reverse one held', () => {
    const three = [chainFill(5, 0.5), chainFill(5, 0.5), chainFill(5, 0.5)];
    const missing = match(three, [heldRow(5, 0.5), heldRow(5, 0.5)]);
    expect(missing).toMatchObject({ matched: 2, missingFromApi: 1, heldNotOnChain: 0, complete: false });
    expect(missing.mismatches).toEqual([expect.objectContaining({ kind: 'missing-from-api', logIndex: three[2]!.logIndex, chainShares: 5 })]);

    const extra = match(three.slice(0, 2), [heldRow(5, 0.5), heldRow(5, 0.5), heldRow(5, 0.5)]);
    expect(extra).toMatchObject({ matched: 2, missingFromApi: 0, heldNotOnChain: 1 });
  });

  it('finds the pairing that matches both fills where taking the first compatible row would leave one unmatched', () => {
    // Row r1 fits both fills within the tolerance, row r2 only the first: a greedy pass would give r1 to the first fill.
    const a = chainFill(1, 0.5);
    const b = { ...chainFill(1, 0.5), usdcRaw: 500_150n };
    const report = match([a, b], [heldRow(1, 0.500075), heldRow(1, 0.5)]);
    expect(report).toMatchObject({ matched: 2, missingFromApi: 0, heldNotOnChain: 0 });
  });

  it('compares shares to the on-chain unit and prices within the tolerance plus one unit of rounding', () => {
    const { sharesRaw, usdcRaw } = rawAmounts(0.001, 0.0800000037);
    expect(sharesAgree(0.001, sharesRaw)).toBe(true);
    expect(sharesAgree(0.001001, sharesRaw)).toBe(false);
    expect(sharesAgree(12_345.678901, 12_345_678_901n)).toBe(true);
    expect(pricesAgree(0.0800000037, { sharesRaw, usdcRaw })).toBe(true);
    expect(pricesAgree(0.95, { sharesRaw: 4_180_000n, usdcRaw: 3_929_200n })).toBe(false);
    expect(pricesAgree(0.9401, { sharesRaw: 4_180_000n, usdcRaw: 3_929_200n })).toBe(true);
    expect(pricesAgree(0.9402, { sharesRaw: 4_180_000n, usdcRaw: 3_929_200n })).toBe(false);
  });

  it('reports a fill whose amounts differ from its row as one missing and one held, each naming the other', () => {
    const report = match([chainFill(4.18, 0.94)], [heldRow(4.2, 0.94)]);
    expect(report).toMatchObject({ matched: 0, missingFromApi: 1, heldNotOnChain: 1 });
    expect(report.mismatches.map((m) => m.kind)).toEqual(['missing-from-api', 'held-not-on-chain']);
    expect(report.mismatches[0]!.detail).toMatch(/same transaction, token and side as unmatched held row row-\d+ \(BUY 4.2 at 0.94\)/);
    expect(report.mismatches[1]!.detail).toMatch(/same transaction, token and side as unmatched chain log \d+ \(BUY 4.18 at 0.94\)/);
  });

  it('does not match across transaction, token or side', () => {
    const report = match(
      [chainFill(1, 0.5), chainFill(1, 0.5, { transactionHash: TX2 }), chainFill(1, 0.5, { side: 'SELL' })],
      [heldRow(1, 0.5, { asset: '999' }), heldRow(1, 0.5, { transaction_hash: TX2, side: 'SELL' }), heldRow(1, 0.5)],
    );
    expect(report).toMatchObject({ matched: 1, missingFromApi: 2, heldNotOnChain: 2 });
  });

  it('counts an unmatched chain fill under 0.01 shares apart from the missing ones, and still matches a held one', () => {
    const report = match([chainFill(0.005, 0.3), chainFill(0.009999, 0.3), chainFill(0.002, 0.3)], [heldRow(0.002, 0.3)]);
    expect(report).toMatchObject({ matched: 1, underMinimum: 2, missingFromApi: 0, complete: true });
    expect(report.mismatches.map((m) => m.kind)).toEqual(['under-minimum', 'under-minimum']);
    expect(match([chainFill(0.01, 0.3)], [])).toMatchObject({ underMinimum: 0, missingFromApi: 1 });
  });

  it('sets held rows dated outside the audited blocks apart, unlisted, and counts those inside against the wallet', () => {
    const window = { fromSeconds: Date.parse('2025-01-01T00:00:00Z') / 1000, toSeconds: Date.parse('2025-06-01T00:00:00Z') / 1000 };
    const report = match(
      [],
      [heldRow(1, 0.5, { timestamp: '2021-03-04T05:06:07.000Z' }), heldRow(1, 0.5, { timestamp: '2025-07-01T00:00:00.000Z' }), heldRow(2, 0.5)],
      { window },
    );
    expect(report).toMatchObject({ held: 3, heldOutsideRange: 2, heldNotOnChain: 1 });
    expect(report.mismatches).toHaveLength(1);
  });

  it('calls a held row unverifiable when its transaction has an undecodable log of the wallet, and lists the log', () => {
    const combo: Undecodable = {
      kind: 'undecodable',
      reason: 'combo-exchange',
      detail: 'not public',
      transactionHash: TX2,
      logIndex: 4,
      blockNumber: 100,
      address: '0xe3333700ca9d93003f00f0f71f8515005f6c00aa',
      topic0: undefined,
      maker: WALLET,
    };
    const report = match([], [heldRow(1, 0.5, { transaction_hash: TX2 }), heldRow(1, 0.5)], { undecodable: [combo] });
    expect(report).toMatchObject({ undecodable: 1, undecodableByReason: { 'combo-exchange': 1 }, heldUnverifiable: 1, heldNotOnChain: 1, complete: false });
    // Held rows in the order given, then the undecodable logs.
    expect(report.mismatches.map((m) => m.kind)).toEqual(['held-unverifiable', 'held-not-on-chain', 'undecodable']);
    expect(report.mismatches[0]!.detail).toMatch(/1 undecodable log\(s\) of the wallet \(combo-exchange\)/);
  });

  it("refuses a chain fill or a held row of another wallet rather than count it", () => {
    expect(() => match([chainFill(1, 0.5, { maker: `0x${'c'.repeat(40)}` })], [])).toThrow(/not the audited wallet/);
    expect(() => match([], [heldRow(1, 0.5, { proxy_wallet: `0x${'c'.repeat(40)}` })])).toThrow(/not the audited wallet/);
  });
});
