/**
 * Memory and speed of the tracked-wallet set for the feed refresh: 1,000,000 wallets as a WalletSet and as a
 * `Set` of lower-case strings. Run with the GC exposed so the heap is measured settled:
 *   node --expose-gc --import tsx bench/wallet-set-memory.ts [count]
 */
import { randomBytes } from 'node:crypto';

import { WalletSet } from '../src/domain/wallet-set.js';

const count = Number(process.argv[2] ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

function settledHeap(): number {
  gc!();
  gc!();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

// The addresses arrive as one buffer, so their own strings are not counted against either set.
const raw = randomBytes(count * 20);
const address = (i: number): string => `0x${raw.toString('hex', i * 20, i * 20 + 20)}`;
const probes = Array.from({ length: 200_000 }, (_, i) => address((i * 7919) % count));
const strangers = Array.from({ length: 200_000 }, () => `0x${randomBytes(20).toString('hex')}`);

function measure<T extends { has(w: string): boolean }>(name: string, build: () => T): void {
  const before = settledHeap();
  let started = process.hrtime.bigint();
  const set = build();
  const buildMs = Number(process.hrtime.bigint() - started) / 1e6;
  const bytes = settledHeap() - before;
  started = process.hrtime.bigint();
  let hits = 0;
  for (const w of probes) if (set.has(w)) hits += 1;
  for (const w of strangers) if (set.has(w)) hits -= 1;
  const lookupNs = Number(process.hrtime.bigint() - started) / (probes.length + strangers.length);
  if (hits !== probes.length) throw new Error(`${name}: membership wrong (${hits})`);
  console.log(
    `${name.padEnd(22)} ${count.toLocaleString('en-US')} wallets: ${(bytes / 2 ** 20).toFixed(1)} MiB (${(bytes / count).toFixed(1)} B/wallet), ` +
      `build ${buildMs.toFixed(0)} ms, lookup ${lookupNs.toFixed(0)} ns`,
  );
  // Keep the set alive until after the heap was measured.
  if (set.has('')) console.log('');
}

measure('WalletSet', () => {
  const set = new WalletSet([], count);
  for (let i = 0; i < count; i += 1) set.add(address(i));
  return set;
});
measure('Set<string>', () => {
  const set = new Set<string>();
  for (let i = 0; i < count; i += 1) set.add(address(i));
  return set;
});
