/**
 * The dashboard page in real headless Chromium (Debian's /usr/bin/chromium, installed by .ci/run),
 * served by the real server, fed by a fake status that changes between polls like a run does.
 * If Chromium cannot start, every test here fails with the reason: a dashboard that was never
 * rendered is not a passing dashboard.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';

import { startDashboard } from '../../src/dashboard/server.js';
import type { Dashboard } from '../../src/dashboard/server.js';
import type { StatusJson } from '../../src/status/status-json.js';
import { ARTIFACTS, POLL, UNPRINTABLE, en, expectFieldsMatch, expectProgress, launchChromium, openPage as watchPage, seriesPixels, text, waitForRenders } from './browser.js';
import type { DomElement, Watched } from './browser.js';
import {
  HOSTILE_HTML,
  HOSTILE_TERMINAL,
  HOSTILE_TERMINAL_SHOWN,
  emptyWarehouseStatus,
  finishedStatus,
  runningStatus,
  staleStatus,
  warehouseStatus,
} from './fake-status.js';

/** What the status function answers; tests switch it. */
type Mode = { kind: 'run'; step: number; advancing: boolean } | { kind: 'fixed'; status: StatusJson } | { kind: 'error'; message: string };

let browser: Browser;
let context: BrowserContext;
let dashboard: Dashboard;
let mode: Mode = { kind: 'run', step: 0, advancing: true };
const wallStarted = performance.now();

/**
 * Started by the first test and shared: a launch failure then fails every test with its reason,
 * where a failing beforeAll would only mark them skipped.
 */
let setup: Promise<void> | undefined;
function ready(): Promise<void> {
  setup ??= (async () => {
    dashboard = await startDashboard({ port: 0, minRefreshMs: 0, status: async () => currentStatus() });
    browser = await launchChromium();
    context = await browser.newContext({ locale: 'en-US', timezoneId: 'UTC', viewport: { width: 1280, height: 900 } });
  })();
  return setup;
}

function currentStatus(): StatusJson {
  if (mode.kind === 'error') throw new Error(mode.message);
  if (mode.kind === 'fixed') return mode.status;
  if (mode.advancing) mode.step += 1;
  return runningStatus(mode.step);
}

async function openPage(): Promise<Watched> {
  await ready();
  return watchPage(context);
}

/** The page, rendered once, over a status that does not change. */
async function openFixed(status: StatusJson): Promise<Watched> {
  mode = { kind: 'fixed', status };
  const watched = await openPage();
  await watched.page.goto(`${dashboard.url}${POLL}`);
  await waitForRenders(watched.page, 1);
  return watched;
}

async function fetchStatus(): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${dashboard.url}api/status`);
  return { status: res.status, body: await res.json() };
}

async function expectApiBudget(page: Page, status: StatusJson): Promise<void> {
  const api = status.run!.api;
  const rows = await page.$$eval('#api-rows tr', (trs) =>
    trs.map((tr) => ({
      endpoint: (tr as DomElement).dataset.endpoint,
      name: (tr as DomElement).querySelector('th')!.textContent,
      requests: (tr as DomElement).querySelector('.requests')!.textContent,
      retries: (tr as DomElement).querySelector('.retries')!.textContent,
      use: (tr as DomElement).querySelector('.use-text')?.textContent,
      meter: (tr as DomElement).querySelector('meter')?.value,
    })),
  );
  const endpoints = Object.keys(api.requests).sort();
  expect(rows.map((r) => r.endpoint)).toEqual(endpoints);
  for (const row of rows) {
    const endpoint = row.endpoint!;
    expect(row.name).toBe(endpoint);
    expect(row.requests, endpoint).toBe(en(api.requests[endpoint]!));
    expect(row.retries, endpoint).toBe(en(api.retries[endpoint] ?? 0));
    expect(row.use, endpoint).toBe(`${en(api.rate_limit_utilisation[endpoint]! * 100, 2)} %`);
    expect(row.meter, endpoint).toBeCloseTo(api.rate_limit_utilisation[endpoint]!, 6);
  }
  expect(await text(page, '#throttled-count')).toBe(en(api.throttled_429));
}

/** The traders panel row by row: what the status's top traders say, formatted, hostile categories as text. */
async function expectTraders(page: Page, status: StatusJson): Promise<void> {
  const rows = await page.$$eval('#traders-rows tr', (trs) =>
    trs.map((tr) => {
      const cellText = (name: string) => (tr as DomElement).querySelector(`.${name}`)!.textContent;
      return {
        wallet: (tr as DomElement).dataset.wallet,
        stale: (tr as DomElement).dataset.stale === 'true',
        rank: cellText('rank'),
        realized: cellText('realized'),
        afterFees: cellText('after-fees'),
        afterFeesTitle: (tr as DomElement).querySelector('.after-fees')!.title,
        volume: cellText('volume'),
        roi: cellText('return'),
        winRate: cellText('win-rate'),
        markets: cellText('markets'),
        category: cellText('category'),
      };
    }),
  );
  const usd = (v: number) => new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(v);
  expect(rows).toEqual(
    status.traders.top.map((t, i) => ({
      wallet: t.wallet,
      stale: t.stale,
      rank: String(i + 1),
      realized: usd(t.realized_pnl!),
      // An unknown fee shows "—" with its reason, never $0.00 or NaN.
      afterFees: t.realized_pnl_after_fees === null ? '—' : usd(t.realized_pnl_after_fees),
      afterFeesTitle: t.realized_pnl_after_fees === null ? 'fees unknown: no TRADE activity held for some fill' : '',
      volume: usd(t.volume_usdc!),
      roi: t.return_on_cost === null ? '—' : `${en(t.return_on_cost * 100, 2)} %`,
      winRate: t.win_rate === null ? '—' : `${en(t.win_rate * 100, 2)} % (${t.wins}/${t.win_rate_sample})`,
      markets: en(t.markets_traded!),
      category: t.top_category === null ? '—' : t.top_category === HOSTILE_TERMINAL ? HOSTILE_TERMINAL_SHOWN : t.top_category,
    })),
  );
  // Best first: the panel keeps the order of the status (largest realized profit first).
  expect(status.traders.top.map((t) => t.realized_pnl)).toEqual([...status.traders.top.map((t) => t.realized_pnl)].sort((a, b) => b! - a!));
  expect(await page.locator('#traders-table').isVisible()).toBe(true);
  expect(await page.locator('#no-traders').isHidden()).toBe(true);
  expect(await text(page, '#traders-stale')).toBe(en(status.traders.stale));
  // The note saying how to get figures after fees shows exactly when one is unknown (the fake status has one).
  expect(status.traders.top.some((t) => t.realized_pnl_after_fees === null)).toBe(true);
  expect(await page.locator('#traders-fees-unknown').isVisible()).toBe(true);
}

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await dashboard?.close();
  console.log(`dashboard browser tests: ${Math.round(performance.now() - wallStarted)} ms wall time, Chromium start-up included`);
});

describe('dashboard page in headless Chromium', () => {
  it('during a run: follows the growing figures and shows exactly what /api/status says', async () => {
    mode = { kind: 'run', step: 0, advancing: true };
    const { page, dialogs, problems } = await openPage();
    await page.goto(`${dashboard.url}${POLL}`);
    await waitForRenders(page, 1);
    const probe = () => page.evaluate(() => ({ chartPoints: window.__dashboard.chartPoints, completed: window.__dashboard.lastStatus!.completed }));
    const first = await probe();
    await waitForRenders(page, 3);
    const later = await probe();
    // The page refreshes itself: more throughput points, more wallets completed.
    expect(later.chartPoints).toBeGreaterThan(first.chartPoints);
    expect(later.completed).toBeGreaterThan(first.completed);

    // Freeze the run, let the page catch up, then compare the page with the API.
    if (mode.kind === 'run') mode.advancing = false;
    await waitForRenders(page, 2);
    const { status: code, body } = await fetchStatus();
    expect(code).toBe(200);
    const status = body as StatusJson;
    const run = status.run!;
    expect(await page.evaluate(() => window.__dashboard.lastStatus)).toEqual(status);

    expect(await text(page, '#state')).toBe('live');
    expect(await text(page, '#warehouse')).toBe(status.warehouse);
    await expectProgress(page, status);
    await expectFieldsMatch(page, status);
    expect(await text(page, '[data-field="completed"]')).toBe(en(status.completed));
    expect(await text(page, '[data-field="rows.trades"]')).toBe(en(status.rows.trades));
    expect(await text(page, '[data-field="run.wallets_per_minute"]')).toBe(en(run.wallets_per_minute, 1));
    expect(await text(page, '#eta')).toMatch(/^12 min 34 s \(around \d{1,2}:\d{2}\s?[AP]M\)$/);
    await expectApiBudget(page, status);
    expect(await page.locator('#bigquery').isVisible()).toBe(true);
    expect(await text(page, '#bytes-billed')).toBe('1.50 GiB');
    expect(await page.locator('#bytes-billed').getAttribute('data-value')).toBe(String(status.bigquery!.bytes_billed));

    // The traders panel: the top by realized profit, as the status lists them.
    await expectTraders(page, status);
    expect(await page.locator('#traders-rows tr[data-stale="true"] .badge-inline').textContent()).toBe('stale');

    // Failures by class, most frequent first, with the latest examples.
    const classes = await page.$$eval('.failure-class', (els) => els.map((el) => (el as DomElement).dataset.errorClass));
    expect(classes).toEqual(['transient', 'invalid_address', 'permanent']);
    for (const name of classes) {
      const entry = status.failures.by_class[name!]!;
      const block = page.locator(`.failure-class[data-error-class="${name}"]`);
      expect(await block.locator('h3 .count').textContent()).toBe(`${entry.count} wallets`);
      expect(await block.locator('tbody tr').count()).toBe(entry.latest.length);
    }

    // Hostile values are text: nothing injected, nothing run, escapes made visible.
    const invalid = page.locator('.failure-class[data-error-class="invalid_address"] tbody tr').first();
    expect(await invalid.locator('.wallet').textContent()).toBe(HOSTILE_HTML);
    expect(await invalid.locator('.error-text').textContent()).toBe(`traders.wallet_address ${HOSTILE_HTML} is not a 0x address`);
    const terminal = await page.locator('.failure-class[data-error-class="permanent"] .error-text').textContent();
    expect(terminal).toBe(HOSTILE_TERMINAL_SHOWN);
    expect(terminal).not.toContain(HOSTILE_TERMINAL);
    expect(await page.locator('img, [onerror]').count()).toBe(0);
    expect(await page.locator('body').textContent()).not.toMatch(UNPRINTABLE);

    // The chart: one uPlot point per throughput bucket, and its lines on the canvas.
    const chart = await page.evaluate(() => {
      const { chartPoints, chart } = window.__dashboard;
      return { points: chartPoints, xs: chart!.data[0]!.length, wallets: chart!.data[1]!, trades: chart!.data[2]! };
    });
    expect(chart.points).toBe(run.throughput.length);
    expect(chart.xs).toBe(run.throughput.length);
    expect(chart.wallets[0]).toBeCloseTo((run.throughput[0]!.wallets * 60) / 10, 6);
    expect(chart.trades[0]).toBeCloseTo(run.throughput[0]!.trades / 10, 6);
    // The bucket in progress is divided by the 5 s it has covered, not by 10.
    const last = run.throughput.at(-1)!;
    expect(last.seconds).toBe(5);
    expect(chart.wallets.at(-1)).toBeCloseTo((last.wallets * 60) / 5, 6);
    const pixels = await seriesPixels(page);
    expect(pixels.wallets).toBeGreaterThan(200);
    expect(pixels.trades).toBeGreaterThan(100);

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });

    expect(dialogs).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('after a run: finished, with no ETA and no BigQuery section on DuckDB', async () => {
    const status = finishedStatus();
    const { page, dialogs, problems } = await openFixed(status);
    expect(await text(page, '#state')).toBe('finished');
    expect(await page.locator('#state').getAttribute('data-state')).toBe('finished');
    await expectProgress(page, status);
    await expectFieldsMatch(page, status);
    expect(await text(page, '#eta')).toBe('— (run finished)');
    await expectTraders(page, status);
    expect(await text(page, '#current-batch')).toBe('none');
    expect(await page.locator('#bigquery').isHidden()).toBe(true);
    await expectApiBudget(page, status);
    expect(await page.evaluate(() => window.__dashboard.chartPoints)).toBe(status.run!.throughput.length);
    expect((await seriesPixels(page)).wallets).toBeGreaterThan(200);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-finished.png'), fullPage: true });
    expect(dialogs).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('a snapshot left by a dead run: stale, said in words', async () => {
    const status = staleStatus();
    const { page, problems } = await openFixed(status);
    expect(await text(page, '#state')).toBe('stale (run ended unexpectedly)');
    expect(await text(page, '#eta')).toBe('— (run ended unexpectedly)');
    await expectProgress(page, status);
    await expectFieldsMatch(page, status);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('from the warehouse with no run: totals shown, run, chart and API hidden; then an empty warehouse', async () => {
    const status = warehouseStatus();
    const { page, problems } = await openFixed(status);
    expect(await text(page, '#state')).toBe('from the warehouse');
    await expectProgress(page, status);
    await expectFieldsMatch(page, status);
    expect(await page.locator('#run').isHidden()).toBe(true);
    expect(await page.locator('#no-run').isVisible()).toBe(true);
    expect(await page.locator('#chart').isHidden()).toBe(true);
    expect(await page.locator('#chart-empty').isVisible()).toBe(true);
    expect(await page.locator('#api-table').isHidden()).toBe(true);
    expect(await page.locator('#no-api').isVisible()).toBe(true);
    expect(await page.locator('#bigquery').isVisible()).toBe(true);
    expect(await page.evaluate(() => window.__dashboard.chartPoints)).toBe(0);

    mode = { kind: 'fixed', status: emptyWarehouseStatus() };
    await waitForRenders(page, 2);
    expect(await text(page, '#progress-text')).toBe('No wallets to backfill yet.');
    expect(await page.locator('#progress-bar').getAttribute('aria-valuenow')).toBeNull();
    expect(await page.locator('#progress-fill').evaluate((el) => (el as DomElement).style.width)).toBe('0%');
    expect(await page.locator('#no-failures').isVisible()).toBe(true);
    expect(await page.locator('.failure-class').count()).toBe(0);
    expect(await page.locator('#no-traders').isVisible()).toBe(true);
    expect(await page.locator('#traders-table').isHidden()).toBe(true);
    expect(await page.locator('#traders-rows tr').count()).toBe(0);
    expect(await page.locator('#traders-fees-unknown').isHidden()).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('a failing status() is a 503 shown as an error instead of stale numbers, and the page recovers', async () => {
    mode = { kind: 'run', step: 5, advancing: false };
    const { page, dialogs, problems } = await openPage();
    await page.goto(`${dashboard.url}${POLL}`);
    await waitForRenders(page, 1);
    expect(await page.locator('#figures').isVisible()).toBe(true);

    const message = `BigQuery: Access Denied ${HOSTILE_HTML} ${HOSTILE_TERMINAL}`;
    mode = { kind: 'error', message };
    const api = await fetchStatus();
    expect(api.status).toBe(503);
    expect(api.body).toEqual({ error: message });
    await page.locator('#error').waitFor({ state: 'visible', timeout: 15_000 });
    expect(await page.locator('#figures').isHidden()).toBe(true);
    expect(await text(page, '#state')).toBe('status unavailable');
    expect(await text(page, '#error-text')).toBe(`BigQuery: Access Denied ${HOSTILE_HTML} ${HOSTILE_TERMINAL_SHOWN}`);
    expect(await page.locator('img, [onerror]').count()).toBe(0);

    mode = { kind: 'run', step: 6, advancing: false };
    await waitForRenders(page, 1);
    expect(await page.locator('#error').isHidden()).toBe(true);
    expect(await page.locator('#figures').isVisible()).toBe(true);
    expect(await text(page, '#state')).toBe('live');
    expect(dialogs).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });
});
