/**
 * Status documents for the dashboard tests: a run in progress (a step function, so figures grow
 * between polls), the same run finished, left stale by a dead process, and the warehouse's figures
 * with no run. Failure examples carry hostile values, as a real API error or traders list may.
 */
import type { StatusJson, ThroughputPoint } from '../../src/status/status-json.js';

export const HOSTILE_HTML = '<img src=x onerror=alert(1)>';
/** SGR red, then an OSC window-title change terminated by BEL. */
export const HOSTILE_TERMINAL = 'boom \u001b[31mred\u001b]0;pwned\u0007 done';
/** How the page must show HOSTILE_TERMINAL: every control character visible as \uXXXX. */
export const HOSTILE_TERMINAL_SHOWN = 'boom \\u001b[31mred\\u001b]0;pwned\\u0007 done';

const START = Date.parse('2025-11-30T12:00:00Z');
const BUCKET_MS = 10_000;
const TOTAL = 1000;

const iso = (ms: number): string => new Date(ms).toISOString();

/** Deterministic, wavy figures so the chart has shape; the last bucket is half over, as a running one is. */
function throughput(points: number): ThroughputPoint[] {
  return Array.from({ length: points }, (_, i) => ({
    t: iso(START + i * BUCKET_MS),
    wallets: 6 + Math.round(3 * Math.sin(i / 2)),
    trades: 900 + Math.round(400 * Math.cos(i / 3)),
    seconds: i === points - 1 ? BUCKET_MS / 2000 : BUCKET_MS / 1000,
  }));
}

/** A top trader as wallet_stats reports it; fees of 1 % of the profit, so before and after differ. */
function trader(wallet: string, pnl: number, volume: number, roi: number, wins: number, decided: number, markets: number, category: string | null): StatusJson['traders']['top'][number] {
  return {
    wallet,
    realized_pnl: pnl,
    realized_pnl_after_fees: Math.round(pnl * 0.99 * 100) / 100,
    volume_usdc: volume,
    return_on_cost: roi,
    win_rate: decided > 0 ? wins / decided : null,
    wins,
    win_rate_sample: decided,
    markets_traded: markets,
    top_category: category,
    stale: false,
  };
}

/** Step 0 is the first poll; each step adds a 10-second bucket and ~7 wallets. */
export function runningStatus(step: number): StatusJson {
  const points = throughput(12 + step);
  const loaded = points.reduce((sum, p) => sum + p.wallets, 0);
  const tradesLoaded = points.reduce((sum, p) => sum + p.trades, 0);
  const completed = 300 + loaded;
  const failed = 17;
  const asOf = START + points.length * BUCKET_MS;
  return {
    warehouse: 'bigquery://demo-project/polymarket?location=US',
    source: 'snapshot',
    live: true,
    stale: false,
    as_of: iso(asOf),
    completed,
    total: TOTAL,
    percent_complete: Math.round((completed * 10000) / TOTAL) / 100,
    failed,
    parked: 2,
    pending: TOTAL - completed - failed - 3,
    valid_wallets: TOTAL - 3,
    invalid_wallets: 3,
    rows: { trades: 1_250_000 + tradesLoaded, markets: 48_211, events: 9_730, unresolved: 12, activity: 310_402, combo_activity: 88, resolutions: 30_114 },
    activity: { loaded_wallets: completed, pending_wallets: 40 },
    last_processed_at: iso(asOf - 1500),
    refresh: { refreshed_wallets: 250, failed: 2, last_refreshed_at: iso(asOf - 3_600_000), oldest_at: iso(asOf - 86_400_000) },
    failures: {
      by_class: {
        transient: {
          count: 11,
          latest: [
            { wallet: '0x492442eab586f242b53bda933fd5de859c8a3782', error: 'data-api GET /v2/trades: HTTP 503 after 5 attempts', at: iso(asOf - 4000) },
            { wallet: '0x0000000000000000000000000000000000c0ffee', error: 'data-api GET /v2/trades: ECONNRESET after 5 attempts', at: iso(asOf - 9000) },
          ],
        },
        invalid_address: {
          count: 3,
          latest: [{ wallet: HOSTILE_HTML, error: `traders.wallet_address ${HOSTILE_HTML} is not a 0x address`, at: null }],
        },
        permanent: {
          count: 3,
          latest: [{ wallet: '0x1111111111111111111111111111111111111111', error: HOSTILE_TERMINAL, at: iso(asOf - 20_000) }],
        },
      },
    },
    bigquery: { runs: 96, bytes_billed: 1_610_612_736, bytes_processed: 1_503_238_553, estimated_cost_usd: 0.0092 },
    traders: {
      with_figures: completed,
      stale: 5,
      top: [
        trader('0x1aa41dc3348708542840fd8a1dd3707111e4f7bd', 16_595.09 + step, 264_332.9, 0.094, 8, 18, 19, 'Sports'),
        trader('0x5e1eff51eecbb6f39ba08243afad4064e115f2e8', 10_340.05, 680.73, 10.535, 3, 4, 4, HOSTILE_HTML),
        { ...trader('0xbabccba87188c656840714a5ebf07ac8931b9f11', 9_024.63, 4_781.32, 2.306, 0, 0, 3, null), win_rate: null, stale: true },
        // Loaded without TRADE activity: its fees, and so its figures after fees, are unknown (null, not 0).
        { ...trader('0xacf557f4235c2756bcaa0c55bd9dde8970979450', -3_348.32, 14_490.8, -0.2, 1, 11, 11, HOSTILE_TERMINAL), realized_pnl_after_fees: null, return_on_cost: null },
      ],
    },
    run: {
      run_id: 'run-20251130T120000Z-7f3a',
      started_at: iso(START - 60_000),
      lease_holder: 'backfill-job-abc12 pid 4242',
      state: 'running',
      planned: 700,
      loaded,
      failed: 4,
      trades_loaded: tradesLoaded,
      wallets_per_minute: 38.4,
      trades_per_second: 91.7,
      eta_seconds: 754,
      current_batch: { wallets: 50, started_at: iso(asOf - 2000) },
      api: {
        requests: { 'data-api /v2/trades': 4210 + step * 40, 'gamma /markets': 388, 'gamma /events': 97 },
        retries: { 'data-api /v2/trades': 36, 'gamma /markets': 2 },
        throttled_429: 14,
        rate_limit_utilisation: { 'data-api /v2/trades': 0.82, 'gamma /markets': 0.31, 'gamma /events': 0.05 },
      },
      throughput: points,
    },
  };
}

/** The run's last snapshot after a clean end: no ETA, nothing in flight, on DuckDB. */
export function finishedStatus(): StatusJson {
  const last = runningStatus(20);
  return {
    ...last,
    warehouse: 'duckdb:/srv/backfill/backfill.duckdb',
    live: false,
    bigquery: null,
    run: { ...last.run!, state: 'finished', eta_seconds: null, current_batch: null },
  };
}

/** The figures after a run that died (kill -9): its snapshot still said "running", so it is stale and shown stopped. */
export function staleStatus(): StatusJson {
  const last = runningStatus(8);
  return {
    ...last,
    warehouse: 'duckdb:/srv/backfill/backfill.duckdb',
    source: 'warehouse',
    live: false,
    stale: true,
    bigquery: null,
    run: { ...last.run!, state: 'stopped', eta_seconds: null, current_batch: null },
  };
}

/** `backfill status` read from the warehouse with no run snapshot around. */
export function warehouseStatus(): StatusJson {
  const last = runningStatus(30);
  return { ...last, source: 'warehouse', live: false, stale: false, run: null };
}

/** A warehouse with no traders yet: percent_complete is null. */
export function emptyWarehouseStatus(): StatusJson {
  return {
    ...warehouseStatus(),
    completed: 0,
    total: 0,
    percent_complete: null,
    failed: 0,
    parked: 0,
    pending: 0,
    valid_wallets: 0,
    invalid_wallets: 0,
    rows: { trades: 0, markets: 0, events: 0, unresolved: 0, activity: 0, combo_activity: 0, resolutions: 0 },
    activity: { loaded_wallets: 0, pending_wallets: 0 },
    last_processed_at: null,
    refresh: { refreshed_wallets: 0, failed: 0, last_refreshed_at: null, oldest_at: null },
    failures: { by_class: {} },
    traders: { with_figures: 0, stale: 0, top: [] },
  };
}
