import { describe, expect, it } from 'vitest';

import { WalletSet } from '../../src/domain/wallet-set.js';
import { InvalidInputError } from '../../src/lib/errors.js';

/** Distinct pseudo-random addresses, deterministic. */
function addresses(count: number, salt = 1): string[] {
  const out: string[] = [];
  let state = salt >>> 0;
  const word = (): string => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state.toString(16).padStart(8, '0');
  };
  for (let i = 0; i < count; i += 1) out.push(`0x${word()}${word()}${word()}${word()}${(i >>> 0).toString(16).padStart(8, '0')}`);
  return out;
}

describe('WalletSet', () => {
  it('answers membership for every added wallet and for none of the others, through growth', () => {
    const members = addresses(50_000, 7);
    const strangers = addresses(50_000, 8);
    const set = new WalletSet(members);
    expect(set.size).toBe(50_000);
    expect(members.every((w) => set.has(w))).toBe(true);
    expect(strangers.filter((w) => set.has(w))).toEqual([]);
  });

  it('takes any case and surrounding blanks on add, any case on lookup, and counts a wallet once', () => {
    const wallet = `0x${'ab'.repeat(20)}`;
    const set = new WalletSet([` 0x${'AB'.repeat(20)}\n`, wallet]);
    expect(set.size).toBe(1);
    expect(set.has(wallet)).toBe(true);
    expect(set.has(`0x${'Ab'.repeat(20)}`)).toBe(true);
    expect([...set]).toEqual([wallet]);
  });

  it('says no to anything that is not an address, and refuses to add one by name', () => {
    const set = new WalletSet([`0x${'0'.repeat(40)}`]);
    for (const bad of ['', '0x', `0x${'0'.repeat(39)}`, `0x${'0'.repeat(41)}`, `0x${'g'.repeat(40)}`, ` 0x${'0'.repeat(40)}`]) {
      expect(set.has(bad), JSON.stringify(bad)).toBe(false);
    }
    expect(() => set.add('0x1234')).toThrow(InvalidInputError);
    expect(() => set.add('0x1234')).toThrow(/0x1234/);
  });

  it('lists its members lower-case in the order they were added, leading zeros kept', () => {
    const list = [`0x${'0'.repeat(39)}1`, ...addresses(3, 3)];
    expect([...new WalletSet(list)]).toEqual(list);
  });

  it('holds a wallet in under 48 bytes of arrays (a Set of strings takes over 100)', () => {
    const set = new WalletSet(addresses(200_000, 9));
    expect(set.byteLength / set.size).toBeLessThan(48);
  });
});
