/**
 * The dashboard as its user runs it: `backfill dashboard` as its own process beside a real
 * `backfill run` against the simulator, looked at in real headless Chromium during the run (figures
 * from the run's live snapshot) and after it (figures from the DuckDB file).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { StatusJson } from '../../src/status/status-json.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { openWarehouse, paths, seedTraders } from '../../testkit/backfill-harness.js';
import { runArgs, startCli, waitFor } from '../../testkit/cli.js';
import type { RunningCli } from '../../testkit/cli.js';
import { withTempDir } from '../../testkit/temp-dir.js';
import { ARTIFACTS, ROOT, en, expectFieldsMatch, expectProgress, launchChromium, openPage, seriesPixels, text, waitForRenders } from './browser.js';
import type { DomElement } from './browser.js';

const WALLETS = 90;

/**
 * Waits until the page shows the document /api/status serves (a run moves on between the two
 * reads), then holds the page on it — its polls answered with that same document — so the checks
 * that follow read one consistent page; `release` lets it follow the server again.
 */
async function settled(page: Page, url: string): Promise<{ status: StatusJson; release: () => Promise<void> }> {
  for (let attempt = 0; attempt < 40; attempt += 1) {
    await waitForRenders(page, 1);
    const api = (await (await fetch(`${url}api/status`)).json()) as StatusJson;
    const shown = await page.evaluate(() => window.__dashboard.lastStatus);
    if (shown?.as_of !== api.as_of) continue;
    expect(shown).toEqual(api);
    await page.route('**/api/status', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(api) }));
    await waitForRenders(page, 2);
    return { status: api, release: () => page.unroute('**/api/status') };
  }
  throw new Error('the page never showed the document /api/status served');
}

describe('dashboard beside a real run', () => {
  let sim: RunningSimulator;
  let browser: Browser | undefined;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 41, wallets: WALLETS, maxTradesPerWallet: 500 });
    // Generated now: a real API's CPU is not on this machine.
    for (const wallet of sim.dataset.wallets()) sim.dataset.fills(wallet)[Symbol.iterator]().next();
  });
  afterAll(async () => {
    await browser?.close();
    await sim.close();
  });

  it('during the run the page is live and shows exactly /api/status; after it, the warehouse figures with the whole run charted', async () => {
    await withTempDir(async (dir) => {
      const where = paths(dir);
      await seedTraders(dir, sim.dataset.wallets());

      const dashboard: RunningCli = startCli(['dashboard', '--port', '0', '--warehouse', where.warehouse, '--stage', where.stage, '--log-level', 'error']);
      let run: RunningCli | undefined;
      try {
        let stdout = '';
        dashboard.child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
        await waitFor(() => /dashboard on (http:\/\/\S+)/.test(stdout));
        const url = /dashboard on (http:\/\/\S+)/.exec(stdout)![1]!;

        // The browser's cold start comes before the run, so a slow machine cannot spend the run on it.
        browser = await launchChromium();
        const context = await browser.newContext({ locale: 'en-US', timezoneId: 'UTC', viewport: { width: 1280, height: 900 } });
        const { page, dialogs, problems } = await openPage(context);
        // Long enough to span at least two 10-second throughput buckets (the chart needs two points), and long by
        // waiting, not by the machine's CPU: each wallet waits out about three round trips (its walks, its markets,
        // its events) and the look-ups' 50 ms linger, two wallets at a time: 90 × (3 × 85 + 50) ms / 2 ≈ 14 s at least.
        sim.setLatency({ min: 70, max: 100 });
        run = startCli(runArgs(where, sim.url, ['--concurrency', '2', '--commit-every', '10', '--commit-interval', '500ms']), { BACKFILL_STATUS_INTERVAL: '500ms' });
        await page.goto(`${url}?interval=250`);
        await page.waitForFunction(() => window.__dashboard.lastStatus?.live === true && window.__dashboard.lastStatus.completed > 0, undefined, { timeout: 30_000 });

        // During the run.
        const { status: during, release } = await settled(page, url);
        expect(during).toMatchObject({ source: 'snapshot', live: true, stale: false, total: WALLETS });
        expect(during.completed).toBeLessThan(WALLETS);
        expect(await text(page, '#state')).toBe('live');
        await expectProgress(page, during);
        await expectFieldsMatch(page, during);
        expect(await text(page, '[data-field="completed"]')).toBe(en(during.completed));
        expect(await page.evaluate(() => window.__dashboard.chartPoints)).toBe(during.run!.throughput.length);
        expect(during.run!.throughput.length).toBeGreaterThanOrEqual(1);
        expect(Object.keys(during.run!.api.requests)).toContain('data:trades');
        await release();
        await mkdir(ARTIFACTS, { recursive: true });
        // A little later, for a screenshot with a fuller chart.
        await page.waitForFunction((n) => (window.__dashboard.lastStatus?.run?.throughput.length ?? 0) >= n || window.__dashboard.lastStatus?.live === false, 2, { timeout: 30_000 });
        await page.screenshot({ path: join(ARTIFACTS, 'dashboard-live-run.png'), fullPage: true });
        if (process.env.UPDATE_DASHBOARD_SCREENSHOT === '1') await page.screenshot({ path: join(ROOT, 'docs', 'dashboard.png'), fullPage: true });

        const result = await run.result;
        sim.setLatency({ min: 0, max: 0 });
        expect(result.code, result.stderr).toBe(0);

        // After the run: the figures are read from the DuckDB file, the run's chart stays.
        await page.waitForFunction(() => window.__dashboard.lastStatus?.source === 'warehouse', undefined, { timeout: 15_000 });
        const { status: after } = await settled(page, url);
        expect(after).toMatchObject({ source: 'warehouse', live: false, stale: false, completed: WALLETS, failed: 0, percent_complete: 100 });
        expect(after.run).toMatchObject({ run_id: during.run!.run_id, state: 'finished', loaded: WALLETS });
        expect(await text(page, '#state')).toBe('from the warehouse');
        await expectProgress(page, after);
        await expectFieldsMatch(page, after);
        expect(await text(page, '#eta')).toBe('— (run finished)');
        const points = after.run!.throughput.length;
        expect(points).toBeGreaterThanOrEqual(2);
        expect(await page.evaluate(() => window.__dashboard.chartPoints)).toBe(points);
        expect((await seriesPixels(page)).wallets).toBeGreaterThan(50);
        // (The dashboard opens the file for a moment once a second; the open waits that out.)
        const check = await openWarehouse(dir);
        const held = await check.status();
        await check.close();
        expect({ completed: held.completed, rows: held.rows }).toEqual({ completed: after.completed, rows: after.rows });
        // The traders panel: the warehouse's top by realized profit, wallet by wallet, every wallet's figures computed.
        expect(after.traders).toEqual(held.traders);
        expect(after.traders).toMatchObject({ with_figures: WALLETS, stale: 0 });
        expect(after.traders.top.length).toBe(Math.min(10, WALLETS));
        const panel = await page.$$eval('#traders-rows tr', (trs) => trs.map((tr) => [(tr as DomElement).dataset.wallet, (tr as DomElement).querySelector('.realized')!.textContent]));
        // The page's USD format: cents, or four decimals under a dollar.
        const usd = (v: number) =>
          new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: v !== 0 && Math.abs(v) < 1 ? 4 : 2 }).format(v);
        expect(panel).toEqual(after.traders.top.map((t) => [t.wallet, usd(t.realized_pnl!)]));
        await page.screenshot({ path: join(ARTIFACTS, 'dashboard-after-run.png'), fullPage: true });
        expect(dialogs).toEqual([]);
        expect(problems).toEqual([]);
        await context.close();
      } finally {
        run?.child.kill('SIGKILL');
        dashboard.child.kill('SIGTERM');
        await dashboard.result;
        sim.setLatency({ min: 0, max: 0 });
      }
    });
  });
});
