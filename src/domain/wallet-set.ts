/**
 * A set of wallet addresses with O(1) membership, lean enough for a million tracked wallets: the feed walk asks it
 * once per row of all of Polymarket's fills, and a warehouse query per row is out of the question.
 *
 * A `Set` of 42-character strings costs about 110 bytes per wallet in V8 (the string, its header and the hash
 * entry); here an address is its 20 bytes, packed as five 32-bit words in one growing array, and an open-addressing
 * table (linear probing, at most half full) of 4-byte indexes into it: 28 bytes per wallet at 1,000,000 wallets
 * before growth slack (measured by bench/wallet-set-memory.ts: 28.4 B against 109 B for a Set, 1,000,000 wallets). Lookups parse the address's hex
 * and probe a slot or two; an address that is not 0x + 40 hex digits is simply not a member.
 */
import { toWallet } from './wallet-address.js';

const WORDS = 5;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const LOWER_ADDRESS = /^0x[0-9a-f]{40}$/;
const INITIAL_CAPACITY = 1024;

export class WalletSet implements Iterable<string> {
  /** Addresses, WORDS words each, in insertion order. */
  #keys: Uint32Array;
  /** Slot → index + 1 into #keys (0: empty); its length is a power of two. */
  #table: Int32Array;
  #size = 0;
  /** Scratch for the address being looked up. */
  readonly #words = new Uint32Array(WORDS);

  constructor(wallets: Iterable<string> = [], expected = 0) {
    const capacity = Math.max(INITIAL_CAPACITY, expected);
    this.#keys = new Uint32Array(capacity * WORDS);
    this.#table = new Int32Array(tableSizeFor(capacity));
    for (const wallet of wallets) this.add(wallet);
  }

  get size(): number {
    return this.#size;
  }

  /** Adds a wallet (any case, surrounding blanks trimmed); throws InvalidInputError naming a malformed one. */
  add(wallet: string): this {
    // Most callers pass the normalised form already; only other forms go through the one wallet rule.
    const address = LOWER_ADDRESS.test(wallet) ? wallet : toWallet(wallet);
    this.#parse(address);
    if (this.#find() >= 0) return this;
    if ((this.#size + 1) * WORDS > this.#keys.length) {
      const grown = new Uint32Array(this.#keys.length * 2);
      grown.set(this.#keys);
      this.#keys = grown;
    }
    this.#keys.set(this.#words, this.#size * WORDS);
    this.#size += 1;
    if (this.#size * 2 > this.#table.length) this.#rehash(this.#table.length * 2);
    else this.#place(this.#size - 1);
    return this;
  }

  /** True when the wallet (any case) is a member; false for anything that is not an address. */
  has(wallet: string): boolean {
    if (!ADDRESS.test(wallet)) return false;
    this.#parse(wallet);
    return this.#find() >= 0;
  }

  /** The members, lower-case, in the order they were added. */
  *[Symbol.iterator](): Iterator<string> {
    for (let i = 0; i < this.#size; i += 1) {
      let hex = '0x';
      for (let w = 0; w < WORDS; w += 1) hex += (this.#keys[i * WORDS + w] ?? 0).toString(16).padStart(8, '0');
      yield hex;
    }
  }

  /** Bytes held by the set's arrays (what it costs beyond a few object headers). */
  get byteLength(): number {
    return this.#keys.byteLength + this.#table.byteLength + this.#words.byteLength;
  }

  #parse(address: string): void {
    for (let w = 0; w < WORDS; w += 1) this.#words[w] = Number.parseInt(address.slice(2 + w * 8, 10 + w * 8), 16);
  }

  #hash(words: ArrayLike<number>, offset: number): number {
    let h = 0x811c9dc5;
    for (let w = 0; w < WORDS; w += 1) h = Math.imul(h ^ (words[offset + w] ?? 0), 0x01000193);
    h ^= h >>> 15;
    return Math.imul(h, 0x2c1b3c6d) >>> 0;
  }

  /** The index of the parsed address among the keys, or -1. */
  #find(): number {
    const mask = this.#table.length - 1;
    for (let slot = this.#hash(this.#words, 0) & mask; ; slot = (slot + 1) & mask) {
      const entry = this.#table[slot] ?? 0;
      if (entry === 0) return -1;
      const base = (entry - 1) * WORDS;
      let same = true;
      for (let w = 0; w < WORDS && same; w += 1) same = this.#keys[base + w] === this.#words[w];
      if (same) return entry - 1;
    }
  }

  #place(index: number): void {
    const mask = this.#table.length - 1;
    let slot = this.#hash(this.#keys, index * WORDS) & mask;
    while ((this.#table[slot] ?? 0) !== 0) slot = (slot + 1) & mask;
    this.#table[slot] = index + 1;
  }

  #rehash(size: number): void {
    this.#table = new Int32Array(size);
    for (let i = 0; i < this.#size; i += 1) this.#place(i);
  }
}

/** A power of two at least twice `capacity`: the table stays at most half full. */
function tableSizeFor(capacity: number): number {
  let size = 1;
  while (size < capacity * 2) size *= 2;
  return size;
}
