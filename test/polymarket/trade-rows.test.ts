import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/lib/errors.js';
import { MAX_CLOCK_SKEW_SECONDS, NonTradeRowError, normalizeTradeRow } from '../../src/polymarket/trade-rows.js';
import { fixture } from './helpers.js';

type Row = Record<string, unknown>;

const v1Row1 = fixture<Row>('v1-trade-row-1.json');
const v1Row2 = fixture<Row>('v1-trade-row-2.json');
const v2Trades = fixture<{ data: Row[] }>('v2-trades.json');
const v2Activity = fixture<{ data: Row[] }>('v2-activity.json');
const v1ActivityDocs = fixture<Row[]>('v1-activity-docs-example.json');
const redeem = fixture<Row>('v1-activity-redeem-zero-size.json');

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('normalizeTradeRow on real response bodies', () => {
  it('maps a real v1 /trades row (camelCase) to TradeRecord fields, epoch seconds to ISO UTC', () => {
    const row = normalizeTradeRow(v1Row1, '0x492442eab586f242b53bda933fd5de859c8a3782');
    expect(row).toEqual({
      proxy_wallet: '0x492442eab586f242b53bda933fd5de859c8a3782',
      side: 'BUY',
      asset: '60200335366583529750107915773663861788137817376410291993258126224740571960537',
      condition_id: '0x982b435c47eb55bec825ad62d79156a0d07e34e4700a89f374b579fd6d516632',
      size: 12755.79,
      price: 0.47,
      timestamp: '2026-03-29T02:06:46.000Z',
      title: 'Capitals vs. Golden Knights: O/U 6.5',
      slug: 'nhl-wsh-las-2026-03-28-total-6pt5',
      event_slug: 'nhl-wsh-las-2026-03-28',
      outcome: 'Over',
      outcome_index: 0,
      transaction_hash: '0xe0dbde43eb1d38a52fe5e3cc4d5c072a5753be49ef083c39b9e9a5ade83a3965',
      raw: JSON.stringify(v1Row1),
    });
  });

  it('maps the second real v1 row, keeping profile fields out of the record but in raw', () => {
    const row = normalizeTradeRow(v1Row2, '0x5fac6c2f50862b27afe624997c857ec908648dc2');
    expect(row.timestamp).toBe('2026-03-04T23:19:43.000Z');
    expect(row.size).toBe(13125);
    expect(row.outcome).toBe('No');
    expect(row.outcome_index).toBe(1);
    expect(row).not.toHaveProperty('name');
    expect(JSON.parse(row.raw)).toEqual(v1Row2);
  });

  it('maps v2 /v2/trades rows (snake_case, token_id), keeping outcome_index 999 and an empty event_slug', () => {
    const [first, second] = v2Trades.data as [Row, Row];
    const a = normalizeTradeRow(first, '0x379a410a36c101e3b8dfb6c90d1176eb0def4b1a');
    expect(a.asset).toBe('107562952936555819668737826428754978979556920505990557747611348541829551199040');
    expect(a.condition_id).toBe('0x571aafcdc9d3549ac260d5f956adc4ae57d9ace63575abd99db58ba0130e9fcf');
    expect(a.outcome_index).toBe(999);
    expect(a.event_slug).toBe('');
    expect(a.timestamp).toBe('2026-09-14T10:24:37.000Z');
    expect(a.transaction_hash).toBe('0x7958c0638f1b7ab12d0e3c762a6a2d3fe98edb3f748d0bcbe12adae1a67e58a8');
    const b = normalizeTradeRow(second, '0xc69bd5567b40ef4d11922eaa57e1f9be1c642076');
    expect(b.size).toBe(5);
    expect(b.price).toBe(0.002);
  });

  it('accepts v2 /v2/activity TRADE rows, which equal the matching /v2/trades row field for field', () => {
    const [first, second] = v2Activity.data as [Row, Row];
    const fromActivity = normalizeTradeRow(first, '0x379a410a36c101e3b8dfb6c90d1176eb0def4b1a');
    const fromTrades = normalizeTradeRow(v2Trades.data[0], '0x379a410a36c101e3b8dfb6c90d1176eb0def4b1a');
    expect({ ...fromActivity, raw: '' }).toEqual({ ...fromTrades, raw: '' });
    const other = normalizeTradeRow(second, '0x379a410a36c101e3b8dfb6c90d1176eb0def4b1a');
    expect(other.event_slug).toBe('highest-temperature-in-karachi-on-september-15-2026');
    expect(other.outcome_index).toBe(1);
  });

  it('accepts the v1 /activity docs example (type TRADE; its hex ids are truncated but still hex)', () => {
    const row = normalizeTradeRow(v1ActivityDocs[0], '0x6af75d4e4aaf700450efbac3708cce1665810ff1');
    expect(row.condition_id).toBe('0x2c95c926e924f243aab41e96a90d22fcaf8cf273a678a07c49abb95fde4b');
    expect(row.transaction_hash).toBe('0x40b774108c44bf3182002f3a296c8e5642ba91f304d45243e60ade3');
    expect(row.timestamp).toBe('2024-08-16T01:40:57.000Z');
    expect(row.side).toBe('BUY');
  });

  it('rejects the zero-size REDEEM activity row clearly: it is not a fill', () => {
    const error = thrown(() => normalizeTradeRow(redeem, '0xfd9b763674cb096cacec059fcfe60ae82aae09e8'));
    expect(error).toBeInstanceOf(NonTradeRowError);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as NonTradeRowError).activityType).toBe('REDEEM');
    expect(error.message).toContain('"REDEEM"');
    expect(error.message).toContain('0x83e3a30760ec2c4cc7a59a44cd54c64f486e8da924427ee7c46c2eb240ac26af');
  });

  it('would still reject the REDEEM row as a trade without its type, because its asset is empty', () => {
    const { type: _type, ...untyped } = redeem;
    const error = thrown(() => normalizeTradeRow(untyped, '0xfd9b763674cb096cacec059fcfe60ae82aae09e8'));
    expect(error.message).toMatch(/field "asset" is invalid .*got ""/);
  });
});

describe('normalizeTradeRow validation', () => {
  const wallet = '0x492442eab586f242b53bda933fd5de859c8a3782';

  it('lower-cases wallet, condition id and tx hash, and keeps side as an open string (even "")', () => {
    const row = normalizeTradeRow(
      {
        ...v1Row1,
        proxyWallet: '0x492442EaB586F242B53bDa933fD5dE859c8A3782',
        conditionId: '0x982B435C47EB55BEC825AD62D79156A0D07E34E4700A89F374B579FD6D516632',
        transactionHash: '0xE0DBDE43EB1D38A52FE5E3CC4D5C072A5753BE49EF083C39B9E9A5ADE83A3965',
        side: '',
      },
      '0x492442EAB586F242B53BDA933FD5DE859C8A3782',
    );
    expect(row.proxy_wallet).toBe(wallet);
    expect(row.condition_id).toBe('0x982b435c47eb55bec825ad62d79156a0d07e34e4700a89f374b579fd6d516632');
    expect(row.transaction_hash).toBe('0xe0dbde43eb1d38a52fe5e3cc4d5c072a5753be49ef083c39b9e9a5ade83a3965');
    expect(row.side).toBe('');
  });

  it('keeps a combo condition id (62 hex) as it is, lower-cased', () => {
    const combo = `0x${'ab'.repeat(31)}`;
    expect(normalizeTradeRow({ ...v1Row1, conditionId: combo, isCombo: true }, wallet).condition_id).toBe(combo);
  });

  it('names the field, the value and the tx hash when a required field is invalid', () => {
    const error = thrown(() => normalizeTradeRow({ ...v1Row1, price: 'abc' }, wallet));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toContain('field "price"');
    expect(error.message).toContain('"abc"');
    expect(error.message).toContain('0xe0dbde43eb1d38a52fe5e3cc4d5c072a5753be49ef083c39b9e9a5ade83a3965');
  });

  it.each([
    ['proxyWallet', 'proxy_wallet'],
    ['transactionHash', 'transaction_hash'],
    ['asset', 'asset'],
    ['conditionId', 'condition_id'],
    ['price', 'price'],
    ['size', 'size'],
    ['timestamp', 'timestamp'],
  ])('rejects a row without %s, naming %s', (key, field) => {
    const { [key]: _dropped, ...row } = v1Row1;
    const error = thrown(() => normalizeTradeRow(row, wallet));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toContain(`field "${field}" is invalid (required field missing)`);
  });

  it('rejects millisecond timestamps with a clear message', () => {
    const error = thrown(() => normalizeTradeRow({ ...v1Row1, timestamp: 1774750006000 }, wallet));
    expect(error.message).toMatch(/field "timestamp" .*milliseconds/);
    expect(error.message).toContain('1774750006000');
  });

  it('rejects a row of another wallet than the one requested', () => {
    const error = thrown(() => normalizeTradeRow(v1Row1, '0x5fac6c2f50862b27afe624997c857ec908648dc2'));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toContain('belongs to wallet 0x492442eab586f242b53bda933fd5de859c8a3782');
    expect(error.message).toContain('not the requested 0x5fac6c2f50862b27afe624997c857ec908648dc2');
  });

  it('rejects a token id sent as a JSON number (precision already lost), and a non-object row', () => {
    expect(thrown(() => normalizeTradeRow({ ...v1Row1, asset: 6.02e76 }, wallet)).message).toContain('field "asset"');
    expect(thrown(() => normalizeTradeRow(['not', 'a', 'row'], wallet)).message).toContain('not a JSON object');
  });

  it('accepts numbers sent as numeric strings, and a null outcome index', () => {
    const row = normalizeTradeRow({ ...v1Row1, price: '0.47', size: '12755.79', timestamp: '1774750006', outcomeIndex: null }, wallet);
    expect([row.price, row.size, row.timestamp, row.outcome_index]).toEqual([0.47, 12755.79, '2026-03-29T02:06:46.000Z', null]);
  });
});

describe('normalizeTradeRow refuses values no fill can have, naming field and value', () => {
  const wallet = '0x492442eab586f242b53bda933fd5de859c8a3782';
  // v1Row1 is dated 2026-03-29T02:06:46Z; the clock is a day later.
  const nowMs = Date.parse('2026-03-30T02:06:46Z');
  const refusal = (overrides: Row): Error => thrown(() => normalizeTradeRow({ ...v1Row1, ...overrides }, wallet, { nowMs }));

  it.each([
    ['price', 1e308, '1e+308 is not a price: a price lies in [0, 1]', 'got 1e+308'],
    ['price', 1.5, '1.5 is not a price', 'got 1.5'],
    ['price', -0.1, '-0.1 is not a price', 'got -0.1'],
    ['price', 5e-324, '5e-324 is below the smallest possible non-zero price 1e-17', 'got 5e-324'],
    ['price', '1e999', 'Infinity is not a price', 'got "1e999"'],
    ['price', 'Infinity', 'Infinity is not a price', 'got "Infinity"'],
    ['price', Infinity, 'Infinity is not a price', 'got Infinity'],
    ['size', 1e308, '1e+308 shares is more than one fill can hold (at most 100000000000', 'got 1e+308'],
    ['size', 5e-324, '5e-324 is not a fill size: a fill has at least 0.000001 shares (one on-chain unit)', 'got 5e-324'],
    ['size', 0, '0 is not a fill size', 'got 0'],
    ['size', -3, '-3 is not a fill size', 'got -3'],
    ['size', '-Infinity', '-Infinity is not a fill size', 'got "-Infinity"'],
    ['size', Infinity, 'Infinity shares is more than one fill can hold', 'got Infinity'],
    ['size', NaN, 'expected a number', 'got NaN'],
    ['outcomeIndex', 1e20, '100000000000000000000 is not a whole number in the int32 range the API declares', 'got 100000000000000000000'],
    ['outcomeIndex', 2 ** 31, '2147483648 is not a whole number in the int32 range', 'got 2147483648'],
    ['outcomeIndex', 0.5, '0.5 is not a whole number in the int32 range', 'got 0.5'],
    ['outcomeIndex', 'first', 'expected a whole number', 'got "first"'],
    ['timestamp', '1e999', 'Infinity is not epoch seconds', 'got "1e999"'],
  ])('%s %s is refused', (key, value, reason, got) => {
    const error = refusal({ [key]: value });
    expect(error).toBeInstanceOf(InvalidInputError);
    const field = key === 'outcomeIndex' ? 'outcome_index' : key;
    expect(error.message).toContain(`field "${field}" is invalid (${reason}`);
    expect(error.message).toContain(got);
    expect(error.message).toContain('0xe0dbde43eb1d38a52fe5e3cc4d5c072a5753be49ef083c39b9e9a5ade83a3965');
  });

  it('accepts the edges of each range: price 0 and 1, one on-chain unit of shares, 10^11 shares, int32 bounds, no index', () => {
    const accepted = (overrides: Row) => normalizeTradeRow({ ...v1Row1, ...overrides }, wallet, { nowMs });
    expect(accepted({ price: 0 }).price).toBe(0);
    expect(accepted({ price: '1' }).price).toBe(1);
    expect(accepted({ price: 1e-17 }).price).toBe(1e-17);
    expect(accepted({ size: 0.000001 }).size).toBe(0.000001);
    expect(accepted({ size: 1e11 }).size).toBe(1e11);
    expect(accepted({ outcomeIndex: -(2 ** 31) }).outcome_index).toBe(-(2 ** 31));
    expect(accepted({ outcomeIndex: '2147483647' }).outcome_index).toBe(2 ** 31 - 1);
    expect(accepted({ outcomeIndex: '' }).outcome_index).toBeNull();
  });

  it('refuses a fill dated after now plus the 10-minute clock-skew margin (a year ahead, the year 2100), naming the date', () => {
    const yearAhead = Date.parse('2027-03-30T02:06:46Z') / 1000;
    const error = refusal({ timestamp: yearAhead });
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toContain(
      'field "timestamp" is invalid (dated 2027-03-30T02:06:46Z, after now (2026-03-30T02:06:46Z) plus the 10-minute clock-skew margin: no fill can be dated in the future): got 1806372406',
    );
    expect(refusal({ timestamp: '4102444800' }).message).toMatch(/dated 2100-01-01T00:00:00Z, after now .*: got "4102444800"/);
  });

  it('accepts a fill dated up to the clock-skew margin ahead of the clock, and refuses one a second later', () => {
    const now = Date.parse(String(normalizeTradeRow(v1Row1, wallet, { nowMs }).timestamp));
    const edge = { nowMs: now - MAX_CLOCK_SKEW_SECONDS * 1000 };
    expect(normalizeTradeRow(v1Row1, wallet, edge).timestamp).toBe('2026-03-29T02:06:46.000Z');
    expect(() => normalizeTradeRow(v1Row1, wallet, { nowMs: edge.nowMs - 1000 })).toThrow(/clock-skew margin/);
  });
});
