import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/lib/errors.js';
import { NonTradeRowError, normalizeTradeRow } from '../../src/polymarket/trade-rows.js';
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
