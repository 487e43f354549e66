/**
 * The one table of retry budgets is what the layers really run with: the mission's numbers for the
 * engine (through the configuration the CLI resolves), the request budget in the HTTP client's
 * defaults, the SDK retries handed to both Google clients.
 */
import { describe, expect, it } from 'vitest';

import { GOOGLE_SDK_RETRIES, RETRY_BUDGETS } from '../../src/lib/retry-budgets.js';
import { resolveConfig } from '../../src/library/config.js';
import { DEFAULT_MAX_ATTEMPTS } from '../../src/polymarket/polymarket-source.js';

describe('retry budgets', () => {
  it("hold the mission's numbers: loads 3 attempts, checkpoint writes 5, each under a total deadline", () => {
    expect(RETRY_BUDGETS.warehouseLoad.attempts).toBe(3);
    expect(RETRY_BUDGETS.checkpointWrite.attempts).toBe(5);
    for (const budget of [RETRY_BUDGETS.httpRequest, RETRY_BUDGETS.warehouseLoad, RETRY_BUDGETS.checkpointWrite]) {
      expect(budget.deadlineMs).toBeGreaterThan(budget.maxDelayMs);
    }
  });

  it('are the ones the CLI configuration and the Polymarket source take by default', () => {
    const config = resolveConfig({}, {});
    expect(config.budgets).toEqual({
      loadAttempts: RETRY_BUDGETS.warehouseLoad.attempts,
      checkpointAttempts: RETRY_BUDGETS.checkpointWrite.attempts,
      retryBaseDelayMs: RETRY_BUDGETS.warehouseLoad.baseDelayMs,
      retryMaxDelayMs: RETRY_BUDGETS.warehouseLoad.maxDelayMs,
      retryDeadlineMs: RETRY_BUDGETS.warehouseLoad.deadlineMs,
    });
    expect(config.source.maxAttempts).toBe(RETRY_BUDGETS.httpRequest.attempts);
    expect(DEFAULT_MAX_ATTEMPTS).toBe(RETRY_BUDGETS.httpRequest.attempts);
    expect(GOOGLE_SDK_RETRIES).toEqual({ maxRetries: 3, totalTimeout: 120, maxRetryDelay: 32 });
  });
});

describe('source settings checked once', () => {
  it('the configuration hands the source its base URLs and caps as Checked values (checked with the flag names), which the source takes as given', async () => {
    const { Checked, settingValue } = await import('../../src/polymarket/checked-setting.js');
    const config = resolveConfig({ dataApiUrl: 'http://127.0.0.1:9/', maxResponseBytes: '64MB' }, {});
    for (const setting of [config.source.dataApiUrl, config.source.gammaApiUrl, config.source.maxResponseBytes, config.source.maxPagesPerWallet]) {
      expect(setting).toBeInstanceOf(Checked);
    }
    expect(config.source.dataApiUrl.value).toBe('http://127.0.0.1:9');
    expect(config.source.maxResponseBytes.value).toBe(64 * 2 ** 20);
    // A Checked value is not checked again; a plain one is, once.
    let checks = 0;
    const check = (value: string) => {
      checks += 1;
      return value;
    };
    expect(settingValue(config.source.dataApiUrl, 'unused', check)).toBe('http://127.0.0.1:9');
    expect(checks).toBe(0);
    expect(settingValue('http://x', 'unused', check)).toBe('http://x');
    expect(checks).toBe(1);
    expect(() => resolveConfig({ dataApiUrl: 'ftp://x' }, {})).toThrow(/--data-api-url/);
  });
});
