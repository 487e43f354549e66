/**
 * Seeded randomness for the simulator. Every generated thing draws from its own stream, keyed by a hash of
 * (seed, purpose, index…), so wallet 7 or market 42 can be produced without producing anything before it.
 */

/** Murmur3's 32-bit finaliser: a cheap, well-mixed bijection on uint32. */
export function fmix32(input: number): number {
  let h = input >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hashes a list of non-negative integers (each up to 2^53) into one uint32. */
export function hash32(...parts: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    // Seeds and counters can exceed 32 bits; fold the high half in so they are not silently truncated.
    const low = part >>> 0;
    const high = Math.floor(part / 4294967296) >>> 0;
    h = fmix32(h ^ fmix32(low + 0x7f4a7c15));
    h = fmix32(h ^ fmix32(high + 0x2545f491));
  }
  return h;
}

/** Mulberry32: tiny, fast and good enough for synthetic data. */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A stream keyed by the hash of `parts`. */
  static of(...parts: readonly number[]): Rng {
    return new Rng(hash32(...parts));
  }

  u32(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** Log-uniform in [min, max]: as many values per decade, which is what heavy tails look like. */
  logUniform(min: number, max: number): number {
    return Math.exp(Math.log(min) + this.next() * (Math.log(max) - Math.log(min)));
  }

  /** Zipf-like rank in [0, n): rank r is drawn with probability about proportional to 1 / (r + 1). */
  zipf(n: number): number {
    return Math.min(n - 1, Math.floor(Math.pow(n + 1, this.next())) - 1);
  }

  /** `words` uint32s as lower-case hex, 8 digits each. */
  hex(words: number): string {
    let out = '';
    for (let i = 0; i < words; i += 1) out += this.u32().toString(16).padStart(8, '0');
    return out;
  }
}

/** Purpose tags, so that streams for different things never share a key. */
export const Stream = {
  walletAddress: 1,
  walletCount: 2,
  walletProfile: 3,
  walletFills: 4,
  transaction: 5,
  eventShape: 6,
  event: 7,
  market: 8,
  universe: 9,
  combo: 10,
  faults: 11,
  latency: 12,
  cursor: 13,
  trace: 14,
  advancePlan: 15,
  advanceFills: 16,
  advanceTx: 17,
  resolve: 18,
  advance: 19,
  leaderboard: 20,
  activity: 21,
  activityTx: 22,
  redeem: 23,
  resolution: 24,
  resolutionEvent: 25,
  comboActivity: 26,
} as const;
