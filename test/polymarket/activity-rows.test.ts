import { describe, expect, it } from 'vitest';
import { ConfigError, InvalidInputError } from '../../src/lib/errors.js';
import { checkActivityTypes } from '../../src/polymarket/activity-api.js';
import { ActivityKeyer, DEFAULT_ACTIVITY_TYPES, normalizeActivityRow, normalizeComboActivityRow } from '../../src/polymarket/activity-rows.js';
import { payoutWinner } from '../../src/polymarket/resolutions-api.js';
import { OutOfOrderError } from '../../src/polymarket/trade-key.js';
import { fixture } from './helpers.js';

const WALLET = '0x379a410a36c101e3b8dfb6c90d1176eb0def4b1a';
const NOW = 1_790_000_000;
const TYPES = new Set<string>(DEFAULT_ACTIVITY_TYPES);
const options = { wallet: WALLET, types: TYPES, nowSeconds: NOW };
const trade = fixture<{ data: Record<string, unknown>[] }>('v2-activity.json').data[0]!;

/** A REDEEM row in the v2 shape: one row per outcome held, token and outcome filled in. */
function redeem(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...trade, type: 'REDEEM', side: '', price: 0, size: 10, usdc_size: 10, outcome_index: 0, ...overrides };
}

describe('normalizeActivityRow', () => {
  it('keeps the typed columns and the raw row; a row of no market or no token has null ids', () => {
    const record = normalizeActivityRow(redeem(), options);
    expect(record).toMatchObject({
      proxy_wallet: WALLET,
      type: 'REDEEM',
      condition_id: trade.condition_id,
      token_id: trade.token_id,
      outcome_index: 0,
      side: '',
      size: 10,
      usdc_size: 10,
      price: 0,
      timestamp: new Date((trade.timestamp as number) * 1000).toISOString(),
    });
    expect(JSON.parse(record.raw)).toEqual(redeem());
    const reward = normalizeActivityRow(redeem({ type: 'REWARD', condition_id: '', token_id: '', outcome_index: 999, size: 0 }), options);
    expect(reward).toMatchObject({ condition_id: null, token_id: null, outcome_index: 999 });
  });

  it('fails the wallet with a message naming the field and the value for each kind of bad row', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [redeem({ proxy_wallet: '0x' + '1'.repeat(40) }), /belongs to wallet 0x1111111111111111111111111111111111111111, not the requested/],
      [redeem({ type: 'TRADE' }), /field "type" is "TRADE", not one of SPLIT, MERGE, REDEEM/],
      [redeem({ type: 'LOTTERY' }), /field "type" is "LOTTERY"/],
      [redeem({ side: 'LONG' }), /field "side" is "LONG", not one of BUY, SELL, IN, OUT, ""/],
      [redeem({ size: -1 }), /field "size" is invalid \(-1 is not a non-negative finite number\): got -1/],
      [redeem({ usdc_size: 'abc' }), /field "usdc_size" is invalid .*: got "abc"/],
      [redeem({ size: 5e12 }), /field "size" is invalid \(expected at most 1000000000000\)/],
      [redeem({ price: 1.5 }), /field "price" is invalid \(expected a price per share from 0 to 1\): got 1.5/],
      [redeem({ timestamp: 1_789_381_477_000 }), /field "timestamp" is invalid \(looks like epoch milliseconds/],
      [redeem({ timestamp: NOW + 2 * 86_400 }), /field "timestamp" is 1790172800 \(.*\), after now \(.*\) plus the 10-minute clock-skew margin/],
      [redeem({ timestamp: NOW + 601 }), /field "timestamp" is \d+ \(.*\), after now/],
      [redeem({ condition_id: '' }), /field "condition_id" is invalid \(expected 0x followed by hex digits\): got ""/],
      [redeem({ transaction_hash: 'nope' }), /activity row of tx nope: field "transaction_hash" is invalid/],
      [redeem({ token_id: 123 }), /field "token_id" is invalid \(expected a string token id\): got 123/],
      [[1, 2] as unknown as Record<string, unknown>, /activity row is not a JSON object/],
    ];
    for (const [row, message] of cases) {
      expect(() => normalizeActivityRow(row, options), message.source).toThrow(InvalidInputError);
      expect(() => normalizeActivityRow(row, options)).toThrow(message);
    }
  });
});

describe('ActivityKeyer', () => {
  it('gives identical rows of one transaction distinct keys, the same on every fetch', () => {
    const rows = [redeem(), redeem(), redeem({ outcome_index: 1, token_id: '42' })].map((row) => normalizeActivityRow(row, options));
    const once = rows.map((row) => new ActivityKeyer().key(row));
    const keyer = new ActivityKeyer();
    const walk = rows.map((row) => keyer.key(row));
    expect(walk.map((row) => row.activity_seq)).toEqual([0, 1, 0]);
    expect(new Set(walk.map((row) => row.activity_id)).size).toBe(3);
    const again = new ActivityKeyer();
    expect(rows.map((row) => again.key(row).activity_id)).toEqual(walk.map((row) => row.activity_id));
    // Descriptive fields (title, profile) change over time and are not part of the key.
    const renamed = normalizeActivityRow(redeem({ title: 'renamed', name: 'someone' }), options);
    expect(new ActivityKeyer().key(renamed).activity_id).toBe(once[0]!.activity_id);
  });

  it('fails an oldest-first walk whose rows go back in time, naming both timestamps and the tx', () => {
    const keyer = new ActivityKeyer();
    keyer.key(normalizeActivityRow(redeem({ timestamp: 1_700_000_100 }), options));
    const older = normalizeActivityRow(redeem({ timestamp: 1_700_000_050, transaction_hash: '0xabc' }), options);
    expect(() => keyer.key(older)).toThrow(OutOfOrderError);
    expect(() => new ActivityKeyer().key(older)).not.toThrow();
    const fresh = new ActivityKeyer();
    fresh.key(normalizeActivityRow(redeem({ timestamp: 1_700_000_100 }), options));
    expect(() => fresh.key(older)).toThrow(/activity rows out of order: row 2 \(tx 0xabc\) has timestamp 1700000050, older than 1700000100.*oldest first/);
  });
});

describe('normalizeComboActivityRow', () => {
  const combo = {
    id: '0xabc-7',
    type: 'REDEEM',
    proxy_wallet: WALLET,
    combo_condition_id: '0x03ff',
    combo_position_id: '123',
    block_number: 90_000_000,
    timestamp: 1_780_000_000,
    transaction_hash: '0xabc',
    amount_usdc: null,
    payout_usdc: 4.5,
    legs: [],
  };

  it('keys a row by its on-chain id and rejects an id that is not its own transaction', () => {
    expect(normalizeComboActivityRow(combo, options)).toMatchObject({ combo_activity_id: '0xabc-7', amount_usdc: null, payout_usdc: 4.5, legs: '[]' });
    expect(() => normalizeComboActivityRow({ ...combo, id: '0xdef-7' }, options)).toThrow(/id "0xdef-7" does not start with its transaction_hash 0xabc/);
    expect(() => normalizeComboActivityRow({ ...combo, type: 'BURN' }, options)).toThrow(/field "type" is "BURN", not one of SPLIT, MERGE, CONVERT/);
    expect(() => normalizeComboActivityRow({ ...combo, block_number: 0 }, options)).toThrow(/field "block_number" is invalid/);
  });
});

describe('checkActivityTypes', () => {
  it('accepts TRADE only when named (its usdc_size is where fees come from) and refuses unknown types, naming the valid ones', () => {
    expect(checkActivityTypes()).not.toContain('TRADE');
    expect(checkActivityTypes(['SPLIT', 'trade'])).toEqual(['SPLIT', 'TRADE']);
    expect(() => checkActivityTypes(['REDEEEM'])).toThrow(ConfigError);
    expect(() => checkActivityTypes(['REDEEEM'])).toThrow(/"REDEEEM" is not a documented activity type.*Valid activity types: TRADE, SPLIT/);
    expect(() => checkActivityTypes([])).toThrow(/empty/);
    expect(checkActivityTypes([' redeem', 'REDEEM', 'tip'])).toEqual(['REDEEM', 'TIP']);
  });
});

describe('payoutWinner', () => {
  it('is the one outcome paid, and none for a split payout', () => {
    expect(payoutWinner([1_000_000, 0])).toBe(0);
    expect(payoutWinner([0, 1_000_000])).toBe(1);
    expect(payoutWinner([500_000, 500_000])).toBeNull();
    expect(payoutWinner(null)).toBeNull();
  });
});
