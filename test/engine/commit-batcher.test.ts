import { afterEach, describe, expect, it, vi } from 'vitest';

import { CommitBatcher } from '../../src/engine/commit-batcher.js';
import { resolveConfig } from '../../src/library/config.js';
import { commitPolicy } from '../../src/library/run-session.js';
import type { CommitPolicy } from '../../src/engine/commit-batcher.js';
import { RunEvents } from '../../src/engine/run-events.js';
import type { StagedWallet } from '../../src/engine/wallet-stager.js';
import { BackfillError } from '../../src/lib/errors.js';
import type { FailureKind } from '../../src/lib/errors.js';
import type { CheckpointRow, Warehouse, WalletBundle } from '../../src/warehouse/warehouse.js';

afterEach(() => {
  vi.useRealTimers();
});

const staged = (wallet: string): StagedWallet => ({
  bundle: { wallet, tradeCount: 1, files: { trades: { uri: `/stage/${wallet}`, rows: 1, bytes: 10 } } },
  claims: { markets: [], events: [] },
  reused: false,
});

/** Records the order of loads and checkpoint writes; fails the calls the test asks it to (as an outage unless told otherwise). */
function recordingWarehouse(failLoadsFor: (bundles: readonly WalletBundle[]) => boolean, failCheckpoints = 0, kind: FailureKind = 'transient') {
  const log: string[] = [];
  let checkpointFailures = failCheckpoints;
  const warehouse = {
    async loadBundles(bundles: readonly WalletBundle[]) {
      if (failLoadsFor(bundles)) {
        log.push(`load-failed:${bundles.map((b) => b.wallet).join(',')}`);
        throw new BackfillError('load failed', { kind });
      }
      log.push(`load:${bundles.map((b) => b.wallet).join(',')}`);
      return {
        merged: { trades: bundles.length, markets: 0, events: 0, unresolved: 0 },
        tradeCounts: Object.fromEntries(bundles.map((b) => [b.wallet, b.tradeCount])),
        lastTradeAt: Object.fromEntries(bundles.map((b) => [b.wallet, null])),
        duplicatesRemoved: 0,
      };
    },
    async writeCheckpoints(rows: readonly CheckpointRow[]) {
      if (checkpointFailures > 0) {
        checkpointFailures -= 1;
        log.push('checkpoint-failed');
        throw new BackfillError('checkpoint failed', { kind: 'transient' });
      }
      log.push(`checkpoint:${rows.map((r) => `${r.wallet_address}=${r.upload_successful}`).join(',')}`);
    },
  } as unknown as Warehouse;
  return { warehouse, log };
}

const policy = (over: Partial<CommitPolicy> = {}): CommitPolicy => ({
  maxWallets: 3,
  maxDelayMs: 1_000,
  loadAttempts: 3,
  checkpointAttempts: 5,
  retryBaseDelayMs: 100,
  retryMaxDelayMs: 1_000,
  maxFailedAttempts: 5,
  ...over,
});

function batcher(warehouse: Warehouse, over: Partial<CommitPolicy> = {}) {
  return new CommitBatcher({ warehouse, policy: policy(over), events: new RunEvents(), runId: 'r', onReleaseClaims: () => undefined });
}

describe('commit batcher', () => {
  it('commits once N wallets wait, or T after the first one, whichever comes first; checkpoints follow their load', async () => {
    vi.useFakeTimers();
    const { warehouse, log } = recordingWarehouse(() => false);
    const b = batcher(warehouse);
    await b.add(staged('a'));
    await b.add(staged('b'));
    await b.add(staged('c'));
    await vi.advanceTimersByTimeAsync(0);
    expect(log).toEqual(['load:a,b,c', 'checkpoint:a=true,b=true,c=true']);
    await b.add(staged('d'));
    await vi.advanceTimersByTimeAsync(999);
    expect(log).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(log.slice(2)).toEqual(['load:d', 'checkpoint:d=true']);
  });

  it('retries a failing batch 3 times, then loads wallet by wallet so only the bad one fails', async () => {
    vi.useFakeTimers();
    const { warehouse, log } = recordingWarehouse((bundles) => bundles.some((x) => x.wallet === 'bad'));
    const b = batcher(warehouse, { sleep: () => Promise.resolve() });
    await b.add(staged('a'));
    await b.add(staged('bad'));
    await b.add(staged('c'));
    await b.flush();
    expect(log).toEqual([
      'load-failed:a,bad,c',
      'load-failed:a,bad,c',
      'load-failed:a,bad,c',
      'load:a',
      'load-failed:bad',
      'load:c',
      'checkpoint:a=true,bad=false,c=true',
    ]);
    expect(b.counters).toMatchObject({ loaded: 2, failed: 1 });
  });

  it('does not retry a permanent load failure (bad data): it goes straight to wallet-by-wallet loads, and the failure counts towards parking', async () => {
    const { warehouse, log } = recordingWarehouse((bundles) => bundles.some((x) => x.wallet === 'bad'), 0, 'permanent');
    const rows: CheckpointRow[] = [];
    const recording = Object.assign(Object.create(warehouse) as Warehouse, {
      writeCheckpoints: async (written: readonly CheckpointRow[]) => {
        rows.push(...written);
        log.push('checkpoint');
      },
    });
    const b = batcher(recording, { sleep: () => Promise.resolve() });
    await b.add(staged('a'));
    await b.add(staged('bad'));
    await b.flush();
    expect(log).toEqual(['load-failed:a,bad', 'load:a', 'load-failed:bad', 'checkpoint']);
    expect(rows.find((r) => r.wallet_address === 'bad')).toMatchObject({ upload_successful: false, transient: false });
  });

  it('records a load that failed on an outage as transient: retried next run, never counted towards parking', async () => {
    const { warehouse } = recordingWarehouse((bundles) => bundles.some((x) => x.wallet === 'x'));
    const rows: CheckpointRow[] = [];
    const recording = Object.assign(Object.create(warehouse) as Warehouse, {
      writeCheckpoints: async (written: readonly CheckpointRow[]) => void rows.push(...written),
    });
    const b = batcher(recording, { sleep: () => Promise.resolve() });
    await b.add(staged('x'));
    await b.flush();
    expect(rows).toEqual([expect.objectContaining({ wallet_address: 'x', upload_successful: false, transient: true })]);
  });

  it('checkpoints the count the warehouse holds after the load, not the staged claim; fewer rows than staged fails the wallet with both numbers', async () => {
    const rows: CheckpointRow[] = [];
    const warehouse = {
      loadBundles: async (bundles: readonly WalletBundle[]) => ({
        merged: { trades: 0, markets: 0, events: 0, unresolved: 0 },
        tradeCounts: Object.fromEntries(bundles.map((b) => [b.wallet, b.wallet === 'short' ? 0 : 7])),
        lastTradeAt: {},
        duplicatesRemoved: 0,
      }),
      writeCheckpoints: async (written: readonly CheckpointRow[]) => void rows.push(...written),
    } as unknown as Warehouse;
    const b = batcher(warehouse, { sleep: () => Promise.resolve() });
    await b.add(staged('full'));
    await b.add(staged('short'));
    await b.flush();
    expect(rows.find((r) => r.wallet_address === 'full')).toMatchObject({ upload_successful: true, trade_count: 7 });
    expect(rows.find((r) => r.wallet_address === 'short')).toMatchObject({ upload_successful: false });
    expect(rows.find((r) => r.wallet_address === 'short')!.error).toMatch(/holds 0 trade\(s\) of short after the load, but 1 were staged/);
  });

  it('retries checkpoint writes up to 5 times; after that the wallets count as not checkpointed', async () => {
    const ok = recordingWarehouse(() => false, 4);
    const first = batcher(ok.warehouse, { sleep: () => Promise.resolve() });
    await first.add(staged('a'));
    await first.flush();
    expect(ok.log.filter((l) => l === 'checkpoint-failed')).toHaveLength(4);
    expect(first.counters.checkpointWriteFailures).toBe(0);

    const lost = recordingWarehouse(() => false, 5);
    const second = batcher(lost.warehouse, { sleep: () => Promise.resolve() });
    await second.add(staged('a'));
    await second.flush();
    expect(lost.log.filter((l) => l === 'checkpoint-failed')).toHaveLength(5);
    expect(second.counters.checkpointWriteFailures).toBe(1);
  });

  it('waits between attempts with exponential backoff (fake timers)', async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0.999);
    const { warehouse, log } = recordingWarehouse(() => true);
    const b = batcher(warehouse, { maxWallets: 1 });
    await b.add(staged('x'));
    await vi.advanceTimersByTimeAsync(0);
    expect(log).toEqual(['load-failed:x']);
    // Full jitter just under the ceiling: 99 ms (base 100), then 199 ms (×2).
    await vi.advanceTimersByTimeAsync(98);
    expect(log).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(log).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(198);
    expect(log).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(log).toEqual(['load-failed:x', 'load-failed:x', 'load-failed:x', 'checkpoint:x=false']);
  });
});

describe('the retry budgets the CLI runs with', () => {
  // The policy every command builds: the configuration the CLI resolves with no flags and no
  // environment, turned into a commit policy by the same function the library uses. A test with a
  // hand-written policy of 3 and 5 would pass even if those defaults were changed.
  const cliPolicy = () => ({ ...commitPolicy(resolveConfig({}, {})), maxWallets: 2, sleep: () => Promise.resolve() });

  it('loads are attempted exactly 3 times: two outages then a success load the batch, three outages give up on it', async () => {
    let failures = 2;
    const { warehouse, log } = recordingWarehouse(() => failures-- > 0);
    const b = new CommitBatcher({ warehouse, policy: cliPolicy(), events: new RunEvents(), runId: 'r', onReleaseClaims: () => undefined });
    await b.add(staged('a'));
    await b.add(staged('b'));
    await b.flush();
    expect(log).toEqual(['load-failed:a,b', 'load-failed:a,b', 'load:a,b', 'checkpoint:a=true,b=true']);

    failures = 3;
    const second = recordingWarehouse(() => failures-- > 0);
    const c = new CommitBatcher({ warehouse: second.warehouse, policy: cliPolicy(), events: new RunEvents(), runId: 'r', onReleaseClaims: () => undefined });
    await c.add(staged('a'));
    await c.add(staged('b'));
    await c.flush();
    // The batch's third failure ends its budget; the wallet-by-wallet fallback then loads each alone.
    expect(second.log.slice(0, 4)).toEqual(['load-failed:a,b', 'load-failed:a,b', 'load-failed:a,b', 'load:a']);
  });

  it('checkpoint writes are attempted exactly 5 times: four failures then a success write it, five failures give up', async () => {
    const fourFailures = recordingWarehouse(() => false, 4);
    const b = new CommitBatcher({ warehouse: fourFailures.warehouse, policy: cliPolicy(), events: new RunEvents(), runId: 'r', onReleaseClaims: () => undefined });
    await b.add(staged('a'));
    await b.add(staged('b'));
    await b.flush();
    expect(fourFailures.log.filter((entry) => entry.startsWith('checkpoint'))).toEqual([
      ...Array<string>(4).fill('checkpoint-failed'),
      'checkpoint:a=true,b=true',
    ]);
    expect(b.counters.checkpointWriteFailures).toBe(0);

    const fiveFailures = recordingWarehouse(() => false, 6);
    const c = new CommitBatcher({ warehouse: fiveFailures.warehouse, policy: cliPolicy(), events: new RunEvents(), runId: 'r', onReleaseClaims: () => undefined });
    await c.add(staged('a'));
    await c.add(staged('b'));
    await c.flush().catch(() => undefined);
    expect(fiveFailures.log.filter((entry) => entry.startsWith('checkpoint'))).toEqual(Array<string>(5).fill('checkpoint-failed'));
  });
});
