import { describeError } from '../lib/errors.js';
import type { PolymarketSource } from '../polymarket/source.js';
import type { StageStore, WalletManifest } from '../staging/stage-store.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import type { RefreshOptions } from './run-options.js';
import type { RunEvents } from './run-events.js';
import { writeRows } from './wallet-stager.js';
import { parseEventIds } from '../polymarket/market-rows.js';

export interface MarketRefreshDeps {
  source: PolymarketSource;
  stage: StageStore;
  warehouse: Warehouse;
  events: RunEvents;
  runId: string;
  signal: AbortSignal;
}

/**
 * Market resolutions after the backfill: markets held as open whose end date has passed, or that
 * were fetched longer ago than `marketRefreshAfterMs`, are looked up again (closed and open both
 * asked, as for any look-up) and upserted — `closed`, `closed_time`, prices, `winning_label` and
 * `fetched_at` move. The parent events of markets that resolved are fetched again too. A failed
 * look-up is reported and left for the next refresh; it never fails the wallets' refresh.
 */
export async function refreshMarkets(deps: MarketRefreshDeps, options: RefreshOptions): Promise<{ checked: number; resolved: number }> {
  const now = Date.now();
  const stale = await deps.warehouse.staleMarkets({
    now: new Date(now).toISOString(),
    staleBefore: new Date(now - options.marketRefreshAfterMs).toISOString(),
    limit: options.marketLimit ?? 5_000,
  });
  if (stale.length === 0) return { checked: 0, resolved: 0 };
  try {
    const lookup = await deps.source.markets(stale, deps.signal);
    const resolved = lookup.markets.filter((m) => m.closed === true);
    const eventIds = [...new Set(resolved.flatMap((m) => parseEventIds(m.event_ids)))];
    const events = eventIds.length > 0 ? (await deps.source.events(eventIds, deps.signal)).events : [];
    const name = `markets-${deps.runId}`;
    const files: WalletManifest['files'] = {};
    if (lookup.markets.length > 0) files.markets = await writeRows(deps.stage, 'markets', name, 'refresh', lookup.markets);
    if (events.length > 0) files.events = await writeRows(deps.stage, 'events', name, 'refresh', events);
    if (files.markets || files.events) await deps.warehouse.loadBundles([{ wallet: name, tradeCount: 0, files, metadataOnly: true }]);
    deps.events.safeEmit('markets:refreshed', { checked: stale.length, resolved: resolved.length });
    return { checked: stale.length, resolved: resolved.length };
  } catch (error) {
    if (deps.signal.aborted) return { checked: 0, resolved: 0 };
    deps.events.safeEmit('markets:failed', { markets: stale.length, error: describeError(error) });
    return { checked: 0, resolved: 0 };
  }
}

