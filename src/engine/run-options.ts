/**
 * What a backfill or refresh run is asked to do. Apart from the engine's modules so that the parts of a
 * run (the market refresh, the library) can name these options without importing the run itself.
 */
import type { CommitPolicy } from './commit-batcher.js';

export interface BackfillOptions {
  /** Wallets fetched at once. */
  concurrency: number;
  commit: CommitPolicy;
  retryParked: boolean;
  /** Reuse complete staged bundles from earlier runs instead of calling the API again. */
  reuseStaged: boolean;
  shard?: { index: number; count: number };
  /**
   * Share market and event look-ups across wallets and skip ids the warehouse already holds
   * (default true). Off only to measure what the cache saves.
   */
  metadataCache?: boolean;
  /** Trip when this share of the last `window` wallets failed on API outages; default 20 at 0.8. */
  breaker?: { window: number; threshold: number };
  /** Stop taking new wallets after this many (mostly for tests and demos). */
  limit?: number;
  runId?: string;
  /**
   * Refresh completed wallets instead of backfilling new ones: each wallet's fills from its newest
   * held fill minus `overlapSeconds`, then markets held as open that may have resolved.
   */
  refresh?: RefreshOptions;
}

export interface RefreshOptions {
  /** The window starts this long before the newest fill held, or before now if that is earlier (refresh-window.ts). */
  overlapSeconds: number;
  /** Only wallets not refreshed since this time (ISO-8601 UTC). */
  staleBefore?: string;
  /** Only these wallets. */
  wallets?: readonly string[];
  /** Markets held as open are looked up again once fetched longer ago than this, or once their end date passed. */
  marketRefreshAfterMs: number;
  /** At most this many markets re-looked-up per run. */
  marketLimit?: number;
  /**
   * How the fills are refreshed: `wallets` (one walk per wallet), `feed` (tail the global trade feed, per wallet only
   * where it cannot reach), or `auto` (whichever costs fewer requests); default `wallets` for a library caller.
   */
  via?: 'feed' | 'wallets' | 'auto';
  /** A feed walk adds wallets seen above this volume (USDC) in the walked window to `traders` (source `feed`). */
  discoverMinVolume?: number;
  /** Kept feed rows per staged chunk (one load and one committed resume point each). */
  feedChunkRows?: number;
  /**
   * The clock (epoch ms) a feed refresh places the feed's window and its own start against; default the system
   * clock. For a simulator whose data clock is not ours.
   */
  clock?: () => number;
}
