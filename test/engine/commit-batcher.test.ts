import { afterEach, describe, expect, it, vi } from 'vitest';

import { CommitBatcher } from '../../src/engine/commit-batcher.js';
import { resolveConfig } from '../../src/library/config.js';
import { commitPolicy } from '../../src/library/run-session.js';
import type { CommitPolicy } from '../../src/engine/commit-batcher.js';
import { RunEvents } from '../../src/engine/run-events.js';
import type { StagedWallet } from '../../src/engine/wallet-stager.js';
import { BackfillError } from '../../src/lib/errors.js';
import type { FailureKind } from '../../src/lib/errors.js';
import { LocalStageStore } from '../../src/staging/local/local-stage-store.js';
import { sealManifest } from '../../src/staging/manifest.js';
import type { StageStore, WalletManifest } from '../../src/staging/stage-store.js';
import type { CheckpointRow, Warehouse, WalletBundle } from '../../src/warehouse/warehouse.js';
import { withTempDir } from '../../testkit/temp-dir.js';

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
        merged: { trades: bundles.length, markets: 0, events: 0, unresolved: 0, activity: 0, combo_activity: 0, resolutions: 0 },
        tradeCounts: Object.fromEntries(bundles.map((b) => [b.wallet, b.tradeCount])),
        lastTradeAt: Object.fromEntries(bundles.map((b) => [b.wallet, null])),
        duplicatesRemoved: 0,
        activityCounts: {},
        lastActivityAt: {},
      };
    },
    async writeCheckpoints(rows: readonly CheckpointRow[]) {
      if (checkpointFailures > 0) {
        checkpointFailures -= 1;
        log.push('checkpoint-failed');
        throw new BackfillError('checkpoint failed', { kind: 'transient' });
      }
      log.push(`checkpoint:${rows.map((r) => `${r.wallet_address}=${r.outcome === 'loaded'}`).join(',')}`);
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
    expect(rows.find((r) => r.wallet_address === 'bad')).toMatchObject({ outcome: 'failed', failure_class: 'load' });
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
    expect(rows).toEqual([expect.objectContaining({ wallet_address: 'x', outcome: 'transient', failure_class: 'load' })]);
  });

  it('checkpoints the count the warehouse holds after the load, not the staged claim; fewer rows than staged fails the wallet with both numbers', async () => {
    const rows: CheckpointRow[] = [];
    const warehouse = {
      loadBundles: async (bundles: readonly WalletBundle[]) => ({
        merged: { trades: 0, markets: 0, events: 0, unresolved: 0, activity: 0, combo_activity: 0, resolutions: 0 },
        tradeCounts: Object.fromEntries(bundles.map((b) => [b.wallet, b.wallet === 'short' ? 0 : 7])),
        lastTradeAt: {},
        duplicatesRemoved: 0,
        activityCounts: {},
        lastActivityAt: {},
      }),
      writeCheckpoints: async (written: readonly CheckpointRow[]) => void rows.push(...written),
    } as unknown as Warehouse;
    const b = batcher(warehouse, { sleep: () => Promise.resolve() });
    await b.add(staged('full'));
    await b.add(staged('short'));
    await b.flush();
    expect(rows.find((r) => r.wallet_address === 'full')).toMatchObject({ outcome: 'loaded', trade_count: 7 });
    expect(rows.find((r) => r.wallet_address === 'short')).toMatchObject({ outcome: 'failed', failure_class: 'load' });
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

  it('counts the trade rows each commit inserted, not the rows staged: a refresh window re-serves rows already held', async () => {
    const inserted: number[] = [];
    const warehouse = {
      // Three staged rows per wallet, of which the MERGE inserts one (the other two were held already).
      loadBundles: async (bundles: readonly WalletBundle[]) => ({
        merged: { trades: bundles.length, markets: 0, events: 0, unresolved: 0, activity: 0, combo_activity: 0, resolutions: 0 },
        tradeCounts: Object.fromEntries(bundles.map((b) => [b.wallet, 10])),
        lastTradeAt: {},
        duplicatesRemoved: 0,
        activityCounts: {},
        lastActivityAt: {},
      }),
      writeCheckpoints: async () => undefined,
    } as unknown as Warehouse;
    const events = new RunEvents();
    events.on('batch:committed', (e) => inserted.push(e.inserted));
    const b = new CommitBatcher({ warehouse, policy: policy({ maxWallets: 2 }), events, runId: 'r', onReleaseClaims: () => undefined, refresh: true });
    const window = (wallet: string): StagedWallet => ({ ...staged(wallet), bundle: { ...staged(wallet).bundle, tradeCount: 3, partial: true } });
    await b.add(window('a'));
    await b.add(window('b'));
    await b.add(window('c'));
    await b.flush();
    expect(inserted).toEqual([2, 1]);
    expect(b.counters).toMatchObject({ loaded: 3, trades: 3 });
  });

  describe('a permanent load failure sets the staged bundle aside', () => {
    const WALLET = '0x' + 'a'.repeat(40);
    const OTHER = '0x' + 'b'.repeat(40);

    /** A wallet's bundle staged and sealed as a run leaves it. */
    async function stageBundle(stage: StageStore, wallet: string): Promise<StagedWallet> {
      const writer = await stage.createWriter('trades', wallet);
      await writer.write({ proxy_wallet: wallet });
      const trades = await writer.commit();
      await stage.writeManifest(sealManifest({ wallet, run_id: 'r0', staged_at: new Date().toISOString(), trade_count: 1, files: { trades } }));
      return { bundle: { wallet, tradeCount: 1, files: { trades } }, claims: { markets: [], events: [] }, reused: false };
    }

    it('so the next run fetches the wallet again (the manifest records why, the error says so); a transient failure leaves the bundle to be reused', async () => {
      await withTempDir(async (dir) => {
        const stage = new LocalStageStore(dir);
        const rows: CheckpointRow[] = [];
        const warehouse = {
          loadBundles: async (bundles: readonly WalletBundle[]) => {
            const refused = bundles.some((x) => x.wallet === WALLET);
            throw new BackfillError(refused ? 'Conversion Error: 1e20 out of range' : 'warehouse busy', { kind: refused && bundles.length === 1 ? 'permanent' : 'transient' });
          },
          writeCheckpoints: async (written: readonly CheckpointRow[]) => void rows.push(...written),
        } as unknown as Warehouse;
        const b = new CommitBatcher({ warehouse, policy: policy({ sleep: () => Promise.resolve() }), events: new RunEvents(), runId: 'r1', onReleaseClaims: () => undefined, stage });
        await b.add(await stageBundle(stage, WALLET));
        await b.add(await stageBundle(stage, OTHER));
        await b.flush();

        expect((await stage.readManifest(WALLET))?.load_failed).toMatchObject({ run_id: 'r1', error: 'Conversion Error: 1e20 out of range' });
        expect((await stage.readManifest(OTHER))?.load_failed).toBeUndefined();
        const error = (wallet: string) => rows.find((r) => r.wallet_address === wallet)?.error;
        expect(error(WALLET)).toBe(
          'load failed permanently: Conversion Error: 1e20 out of range; its staged files are set aside: the next `backfill run` fetches the wallet again from the API',
        );
        expect(error(OTHER)).toBe('load failed (staged files kept, the next run reloads them without calling the API): warehouse busy');
      });
    });

    it('but not a bundle staged since for the same wallet: only the refused trades file is marked', async () => {
      await withTempDir(async (dir) => {
        const stage = new LocalStageStore(dir);
        const refused = await stageBundle(stage, WALLET);
        const writer = await stage.createWriter('trades', WALLET);
        await writer.write({ proxy_wallet: WALLET, restaged: true });
        const trades = await writer.commit();
        await stage.writeManifest(sealManifest({ wallet: WALLET, run_id: 'r2', staged_at: new Date().toISOString(), trade_count: 1, files: { trades } }));
        const warehouse = {
          loadBundles: async () => {
            throw new BackfillError('Conversion Error: 1e20 out of range', { kind: 'permanent' });
          },
          writeCheckpoints: async () => undefined,
        } as unknown as Warehouse;
        const b = new CommitBatcher({ warehouse, policy: policy(), events: new RunEvents(), runId: 'r1', onReleaseClaims: () => undefined, stage });
        await b.add(refused);
        await b.flush();
        expect(await stage.readManifest(WALLET)).toMatchObject({ run_id: 'r2', files: { trades } });
        expect((await stage.readManifest(WALLET))?.load_failed).toBeUndefined();
      });
    });

    it('and when it cannot be, the recorded error names `backfill run --refetch`', async () => {
      const manifest: WalletManifest = sealManifest({ wallet: WALLET, run_id: 'r0', staged_at: '2026-01-01T00:00:00Z', trade_count: 1, files: staged(WALLET).bundle.files });
      const stage = {
        readManifest: async () => manifest,
        writeManifest: async () => {
          throw new Error('EROFS: read-only file system');
        },
      } as unknown as StageStore;
      const rows: CheckpointRow[] = [];
      const warehouse = {
        loadBundles: async () => {
          throw new BackfillError('Conversion Error: 1e20 out of range', { kind: 'permanent' });
        },
        writeCheckpoints: async (written: readonly CheckpointRow[]) => void rows.push(...written),
      } as unknown as Warehouse;
      const b = new CommitBatcher({ warehouse, policy: policy(), events: new RunEvents(), runId: 'r1', onReleaseClaims: () => undefined, stage });
      await b.add({ ...staged(WALLET) });
      await b.flush();
      expect(rows[0]!.error).toBe(
        'load failed permanently: Conversion Error: 1e20 out of range; its staged files could not be set aside (EROFS: read-only file system): run `backfill run --refetch` so they are not loaded again',
      );
    });
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
