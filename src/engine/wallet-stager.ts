import type { TradeWalk } from '../polymarket/data-api.js';
import { linkedSignal } from '../polymarket/linked-signal.js';
import type { PolymarketSource } from '../polymarket/source.js';
import { bundleFromManifest, checkBundle, sealManifest } from '../staging/manifest.js';
import type { StageKind, StageStore, StagedFile, WalletManifest } from '../staging/stage-store.js';
import type { WalletBundle } from '../warehouse/warehouse.js';
import type { MetadataResolver, WalletMetadata } from './metadata-resolver.js';
import type { RunEvents } from './run-events.js';

export interface StagedWallet {
  bundle: WalletBundle;
  claims: WalletMetadata['claims'];
  reused: boolean;
}

export interface WalletStagerDeps {
  source: PolymarketSource;
  stage: StageStore;
  metadata: MetadataResolver;
  events: RunEvents;
  runId: string;
  /** Load a complete staged bundle left by an earlier run instead of calling the API again. */
  reuseStaged: boolean;
}

/** How far a wallet's staging got, kept up to date as it goes: what a stop in the middle of it interrupted. */
export interface StageProgress {
  phase: 'trades' | 'activity' | 'metadata';
  pages: number;
  trades: number;
  /** Activity and combo rows fetched so far. */
  activity?: number;
}

/** What a stop interrupted, for the wallet's checkpoint: the phase and how far it got. */
export function describeInterrupted(progress: StageProgress, reason: string): string {
  const where =
    progress.phase === 'trades'
      ? `its trades and activity were being fetched (${progress.pages} page(s), ${progress.trades} trade(s), ${progress.activity ?? 0} activity row(s) so far)`
      : progress.phase === 'activity'
        ? `its activity was being fetched (${progress.activity ?? 0} row(s) so far; its fills were loaded before)`
        : `the markets and events of its ${progress.trades} trade(s) were being looked up on Gamma`;
  return (
    `interrupted: the run stopped (${reason}) while ${where}; nothing of this wallet was stored and the attempt ` +
    'is not counted as a failure: the next run fetches it again'
  );
}

/**
 * A refresh window: fills from `startSeconds` and activity from `activityStartSeconds` on (block time), staged apart
 * from the backfill's files and never reused.
 */
export interface RefreshWindow {
  startSeconds: number;
  activityStartSeconds?: number;
}

/** What to stage: the whole wallet (default), a refresh window, or (fills already loaded) its activity only. */
export interface StageRequest {
  window?: RefreshWindow;
  activityOnly?: boolean;
}

/**
 * Fetch → stage for one wallet: its fills, its activity and combo rows, then the markets and events they touch. Rows
 * stream page by page into the staged files, so a whale's history is never held in memory; the manifest is written
 * last and marks the bundle complete.
 */
export async function stageWallet(
  wallet: string,
  deps: WalletStagerDeps,
  signal?: AbortSignal,
  request: StageRequest = {},
  progress: StageProgress = { phase: 'trades', pages: 0, trades: 0 },
): Promise<StagedWallet> {
  const { window, activityOnly = false } = request;
  const area = window ? 'refresh' : 'backfill';
  if (deps.reuseStaged && !window && !activityOnly) {
    const manifest = await deps.stage.readManifest(wallet);
    if (manifest?.load_failed) {
      // The warehouse refused these files: loading them again would fail again, the API may now serve valid rows.
      const { run_id, error } = manifest.load_failed;
      deps.events.safeEmit('wallet:damaged', { wallet, reason: `its staged files were refused by the warehouse in run ${run_id}: ${error}` });
    } else if (manifest?.files.trades && manifest.files.activity && manifest.files.combo_activity) {
      // A bundle staged before activity was collected has no activity files: it is fetched again instead.
      const check = await checkBundle(deps.stage, manifest);
      if (check.ok) return { bundle: bundleFromManifest(manifest), claims: { markets: [], events: [] }, reused: true };
      // A damaged staged file is never loaded: the wallet is fetched again and the files replaced.
      deps.events.safeEmit('wallet:damaged', { wallet, reason: check.reason });
    }
  }

  const conditionIds = new Set<string>();
  const files: WalletManifest['files'] = {};
  // The three feeds run side by side, each in its own rate bucket: a wallet takes as long as its longest walk, not
  // their sum. One failing stops the others (their temporary files are dropped) and fails the wallet.
  const link = linkedSignal(signal);
  let tradeWalk: TradeWalk | undefined;
  const activityStart = window?.activityStartSeconds;
  progress.activity = 0;
  if (activityOnly) progress.phase = 'activity';
  const stopOthers = <T>(work: Promise<T>): Promise<T> =>
    work.catch((error: unknown) => {
      link.controller.abort(error);
      throw error;
    });
  try {
    const [trades, activity, combos] = await settleAll([
      activityOnly
        ? Promise.resolve(undefined)
        : stopOthers(
            writeStaged(deps.stage, 'trades', wallet, area, async (write) => {
              const walk = deps.source.walletTrades(wallet, { signal: link.signal, ...(window ? { startSeconds: window.startSeconds } : {}) });
              tradeWalk = walk;
              for await (const page of walk) {
                for (const trade of page) {
                  conditionIds.add(trade.condition_id);
                  await write(trade);
                }
                progress.pages += 1;
                progress.trades += page.length;
                deps.events.safeEmit('wallet:page', { wallet, trades: page.length });
              }
            }),
          ),
      stopOthers(
        writeStaged(deps.stage, 'activity', wallet, area, async (write) => {
          const walk = deps.source.walletActivity(wallet, { signal: link.signal, ...(activityStart !== undefined ? { startSeconds: activityStart } : {}) });
          for await (const page of walk) {
            for (const row of page) {
              // A redemption or a split may be of a market the wallet never filled in: its market is loaded too.
              if (row.condition_id) conditionIds.add(row.condition_id);
              await write(row);
            }
            progress.activity = (progress.activity ?? 0) + page.length;
          }
        }),
      ),
      stopOthers(
        writeStaged(deps.stage, 'combo_activity', wallet, area, async (write) => {
          for await (const page of deps.source.walletComboActivity(wallet, { signal: link.signal })) {
            for (const row of page) await write(row);
            progress.activity = (progress.activity ?? 0) + page.length;
          }
        }),
      ),
    ]);
    if (trades) files.trades = trades;
    files.activity = activity;
    files.combo_activity = combos;
  } finally {
    link.dispose();
  }
  const smallFillsExcluded = tradeWalk?.smallFillsExcluded ?? false;

  progress.phase = 'metadata';
  const metadata = await deps.metadata.resolve(conditionIds);
  try {
    if (metadata.markets.length > 0) files.markets = await writeRows(deps.stage, 'markets', wallet, area, metadata.markets);
    if (metadata.events.length > 0) files.events = await writeRows(deps.stage, 'events', wallet, area, metadata.events);
    if (metadata.unresolved.length > 0) files.unresolved = await writeRows(deps.stage, 'unresolved', wallet, area, metadata.unresolved);
    const tradeCount = files.trades?.rows ?? 0;
    const excluded = smallFillsExcluded ? ({ small_fills_excluded: true } as const) : {};
    // A refresh window is not a complete history, nor activity alone: neither becomes a bundle a backfill could reuse.
    if (!window && !activityOnly) {
      await deps.stage.writeManifest(sealManifest({ wallet, run_id: deps.runId, staged_at: new Date().toISOString(), trade_count: tradeCount, files, ...excluded }));
    }
    const bundle = {
      wallet,
      tradeCount,
      files,
      ...(window ? { partial: true } : {}),
      ...(activityOnly ? { activityOnly: true } : {}),
      ...(smallFillsExcluded ? { smallFillsExcluded: true } : {}),
    };
    return { bundle, claims: metadata.claims, reused: false };
  } catch (error) {
    deps.metadata.release(metadata.claims);
    throw error;
  }
}

/**
 * Waits for every walk to end, failed or not (so none still writes when the wallet's outcome is decided), then
 * throws the first failure: the one that stopped the others, not the aborts it caused.
 */
async function settleAll<T extends readonly unknown[]>(work: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(work);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

async function writeStaged(
  stage: StageStore,
  kind: StageKind,
  name: string,
  area: 'backfill' | 'refresh',
  produce: (write: (row: object) => Promise<void>) => Promise<void>,
): Promise<StagedFile> {
  const writer = await stage.createWriter(kind, name, { area });
  try {
    await produce((row) => writer.write(row));
    return await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

export function writeRows(stage: StageStore, kind: StageKind, name: string, area: 'backfill' | 'refresh', rows: readonly object[]): Promise<StagedFile> {
  return writeStaged(stage, kind, name, area, async (write) => {
    for (const row of rows) await write(row);
  });
}
