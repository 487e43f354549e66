import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/lib/errors.js';
import { FillSequencer, OutOfOrderError, TwinAcrossTimestampsError, tradeId, type SequencedRow } from '../../src/polymarket/trade-key.js';
import { normalizeTradeRow } from '../../src/polymarket/trade-rows.js';
import { fixture } from './helpers.js';

const base = {
  proxy_wallet: '0x379a410a36c101e3b8dfb6c90d1176eb0def4b1a',
  transaction_hash: '0x7958c0638f1b7ab12d0e3c762a6a2d3fe98edb3f748d0bcbe12adae1a67e58a8',
  asset: '107562952936555819668737826428754978979556920505990557747611348541829551199040',
  side: 'BUY',
  price: 0.52,
  size: 22.84,
  fill_seq: 0,
};

function row(overrides: Partial<SequencedRow> = {}): SequencedRow {
  return { ...base, timestamp: 1789381477, ...overrides };
}

describe('tradeId', () => {
  it('is 32 hex characters and the same for the same fields (a re-fetch yields the same key)', () => {
    const id = tradeId(base);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(tradeId({ ...base })).toBe(id);
  });

  it('is pinned to sha256 over a JSON array of the fields: the encoding is part of the warehouse contract', () => {
    expect(tradeId(base)).toBe(tradeId({ ...base, proxy_wallet: base.proxy_wallet.toUpperCase().replace('0X', '0x') }));
    const encoded =
      '["0x379a410a36c101e3b8dfb6c90d1176eb0def4b1a","0x7958c0638f1b7ab12d0e3c762a6a2d3fe98edb3f748d0bcbe12adae1a67e58a8",' +
      '"107562952936555819668737826428754978979556920505990557747611348541829551199040","BUY","0.52","22.84","0"]';
    expect(tradeId(base)).toBe(createHash('sha256').update(encoded).digest('hex').slice(0, 32));
    expect(tradeId(base)).toBe('e6afa00029f611976ca299d42d1646d4');
  });

  it('differs in every key field, including fill_seq and side ("" vs BUY)', () => {
    const ids = new Set([
      tradeId(base),
      tradeId({ ...base, fill_seq: 1 }),
      tradeId({ ...base, side: '' }),
      tradeId({ ...base, side: 'SELL' }),
      tradeId({ ...base, price: 0.53 }),
      tradeId({ ...base, size: 22.85 }),
      tradeId({ ...base, asset: '1' }),
      tradeId({ ...base, transaction_hash: '0x01' }),
      tradeId({ ...base, proxy_wallet: '0xc69bd5567b40ef4d11922eaa57e1f9be1c642076' }),
    ]);
    expect(ids.size).toBe(9);
  });

  it('is unambiguous: moving characters between adjacent fields changes the key', () => {
    expect(tradeId({ ...base, asset: '12', side: '3' })).not.toBe(tradeId({ ...base, asset: '1', side: '23' }));
    expect(tradeId({ ...base, asset: '1|2', side: '' })).not.toBe(tradeId({ ...base, asset: '1', side: '2' }));
  });

  it('renders numbers with String(number), so 5.0 from JSON and 5 give one key', () => {
    const fromJson = JSON.parse('{"size": 5.0, "price": 0.002}') as { size: number; price: number };
    expect(tradeId({ ...base, ...fromJson })).toBe(tradeId({ ...base, size: 5, price: 0.002 }));
  });
});

describe('FillSequencer', () => {
  it('numbers identical rows of one transaction 0, 1, 2, so identical fills get distinct ids', () => {
    const sequencer = new FillSequencer();
    const seqs = [row(), row(), row()].map((r) => sequencer.next(r));
    expect(seqs).toEqual([0, 1, 2]);
    const ids = seqs.map((fill_seq) => tradeId({ ...base, fill_seq }));
    expect(new Set(ids).size).toBe(3);
  });

  it('counts each distinct (tx, asset, side, price, size) separately within a timestamp', () => {
    const sequencer = new FillSequencer();
    const seqs = [
      row(),
      row({ side: 'SELL' }),
      row(),
      row({ size: 1 }),
      row({ transaction_hash: '0xbeef' }),
      row({ side: 'SELL' }),
    ].map((r) => sequencer.next(r));
    expect(seqs).toEqual([0, 0, 1, 0, 0, 1]);
  });

  it('treats the tx hash case-insensitively', () => {
    const sequencer = new FillSequencer();
    sequencer.next(row());
    expect(sequencer.next(row({ transaction_hash: base.transaction_hash.toUpperCase().replace('0X', '0x') }))).toBe(1);
  });

  it('numbers the twins of each timestamp from 0 (counters are kept for the current second only)', () => {
    const sequencer = new FillSequencer();
    const older = { timestamp: 99, transaction_hash: '0xbeef' };
    expect([row({ timestamp: 100 }), row({ timestamp: 100 }), row(older), row(older)].map((r) => sequencer.next(r))).toEqual([0, 1, 0, 1]);
  });

  it('refuses a row identical to one under another timestamp (one key for two rows), naming the tx and both timestamps', () => {
    const sequencer = new FillSequencer();
    expect(sequencer.next(row({ timestamp: 100 }))).toBe(0);
    sequencer.next(row({ timestamp: 100, transaction_hash: '0xbeef' }));
    const error = (() => {
      try {
        sequencer.next(row({ timestamp: 99 }));
      } catch (caught) {
        return caught as Error;
      }
      throw new Error('expected a throw');
    })();
    expect(error).toBeInstanceOf(TwinAcrossTimestampsError);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toContain(`trade row 3 (tx ${base.transaction_hash}, asset ${base.asset}, BUY 22.84 at 0.52) has timestamp 99, but an identical row came with timestamp 100`);
  });

  it('tells rows apart by every key field across timestamps: the same tx under another timestamp with another size is keyed', () => {
    const sequencer = new FillSequencer();
    sequencer.next(row({ timestamp: 100 }));
    expect(sequencer.next(row({ timestamp: 99, size: 1 }))).toBe(0);
    expect(sequencer.next(row({ timestamp: 98, side: 'SELL' }))).toBe(0);
  });

  it('remembers a bounded number of earlier fills: a twin further back is left to the load, which counts distinct keys', () => {
    const sequencer = new FillSequencer(2);
    sequencer.next(row({ timestamp: 100 }));
    sequencer.next(row({ timestamp: 99, transaction_hash: '0x01' }));
    sequencer.next(row({ timestamp: 98, transaction_hash: '0x02' }));
    sequencer.next(row({ timestamp: 97, transaction_hash: '0x03' }));
    expect(sequencer.next(row({ timestamp: 96 }))).toBe(0);
    const remembering = new FillSequencer(3);
    for (const [i, tx] of ['0x01', '0x02'].entries()) remembering.next(row({ timestamp: 100 - i, transaction_hash: tx }));
    remembering.next(row({ timestamp: 98 }));
    remembering.next(row({ timestamp: 97, transaction_hash: '0x03' }));
    remembering.next(row({ timestamp: 96, transaction_hash: '0x04' }));
    expect(() => remembering.next(row({ timestamp: 95 }))).toThrow(TwinAcrossTimestampsError);
  });

  it('throws when a row is newer than one already seen (out of order), naming both timestamps and the tx', () => {
    const sequencer = new FillSequencer();
    sequencer.next(row({ timestamp: 200 }));
    sequencer.next(row({ timestamp: 150, transaction_hash: '0xbeef' }));
    expect(() => sequencer.next(row({ timestamp: 151, transaction_hash: '0xabc' }))).toThrow(OutOfOrderError);
    const fresh = new FillSequencer();
    fresh.next(row({ timestamp: 150 }));
    expect(() => fresh.next(row({ timestamp: 151, transaction_hash: '0xabc' }))).toThrow(
      /row 2 \(tx 0xabc\) has timestamp 151, newer than 150/,
    );
  });

  it('keys the real v2 fixture rows the same way on every run', () => {
    const [first] = fixture<{ data: unknown[] }>('v2-trades.json').data;
    const keyOnce = (): string => {
      const normalized = normalizeTradeRow(first, '0x379a410a36c101e3b8dfb6c90d1176eb0def4b1a');
      const fill_seq = new FillSequencer().next({ ...normalized, timestamp: 1789381477 });
      return tradeId({ ...normalized, fill_seq });
    };
    expect(keyOnce()).toBe(keyOnce());
    expect(keyOnce()).toBe(tradeId(base));
  });
});
