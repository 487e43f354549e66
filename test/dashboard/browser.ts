/**
 * Driving the dashboard page in real headless Chromium (Debian's /usr/bin/chromium, installed by
 * .ci/run): start-up, a watched page, and the checks that the page shows exactly what
 * /api/status says. Shared by the page tests (fed a fake status) and the live-run test.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';

import type { StatusJson } from '../../src/status/status-json.js';

/*
 * The callbacks given to page.evaluate run in Chromium. The project compiles without the DOM lib (it
 * is a Node tool), so the little of the browser they touch is declared here. The declaration is
 * global to the type-check (`npm run typecheck` sees src/ too); the build (tsconfig.build.json,
 * src/ alone) still refuses a `window` in product code.
 */
export interface DashboardProbe {
  renders: number;
  errors: number;
  chartPoints: number;
  lastStatus: StatusJson | null;
  chart: { data: number[][] } | null;
  error: string | null;
}
export interface DomElement {
  dataset: Record<string, string | undefined>;
  style: { width: string };
  textContent: string | null;
  /** The `title` attribute ('' when absent). */
  title: string;
  querySelector(selector: string): DomElement | null;
  value?: number;
}
export interface CanvasElement {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}
declare global {
  const window: { __dashboard: DashboardProbe };
  const document: {
    addEventListener(type: 'securitypolicyviolation', listener: (e: { violatedDirective: string; blockedURI: string }) => void): void;
    querySelector(selector: string): unknown;
  };
}

export const CHROMIUM = '/usr/bin/chromium';
// Without the background-networking flags Chromium's own connections are refused by this
// machine's closed network and it stalls.
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ARTIFACTS = join(ROOT, 'test-artifacts');
export const POLL = '?interval=200';
// eslint-disable-next-line no-control-regex -- the very characters the page must never emit raw
export const UNPRINTABLE = /[\u0000-\u0008\u000e-\u001f\u007f]/;

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing, so the dashboard cannot be tested in a browser: apt-get install -y chromium (.ci/run installs it)`);
  }
  try {
    return await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
  } catch (error) {
    throw new Error(`headless Chromium (${CHROMIUM}) did not start: ${(error as Error).message}`, { cause: error });
  }
}

export interface Watched {
  page: Page;
  dialogs: string[];
  problems: string[];
}

/** A page with every dialog, script error, console error and CSP violation recorded. */
export async function openPage(context: BrowserContext): Promise<Watched> {
  const page = await context.newPage();
  const dialogs: string[] = [];
  const problems: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of 503/.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  return { page, dialogs, problems };
}

export const renders = (page: Page): Promise<number> => page.evaluate(() => window.__dashboard.renders);

/** Waits until the page has rendered `count` more times than now. */
export async function waitForRenders(page: Page, count: number): Promise<void> {
  const target = (await renders(page)) + count;
  await page.waitForFunction((n) => window.__dashboard.renders >= n, target, { timeout: 15_000 });
}

export const text = async (page: Page, selector: string): Promise<string> => (await page.locator(selector).first().textContent()) ?? '';
export const en = (n: number, digits = 0): string => new Intl.NumberFormat('en-US', { maximumFractionDigits: digits }).format(n);

export function lookup(object: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => (value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), object);
}

/** Every [data-field] on the page carries the raw value of its JSON path. */
export async function expectFieldsMatch(page: Page, status: StatusJson): Promise<void> {
  const fields = await page.$$eval('[data-field]', (els) => els.map((el) => ({ field: (el as DomElement).dataset.field!, value: (el as DomElement).dataset.value! })));
  expect(fields.length).toBeGreaterThan(25);
  for (const { field, value } of fields) {
    const expected = lookup(status, field);
    const shown = expected === undefined || expected === null ? '' : typeof expected === 'object' ? JSON.stringify(expected) : String(expected);
    expect(value, field).toBe(shown);
  }
}

export async function expectProgress(page: Page, status: StatusJson): Promise<void> {
  const percent = status.percent_complete!;
  expect(await page.locator('#progress-fill').evaluate((el) => (el as DomElement).style.width)).toBe(`${percent}%`);
  expect(await page.locator('#progress-bar').getAttribute('aria-valuenow')).toBe(String(percent));
  expect(await text(page, '#progress-text')).toBe(`${en(percent, 2)} % complete — ${en(status.completed)} of ${en(status.total)} wallets`);
  expect(await page.title()).toBe(`${en(percent, 2)} % · Backfill dashboard`);
}

/** Pixels of the chart canvas close to a series colour: the lines were really drawn. */
export function seriesPixels(page: Page): Promise<{ wallets: number; trades: number; painted: number }> {
  return page.evaluate(() => {
    const canvas = document.querySelector('#chart canvas') as CanvasElement;
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    const near = (i: number, rgb: number[]) => Math.abs(data[i]! - rgb[0]!) + Math.abs(data[i + 1]! - rgb[1]!) + Math.abs(data[i + 2]! - rgb[2]!) < 60 && data[i + 3]! > 200;
    let wallets = 0;
    let trades = 0;
    let painted = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3]! > 0) painted += 1;
      if (near(i, [0x1f, 0x5f, 0xa8])) wallets += 1;
      if (near(i, [0xc2, 0x41, 0x0c])) trades += 1;
    }
    return { wallets, trades, painted };
  });
}

